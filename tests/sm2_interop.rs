//! SM2 QR tokens against SM2 implementations that are not this crate, both ways, from the
//! README's description alone ("SM2 QR tokens"): the protected header `{1: -65600, 4: kid}`,
//! the COSE `Sig_structure` `["Signature1", protected, h'', payload]` built here with
//! ciborium, and SM2 over `SM3(Z ‖ Sig_structure)` with the ID `1234567812345678`.
//!
//! - OpenSSL 3 (`openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:…`) and the
//!   pure-Python `gmssl` (`tests/gmssl_verify.py`, which reads the token with cbor2) verify
//!   tokens the project signs, with keys of the project, of OpenSSL, of the standard's
//!   example and one that trips gmssl's key-prefix bug; a flipped bit fails in both.
//! - The README's worked example (its Python and shell blocks, run as written) verifies a
//!   token the project signs and refuses it with a flipped bit.
//! - A token whose signature OpenSSL made (`pkeyutl -sign`) over the Sig_structure, put
//!   together here, verifies with `token::parse_and_verify`; a flipped bit, or OpenSSL's
//!   default ID instead of `1234567812345678`, does not.
//!
//! Keys and tokens only: SM2 seal certificates are another step. Tools come from
//! `tests/run-all.sh` (`openssl` on `PATH`, gmssl and cbor2 in the venv named by
//! `ZHENGZHAO_TEST_PYTHON`); a missing tool fails the test under `CI` and skips it loudly
//! otherwise.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::path::{Path, PathBuf};

use ciborium::Value;
use common::tools::{env_tool, path_tool, require, run, text};
use coset::{CoseSign1, TaggedCborSerializable as _};
use ring::rand::SystemRandom;
use zhengzhao::pki::{Algorithm, PrivateKey};
use zhengzhao::signing::{SealSigner, SealVerifier};
use zhengzhao::token::{self, LicenceClaims, TokenError};

/// The COSE `alg` of SM2 tokens, as the README gives it.
const ALG_SM2_SM3: i64 = -65600;
/// The signer ID of Z, as OpenSSL needs it spelt out.
const DISTID: &str = "distid:1234567812345678";
const KID: [u8; 8] = [0x5a, 0x1f, 0x03, 0x9e, 0x44, 0x10, 0xc2, 0x7b];

fn claims() -> LicenceClaims {
    LicenceClaims {
        issuer: "11220000013544541J".into(),
        issued_at: 1_717_200_000,
        expires_at: Some(1_874_966_399),
        licence_id: "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
        holder_name: "上海某某餐饮管理有限公司".into(),
        holder_code_masked: "110***********002X".into(),
        valid_from: "2024-06-01".into(),
        valid_until: Some("2029-05-31".into()),
        record_hash: (100u8..132).collect(),
    }
}

// --- the README's structures, built with ciborium -------------------------------------------

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

/// The protected header `{1: -65600, 4: kid}`.
fn protected_header(kid: &[u8]) -> Vec<u8> {
    cbor(&Value::Map(vec![
        (Value::from(1), Value::from(ALG_SM2_SM3)),
        (Value::from(4), Value::Bytes(kid.to_vec())),
    ]))
}

/// `Sig_structure = ["Signature1", protected, external_aad = h'', payload]`.
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// The protected header, payload and signature of a COSE_Sign1 (tag 18).
fn items(token: &[u8]) -> [Vec<u8>; 3] {
    let Value::Tag(18, inner) = ciborium::from_reader::<Value, _>(token).unwrap() else { panic!("tag 18") };
    let Value::Array(items) = *inner else { panic!("an array") };
    let [Value::Bytes(protected), Value::Map(unprotected), Value::Bytes(payload), Value::Bytes(signature)] =
        <[Value; 4]>::try_from(items).unwrap()
    else {
        panic!("bstr, map, bstr, bstr")
    };
    assert!(unprotected.is_empty());
    [protected, payload, signature]
}

/// The tagged COSE_Sign1 `[protected, {}, payload, signature]`.
fn assemble(protected: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
    let items = vec![
        Value::Bytes(protected.to_vec()),
        Value::Map(Vec::new()),
        Value::Bytes(payload.to_vec()),
        Value::Bytes(signature.to_vec()),
    ];
    cbor(&Value::Tag(18, Box::new(Value::Array(items))))
}

// --- signatures: r‖s (COSE) and DER SEQUENCE { r, s } (OpenSSL) -------------------------------

#[derive(der::Sequence)]
struct EcdsaSigValue {
    r: der::asn1::Uint,
    s: der::asn1::Uint,
}

fn der_of_raw(raw: &[u8]) -> Vec<u8> {
    use der::Encode as _;
    assert_eq!(raw.len(), 64);
    let uint = |b: &[u8]| der::asn1::Uint::new(b).unwrap();
    EcdsaSigValue { r: uint(&raw[..32]), s: uint(&raw[32..]) }.to_der().unwrap()
}

