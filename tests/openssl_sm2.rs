//! SM2 certificates and CRLs, checked both ways with OpenSSL 3 as the independent
//! implementation: what the platform makes (through its command line: `init`,
//! `seal create --algorithm sm2`, `pki root|crl --algorithm sm2`) OpenSSL verifies, and a
//! chain and CRL that the `openssl` command line makes the platform's validation accepts.
//!
//! OpenSSL 3.0 does not use the standard SM2 distinguishing ID `1234567812345678` unless
//! told to (`-vfyopt`/`-sigopt`/`-pkeyopt distid:1234567812345678`), and where it takes the
//! option matters:
//! - `openssl verify -vfyopt distid:…` applies it to the certificate given on the command
//!   line only, so each link is verified on its own (root → seal);
//! - `openssl verify` does not check a trust anchor's own signature, and with
//!   `-check_ss_sig` it fails on a correct SM2 root even with the distid (measured on 3.0.19:
//!   the distid does not reach that check), so the root's self-signature is checked like a
//!   CRL's;
//! - OpenSSL 3.0 verifies CRL signatures without a distid and has no option to give one
//!   (`openssl crl -CAfile … -verify` and `openssl verify -crl_check` fail on a correct SM2
//!   CRL), so a CRL's signature is checked by cutting the signed bytes and the signature out
//!   with `openssl asn1parse` and verifying them with
//!   `openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678`.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use time::OffsetDateTime;
use zhengzhao::pki::{self, Algorithm, ChainError, RevocationReason};

const DEPT: &str = "11310115MB2C90510L";
const DISTID: &str = "distid:1234567812345678";

