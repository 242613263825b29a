//! OFD licences through the verification engine: foreign OFDs made by other e-seal systems
//! (tests/data/ofd/, see its NOTICE) verify as intact with intact seals and an untrusted
//! signer; the platform's own OFDs verify valid, and every tampering is caught by its check.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::sync::Arc;

use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::{DocumentKind, LicenceInput};
use zhengzhao::ofd::{Package, ReadLimits};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};
use zhengzhao::verify::trustlist::verify_trust_list;
use zhengzhao::verify::{Engine, Mode, Outcome, Report, TrustSet, Verdict};

const FOOD: &str = "11100000000013338W002";

struct Fixture {
    _dir: tempfile::TempDir,
    platform: Arc<Platform>,
}

impl Fixture {
    /// The demo seal of `alg`.
    async fn seal(&self, alg: Algorithm) -> String {
        let seals = self.platform.store.seals(None).await.unwrap();
        seals.iter().find(|s| s.algorithm == alg).unwrap().id.clone()
    }

    /// Issues the food business licence with `document`: SM2 for an OFD, Ed25519 (and the
    /// SM2 seal for the OFD) otherwise.
    async fn issue(&self, document: DocumentKind) -> IssuedLicence {
        self.issue_version(document, None).await
    }

    /// As [`Self::issue`], or a new version of `renews`.
    async fn issue_version(&self, document: DocumentKind, renews: Option<String>) -> IssuedLicence {
        let (seal, ofd_seal) = match document {
            DocumentKind::Ofd => (self.seal(Algorithm::Sm2).await, None),
            DocumentKind::Both => {
                (self.seal(Algorithm::Ed25519).await, Some(self.seal(Algorithm::Sm2).await))
            }
            _ => (self.seal(Algorithm::Ed25519).await, None),
        };
        let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
        let input: LicenceInput = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let request = IssueRequest {
            seal_id: seal,
            ofd_seal_id: ofd_seal,
            type_code: FOOD.into(),
            input,
            document,
            client: None,
            idempotency_key: None,
            renews,
        };
        self.platform.issuing.issue(request, OffsetDateTime::now_utc()).await.unwrap()
    }

    async fn verify(&self, ofd: Vec<u8>) -> Report {
        self.platform.verification.verify_ofd(ofd, OffsetDateTime::now_utc()).await.unwrap()
    }

    /// The platform's signed trust list as an offline verifier holds it.
    async fn offline_trust(&self, now: OffsetDateTime) -> TrustSet {
        let list = self.platform.verification.trust_list(now).await.unwrap();
        let verified = verify_trust_list(list.as_bytes(), None).unwrap();
        TrustSet::from_trust_list(&verified.body, vec![], now).unwrap()
    }
}

