//! OFD licences the platform issued (an SM2 seal's OFD, and the OFD of a PDF + OFD
//! licence), checked by implementations that are not ours:
//!
//! - OpenSSL 3 cuts the signed bytes, signatures and certificates out of `SignedValue.dat`
//!   with `asn1parse -strparse` (so our SES reader is not trusted for them, only compared
//!   with), verifies the seal's SM2 signature over `TBS_Sign` and the maker's over
//!   `SES_SealInfo` (`pkeyutl -rawin -digest sm3 -pkeyopt distid:1234567812345678`), each
//!   certificate link to the SM2 root (`verify -vfyopt distid:…`), and recomputes with
//!   `dgst -sm3` the `dataHash` and every `Reference`'s `CheckValue` of `Signature.xml`;
//! - the `ofd-core` crate finds the package conformant with every reference digest OK and
//!   renders page 1 (without the `StampAnnot` seal: ofd-core does not draw it), and `zbarimg`
//!   decodes the QR of that render to exactly the licence's URL;
//! - `ofdkit` (PyPI) extracts the Chinese text and the document information, whose
//!   `Identifier` and `Token` are the issued ones;
//! - `easyofd` (PyPI), which draws the `StampAnnot`'s seal picture (but no text), puts the
//!   seal where the `StampAnnot` says, and there, in ofd-core's render, lie the issuing
//!   authority and the issue date (`easyofd/overlay.png` shows the two renders together);
//! - each also reads an OFD whose seal signature is time-stamped (`timeStamp`), and OpenSSL
//!   checks that time-stamp as far as OpenSSL 3.0 can with SM2 (see
//!   `openssl_checks_the_time_stamp_of_a_time_stamped_ofd`).
//!
//! Tools come from `tests/run-all.sh` (openssl and zbar-tools on `PATH`, ofdkit and easyofd
//! in the venv named by `ZHENGZHAO_TEST_PYTHON`); a missing one fails the test under `CI`
//! and skips it loudly otherwise (`tests/common/tools.rs`). Files are left under
//! `target/tmp/ofd_independent/` for a person to look at (`*.png` are the renders).
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::tools::{env_tool, path_tool, require, run, run_for, text};
use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::{DocumentKind, LicenceInput};
use zhengzhao::ofd::{Package, ReadLimits};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};
use zhengzhao::ses;
use zhengzhao::tsa::{self, FixedStamper, Stamper};

const FOOD: &str = "11100000000013338W002";
const DISTID: &str = "distid:1234567812345678";
const SIGNATURES_XML: &str = "Doc_0/Signs/Signatures.xml";
const SIGNATURE_XML: &str = "Doc_0/Signs/Sign_0/Signature.xml";
const SIGNED_VALUE: &str = "Doc_0/Signs/Sign_0/SignedValue.dat";
const HOLDER: &str = "上海浦江美食餐饮管理有限公司";

/// A fresh demo platform and what it issued: an OFD licence, a PDF + OFD one, and an OFD
/// licence whose seal signature is time-stamped (the food business licence of
/// `templates/examples/`), each with its OFD; and the time-stamping authority's
/// certificate (issued by the platform's SM2 root).
struct Issued {
    _dir: tempfile::TempDir,
    platform: Platform,
    licences: Vec<(&'static str, IssuedLicence)>,
    tsa_cert: Vec<u8>,
}

impl Issued {
    /// The OFD of the licence named `name` (`ofd` or `both`).
    fn ofd(&self, name: &str) -> &[u8] {
        self.licence(name).ofd().unwrap()
    }