fn raw_of_der(sig: &[u8]) -> Vec<u8> {
    use der::Decode as _;
    let v = EcdsaSigValue::from_der(sig).unwrap();
    let pad = |u: &der::asn1::Uint| {
        let b = u.as_bytes();
        assert!(b.len() <= 32, "{sig:02x?}");
        [vec![0; 32 - b.len()], b.to_vec()].concat()
    };
    [pad(&v.r), pad(&v.s)].concat()
}

// --- keys -------------------------------------------------------------------------------------

/// A project signer from a raw private scalar (hex).
fn signer_of_scalar(hex_d: &str) -> SealSigner {
    use sm2::pkcs8::EncodePrivateKey as _;
    let secret = sm2::SecretKey::from_slice(&hex::decode(hex_d).unwrap()).unwrap();
    SealSigner::from_pkcs8_der(secret.to_pkcs8_der().unwrap().as_bytes()).unwrap()
}

/// The uncompressed point of an SM2 signer.
fn point(signer: &SealSigner) -> [u8; 65] {
    match signer.verifier() {
        SealVerifier::Sm2(v) => *v.point(),
        other => panic!("not SM2: {other:?}"),
    }
}

/// `openssl genpkey -algorithm SM2` into `dir/name.pem`, and its public key as DER.
async fn openssl_key(openssl: &Path, dir: &Path, name: &str) -> (PathBuf, Vec<u8>) {
    let key = dir.join(format!("{name}.pem"));
    let out = run(openssl, ["genpkey", "-algorithm", "SM2", "-out", key.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out));
    let pubkey = dir.join(format!("{name}-pub.der"));
    let args = [
        "pkey",
        "-in",
        key.to_str().unwrap(),
        "-pubout",
        "-outform",
        "DER",
        "-out",
        pubkey.to_str().unwrap(),
    ];
    let out = run(openssl, args).await;
    assert!(out.status.success(), "{}", text(&out));
    (key, std::fs::read(pubkey).unwrap())
}

/// The keys the project signs with here, each with what it shows.
async fn signers(openssl: &Path, dir: &Path) -> Vec<(&'static str, SealSigner)> {
    let fresh = PrivateKey::generate(Algorithm::Sm2, &SystemRandom::new()).unwrap();
    let (pem, _) = openssl_key(openssl, dir, "openssl-made").await;
    let from_openssl = PrivateKey::from_pem(&std::fs::read_to_string(pem).unwrap(), None).unwrap();
    let d11 = signer_of_scalar(&format!("{:064x}", 11));
    assert_eq!(point(&d11)[1], 0x04, "11·G has an x beginning with the byte 04");
    vec![
        ("a key of the project", SealSigner::from_pkcs8_der(fresh.pkcs8_der()).unwrap()),
        ("a key OpenSSL generated", SealSigner::from_pkcs8_der(from_openssl.pkcs8_der()).unwrap()),
        // GB/T 32918.5-2017 Appendix A: the standard's example key.
        ("the GB/T 32918.5 example key", signer_of_scalar(GBT_EXAMPLE_D)),
        // d = 11, the smallest scalar whose public x begins with the byte 04: the ~1 key
        // in 256 that gmssl 3.2.2 misreads (tests/gmssl_verify.py mends it and says so).
        ("d = 11 (x begins with 04)", d11),
    ]
}

const GBT_EXAMPLE_D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";

// --- the tools --------------------------------------------------------------------------------

/// The venv's python, if gmssl and cbor2 import in it.
async fn python_with_gmssl() -> Result<PathBuf, String> {
    let python = env_tool("ZHENGZHAO_TEST_PYTHON")?;
    let out = run(&python, ["-c", "import gmssl.sm2, cbor2"]).await;
    if out.status.success() {
        Ok(python)
    } else {
        Err(format!("gmssl or cbor2 missing in {} (tests/run-all.sh installs them)", python.display()))
    }
}

/// `openssl pkeyutl -verify` of `sig_der` over `data` with the SPKI `pub_der`.
async fn openssl_verifies(openssl: &Path, dir: &Path, pub_der: &[u8], data: &[u8], sig_der: &[u8]) -> bool {
    let (p, d, s) = (dir.join("verify-pub.der"), dir.join("verify-data.bin"), dir.join("verify-sig.der"));
    std::fs::write(&p, pub_der).unwrap();
    std::fs::write(&d, data).unwrap();
    std::fs::write(&s, sig_der).unwrap();
    let args = [
        "pkeyutl",
        "-verify",
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        DISTID,
        "-pubin",
        "-keyform",
        "DER",
        "-inkey",
        p.to_str().unwrap(),
        "-in",
        d.to_str().unwrap(),
        "-sigfile",
        s.to_str().unwrap(),
    ];
    let out = run(openssl, args).await;
    let said = String::from_utf8_lossy(&out.stdout);
    match out.status.success() {
        true if said.contains("Signature Verified Successfully") => true,
        false if said.contains("Signature Verification Failure") => false,
        _ => panic!("openssl neither verified nor refused:\n{}", text(&out)),
    }
}