/// The package of an OFD, to tamper with.
fn unzip(ofd: &[u8]) -> Package {
    Package::from_zip(ofd, &ReadLimits::default()).unwrap()
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    Fixture { platform: Arc::new(platform), _dir: dir }
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/ofd/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn outcome(report: &Report, code: &str) -> Outcome {
    report.check(code).unwrap_or_else(|| panic!("no check {code}: {report:#?}")).outcome
}

/// What the report says, one line per check, for failure messages.
fn lines(report: &Report) -> String {
    report.checks.iter().map(|c| format!("{} {:?}: {}\n", c.code, c.outcome, c.message_en)).collect()
}

#[tokio::test]
async fn foreign_ofds_are_intact_with_intact_seals_but_an_untrusted_signer() {
    let f = fixture().await;
    for name in ["ofdrw-SESV4SignDoc.ofd", "vendor-v4signed.ofd"] {
        let report = f.platform.verification.verify_ofd(data(name), OffsetDateTime::now_utc()).await.unwrap();
        let all = lines(&report);
        for code in [
            "input.read",
            "ofd.signature_found",
            "ofd.references",
            "ofd.coverage",
            "ofd.data_hash",
            "ofd.signature",
            "ofd.seal_maker",
            "ofd.seal_signer",
        ] {
            assert_eq!(outcome(&report, code), Outcome::Passed, "{name} {code}:\n{all}");
        }
        // Not ours: neither the seal maker nor the signer chains to a trusted root, and the
        // document carries no licence token — untrusted, not broken.
        assert_eq!(outcome(&report, "ofd.seal_maker_chain"), Outcome::Failed, "{name}:\n{all}");
        assert_eq!(outcome(&report, "seal.chain"), Outcome::Failed, "{name}:\n{all}");
        assert!(
            report.check("seal.chain").unwrap().message_en.contains("does not chain to a trusted root"),
            "{all}"
        );
        assert_eq!(outcome(&report, "ofd.token"), Outcome::Failed, "{name}:\n{all}");
        assert_eq!(report.verdict, Verdict::Invalid, "{name}");
        assert!(report.licence.is_none());
    }
}

#[tokio::test]
async fn an_unsigned_ofd_is_not_verified_and_garbage_is_unreadable() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let report = f.platform.verification.verify_ofd(data("ofdrw-helloworld.ofd"), now).await.unwrap();
    assert_eq!(outcome(&report, "input.read"), Outcome::Passed, "{}", lines(&report));
    assert_eq!(outcome(&report, "ofd.signature_found"), Outcome::Failed, "{}", lines(&report));
    assert_eq!(report.verdict, Verdict::Invalid);
    let mut truncated = data("vendor-v4signed.ofd");
    truncated.truncate(truncated.len() / 2);
    let report = f.platform.verification.verify_ofd(truncated, now).await.unwrap();
    assert_eq!(outcome(&report, "input.read"), Outcome::Failed, "{}", lines(&report));
    assert_eq!(report.checks.len(), 1);
}

/// Every check of a report on an intact licence OFD passes, and it names the right seal.
fn assert_all_pass(report: &Report) {
    for c in &report.checks {
        assert_eq!(c.outcome, Outcome::Passed, "{}:\n{}", c.code, lines(report));
    }
}

#[tokio::test]
async fn an_sm2_seal_issues_an_ofd_that_verifies_valid_online_and_offline() {
    let f = fixture().await;
    let issued = f.issue(DocumentKind::Ofd).await;
    assert_eq!(issued.document.kind(), DocumentKind::Ofd);
    assert!(issued.pdf().is_none());
    let ofd = issued.ofd().unwrap().to_vec();
    assert!(ofd.starts_with(b"PK\x03\x04"));
    let report = f.verify(ofd.clone()).await;
    assert_eq!(report.verdict, Verdict::Valid, "{}", lines(&report));
    assert_all_pass(&report);
    for code in ["ofd.references", "ofd.coverage", "ofd.data_hash", "ofd.signature", "ofd.seal_maker"] {
        assert!(report.check(code).is_some(), "{code}");
    }
    assert_eq!(report.licence.as_ref().unwrap().identifier, issued.identifier);
    // Offline, with the signed trust list alone: everything but the register's status.
    let now = OffsetDateTime::now_utc();
    let trust = f.offline_trust(now).await;
    let offline = Engine::new(&trust, now).verify_ofd(&ofd);
    assert_eq!(
        (offline.mode, offline.verdict),
        (Mode::Offline, Verdict::Indeterminate),
        "{}",
        lines(&offline)
    );
    for c in offline.checks.iter().filter(|c| c.code.starts_with("ofd.")) {
        assert_eq!(c.outcome, Outcome::Passed, "{}:\n{}", c.code, lines(&offline));
    }
    // The same package is written again byte for byte only with the same signature: SM2
    // signatures are randomised, so two licences never share bytes — but their files but
    // the signature's are the platform's deterministic rendering.
    let package = unzip(&ofd);
    let names: Vec<&str> = package.files().map(|(n, _)| n).collect();
    assert_eq!(names[0], "OFD.xml");
    assert!(names.contains(&"Doc_0/Signs/Sign_0/SignedValue.dat"), "{names:?}");
}

