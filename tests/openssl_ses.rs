//! GB/T 38540 structures the platform makes, checked with OpenSSL 3 as the independent
//! implementation: `openssl asn1parse` parses a produced `SES_Seal` and `SES_Signature`;
//! `openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678` verifies
//! the maker's signature over DER(`SES_SealInfo`) and the seal's signature over
//! DER(`TBS_Sign`), each cut out of the DER with `asn1parse -strparse` (and refuses them
//! after a one-bit change); `openssl verify -vfyopt distid:…` checks the maker
//! certificate against the SM2 root (one link; see FINDINGS on distid and chains) and the
//! signer certificate in the signature likewise.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::path::Path;

use sm3::Digest as _;
use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::pki::{self, Algorithm};
use zhengzhao::platform::Platform;
use zhengzhao::ses;

use common::openssl::{ok as openssl_ok, run as openssl};
use common::tools;

const DEPT: &str = "11310115MB2C90510L";
const DISTID: &str = "distid:1234567812345678";

/// The offsets of the top-level elements (depth 1) of the DER file `name`, as
/// `openssl asn1parse` lists them, and the listing.
async fn top_level(bin: &Path, dir: &Path, name: &str) -> (Vec<String>, String) {
    let layout = openssl_ok(bin, dir, &["asn1parse", "-inform", "DER", "-in", &format!("@{name}")]).await;
    let offsets = layout
        .lines()
        .filter(|l| l.contains("d=1"))
        .map(|l| l.split(':').next().unwrap().trim().to_owned())
        .collect();
    (offsets, layout)
}

/// Whether OpenSSL's SM2 verifies, with the public key of the certificate `cert_pem`, the
/// signature in the BIT STRING at `offsets.1` of `name` over the element at `offsets.0`
/// (its whole encoding). With `flip`, one bit of the signed bytes' last byte is flipped
/// first.
async fn verifies(
    bin: &Path,
    dir: &Path,
    name: &str,
    offsets: (&str, &str),
    cert_pem: &str,
    flip: bool,
) -> bool {
    let (signed, sig) = offsets;
    let signed_file = format!("@{name}.{signed}.tbs");
    let sig_file = format!("@{name}.{sig}.sig");
    let key = format!("@{cert_pem}.pub");
    openssl_ok(bin, dir, &["x509", "-in", &format!("@{cert_pem}"), "-pubkey", "-noout", "-out", &key]).await;
    let input = format!("@{name}");
    for (offset, out) in [(signed, &signed_file), (sig, &sig_file)] {
        let args = ["asn1parse", "-inform", "DER", "-in", &input, "-strparse", offset, "-noout", "-out", out];
        openssl_ok(bin, dir, &args).await;
    }
    if flip {
        let path = dir.join(&signed_file[1..]);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
    }
    let args = [
        "pkeyutl",
        "-verify",
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        DISTID,
        "-pubin",
        "-inkey",
        &key,
        "-in",
        &signed_file,
        "-sigfile",
        &sig_file,
    ];
    let (ok, text) = openssl(bin, dir, &args).await;
    assert_eq!(ok, text.contains("Signature Verified Successfully"), "{text}");
    ok
}

#[tokio::test]
async fn openssl_parses_and_verifies_the_platforms_seal_and_seal_signature() {
    let Some([bin]) = tools::require("openssl_ses", [tools::path_tool("openssl")]) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let now = OffsetDateTime::now_utc();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let p = Platform::create(Config::from_layer(dir.join("data"), layer).unwrap(), None).await.unwrap();
    p.pki.init("测试证照平台", now).await.unwrap();
    p.pki.add_department(DEPT, "某某市市场监督管理局", "310115", &[], now).await.unwrap();
    let seal = p.pki.create_seal(DEPT, "行政审批专用章", Algorithm::Sm2, now).await.unwrap();
    let esl = p.pki.ses_seal(&seal.id, now).await.unwrap();
    let xml = b"<ofd:Signature/>";
    let signed = p
        .pki
        .ses_sign(&seal.id, &sm3::Sm3::digest(xml), "/Doc_0/Signs/Sign_0/Signature.xml", now, None)
        .await
        .unwrap();
    let maker = p.pki.seal_maker(now).await.unwrap();
    let root = p.pki.roots_pem(Some(Algorithm::Sm2)).await.unwrap();
    std::fs::write(dir.join("seal.esl"), &esl).unwrap();
    std::fs::write(dir.join("SignedValue.dat"), &signed).unwrap();
    std::fs::write(dir.join("root.pem"), root).unwrap();
    std::fs::write(dir.join("maker.pem"), pki::pem_encode("CERTIFICATE", &maker.cert_der)).unwrap();
    let signer = ses::read_signature(&signed).unwrap().signer_cert_der;
    std::fs::write(dir.join("signer.pem"), pki::pem_encode("CERTIFICATE", &signer)).unwrap();

    // The seal: SES_SealInfo, maker cert, SM2-with-SM3, signedValue.
    let (offsets, layout) = top_level(&bin, dir, "seal.esl").await;
    assert_eq!(offsets.len(), 4, "{layout}");
    for needed in [":ES", ":ZHENGZHAO", "SM2-with-SM3", ":PNG", "GENERALIZEDTIME"] {
        assert!(layout.contains(needed), "{needed}: {layout}");
    }
    assert!(verifies(&bin, dir, "seal.esl", (&offsets[0], &offsets[3]), "maker.pem", false).await);
    assert!(!verifies(&bin, dir, "seal.esl", (&offsets[0], &offsets[3]), "maker.pem", true).await);
    // Not with the seal's own key: the maker signed it.
    assert!(!verifies(&bin, dir, "seal.esl", (&offsets[0], &offsets[3]), "signer.pem", false).await);

    // The signature: TBS_Sign, signer cert, SM2-with-SM3, signature (no time-stamp).
    let (offsets, layout) = top_level(&bin, dir, "SignedValue.dat").await;
    assert_eq!(offsets.len(), 4, "{layout}");
    assert!(layout.contains(":/Doc_0/Signs/Sign_0/Signature.xml"), "{layout}");
    assert!(verifies(&bin, dir, "SignedValue.dat", (&offsets[0], &offsets[3]), "signer.pem", false).await);
    assert!(!verifies(&bin, dir, "SignedValue.dat", (&offsets[0], &offsets[3]), "signer.pem", true).await);
    // The seal inside the TBS_Sign is the exported one, byte for byte.
    assert!(signed.windows(esl.len()).any(|w| w == esl.as_slice()));

    // The maker and the signer each chain to the SM2 root (one link each).
    for leaf in ["maker.pem", "signer.pem"] {
        let out = openssl_ok(
            &bin,
            dir,
            &["verify", "-CAfile", "@root.pem", "-vfyopt", DISTID, &format!("@{leaf}")],
        )
        .await;
        assert!(out.contains(&format!("{leaf}: OK")), "{out}");
    }
    // Without the standard distinguishing ID OpenSSL 3.0 refuses the same link.
    let (ok, text) = openssl(&bin, dir, &["verify", "-CAfile", "@root.pem", "@maker.pem"]).await;
    assert!(!ok, "{text}");
}