/// `openssl pkeyutl -sign` of the file `data` with the key `key` (DER signature), the ID
/// `distid` in Z or, without it, OpenSSL's default.
async fn openssl_sign(openssl: &Path, key: &Path, data: &Path, distid: Option<&str>) -> Vec<u8> {
    let out_file = data.with_extension("sig.der");
    let mut args = vec!["pkeyutl", "-sign", "-rawin", "-digest", "sm3"];
    if let Some(id) = distid {
        args.extend(["-pkeyopt", id]);
    }
    args.extend(["-inkey", key.to_str().unwrap(), "-in", data.to_str().unwrap()]);
    args.extend(["-out", out_file.to_str().unwrap()]);
    let out = run(openssl, args).await;
    assert!(out.status.success(), "{}", text(&out));
    std::fs::read(out_file).unwrap()
}

/// `tests/gmssl_verify.py` on `token` with the public `point`: its JSON report when good,
/// `None` when it refuses, and its stderr.
async fn gmssl_verifies(
    python: &Path,
    dir: &Path,
    token: &[u8],
    point: &[u8],
) -> (Option<serde_json::Value>, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gmssl_verify.py");
    let file = dir.join("gmssl-token.cose");
    std::fs::write(&file, token).unwrap();
    let out = run(python, [script.to_str().unwrap(), file.to_str().unwrap(), &hex::encode(point)]).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        (Some(serde_json::from_slice(&out.stdout).unwrap()), stderr)
    } else {
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        (None, stderr)
    }
}

// --- the tests --------------------------------------------------------------------------------

/// Tokens the project signs verify in OpenSSL and gmssl over the README's Sig_structure;
/// with one bit of the signature flipped (or of the signed bytes, for OpenSSL) they fail.
#[tokio::test]
async fn openssl_and_gmssl_verify_sm2_tokens_and_refuse_a_flipped_bit() {
    let Some([openssl, python]) =
        require("SM2 token checks by OpenSSL and gmssl", [path_tool("openssl"), python_with_gmssl().await])
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    for (what, signer) in signers(&openssl, dir).await {
        let token = token::sign(&claims(), &KID, &signer).unwrap();
        let [protected, payload, signature] = items(&token);
        assert_eq!(protected, protected_header(&KID), "{what}: the README's protected header");
        let signed = sig_structure(&protected, &payload);
        let coset_tbs = CoseSign1::from_tagged_slice(&token).unwrap().tbs_data(&[]);
        assert_eq!(signed, coset_tbs, "{what}: the README's Sig_structure is the one COSE signs");
        let spki = signer.public_key_spki_der();

        let der = der_of_raw(&signature);
        assert!(openssl_verifies(&openssl, dir, &spki, &signed, &der).await, "{what}: OpenSSL refuses");
        let (report, stderr) = gmssl_verifies(&python, dir, &token, &point(&signer)).await;
        let report = report.unwrap_or_else(|| panic!("{what}: gmssl refuses: {stderr}"));
        assert_eq!(report["sig_structure"], hex::encode(&signed), "{what}: gmssl's Sig_structure");
        assert_eq!(report["kid"], hex::encode(KID));
        assert_eq!(report["alg"], ALG_SM2_SM3);
        // gmssl 3.2.2 needs its key mended exactly when x begins with the byte 04.
        if stderr.contains("x || y restored") {
            assert_eq!(point(&signer)[1], 0x04, "{what}: {stderr}");
        }

        for bit in [0, 255, 256, 511] {
            let mut bad = signature.clone();
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            let der = der_of_raw(&bad);
            assert!(!openssl_verifies(&openssl, dir, &spki, &signed, &der).await, "{what}: bit {bit}");
            let (report, stderr) =
                gmssl_verifies(&python, dir, &assemble(&protected, &payload, &bad), &point(&signer)).await;
            assert!(report.is_none() && stderr.contains("bad signature"), "{what}: bit {bit}: {stderr}");
        }
        let mut tampered = signed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x01;
        assert!(!openssl_verifies(&openssl, dir, &spki, &tampered, &der_of_raw(&signature)).await, "{what}");
    }
}