    fn licence(&self, name: &str) -> &IssuedLicence {
        &self.licences.iter().find(|(n, _)| *n == name).unwrap().1
    }
}

async fn issue() -> Issued {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    platform.ensure_demo(now).await.unwrap();
    let seals = platform.store.seals(None).await.unwrap();
    let seal = |alg| seals.iter().find(|s| s.algorithm == alg).unwrap().id.clone();
    let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    let input: LicenceInput = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut licences = vec![];
    let stamper = sm2_tsa(&platform, now).await;
    let tsa_cert = stamper.chain()[0].clone();
    for (name, document, seal_id, ofd_seal_id) in [
        ("ofd", DocumentKind::Ofd, seal(Algorithm::Sm2), None),
        ("both", DocumentKind::Both, seal(Algorithm::Ed25519), Some(seal(Algorithm::Sm2))),
        ("stamped", DocumentKind::Ofd, seal(Algorithm::Sm2), None),
    ] {
        let request = IssueRequest {
            seal_id,
            ofd_seal_id,
            type_code: FOOD.into(),
            input: input.clone(),
            document,
            client: None,
            idempotency_key: None,
            renews: None,
        };
        let stamper: Option<Arc<dyn Stamper>> = (name == "stamped").then(|| stamper.clone() as _);
        licences.push((name, platform.issuing.issue_stamped(request, now, stamper).await.unwrap()));
    }
    Issued { _dir: dir, platform, licences, tsa_cert }
}

/// A time-stamping authority with an SM2 key, its certificate issued by the platform's SM2
/// root for a year, stamping at `now`.
async fn sm2_tsa(platform: &Platform, now: OffsetDateTime) -> Arc<FixedStamper> {
    let roots = platform.store.roots().await.unwrap();
    let root = roots.iter().find(|r| r.algorithm == Algorithm::Sm2).unwrap();
    let root_key = platform.keys.read(&root.key_name).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let key = zhengzhao::pki::PrivateKey::generate(Algorithm::Sm2, &rng).unwrap();
    let spki = key.public_key_spki_der();
    let until = now + time::Duration::days(365);
    let cert =
        tsa::issue_tsa_cert("证照服务平台", &spki, &root.cert_der, &root_key, now, until, [5; 16]).unwrap();
    let signer = zhengzhao::signing::SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let policy = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.7.1");
    let authority = tsa::Authority::new(signer, cert, root.cert_der.clone(), policy, None).unwrap();
    Arc::new(FixedStamper::new(authority, now, 1))
}

/// A fresh folder `target/tmp/ofd_independent/<name>/`.
fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ofd_independent").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The files of the OFD, unzipped under `dir/pkg/`, and the package.
fn unpack(ofd: &[u8], dir: &Path) -> Package {
    let package = Package::from_zip(ofd, &ReadLimits::default()).unwrap();
    for (name, bytes) in package.files() {
        let path = dir.join("pkg").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    package
}

// --- OpenSSL --------------------------------------------------------------------------

/// Runs `openssl` with `args`, where `@name` stands for the file `name` in `dir`; whether
/// it succeeded, and what it said.
async fn openssl(bin: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let args: Vec<String> = args
        .iter()
        .map(|a| match a.strip_prefix('@') {
            Some(name) => dir.join(name).display().to_string(),
            None => (*a).to_owned(),
        })
        .collect();
    let out = run(bin, &args).await;
    (out.status.success(), text(&out))
}

async fn openssl_ok(bin: &Path, dir: &Path, args: &[&str]) -> String {
    let (ok, text) = openssl(bin, dir, args).await;
    assert!(ok, "openssl {args:?}: {text}");
    text
}

/// `-strparse` arguments drilling down through `offsets`.
fn drill(offsets: &[&str]) -> Vec<String> {
    offsets.iter().flat_map(|o| ["-strparse".to_owned(), (*o).to_owned()]).collect()
}

/// `openssl asn1parse` of the element reached by `offsets` in the DER file `name`: the
/// offsets of its children (depth 1), and the listing.
async fn children(bin: &Path, dir: &Path, name: &str, offsets: &[&str]) -> (Vec<String>, String) {
    let input = format!("@{name}");
    let mut args = vec!["asn1parse", "-inform", "DER", "-i", "-in", &input];
    let drilled = drill(offsets);
    args.extend(drilled.iter().map(String::as_str));
    let layout = openssl_ok(bin, dir, &args).await;
    let offsets = layout
        .lines()
        .filter(|l| l.contains("d=1"))
        .map(|l| l.split(':').next().unwrap().trim().to_owned())
        .collect();
    (offsets, layout)
}

/// Cuts the element reached by `offsets` in `name` into the file `out` (the whole
/// encoding of a SEQUENCE, the contents of a string), and returns its bytes.
async fn cut(bin: &Path, dir: &Path, name: &str, offsets: &[&str], out: &str) -> Vec<u8> {
    let (input, output) = (format!("@{name}"), format!("@{out}"));
    let mut args = vec!["asn1parse", "-inform", "DER", "-in", &input, "-noout", "-out", &output];
    let drilled = drill(offsets);
    args.extend(drilled.iter().map(String::as_str));
    openssl_ok(bin, dir, &args).await;
    std::fs::read(dir.join(out)).unwrap()
}

/// Whether OpenSSL's SM2 (with the standard distinguishing ID) verifies `sig` over the
/// file `signed` with the key of the PEM certificate `cert`.
async fn sm2_verifies(bin: &Path, dir: &Path, signed: &str, sig: &str, cert: &str) -> bool {
    let key = format!("@{cert}.pub");
    openssl_ok(bin, dir, &["x509", "-in", &format!("@{cert}"), "-pubkey", "-noout", "-out", &key]).await;
    let (signed, sig) = (format!("@{signed}"), format!("@{sig}"));
    let args = [
        "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", DISTID, "-pubin", "-inkey", &key,
        "-in", &signed, "-sigfile", &sig,
    ];
    let (ok, text) = openssl(bin, dir, &args).await;
    assert_eq!(ok, text.contains("Signature Verified Successfully"), "{text}");
    ok
}

/// A copy `name.flipped` of the file `name` with one bit of its last byte changed.
fn flipped(dir: &Path, name: &str) -> String {
    let mut bytes = std::fs::read(dir.join(name)).unwrap();
    *bytes.last_mut().unwrap() ^= 0x01;
    let out = format!("{name}.flipped");
    std::fs::write(dir.join(&out), bytes).unwrap();
    out
}

/// SM3 of each of `files` (paths relative to `dir`) by `openssl dgst -sm3`, in hex.
async fn sm3_hex(bin: &Path, dir: &Path, files: &[String]) -> BTreeMap<String, String> {
    let args = ["dgst", "-sm3", "-r"].map(PathBuf::from).into_iter().chain(files.iter().map(|f| dir.join(f)));
    let out = run(bin, args).await;
    assert!(out.status.success(), "{}", text(&out));
    // One line per file, in order: `<hex> *<path>`.
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let digests: Vec<String> = stdout.lines().map(|l| l.split(' ').next().unwrap().to_owned()).collect();
    assert_eq!(digests.len(), files.len(), "{}", text(&out));
    files.iter().cloned().zip(digests).collect()
}

/// Every `FileRef` of `Signature.xml` with its `CheckValue` (base64), read with plain
/// string search rather than our XML reader.
fn references(xml: &str) -> Vec<(String, String)> {
    let value_of = |s: &str, open: &str, close: &str| {
        let start = s.find(open).unwrap() + open.len();
        s[start..start + s[start..].find(close).unwrap()].to_owned()
    };
    xml.split("<ofd:Reference ")
        .skip(1)
        .map(|r| (value_of(r, "FileRef=\"", "\""), value_of(r, "<ofd:CheckValue>", "</ofd:CheckValue>")))
        .collect()
}

/// OpenSSL on one issued OFD, unpacked in `dir`: see the module documentation.
async fn openssl_checks(bin: &Path, dir: &Path, ofd: &[u8], root_pem: &str) {
    let package = unpack(ofd, dir);
    std::fs::write(dir.join("root.pem"), root_pem).unwrap();
    let sv = &format!("pkg/{SIGNED_VALUE}");
    let facts = ses::read_signature(package.get(SIGNED_VALUE).unwrap()).unwrap();

    // SES_Signature: TBS_Sign, signer cert, SM2-with-SM3, signature, and the time-stamp
    // ([0] EXPLICIT) if there is one.
    let (top, layout) = children(bin, dir, sv, &[]).await;
    assert_eq!(top.len(), 4 + usize::from(facts.timestamp.is_some()), "{layout}");
    assert_eq!(layout.contains("cont [ 0 ]"), facts.timestamp.is_some(), "{layout}");
    assert!(layout.contains("SM2-with-SM3"), "{layout}");
    // TBS_Sign: version 4, the seal, the time, the data hash, the path of Signature.xml.
    let (tbs, layout) = children(bin, dir, sv, &[&top[0]]).await;
    assert_eq!(tbs.len(), 5, "{layout}");
    for needed in [":04", "GENERALIZEDTIME", "BIT STRING", &format!("IA5STRING         :/{SIGNATURE_XML}")] {
        assert!(layout.contains(needed), "{needed}: {layout}");
    }
    // SESeal: SES_SealInfo (header "ES", v4, our vendor id; a PNG picture), maker cert,
    // SM2-with-SM3, the maker's signature.
    let (seal, layout) = children(bin, dir, sv, &[&top[0], &tbs[1]]).await;
    assert_eq!(seal.len(), 4, "{layout}");
    for needed in [":ES", ":04", ":ZHENGZHAO", ":PNG", "SM2-with-SM3", "GENERALIZEDTIME"] {
        assert!(layout.contains(needed), "{needed}: {layout}");
    }

    // The signed bytes, signatures and certificates as OpenSSL cuts them are those our
    // reader finds.
    let at = |last: usize| [top[0].as_str(), tbs[1].as_str(), seal[last].as_str()];
    assert_eq!(cut(bin, dir, sv, &[&top[0]], "tbs.der").await, facts.tbs_der);
    assert_eq!(cut(bin, dir, sv, &[&top[3]], "tbs.sig").await, facts.signature);
    assert_eq!(cut(bin, dir, sv, &[&top[1]], "signer.der").await, facts.signer_cert_der);
    assert_eq!(cut(bin, dir, sv, &at(0), "sealinfo.der").await, facts.seal.maker_signed_der);
    assert_eq!(cut(bin, dir, sv, &at(3), "sealinfo.sig").await, facts.seal.maker_signature);
    assert_eq!(cut(bin, dir, sv, &at(1), "maker.der").await, facts.seal.maker_cert_der);
    let data_hash = cut(bin, dir, sv, &[&top[0], &tbs[3]], "datahash.bin").await;
    // The seal lists the signer's certificate (certListType 1: certificates).
    assert!(
        facts.seal.maker_signed_der.windows(facts.signer_cert_der.len()).any(|w| w == facts.signer_cert_der)
    );

    for who in ["signer", "maker"] {
        let (der, pem) = (format!("@{who}.der"), format!("@{who}.pem"));
        openssl_ok(bin, dir, &["x509", "-inform", "DER", "-in", &der, "-out", &pem]).await;
        // One link each to the SM2 root (FINDINGS: -vfyopt distid reaches the leaf only).
        let out = openssl_ok(bin, dir, &["verify", "-CAfile", "@root.pem", "-vfyopt", DISTID, &pem]).await;
        assert!(out.contains(&format!("{who}.pem: OK")), "{out}");
    }
    assert!(sm2_verifies(bin, dir, "tbs.der", "tbs.sig", "signer.pem").await);
    assert!(!sm2_verifies(bin, dir, &flipped(dir, "tbs.der"), "tbs.sig", "signer.pem").await);
    assert!(sm2_verifies(bin, dir, "sealinfo.der", "sealinfo.sig", "maker.pem").await);
    assert!(!sm2_verifies(bin, dir, &flipped(dir, "sealinfo.der"), "sealinfo.sig", "maker.pem").await);
    // Each signature is its signer's: the seal did not sign the seal, the maker not the page.
    assert!(!sm2_verifies(bin, dir, "sealinfo.der", "sealinfo.sig", "signer.pem").await);
    assert!(!sm2_verifies(bin, dir, "tbs.der", "tbs.sig", "maker.pem").await);

    digest_checks(bin, dir, &package, &data_hash).await;
}

/// `openssl dgst -sm3` recomputes the `dataHash` (SM3 of `Signature.xml` as stored) and
/// every reference's `CheckValue`; the references cover every file but the signatures'.
async fn digest_checks(bin: &Path, dir: &Path, package: &Package, data_hash: &[u8]) {
    let xml = std::str::from_utf8(package.get(SIGNATURE_XML).unwrap()).unwrap();
    assert!(xml.contains("<ofd:References CheckMethod=\"1.2.156.10197.1.401\">"), "{xml}");
    assert!(xml.contains(&format!("<ofd:SignedValue>/{SIGNED_VALUE}</ofd:SignedValue>")), "{xml}");
    let refs = references(xml);
    let mut files: Vec<String> = refs.iter().map(|(r, _)| format!("pkg{r}")).collect();
    files.push(format!("pkg/{SIGNATURE_XML}"));
    let digests = sm3_hex(bin, dir, &files).await;
    assert_eq!(digests[&format!("pkg/{SIGNATURE_XML}")], hex::encode(data_hash), "dataHash");
    for (file, check_value) in &refs {
        let expected = hex::encode(data_encoding::BASE64.decode(check_value.as_bytes()).unwrap());
        assert_eq!(digests[&format!("pkg{file}")], expected, "CheckValue of {file}");
    }
    let covered: Vec<&str> = refs.iter().map(|(r, _)| r.strip_prefix('/').unwrap()).collect();
    let uncovered: Vec<&str> = package.files().map(|(n, _)| n).filter(|n| !covered.contains(n)).collect();
    // Signatures.xml lists the signatures (a later one adds itself there): like the
    // foreign signed OFDs (FINDINGS), no reference covers it.
    assert_eq!(uncovered, [SIGNATURES_XML, SIGNATURE_XML, SIGNED_VALUE], "covered: {covered:?}");
}

#[tokio::test]
async fn openssl_verifies_the_seal_signatures_certificates_and_digests_of_issued_ofds() {
    let Some([bin]) = require("openssl on issued OFDs", [path_tool("openssl")]) else { return };
    let issued = issue().await;
    let root = issued.platform.pki.roots_pem(Some(Algorithm::Sm2)).await.unwrap();
    for name in ["ofd", "both", "stamped"] {
        openssl_checks(&bin, &out_dir(&format!("openssl-{name}")), issued.ofd(name), &root).await;
    }
    // The seal in the OFD is the seal the platform exports, byte for byte.
    let seals = issued.platform.store.seals(None).await.unwrap();
    let sm2 = &seals.iter().find(|s| s.algorithm == Algorithm::Sm2).unwrap().id;
    let esl = issued.platform.pki.ses_seal(sm2, OffsetDateTime::now_utc()).await.unwrap();
    let pkg = Package::from_zip(issued.ofd("ofd"), &ReadLimits::default()).unwrap();
    assert_eq!(ses::read_signature(pkg.get(SIGNED_VALUE).unwrap()).unwrap().seal.der, esl);
}

// --- OpenSSL on the time-stamp ---------------------------------------------------------

/// The elements `openssl asn1parse -i` lists in the DER file `name`: offset, depth,
/// header length, content length, and the rest of the line.
async fn listing(bin: &Path, dir: &Path, name: &str) -> Vec<(usize, usize, usize, usize, String)> {
    let layout =
        openssl_ok(bin, dir, &["asn1parse", "-inform", "DER", "-i", "-in", &format!("@{name}")]).await;
    let number = |l: &str, key: &str| -> usize {
        let at = l.find(key).unwrap() + key.len();
        l[at..].trim_start().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    layout
        .lines()
        .filter(|l| l.contains("d=") && l.contains("hl="))
        .map(|l| {
            let offset = l.split(':').next().unwrap().trim().parse().unwrap();
            (offset, number(l, "d="), number(l, "hl="), number(l, " l="), l.to_owned())
        })
        .collect()
}

/// The time-stamp of the time-stamped OFD, checked by OpenSSL 3.0 on bytes OpenSSL cuts and
/// locates: it reads the token (`ts -reply -token_in -text`: granted, SM3, our policy and
/// TSA) and its message imprint is `dgst -sm3` of the signature value; the TSA certificate
/// in it chains to the SM2 root (`verify -vfyopt distid:…`); the TSA's SM2 signature over
/// the signed attributes verifies (`pkeyutl -rawin -digest sm3 -pkeyopt distid:…`), and
/// their messageDigest is the SM3 of the TSTInfo. What OpenSSL 3.0.19 cannot do, as
/// measured: `ts -verify` of an SM2 token — its PKCS#7 layer verifies SM2 with OpenSSL's
/// default distinguishing ID, not `1234567812345678`, and no option sets it, so the
/// signature fails (and the chain too, without `-partial_chain`: FINDINGS on distid).
#[tokio::test]
async fn openssl_checks_the_time_stamp_of_a_time_stamped_ofd() {
    let Some([bin]) = require("openssl on a time-stamped OFD", [path_tool("openssl")]) else { return };
    let bin = &bin;
    let issued = issue().await;
    let dir = &out_dir("openssl-timestamp");
    let package = unpack(issued.ofd("stamped"), dir);
    let root = issued.platform.pki.roots_pem(Some(Algorithm::Sm2)).await.unwrap();
    std::fs::write(dir.join("root.pem"), root).unwrap();
    let facts = ses::read_signature(package.get(SIGNED_VALUE).unwrap()).unwrap();
    // Cut by OpenSSL: the signature value, and the BIT STRING inside [0] (the token).
    let sv = &format!("pkg/{SIGNED_VALUE}");
    let (top, layout) = children(bin, dir, sv, &[]).await;
    assert_eq!(top.len(), 5, "{layout}");
    assert_eq!(cut(bin, dir, sv, &[&top[3]], "signature.bin").await, facts.signature);
    let token = cut(bin, dir, sv, &[&top[4], "4"], "token.der").await;
    assert_eq!(Some(&token), facts.timestamp.as_ref());

    let text = openssl_ok(bin, dir, &["ts", "-reply", "-in", "@token.der", "-token_in", "-text"]).await;
    for wanted in [
        "Status: Granted.",
        "Hash Algorithm: sm3",
        "Policy OID: 1.3.6.1.4.1.99999.7.1",
        "CN=Time-stamping authority",
    ] {
        assert!(text.contains(wanted), "{wanted:?} not in {text}");
    }
    let imprint: String = text
        .split("Message data:")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take(2)
        .flat_map(|l| l.split(" - ").nth(1).unwrap().split("  ").next().unwrap().split([' ', '-']))
        .collect();
    let digests = sm3_hex(bin, dir, &["signature.bin".to_owned()]).await;
    assert_eq!(imprint, digests["signature.bin"], "{text}");

    // The token carries the TSA's certificate, which chains to the SM2 root.
    let print_certs = ["pkcs7", "-inform", "DER", "-in", "@token.der", "-print_certs", "-out", "@tsa.pem"];
    openssl_ok(bin, dir, &print_certs).await;
    openssl_ok(bin, dir, &["x509", "-in", "@tsa.pem", "-outform", "DER", "-out", "@tsa.der"]).await;
    assert_eq!(std::fs::read(dir.join("tsa.der")).unwrap(), issued.tsa_cert);
    let out = openssl_ok(bin, dir, &["verify", "-CAfile", "@root.pem", "-vfyopt", DISTID, "@tsa.pem"]).await;
    assert!(out.contains("tsa.pem: OK"), "{out}");

    // The SignerInfo, located by OpenSSL: its [0] signed attributes (signed as a SET) and
    // its signature, the last OCTET STRING; the TSTInfo is the first OCTET STRING.
    let elements = listing(bin, dir, "token.der").await;
    let (signer_info, ..) = elements.iter().rev().find(|e| e.1 == 4 && e.4.contains("SEQUENCE")).unwrap();
    let content = |e: &(usize, usize, usize, usize, String)| token[e.0 + e.2..e.0 + e.2 + e.3].to_vec();
    let attrs =
        elements.iter().find(|e| e.0 > *signer_info && e.1 == 5 && e.4.contains("cont [ 0 ]")).unwrap();
    let mut signed = token[attrs.0..attrs.0 + attrs.2 + attrs.3].to_vec();
    signed[0] = 0x31;
    std::fs::write(dir.join("attrs.der"), &signed).unwrap();
    let sig = elements.iter().rev().find(|e| e.1 == 5 && e.4.contains("OCTET STRING")).unwrap();
    std::fs::write(dir.join("attrs.sig"), content(sig)).unwrap();
    let tst = elements.iter().find(|e| e.4.contains("OCTET STRING")).unwrap();
    std::fs::write(dir.join("tst.der"), content(tst)).unwrap();
    assert!(sm2_verifies(bin, dir, "attrs.der", "attrs.sig", "tsa.pem").await);
    assert!(!sm2_verifies(bin, dir, &flipped(dir, "attrs.der"), "attrs.sig", "tsa.pem").await);
    let tst_digest = hex::decode(&sm3_hex(bin, dir, &["tst.der".to_owned()]).await["tst.der"]).unwrap();
    assert!(signed.windows(32).any(|w| w == tst_digest), "messageDigest is not SM3(TSTInfo)");

    // Measured: `ts -verify` refuses the SM2 token, for the distinguishing ID.
    let verify = |ca: &'static str, partial: bool| {
        let mut args =
            vec!["ts", "-verify", "-in", "@token.der", "-token_in", "-data", "@signature.bin", "-CAfile", ca];
        if partial {
            args.push("-partial_chain");
        }
        args
    };
    let (ok, text) = openssl(bin, dir, &verify("@root.pem", false)).await;
    assert!(!ok && text.contains("certificate signature failure"), "{text}");
    let (ok, text) = openssl(bin, dir, &verify("@tsa.pem", true)).await;
    assert!(!ok && text.contains("PKCS7_signatureVerify:signature failure"), "{text}");
}

// --- ofd-core and zbar ----------------------------------------------------------------

/// Whether the pixel at `(x, y)` mm on a page rendered at `dpi` is close to `rgb`.
fn pixel_near(img: &tiny_skia::Pixmap, dpi: f64, (x, y): (f64, f64), rgb: [u8; 3]) -> bool {
    let px = |mm: f64| (mm / 25.4 * dpi).round() as u32;
    let p = img.pixel(px(x), px(y)).unwrap();
    [p.red(), p.green(), p.blue()].iter().zip(rgb).all(|(a, b)| a.abs_diff(b) < 40)
}

/// ofd-core's conformance report on the issued OFD and its render of page 1 (PNG, 150 dpi).
fn ofd_core_render(ofd: &[u8], files: usize) -> Vec<u8> {
    let mut reader =
        ofd_core::OfdReader::new(ofd_core::OfdPackage::new(Cursor::new(ofd.to_vec())).unwrap()).unwrap();
    let report = ofd_core::check_reader(&mut reader);
    assert!(report.conforms() && report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.signatures.len(), 1, "{:?}", report.signatures);
    let s = &report.signatures[0];
    assert_eq!(s.verdict(), ofd_core::SigVerdict::Valid, "{s:?}");
    // Every file but the three of the signatures, each digest OK.
    assert_eq!(s.references.len(), files - 3, "{s:?}");
    assert!(s.references.iter().all(|r| r.status == ofd_core::RefStatus::Ok), "{s:?}");

    let bodies = reader.ofd().doc_bodies.clone();
    let doc = reader.load_document(&bodies[0]).unwrap();
    assert_eq!(doc.pages().len(), 1);
    let options = ofd_core::RenderOptions::with_dpi(150.0);
    reader.render_page_to_bytes(&doc, 0, &options, ofd_core::render::ImageFormat::Png).unwrap()
}

#[tokio::test]
async fn ofd_core_finds_issued_ofds_conformant_and_zbar_reads_the_qr_of_its_render() {
    let issued = issue().await;
    let zbar = require("zbarimg on the render of an issued OFD", [path_tool("zbarimg")]);
    for name in ["ofd", "both", "stamped"] {
        let ofd = issued.ofd(name);
        let files = Package::from_zip(ofd, &ReadLimits::default()).unwrap().len();
        let png_bytes = ofd_core_render(ofd, files);
        let png = out_dir(&format!("ofd-core-{name}")).join("page1.png");
        std::fs::write(&png, &png_bytes).unwrap();
        let img = tiny_skia::Pixmap::decode_png(&png_bytes).unwrap();
        assert_eq!((img.width(), img.height()), (1240, 1754));
        assert!(pixel_near(&img, 150.0, (105.0, 10.0), [168, 124, 48]), "no gold frame");
        let Some([zbar]) = &zbar else { continue };
        let out =
            run(zbar, [OsStr::new("--raw"), OsStr::new("--nodbus"), OsStr::new("-q"), png.as_os_str()]).await;
        assert!(out.status.success(), "{}", text(&out));
        let url = &issued.licence(name).url;
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), url, "{name}");
        assert!(url.starts_with("https://zz.example.gov.cn/v/"), "{url}");
    }
}