#[tokio::test]
async fn both_issues_a_pdf_and_an_ofd_of_one_record_under_one_token() {
    let f = fixture().await;
    let issued = f.issue(DocumentKind::Both).await;
    assert_eq!(issued.document.kind(), DocumentKind::Both);
    let (pdf, ofd) = (issued.pdf().unwrap().to_vec(), issued.ofd().unwrap().to_vec());
    let now = OffsetDateTime::now_utc();
    let pdf_report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
    let ofd_report = f.verify(ofd.clone()).await;
    assert_eq!(pdf_report.verdict, Verdict::Valid, "{}", lines(&pdf_report));
    assert_eq!(ofd_report.verdict, Verdict::Valid, "{}", lines(&ofd_report));
    assert_all_pass(&ofd_report);
    // One record: the same identifier and record hash; the token in the OFD is the PDF seal's.
    assert_eq!(pdf_report.licence, ofd_report.licence);
    let inspection = zhengzhao::ofd::inspect(&ofd, &ReadLimits::default()).unwrap();
    let token = inspection.doc_info.custom_datas.iter().find(|(k, _)| k == "Token").unwrap().1.clone();
    assert!(issued.url.ends_with(&token), "{} / {token}", issued.url);
    let stored = f.platform.store.licence(&issued.identifier).await.unwrap().unwrap();
    assert_eq!(stored.licence.seal_id, f.seal(Algorithm::Ed25519).await);
    assert_eq!(stored.licence.ofd_seal_id, Some(f.seal(Algorithm::Sm2).await));
    assert_eq!(stored.licence.document, issued.document);
}

/// A licence OFD with `edit` applied to its package, verified online.
async fn tampered(f: &Fixture, ofd: &[u8], edit: impl FnOnce(&mut Package)) -> Report {
    let mut package = unzip(ofd);
    edit(&mut package);
    f.verify(package.to_zip().unwrap()).await
}

/// The `ofd.*` checks that failed.
fn failed(report: &Report) -> Vec<&'static str> {
    report.checks.iter().filter(|c| c.outcome == Outcome::Failed).map(|c| c.code).collect()
}

fn text_of(p: &Package, path: &str) -> String {
    String::from_utf8(p.get(path).unwrap().to_vec()).unwrap()
}

const CONTENT: &str = "Doc_0/Pages/Page_0/Content.xml";
const SIGNATURE: &str = "Doc_0/Signs/Sign_0/Signature.xml";
const SIGNED_VALUE: &str = "Doc_0/Signs/Sign_0/SignedValue.dat";