/// Runs `openssl` in `dir`; whether it succeeded, and stdout + stderr.
fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl must be installed (tests/run-all.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn openssl_ok(dir: &Path, args: &[&str]) -> String {
    let (ok, text) = openssl(dir, args);
    assert!(ok, "openssl {args:?}: {text}");
    text
}

/// Runs the platform's command line on the data directory in `dir`; stdout.
fn zhengzhao(dir: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("zhengzhao")
        .unwrap()
        .arg("--data")
        .arg(dir.join("data"))
        .args(args)
        .env_remove("ZHENGZHAO_KEY_PASSPHRASE")
        .env("ZHENGZHAO_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "zhengzhao {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Whether OpenSSL's SM2 verifies the signature of the DER certificate or CRL in
/// `dir/name` with the public key (PEM) `dir/key`: `asn1parse` cuts out the signed part
/// (the first element) and the signature (the last, a BIT STRING holding DER
/// `SEQUENCE { r, s }`); `pkeyutl` verifies SM2 over SM3(Z ‖ signed part), Z with the
/// standard distinguishing ID. With `flip`, one bit of the signed part's last byte is
/// flipped first.
fn openssl_verifies_signature(dir: &Path, name: &str, key: &str, flip: bool) -> bool {
    let layout = openssl_ok(dir, &["asn1parse", "-inform", "DER", "-in", name]);
    let offsets: Vec<&str> =
        layout.lines().filter(|l| l.contains("d=1")).map(|l| l.split(':').next().unwrap().trim()).collect();
    let (tbs, sig) = (offsets[0], offsets[offsets.len() - 1]);
    assert!(layout.lines().last().unwrap().contains("BIT STRING"), "{layout}");
    let (tbs_file, sig_file) = (format!("{name}.tbs"), format!("{name}.sig"));
    // For a SEQUENCE, -strparse -out writes its whole encoding; for a BIT STRING, its
    // contents without the unused-bits octet.
    openssl_ok(
        dir,
        &["asn1parse", "-inform", "DER", "-in", name, "-strparse", tbs, "-noout", "-out", &tbs_file],
    );
    openssl_ok(
        dir,
        &["asn1parse", "-inform", "DER", "-in", name, "-strparse", sig, "-noout", "-out", &sig_file],
    );
    if flip {
        let mut signed = std::fs::read(dir.join(&tbs_file)).unwrap();
        let last = signed.len() - 1;
        signed[last] ^= 0x01;
        write(dir, &tbs_file, signed);
    }
    let (ok, text) = openssl(
        dir,
        &[
            "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", DISTID, "-pubin", "-inkey", key,
            "-in", &tbs_file, "-sigfile", &sig_file,
        ],
    );
    assert_eq!(ok, text.contains("Signature Verified Successfully"), "{text}");
    ok
}

#[test]
fn openssl_verifies_the_platforms_sm2_root_seal_certificate_and_crls() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out =
        zhengzhao(dir, &["init", "--platform-name", "测试证照平台", "--public-url", "http://127.0.0.1:9/"]);
    assert!(
        out.contains("created sm2 root CA") && out.contains("http://127.0.0.1:9/pki/crl-sm2.crl"),
        "{out}"
    );
    zhengzhao(
        dir,
        &["department", "add", "--code", DEPT, "--name", "演示市市场监督管理局", "--area", "310115"],
    );
    let id = zhengzhao(
        dir,
        &["seal", "create", "--department", DEPT, "--name", "行政审批专用章", "--algorithm", "sm2"],
    );
    let id = id.trim();
    let root_pem = zhengzhao(dir, &["pki", "root", "--algorithm", "sm2"]);
    assert_eq!(root_pem.matches("BEGIN CERTIFICATE").count(), 1);
    write(dir, "root.pem", &root_pem);
    let chain = zhengzhao(dir, &["seal", "cert", id]);
    write(dir, "seal.pem", chain.split_inclusive("-----END CERTIFICATE-----\n").next().unwrap());
    openssl_ok(dir, &["x509", "-in", "root.pem", "-pubkey", "-noout", "-out", "root-key.pem"]);
    openssl_ok(dir, &["x509", "-in", "root.pem", "-outform", "DER", "-out", "root.der"]);

    // The GB/T profile, as OpenSSL reads it.
    for cert in ["root.pem", "seal.pem"] {
        let text = openssl_ok(dir, &["x509", "-in", cert, "-noout", "-text"]);
        assert_eq!(text.matches("Signature Algorithm: SM2-with-SM3").count(), 2, "{text}");
        assert!(text.contains("id-ecPublicKey") && text.contains("ASN1 OID: SM2"), "{text}");
    }
    let seal_text = openssl_ok(dir, &["x509", "-in", "seal.pem", "-noout", "-text"]);
    assert!(seal_text.contains("URI:http://127.0.0.1:9/pki/crl-sm2.crl"), "{seal_text}");
    assert!(seal_text.contains("Digital Signature, Non Repudiation"), "{seal_text}");
    assert!(
        seal_text.contains("1.3.6.1.5.5.7.3.36") || seal_text.contains("Document Signing"),
        "{seal_text}"
    );

    // Root → seal certificate, with the distid for the seal certificate; a flipped bit fails.
    let text = openssl_ok(dir, &["verify", "-CAfile", "root.pem", "-vfyopt", DISTID, "seal.pem"]);
    assert!(text.contains("seal.pem: OK"), "{text}");
    openssl_ok(dir, &["x509", "-in", "seal.pem", "-outform", "DER", "-out", "seal.der"]);
    // The last byte is the signature's.
    let mut bad = std::fs::read(dir.join("seal.der")).unwrap();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    write(dir, "bad-seal.der", bad);
    openssl_ok(dir, &["x509", "-inform", "DER", "-in", "bad-seal.der", "-out", "bad-seal.pem"]);
    let (ok, text) = openssl(dir, &["verify", "-CAfile", "root.pem", "-vfyopt", DISTID, "bad-seal.pem"]);
    assert!(
        !ok && text.contains("certificate signature failure"),
        "a flipped seal certificate verifies: {text}"
    );
    // The root's self-signature (see the module comment), and a flipped one.
    assert!(openssl_verifies_signature(dir, "root.der", "root-key.pem", false));
    assert!(!openssl_verifies_signature(dir, "root.der", "root-key.pem", true));
    // The seal certificate's signature the same way: the cut-out route agrees with `verify`.
    assert!(openssl_verifies_signature(dir, "seal.der", "root-key.pem", false));

    // The first CRL (empty), then the one that lists the revoked seal.
    let mut crls = vec![zhengzhao(dir, &["pki", "crl", "--algorithm", "sm2"])];
    let out = zhengzhao(dir, &["seal", "revoke", id, "--reason", "key-compromise"]);
    assert!(out.contains("CRL number 2"), "{out}");
    crls.push(zhengzhao(dir, &["pki", "crl", "--algorithm", "sm2"]));
    for (i, crl) in crls.iter().enumerate() {
        assert_eq!(crl.matches("BEGIN X509 CRL").count(), 1);
        let pem = format!("crl-{i}.pem");
        write(dir, &pem, crl);
        let der = format!("crl-{i}.der");
        openssl_ok(dir, &["crl", "-in", &pem, "-outform", "DER", "-out", &der]);
        let text = openssl_ok(dir, &["crl", "-in", &pem, "-noout", "-text"]);
        assert_eq!(text.matches("Signature Algorithm: SM2-with-SM3").count(), 2, "{text}");
        assert!(text.contains(&format!("CRL Number: \n                {}", i + 1)), "{text}");
        assert_eq!(text.contains("Key Compromise"), i == 1, "{text}");
        assert!(openssl_verifies_signature(dir, &der, "root-key.pem", false), "CRL {}", i + 1);
        assert!(!openssl_verifies_signature(dir, &der, "root-key.pem", true), "flipped CRL {}", i + 1);
    }
}

/// A root, a seal certificate and a CRL made by `openssl req`, `openssl x509` and
/// `openssl ca` with SM2 and the standard distinguishing ID; returns them as DER.
fn openssl_chain(dir: &Path, revoke_seal: bool) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let gen_key = |name: &str| {
        openssl_ok(dir, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", name]);
    };
    gen_key("ca.key");
    gen_key("leaf.key");
    #[rustfmt::skip]
    openssl_ok(dir, &[
        "req", "-x509", "-new", "-key", "ca.key", "-sm3", "-sigopt", DISTID, "-days", "3650",
        "-subj", "/C=CN/O=OpenSSL SM2/CN=OpenSSL SM2 Root",
        "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-out", "ca.pem",
    ]);
    #[rustfmt::skip]
    openssl_ok(dir, &[
        "req", "-new", "-key", "leaf.key", "-sm3", "-sigopt", DISTID,
        "-subj", "/C=CN/O=OpenSSL SM2/CN=OpenSSL SM2 Seal", "-out", "leaf.csr",
    ]);
    write(
        dir,
        "leaf.ext",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n\
         extendedKeyUsage=1.3.6.1.5.5.7.3.36\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    );
    #[rustfmt::skip]
    openssl_ok(dir, &[
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "0x4a01",
        "-sm3", "-sigopt", DISTID, "-vfyopt", DISTID, "-extfile", "leaf.ext", "-days", "365",
        "-out", "leaf.pem",
    ]);
    write(
        dir,
        "ca.cnf",
        "[ca]\ndefault_ca = root\n[root]\ndatabase = index.txt\ncrlnumber = crlnumber\n\
         default_md = sm3\ndefault_crl_days = 30\ncrl_extensions = crl_ext\n\
         [crl_ext]\nauthorityKeyIdentifier = keyid\n",
    );
    write(dir, "index.txt", "");
    write(dir, "crlnumber", "01\n");
    let ca = ["-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem"];
    if revoke_seal {
        let mut args = vec!["ca"];
        args.extend(ca);
        args.extend(["-revoke", "leaf.pem", "-crl_reason", "keyCompromise"]);
        openssl_ok(dir, &args);
    }
    let mut args = vec!["ca", "-gencrl", "-sigopt", DISTID, "-out", "ca.crl"];
    args.extend(ca);
    openssl_ok(dir, &args);
    openssl_ok(dir, &["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"]);
    openssl_ok(dir, &["x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.der"]);
    openssl_ok(dir, &["crl", "-in", "ca.crl", "-outform", "DER", "-out", "ca-crl.der"]);
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    (read("ca.der"), read("leaf.der"), read("ca-crl.der"))
}

#[test]
fn a_chain_and_crl_made_by_openssl_with_sm2_validate_and_a_flipped_bit_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, leaf, crl) = openssl_chain(tmp.path(), false);
    let now = OffsetDateTime::now_utc();
    let roots = vec![root.clone()];
    let chain = pki::validate_seal_chain(&leaf, &[], &roots, std::slice::from_ref(&crl), now).unwrap();
    assert_eq!(chain.leaf.algorithm, Algorithm::Sm2);
    assert_eq!(chain.path.len(), 2);
    assert!(chain.leaf.subject.contains("OpenSSL SM2 Seal"), "{}", chain.leaf.subject);

    // A flipped bit in the seal certificate's signed part, in its signature, in the root's
    // self-signature, in the CRL.
    let mut bad_leaf = leaf.clone();
    let middle = bad_leaf.len() / 2;
    bad_leaf[middle] ^= 0x01;
    let err = pki::validate_seal_chain(&bad_leaf, &[], &roots, std::slice::from_ref(&crl), now).unwrap_err();
    assert!(matches!(err, ChainError::BadSignature | ChainError::UnknownIssuer), "{err}");
    let mut bad_sig = leaf.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 0x01;
    let err = pki::validate_seal_chain(&bad_sig, &[], &roots, std::slice::from_ref(&crl), now).unwrap_err();
    assert_eq!(err, ChainError::BadSignature);
    let mut bad_root = root.clone();
    let last = bad_root.len() - 1;
    bad_root[last] ^= 0x01;
    let err = pki::validate_seal_chain(&leaf, &[], &[bad_root], std::slice::from_ref(&crl), now).unwrap_err();
    assert_eq!(err, ChainError::BadSignature);
    let mut bad_crl = crl.clone();
    let last = bad_crl.len() - 1;
    bad_crl[last] ^= 0x01;
    let err = pki::validate_seal_chain(&leaf, &[], &roots, &[bad_crl], now).unwrap_err();
    assert!(matches!(err, ChainError::CrlInvalid(ref m) if m.contains("signature")), "{err}");
}

#[test]
fn a_seal_revoked_in_an_openssl_sm2_crl_is_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, leaf, crl) = openssl_chain(tmp.path(), true);
    let info = pki::crl_info(&crl).unwrap();
    assert_eq!(info.revoked.len(), 1);
    assert_eq!(info.revoked[0].serial, vec![0x4a, 0x01]);
    let err = pki::validate_seal_chain(&leaf, &[], &[root], &[crl], OffsetDateTime::now_utc()).unwrap_err();
    assert!(matches!(err, ChainError::Revoked { reason: RevocationReason::KeyCompromise, .. }), "{err}");
}
