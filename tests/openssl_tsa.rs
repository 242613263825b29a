//! The platform's RFC 3161 time-stamping authority (`zhengzhao::tsa`), checked with OpenSSL
//! 3 as the independent implementation: `openssl ts -query` writes the request the
//! responder answers, `openssl ts -reply -text` reads the reply (policy, serial, time,
//! nonce, accuracy, TSA name), and `openssl ts -verify -data … -CAfile root.pem -untrusted
//! tsa.pem` verifies it (the signature, the ESS signing certificate, the TSA
//! certificate's critical timeStamping EKU, the imprint and the nonce) — and refuses it
//! for other data and after a one-bit change of the token.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::path::Path;

use der::asn1::ObjectIdentifier;
use ring::rand::SystemRandom;
use time::{Duration, OffsetDateTime};
use zhengzhao::pki::{self, Algorithm, PrivateKey};
use zhengzhao::signing::SealSigner;
use zhengzhao::tsa::{self, Accuracy, Outcome, Stamp};

use common::openssl::{ok as openssl_ok, run as openssl};
use common::tools;

const POLICY: &str = "1.3.6.1.4.1.99999.7.1";

/// A root of `alg` and a TSA certificate under it, written as `root.pem` and `tsa.pem`
/// in `dir`; the TSA's signer and certificate (DER), the root (DER) and the time.
fn make_tsa(dir: &Path, alg: Algorithm) -> (SealSigner, Vec<u8>, Vec<u8>, OffsetDateTime) {
    let rng = SystemRandom::new();
    // Now-ish: `openssl ts -verify` checks the certificates at the current time.
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let (start, end) = (now - Duration::days(1), now + Duration::days(30));
    let root_key = PrivateKey::generate(alg, &rng).unwrap();
    let root = pki::make_root(alg, "测试平台", &root_key, start, end, [1; 16]).unwrap();
    let key = PrivateKey::generate(alg, &rng).unwrap();
    let spki = key.public_key_spki_der();
    let cert = tsa::issue_tsa_cert("测试平台", &spki, &root, &root_key, start, end, [2; 16]).unwrap();
    std::fs::write(dir.join("root.pem"), pki::pem_encode("CERTIFICATE", &root)).unwrap();
    std::fs::write(dir.join("tsa.pem"), pki::pem_encode("CERTIFICATE", &cert)).unwrap();
    (SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap(), cert, root, now)
}

/// OpenSSL's request for `data.txt` answered by the platform as `reply.tsr`; the root.
async fn answer_openssl_request(bin: &Path, dir: &Path, alg: Algorithm) -> Vec<u8> {
    std::fs::write(dir.join("data.txt"), "证照 licence signature value\n").unwrap();
    let (signer, cert, root, now) = make_tsa(dir, alg);
    openssl_ok(bin, dir, &["ts", "-query", "-data", "@data.txt", "-sha256", "-cert", "-out", "@req.tsq"])
        .await;
    let stamp = Stamp {
        policy: ObjectIdentifier::new_unwrap(POLICY),
        serial: 0x0102_0304_0506,
        gen_time: now,
        accuracy: Some(Accuracy { seconds: Some(1), millis: None, micros: None }),
        name_tsa: true,
    };
    let request = std::fs::read(dir.join("req.tsq")).unwrap();
    let reply = tsa::respond(&request, &signer, &cert, &stamp).unwrap();
    assert_eq!(reply.outcome, Outcome::Granted);
    std::fs::write(dir.join("reply.tsr"), &reply.der).unwrap();
    // The platform's own verifier agrees, with OpenSSL's nonce copied.
    let data = std::fs::read(dir.join("data.txt")).unwrap();
    let info = tsa::verify_response(&reply.der, &data, std::slice::from_ref(&root), &[]).unwrap();
    assert_eq!((info.serial_u64(), info.gen_time), (Some(0x0102_0304_0506), now));
    assert!(info.nonce.is_some());
    root
}