// --- ofdkit ---------------------------------------------------------------------------

/// Reads the OFD with ofdkit and prints the text and document information as JSON.
const OFDKIT: &str = r#"
import json, sys, ofdkit
with ofdkit.open(sys.argv[1]) as d:
    print(json.dumps({"pages": len(d.pages), "text": d.text(), "info": d.info.to_dict(),
                      "warnings": list(d.warnings)}, ensure_ascii=False))
"#;

#[tokio::test]
async fn ofdkit_extracts_the_chinese_text_and_the_metadata_of_issued_ofds() {
    let Some([python]) = require("ofdkit on issued OFDs", [env_tool("ZHENGZHAO_TEST_PYTHON")]) else {
        return;
    };
    let issued = issue().await;
    for name in ["ofd", "both", "stamped"] {
        let (licence, ofd) = (issued.licence(name), issued.ofd(name));
        let path = out_dir(&format!("ofdkit-{name}")).join("licence.ofd");
        std::fs::write(&path, ofd).unwrap();
        let out = run(&python, [OsStr::new("-c"), OsStr::new(OFDKIT), path.as_os_str()]).await;
        assert!(out.status.success(), "{}", text(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((&v["pages"], &v["warnings"]), (&1.into(), &serde_json::json!([])), "{v}");
        let got = v["text"].as_str().unwrap();
        let issuer = "演示市市场监督管理局";
        // The issue date as the metadata gives it (yyyy-mm-dd), as the page shows it.
        let ymd: Vec<String> =
            v["info"]["custom_data"]["IssueDate"].as_str().unwrap().split('-').map(str::to_owned).collect();
        let date = format!("{}年{}月{}日", ymd[0], ymd[1], ymd[2]);
        let id_line = format!("电子证照标识：{}", licence.identifier);
        for wanted in [
            "食品经营许可证",
            "经营者名称：",
            HOLDER,
            "统一社会信用代码：",
            "91310115MA1H7ABC2D",
            "法定代表人（负责人）：",
            "张伟",
            "许可证编号：",
            "JY23101150012345",
            "有效期至：",
            "发证机关：",
            issuer,
            &date,
            "扫码核验",
            &id_line,
        ] {
            assert!(got.contains(wanted), "{wanted:?} not in the text ofdkit extracted:\n{got}");
        }
        let info = &v["info"];
        assert_eq!(info["title"], "食品经营许可证 JY23101150012345");
        assert_eq!((&info["author"], &info["subject"]), (&issuer.into(), &"食品经营许可证".into()));
        let custom = &info["custom_data"];
        assert_eq!(custom["Identifier"], licence.identifier.as_str());
        let token = licence.url.rsplit_once("/v/").unwrap().1;
        assert_eq!(custom["Token"], token);
        assert_eq!(custom["HolderName"], HOLDER);
        assert_eq!(custom["RecordHash"], hex::encode(&licence.record_hash));
        // ofdkit reads the same CustomDatas as our reader, no more, no less.
        let ours = zhengzhao::ofd::inspect(ofd, &ReadLimits::default()).unwrap().doc_info.custom_datas;
        let ours: serde_json::Map<String, serde_json::Value> =
            ours.into_iter().map(|(k, v)| (k, serde_json::Value::from(v))).collect();
        assert_eq!(custom, &serde_json::Value::Object(ours));
    }
}

// --- easyofd: the seal picture --------------------------------------------------------

/// How long easyofd may take to draw one page: it spent 52 s of CPU on a stamped licence
/// OFD alone on a 2-core CI machine (easyofd 20260427: reportlab and PyMuPDF in pure
/// Python paths), and more beside the suite's other tests; the common 60 s killed it.
const EASYOFD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(240);

/// Renders page 1 of the OFD `argv[1]` with easyofd (OFD → PDF with reportlab → PNG with
/// PyMuPDF) into `argv[2]`. easyofd draws images, paths and the StampAnnot's seal picture,
/// but no text (FINDINGS), ignores stroke colours (black frame) and strokes filled paths
/// (an outlined QR): it is looked to for the seal only.
const EASYOFD: &str = r#"
import sys
from easyofd.ofd import OFD
ofd = OFD()
ofd.read(sys.argv[1], fmt="path")
ofd.to_jpg()[0].save(sys.argv[2])
"#;

/// The `Boundary` of the `StampAnnot` in `Signature.xml`, in mm: x, y, width, height.
fn stamp_boundary(package: &Package) -> [f64; 4] {
    let xml = std::str::from_utf8(package.get(SIGNATURE_XML).unwrap()).unwrap();
    let annot = &xml[xml.find("<ofd:StampAnnot ").unwrap()..];
    let start = annot.find("Boundary=\"").unwrap() + "Boundary=\"".len();
    let numbers: Vec<f64> = annot[start..start + annot[start..].find('"').unwrap()]
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    numbers.try_into().unwrap()
}

/// Whether a pixel is the seal's red.
fn red(p: tiny_skia::PremultipliedColorU8) -> bool {
    p.red() > 180 && p.green() < 110 && p.blue() < 110
}

/// The box, in mm on an A4 page, around the red pixels of `img`, and how many there are.
fn red_box(img: &tiny_skia::Pixmap) -> ([f64; 4], usize) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (mut x0, mut y0, mut x1, mut y1, mut n) = (w, h, 0, 0, 0);
    for (i, _) in img.pixels().iter().enumerate().filter(|(_, p)| red(**p)) {
        let (x, y) = (i % w, i / w);
        (x0, y0, x1, y1, n) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1), n + 1);
    }
    let (sx, sy) = (210.0 / w as f64, 297.0 / h as f64);
    ([x0 as f64 * sx, y0 as f64 * sy, x1 as f64 * sx, y1 as f64 * sy], n)
}