/// A token put together here from the README, its signature made by OpenSSL with an
/// OpenSSL key over the Sig_structure, verifies with the project's token verification;
/// a flipped bit and OpenSSL's default signer ID do not.
#[tokio::test]
async fn a_token_signed_by_openssl_verifies_with_the_project() {
    let Some([openssl]) = require("SM2 token signed by OpenSSL", [path_tool("openssl")]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (key, spki) = openssl_key(&openssl, dir, "signer").await;
    let verifier = SealVerifier::from_spki_der(&spki).unwrap();
    assert_eq!(verifier.algorithm(), Algorithm::Sm2);
    // The claims as the project encodes them, from a token signed by a throwaway key.
    let throwaway = PrivateKey::generate(Algorithm::Sm2, &SystemRandom::new()).unwrap();
    let throwaway = SealSigner::from_pkcs8_der(throwaway.pkcs8_der()).unwrap();
    let [_, payload, _] = items(&token::sign(&claims(), &KID, &throwaway).unwrap());
    let protected = protected_header(&KID);
    let signed = sig_structure(&protected, &payload);
    let tbs = dir.join("sig_structure.bin");
    std::fs::write(&tbs, &signed).unwrap();

    let der = openssl_sign(&openssl, &key, &tbs, Some(DISTID)).await;
    let raw = raw_of_der(&der);
    let token = assemble(&protected, &payload, &raw);
    let verified = token::parse_and_verify(&token, &verifier).unwrap();
    assert_eq!(verified, token::parse(&token::sign(&claims(), &KID, &throwaway).unwrap()).unwrap().claims);
    // The same bytes through coset: the project reads exactly this structure.
    assert_eq!(CoseSign1::from_tagged_slice(&token).unwrap().to_tagged_vec().unwrap(), token);

    for bit in [0, 100, 511] {
        let mut bad = raw.clone();
        bad[bit / 8] ^= 0x80 >> (bit % 8);
        let err = token::parse_and_verify(&assemble(&protected, &payload, &bad), &verifier).unwrap_err();
        assert!(matches!(err, TokenError::BadSignature), "bit {bit}: {err}");
    }
    // Without distid, OpenSSL 3.0 signs with another ID in Z: not an SM2 token signature.
    let default_id = raw_of_der(&openssl_sign(&openssl, &key, &tbs, None).await);
    let err = token::parse_and_verify(&assemble(&protected, &payload, &default_id), &verifier).unwrap_err();
    assert!(matches!(err, TokenError::BadSignature), "{err}");
}

/// The fenced block of `lang` that follows `after` in the README.
fn readme_block(after: &str, lang: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let from = readme.find(after).unwrap_or_else(|| panic!("README has no {after:?}"));
    let fence = format!("```{lang}\n");
    let start = from + readme[from..].find(&fence).unwrap() + fence.len();
    let end = start + readme[start..].find("```").unwrap();
    readme[start..end].to_owned()
}

/// The README's worked example, run as written: its Python block as `sm2_token_parts.py`,
/// its shell block with `URL` set to the QR text of a token the project signed and the
/// seal's key in `seal-pub.pem` (`python3` is the venv's, which has cbor2).
#[tokio::test]
async fn the_readme_recipe_verifies_a_token_and_refuses_a_flipped_bit() {
    let Some([openssl, python, bash]) = require(
        "the README's SM2 recipe",
        [path_tool("openssl"), python_with_gmssl().await, path_tool("bash")],
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    const SECTION: &str = "### SM2 QR tokens";
    std::fs::write(dir.join("sm2_token_parts.py"), readme_block(SECTION, "python")).unwrap();
    let script = readme_block(SECTION, "sh");
    assert!(script.contains("pkeyutl -verify") && script.contains("distid:1234567812345678"), "{script}");
    let key = PrivateKey::generate(Algorithm::Sm2, &SystemRandom::new()).unwrap();
    let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let (der, pem) = (dir.join("seal-pub.der"), dir.join("seal-pub.pem"));
    std::fs::write(&der, signer.public_key_spki_der()).unwrap();
    let args =
        ["pkey", "-pubin", "-inform", "DER", "-in", der.to_str().unwrap(), "-out", pem.to_str().unwrap()];
    let out = run(&openssl, args).await;
    assert!(out.status.success(), "{}", text(&out));
    let token = token::sign(&claims(), &KID, &signer).unwrap();
    let mut flipped = token.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    let venv_bin = python.parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(venv_bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    for (what, bytes, good) in [("as signed", &token, true), ("with a flipped bit", &flipped, false)] {
        let url = token::qr_url("https://zz.example.gov.cn", bytes);
        let mut cmd = tokio::process::Command::new(&bash);
        cmd.args(["-e", "-c", &script]).current_dir(dir).env("URL", &url).env("PATH", &path);
        let out = tokio::time::timeout(common::tools::TOOL_TIMEOUT, cmd.output()).await.unwrap().unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        let expected =
            if good { "Signature Verified Successfully" } else { "Signature Verification Failure" };
        assert!(out.status.success() == good && said.contains(expected), "{what}: {}", text(&out));
    }
}