#[tokio::test]
async fn tampering_with_the_package_is_caught_by_its_check() {
    let f = fixture().await;
    let ofd = f.issue(DocumentKind::Ofd).await.ofd().unwrap().to_vec();

    let r = tampered(&f, &ofd, |p| {
        let mut c = p.get(CONTENT).unwrap().to_vec();
        let at = c.len() / 2;
        c[at] ^= 0x01;
        p.replace(CONTENT, c);
    })
    .await;
    assert_eq!(failed(&r), ["ofd.references"], "one byte of the page:\n{}", lines(&r));

    let r = tampered(&f, &ofd, |p| {
        let page = p.get(CONTENT).unwrap().to_vec();
        p.insert("Doc_0/Pages/Page_1/Content.xml", page).unwrap();
        let doc = text_of(p, "Doc_0/Document.xml").replace(
            "</ofd:Pages>",
            "<ofd:Page ID=\"900\" BaseLoc=\"Pages/Page_1/Content.xml\"/></ofd:Pages>",
        );
        p.replace("Doc_0/Document.xml", doc.into_bytes());
    })
    .await;
    assert_eq!(failed(&r), ["ofd.references", "ofd.coverage"], "a page added:\n{}", lines(&r));

    let r = tampered(&f, &ofd, |p| p.insert("Doc_0/Res/extra.png", b"not covered".to_vec()).unwrap()).await;
    assert_eq!(failed(&r), ["ofd.coverage"], "a file added:\n{}", lines(&r));
    assert!(r.check("ofd.coverage").unwrap().message_en.contains("Doc_0/Res/extra.png"));

    let r = tampered(&f, &ofd, |p| {
        let xml = text_of(p, SIGNATURE);
        let start = xml.find("<ofd:Reference ").unwrap();
        let end = start + xml[start..].find("</ofd:Reference>").unwrap() + "</ofd:Reference>".len();
        p.replace(SIGNATURE, format!("{}{}", &xml[..start], &xml[end..]).into_bytes());
    })
    .await;
    assert_eq!(failed(&r), ["ofd.coverage", "ofd.data_hash"], "a reference removed:\n{}", lines(&r));

    let r = tampered(&f, &ofd, |p| {
        let xml = text_of(p, SIGNATURE);
        let at = xml.find("SignatureDateTime>").unwrap() + "SignatureDateTime>".len();
        let year: u32 = xml[at..at + 4].parse().unwrap();
        let edited = format!("{}{}{}", &xml[..at], year - 1, &xml[at + 4..]);
        p.replace(SIGNATURE, edited.into_bytes());
    })
    .await;
    assert_eq!(failed(&r), ["ofd.data_hash"], "SignatureDateTime edited:\n{}", lines(&r));

    let mut truncated = ofd.clone();
    truncated.truncate(ofd.len() - 200);
    let r = f.verify(truncated).await;
    assert_eq!(failed(&r), ["input.read"], "truncated:\n{}", lines(&r));
}

/// DER of one element: tag, definite length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// An `SES_Signature` (v4, no time-stamp) from its parts.
fn ses_signature(tbs_der: &[u8], cert: &[u8], signature: &[u8]) -> Vec<u8> {
    // SM2-with-SM3, 1.2.156.10197.1.501.
    let alg = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75];
    let mut bits = vec![0];
    bits.extend_from_slice(signature);
    let body = [tbs_der.to_vec(), tlv(0x04, cert), alg.to_vec(), tlv(0x03, &bits)].concat();
    tlv(0x30, &body)
}

fn new_sm2_signer() -> (zhengzhao::pki::PrivateKey, zhengzhao::signing::SealSigner) {
    let key = zhengzhao::pki::PrivateKey::generate(Algorithm::Sm2, &ring::rand::SystemRandom::new()).unwrap();
    let signer = zhengzhao::signing::SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    (key, signer)
}