/// The lines of text (bands of rows with dark pixels) of `img`, rendered at `dpi`, inside
/// the box `b` (x, y, width, height in mm), as mm ranges.
fn ink_bands(img: &tiny_skia::Pixmap, dpi: f64, b: [f64; 4]) -> Vec<(f64, f64)> {
    let px = |mm: f64| (mm / 25.4 * dpi).round() as u32;
    let mm = |px: u32| f64::from(px) * 25.4 / dpi;
    let dark = |p: tiny_skia::PremultipliedColorU8| {
        u32::from(p.red()) * 3 + u32::from(p.green()) * 6 + u32::from(p.blue()) < 128 * 10
    };
    let inked = |y: u32| (px(b[0])..px(b[0] + b[2])).any(|x| dark(img.pixel(x, y).unwrap()));
    let mut bands: Vec<(f64, f64)> = vec![];
    let mut open: Option<u32> = None;
    for y in px(b[1])..=px(b[1] + b[3]) {
        match (open, inked(y)) {
            (None, true) => open = Some(y),
            (Some(top), false) => {
                bands.push((mm(top), mm(y)));
                open = None;
            }
            _ => {}
        }
    }
    bands
}

#[tokio::test]
async fn easyofd_draws_the_seal_over_the_issuer_and_the_date() {
    let Some([python]) = require("easyofd on an issued OFD", [env_tool("ZHENGZHAO_TEST_PYTHON")]) else {
        return;
    };
    let issued = issue().await;
    let ofd = issued.ofd("ofd");
    let package = Package::from_zip(ofd, &ReadLimits::default()).unwrap();
    let dir = out_dir("easyofd");
    let (path, png) = (dir.join("licence.ofd"), dir.join("easyofd.png"));
    std::fs::write(&path, ofd).unwrap();
    let out = run_for(
        &python,
        [OsStr::new("-c"), OsStr::new(EASYOFD), path.as_os_str(), png.as_os_str()],
        EASYOFD_TIMEOUT,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let seal = tiny_skia::Pixmap::decode_png(&std::fs::read(&png).unwrap()).unwrap();

    // The seal picture is drawn where the StampAnnot says, filling its boundary: the red
    // of the render lies where the red of the seal's own picture (in SignedValue.dat) puts it.
    let b = stamp_boundary(&package);
    let (red, n) = red_box(&seal);
    let picture = ses::read_signature(package.get(SIGNED_VALUE).unwrap()).unwrap().seal.picture;
    assert_eq!(picture.kind, "PNG");
    let (in_picture, _) = red_box(&tiny_skia::Pixmap::decode_png(&picture.data).unwrap());
    let (fx, fy) = (b[2] / 210.0, b[3] / 297.0);
    let expected = [0, 1, 2, 3].map(|i| b[i % 2] + in_picture[i] * if i % 2 == 0 { fx } else { fy });
    assert!(
        red.iter().zip(expected).all(|(r, e)| (r - e).abs() < 0.5),
        "red {red:?}, expected {expected:?} (StampAnnot {b:?})"
    );
    assert!(n * 10 > (seal.width() * seal.height()) as usize / 100, "only {n} red pixels");

    // Under it, in ofd-core's render of the same page (text, no seal): two lines, the
    // issuing authority and the issue date.
    let dpi = 150.0;
    let page = tiny_skia::Pixmap::decode_png(&ofd_core_render(ofd, package.len())).unwrap();
    let bands = ink_bands(&page, dpi, b);
    assert_eq!(bands.len(), 2, "lines of text under the seal: {bands:?}");
    assert!(bands.iter().all(|(top, bottom)| bottom - top > 2.0 && bottom - top < 6.0), "{bands:?}");

    // For a person to look at: ofd-core's page with easyofd's seal laid over it.
    let mut overlay = page.clone();
    let (sx, sy) = (
        f64::from(seal.width()) / f64::from(page.width()),
        f64::from(seal.height()) / f64::from(page.height()),
    );
    for y in 0..page.height() {
        for x in 0..page.width() {
            let s = seal.pixel((f64::from(x) * sx) as u32, (f64::from(y) * sy) as u32).unwrap();
            if self::red(s) {
                overlay.pixels_mut()[(y * page.width() + x) as usize] = s;
            }
        }
    }
    overlay.save_png(dir.join("overlay.png")).unwrap();

    // The time-stamped OFD (a fifth element in SignedValue.dat) reads and draws alike.
    let (path, png) = (dir.join("stamped.ofd"), dir.join("stamped.png"));
    std::fs::write(&path, issued.ofd("stamped")).unwrap();
    let out = run_for(
        &python,
        [OsStr::new("-c"), OsStr::new(EASYOFD), path.as_os_str(), png.as_os_str()],
        EASYOFD_TIMEOUT,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let (stamped_red, _) = red_box(&tiny_skia::Pixmap::decode_png(&std::fs::read(&png).unwrap()).unwrap());
    assert!(stamped_red.iter().zip(red).all(|(a, b)| (a - b).abs() < 0.5), "{stamped_red:?} vs {red:?}");
}