/// `openssl ts -verify` of `reply` against `data`; whether it said "Verification: OK".
async fn openssl_verifies(bin: &Path, dir: &Path, reply: &str, data: &str) -> (bool, String) {
    let args =
        ["ts", "-verify", "-in", reply, "-data", data, "-CAfile", "@root.pem", "-untrusted", "@tsa.pem"];
    let (ok, text) = openssl(bin, dir, &args).await;
    assert_eq!(ok, text.contains("Verification: OK"), "{text}");
    (ok, text)
}

#[tokio::test]
async fn openssl_reads_and_verifies_the_platforms_p256_time_stamp() {
    let Some([bin]) = tools::require("openssl_tsa", [tools::path_tool("openssl")]) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    answer_openssl_request(&bin, dir, Algorithm::P256).await;

    let text = openssl_ok(&bin, dir, &["ts", "-reply", "-in", "@reply.tsr", "-text"]).await;
    for expected in [
        "Status: Granted.",
        &format!("Policy OID: {POLICY}"),
        "Hash Algorithm: sha256",
        "Serial number: 0x010203040506",
        "Accuracy: 0x01 seconds, unspecified millis, unspecified micros",
        "Ordering: no",
        "CN=Time-stamping authority",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    let year = OffsetDateTime::now_utc().year().to_string();
    assert!(text.lines().any(|l| l.starts_with("Time stamp: ") && l.contains(&year)), "{text}");
    assert!(!text.contains("Nonce: unspecified"), "{text}");

    let (ok, text) = openssl_verifies(&bin, dir, "@reply.tsr", "@data.txt").await;
    assert!(ok, "{text}");
    // Other data: refused.
    std::fs::write(dir.join("other.txt"), "another licence\n").unwrap();
    assert!(!openssl_verifies(&bin, dir, "@reply.tsr", "@other.txt").await.0);
    // One bit flipped near the end of the token (the signature): refused.
    let mut reply = std::fs::read(dir.join("reply.tsr")).unwrap();
    let last = reply.len() - 3;
    reply[last] ^= 0x01;
    std::fs::write(dir.join("flipped.tsr"), &reply).unwrap();
    assert!(!openssl_verifies(&bin, dir, "@flipped.tsr", "@data.txt").await.0);
}

/// Ed25519 tokens (RFC 8419: SHA-512 digest, id-Ed25519 signature). OpenSSL 3.0.19 reads
/// them but cannot verify them, as measured here: `openssl ts -verify` goes through the
/// PKCS#7 layer, which has no Ed25519 ("operation not supported for this keytype" in
/// `PKCS7_signatureVerify`), and `openssl cms -verify` on the token (cut out with `ts
/// -reply -token_out`, `-purpose timestampsign`: the chain passes) fails with "invalid digest" in the EdDSA provider, as it does on the
/// platform's Ed25519 PAdES signatures (FINDINGS, Independent validators). The platform's
/// own verifier and the unit tests carry the Ed25519 checks.
#[tokio::test]
async fn openssl_reads_but_cannot_verify_the_platforms_ed25519_time_stamp() {
    let Some([bin]) = tools::require("openssl_tsa", [tools::path_tool("openssl")]) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    answer_openssl_request(&bin, dir, Algorithm::Ed25519).await;
    let text = openssl_ok(&bin, dir, &["ts", "-reply", "-in", "@reply.tsr", "-text"]).await;
    assert!(text.contains("Serial number: 0x010203040506") && text.contains("Status: Granted."), "{text}");
    let (ok, text) = openssl_verifies(&bin, dir, "@reply.tsr", "@data.txt").await;
    assert!(!ok && text.contains("operation not supported for this keytype"), "{text}");
    openssl_ok(&bin, dir, &["ts", "-reply", "-in", "@reply.tsr", "-token_out", "-out", "@token.der"]).await;
    let args = [
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        "@token.der",
        "-CAfile",
        "@root.pem",
        "-purpose",
        "timestampsign",
        "-out",
        "@tst.der",
    ];
    let (ok, text) = openssl(&bin, dir, &args).await;
    assert!(!ok && text.contains("invalid digest"), "{text}");
}

/// `POST /tsa` as another system calls it: OpenSSL writes the request, the platform's HTTP
/// endpoint answers (a client with the timestamp scope, the configured policy), OpenSSL
/// reads the reply (policy, serial number, time) and verifies it with the root and the TSA
/// certificate the platform publishes at `/pki/tsa-ALG.pem`.
///
/// P-256: verified. SM2 (an SM3 request, answered by the SM2 unit), measured with OpenSSL
/// 3.0.19: `ts -reply -text` reads the reply; `ts -verify` refuses it, because it checks
/// SM2 signatures with OpenSSL's default distinguishing ID, not `1234567812345678`, and
/// has no option to set it (FINDINGS): the TSA certificate fails ("certificate signature
/// failure"), and with that certificate trusted directly (`-partial_chain`) the token's
/// signature fails in `PKCS7_signatureVerify`. Given the ID, OpenSSL verifies both by
/// parts: `verify -vfyopt distid:…` the TSA certificate under the SM2 root, and `pkeyutl
/// -verify -rawin -digest sm3 -pkeyopt distid:…` the SignerInfo's signature over its DER
/// signed attributes (cut out of the token with the `cms` crate).
#[tokio::test]
async fn openssl_reads_and_verifies_replies_of_post_tsa() {
    let Some(bin) = common::openssl::require("openssl_tsa") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (platform, key) = tsa_platform(dir).await;
    std::fs::write(dir.join("data.txt"), "证照 licence signature value\n").unwrap();
    let now = OffsetDateTime::now_utc();
    for (alg, digest) in [(Algorithm::P256, "-sha256"), (Algorithm::Sm2, "-sm3")] {
        let (req, reply) = (format!("@req-{alg}.tsq"), format!("reply-{alg}.tsr"));
        openssl_ok(&bin, dir, &["ts", "-query", "-data", "@data.txt", digest, "-cert", "-out", &req]).await;
        let request = std::fs::read(dir.join(&req[1..])).unwrap();
        let der = post_tsa(&platform, &key, &format!("/tsa?algorithm={alg}"), request).await;
        std::fs::write(dir.join(&reply), der).unwrap();
        let chain = get_text(&platform, &format!("/pki/tsa-{alg}.pem")).await;
        let certs = pki::pem_decode_all(&chain, "CERTIFICATE").unwrap();
        std::fs::write(dir.join("tsa.pem"), pki::pem_encode("CERTIFICATE", &certs[0])).unwrap();
        std::fs::write(dir.join("root.pem"), pki::pem_encode("CERTIFICATE", &certs[1])).unwrap();

        let text = openssl_ok(&bin, dir, &["ts", "-reply", "-in", &format!("@{reply}"), "-text"]).await;
        for expected in
            ["Status: Granted.", &format!("Policy OID: {CONFIGURED_POLICY}"), "Accuracy: 0x01 seconds"]
        {
            assert!(text.contains(expected), "{alg}: {expected:?} not in {text}");
        }
        let serial = text.lines().find_map(|l| l.strip_prefix("Serial number: 0x")).unwrap();
        assert!(u64::from_str_radix(serial.trim(), 16).unwrap() >= 1, "{text}");
        let stamped = text.lines().find_map(|l| l.strip_prefix("Time stamp: ")).unwrap();
        assert!(stamped.contains(&now.year().to_string()) && stamped.ends_with("GMT"), "{text}");

        let (ok, text) = openssl_verifies(&bin, dir, &format!("@{reply}"), "@data.txt").await;
        if alg == Algorithm::P256 {
            assert!(ok, "{text}");
            continue;
        }
        assert!(!ok && text.contains("certificate signature failure"), "{alg}: {text}");
        let args =
            ["ts", "-verify", "-in", &format!("@{reply}"), "-data", "@data.txt", "-CAfile", "@tsa.pem"];
        let (ok, text) = openssl(&bin, dir, &[&args[..], &["-partial_chain"]].concat()).await;
        assert!(!ok && text.contains("PKCS7_signatureVerify:signature failure"), "{text}");
        sm2_token_verifies_by_parts(&bin, dir, &reply).await;
    }
}

/// The SM2 token of `reply` checked by OpenSSL with the distinguishing ID given: the TSA
/// certificate under the root, and the signature over the signed attributes.
async fn sm2_token_verifies_by_parts(bin: &Path, dir: &Path, reply: &str) {
    use der::{Decode as _, Encode as _};
    const DISTID: &str = "distid:1234567812345678";
    let text = openssl_ok(bin, dir, &["verify", "-CAfile", "@root.pem", "-vfyopt", DISTID, "@tsa.pem"]).await;
    assert!(text.contains("tsa.pem: OK"), "{text}");
    let token_out = ["ts", "-reply", "-in", &format!("@{reply}"), "-token_out", "-out", "@token.der"];
    openssl_ok(bin, dir, &token_out).await;
    let token =
        cms::content_info::ContentInfo::from_der(&std::fs::read(dir.join("token.der")).unwrap()).unwrap();
    let signed = token.content.decode_as::<cms::signed_data::SignedData>().unwrap();
    let signer = signed.signer_infos.0.get(0).unwrap();
    let attrs = signer.signed_attrs.as_ref().unwrap().to_der().unwrap();
    std::fs::write(dir.join("attrs.der"), &attrs).unwrap();
    std::fs::write(dir.join("sig.der"), signer.signature.as_bytes()).unwrap();
    openssl_ok(bin, dir, &["x509", "-in", "@tsa.pem", "-pubkey", "-noout", "-out", "@tsa.pub"]).await;
    let verify = [
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        "@tsa.pub",
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        DISTID,
        "-in",
        "@attrs.der",
        "-sigfile",
        "@sig.der",
    ];
    let text = openssl_ok(bin, dir, &verify).await;
    assert!(text.contains("Signature Verified Successfully"), "{text}");
    // One bit of the signed attributes changed: refused.
    let mut flipped = attrs.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    std::fs::write(dir.join("attrs.der"), &flipped).unwrap();
    let (ok, text) = openssl(bin, dir, &verify).await;
    assert!(!ok, "{text}");
}

const CONFIGURED_POLICY: &str = "1.2.156.112233.1.1";

/// A demo platform with `tsa_policy` set, and the key of a client with the timestamp scope.
async fn tsa_platform(dir: &Path) -> (std::sync::Arc<zhengzhao::platform::Platform>, String) {
    use zhengzhao::config::{Config, Layer};
    use zhengzhao::platform::{DEMO_DEPARTMENT, Platform, Scope};
    let layer = Layer {
        public_url: Some("http://127.0.0.1:9".into()),
        tsa_policy: Some(CONFIGURED_POLICY.into()),
        ..Layer::default()
    };
    let platform =
        Platform::create(Config::from_layer(dir.join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    platform.ensure_demo(now).await.unwrap();
    let (_, key) = platform
        .clients
        .add_client(DEMO_DEPARTMENT.0, "存档系统", &[Scope::Timestamp], &[], now)
        .await
        .unwrap();
    (std::sync::Arc::new(platform), key.expose().to_owned())
}

async fn post_tsa(
    platform: &std::sync::Arc<zhengzhao::platform::Platform>,
    key: &str,
    uri: &str,
    body: Vec<u8>,
) -> Vec<u8> {
    use axum::http::{Request, StatusCode, header};
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/timestamp-query")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(axum::body::Body::from(body))
        .unwrap();
    let response = common::app(platform.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/timestamp-reply");
    response.into_body().collect().await.unwrap().to_bytes().to_vec()
}

async fn get_text(platform: &std::sync::Arc<zhengzhao::platform::Platform>, uri: &str) -> String {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let request = axum::http::Request::get(uri).body(axum::body::Body::empty()).unwrap();
    let response = common::app(platform.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), axum::http::StatusCode::OK, "{uri}");
    String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}
