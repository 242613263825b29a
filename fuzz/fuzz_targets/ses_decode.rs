//! Fuzz target: bytes → `ses::read_seal` and `ses::read_signature` (GB/T 38540 / GM/T 0031
//! v1, v4, v5); whatever reads is put through every check (maker signature, signature,
//! signer listed, validity), and a signature's `timeStamp` through the time-stamp token
//! verifier over its signature value (with no trusted root it must never verify). Any
//! outcome is fine, quickly and without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zhengzhao::{ses, tsa};

fuzz_target!(|data: &[u8]| {
    if let Ok(seal) = ses::read_seal(data) {
        let _ = seal.verify_maker_signature();
        let _ = seal.check_valid_at(seal.create_date);
        let _ = seal.lists_cert(&seal.maker_cert_der);
    }
    if let Ok(sig) = ses::read_signature(data) {
        let _ = sig.verify_signature();
        let _ = sig.verify_maker_signature();
        let _ = sig.signer_listed_in_seal();
        let _ = sig.seal_valid_at_signing(sig.seal.valid_start);
        if let Some(token) = &sig.timestamp {
            assert!(tsa::verify_token(token, &sig.signature, &[], &[]).is_err());
        }
    }
});
