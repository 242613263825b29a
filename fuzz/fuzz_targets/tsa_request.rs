//! Fuzz target: bytes → `tsa::parse_request` (a DER RFC 3161 `TimeStampReq`), and the same
//! bytes as a `TimeStampResp` and a `TimeStampToken` to the verifier (no trusted root: every
//! parse and check up to the certificate runs). Any outcome is fine, quickly and without
//! panicking; a refused request must still make a rejection reply. Seeds: requests from
//! `openssl ts -query` and `tsa::build_request`, granted replies of each algorithm and a
//! rejection made by `tsa::respond`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zhengzhao::tsa;

fuzz_target!(|data: &[u8]| {
    match tsa::parse_request(data) {
        Ok(req) => assert_eq!(req.hashed_message.len(), req.imprint_alg.digest_len()),
        Err(refusal) => assert!(tsa::rejection(&refusal).is_ok()),
    }
    let _ = tsa::verify_response(data, b"data", &[], &[]);
    let _ = tsa::verify_token(data, b"data", &[], &[]);
});