#[tokio::test]
async fn tampering_with_the_seal_signature_is_caught_by_its_check() {
    let f = fixture().await;
    let ofd = f.issue(DocumentKind::Ofd).await.ofd().unwrap().to_vec();
    let signed_value = unzip(&ofd).get(SIGNED_VALUE).unwrap().to_vec();
    let facts = zhengzhao::ses::read_signature(&signed_value).unwrap();

    // The seal picture swapped (one byte of the PNG inside the SES_Seal): the maker's
    // signature breaks, and with it the signature over TBS_Sign, which contains the seal.
    let r = tampered(&f, &ofd, |p| {
        let mut sv = p.get(SIGNED_VALUE).unwrap().to_vec();
        let png = sv.windows(4).position(|w| w == b"\x89PNG").unwrap();
        sv[png + 200] ^= 0xff;
        p.replace(SIGNED_VALUE, sv);
    })
    .await;
    assert_eq!(failed(&r), ["ofd.signature", "ofd.seal_maker"], "picture swapped:\n{}", lines(&r));

    // Re-signed by a foreign key, the seal's certificate and every name copied.
    let (_, foreign) = new_sm2_signer();
    let forged = ses_signature(&facts.tbs_der, &facts.signer_cert_der, &foreign.sign_der(&facts.tbs_der));
    let r = tampered(&f, &ofd, |p| {
        p.replace(SIGNED_VALUE, forged);
    })
    .await;
    assert_eq!(failed(&r), ["ofd.signature"], "foreign key:\n{}", lines(&r));

    // A seal made by a foreign maker (its own root), listing our seal's certificate and
    // used by our seal's own key: everything holds but the maker's trust.
    let now = OffsetDateTime::now_utc();
    let (root_key, _) = new_sm2_signer();
    let root = zhengzhao::pki::make_root(
        Algorithm::Sm2,
        "外地平台",
        &root_key,
        now - time::Duration::days(1),
        now + time::Duration::days(3650),
        [7; 16],
    )
    .unwrap();
    let (maker_key, maker) = new_sm2_signer();
    let maker_cert = zhengzhao::pki::issue_seal_maker_cert(
        "外地平台",
        &maker_key.public_key_spki_der(),
        &root,
        &root_key,
        now - time::Duration::hours(1),
        now + time::Duration::days(365),
        [8; 16],
    )
    .unwrap();
    let seal_id = f.seal(Algorithm::Sm2).await;
    let drawing = f.platform.pki.seal_drawing(&seal_id).await.unwrap();
    let picture = zhengzhao::ses::picture_of(&drawing).unwrap();
    let s = &facts.seal;
    let spec = zhengzhao::ses::SealSpec {
        es_id: &s.es_id,
        seal_type: s.seal_type,
        name: &s.name,
        seal_cert_der: &facts.signer_cert_der,
        create_date: s.create_date,
        valid_start: s.valid_start,
        valid_end: s.valid_end,
        picture: &picture,
    };
    let foreign_seal = zhengzhao::ses::make_seal(&spec, &maker, &maker_cert).unwrap();
    let record = f.platform.store.seal(&seal_id).await.unwrap().unwrap();
    let our_key = f.platform.keys.read(&record.key_name).unwrap();
    let ours = zhengzhao::signing::SealSigner::from_pkcs8_der(our_key.pkcs8_der()).unwrap();
    let resigned = zhengzhao::ses::sign(
        &foreign_seal,
        facts.time.unwrap(),
        &facts.data_hash,
        &facts.property_info,
        &facts.signer_cert_der,
        &ours,
        None,
    )
    .unwrap();
    let r = tampered(&f, &ofd, |p| {
        p.replace(SIGNED_VALUE, resigned);
    })
    .await;
    assert_eq!(failed(&r), ["ofd.seal_maker_chain"], "foreign maker:\n{}", lines(&r));
    assert!(r.check("ofd.seal_maker_chain").unwrap().message_en.contains("外地平台"), "{}", lines(&r));
}

/// A new version chooses its own documents: an OFD licence renewed as PDF + OFD, then as a
/// PDF alone; each version's documents verify, the old OFD then as superseded.
#[tokio::test]
async fn renewals_choose_their_own_documents() {
    let f = fixture().await;
    let v1 = f.issue(DocumentKind::Ofd).await;
    let v2 = f.issue_version(DocumentKind::Both, Some(v1.identifier.clone())).await;
    assert_eq!(v2.document.kind(), DocumentKind::Both);
    assert!(
        v2.identifier.ends_with(&format!(".002.{}", v2.identifier.chars().last().unwrap())),
        "{}",
        v2.identifier
    );
    let r = f.verify(v2.ofd().unwrap().to_vec()).await;
    assert_eq!(r.verdict, Verdict::Valid, "{}", lines(&r));
    let v3 = f.issue_version(DocumentKind::Pdf, Some(v2.identifier.clone())).await;
    assert_eq!((v3.document.kind(), v3.ofd()), (DocumentKind::Pdf, None));
    let old = f.verify(v1.ofd().unwrap().to_vec()).await;
    assert_eq!(old.verdict, Verdict::Invalid, "{}", lines(&old));
    assert_eq!(failed(&old), ["licence.status"], "superseded:\n{}", lines(&old));
}
