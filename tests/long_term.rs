//! Long-term validation of issued licences (PAdES B-LTA): a licence signed now is shown
//! valid by our engine and by pyHanko's ETSI LTA validation at a moment years after its
//! seal certificate expired; without its document time-stamp pyHanko cannot say so; seal
//! revocations after the time-stamp do not matter unless for key compromise dated before
//! it; and every tampering with the time-stamps is caught.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::{DocumentKind, LicenceInput};
use zhengzhao::pki::{self, Algorithm, PrivateKey, RevocationReason};
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};
use zhengzhao::signing::SealSigner;
use zhengzhao::tsa::{Authority, FixedStamper, ImprintAlg, Stamper};
use zhengzhao::verify::{Outcome, Report, TimeBasis, Verdict};

use common::pdf::without_last_revision;
use common::tools;

/// Years after issue, past the seal certificate's expiry (1095 days) and within the food
/// licence's own five years.
const LATER: OffsetDateTime = datetime!(2031-06-01 00:00 UTC);

const TYPES: [(&str, &str); 3] = [
    ("11100000000013338W001", "business-licence.json"),
    ("11100000000013338W002", "food-business-licence.json"),
    ("11100000000013338W003", "teacher-qualification.json"),
];

struct Fixture {
    dir: tempfile::TempDir,
    platform: Arc<Platform>,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    Fixture { dir, platform: Arc::new(platform) }
}

fn example(file: &str) -> LicenceInput {
    let path = format!("{}/templates/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn seal_of(f: &Fixture, algorithm: Algorithm) -> String {
    let seals = f.platform.pki.seals(None).await.unwrap();
    seals.into_iter().find(|s| s.algorithm == algorithm).unwrap().id
}

async fn issue(f: &Fixture, seal: &str, type_code: &str, file: &str, now: OffsetDateTime) -> IssuedLicence {
    let request = IssueRequest {
        seal_id: seal.to_owned(),
        ofd_seal_id: None,
        type_code: type_code.to_owned(),
        input: example(file),
        document: DocumentKind::Pdf,
        client: None,
        idempotency_key: None,
        renews: None,
    };
    f.platform.issuing.issue(request, now).await.unwrap()
}

fn outcome(report: &Report, code: &str) -> Outcome {
    report.check(code).unwrap_or_else(|| panic!("no check {code} in {:#?}", report.checks)).outcome
}

#[track_caller]
fn assert_valid(report: &Report) {
    assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report.checks);
}

fn path_text(p: &std::path::Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// The CRLs of the Ed25519 and P-256 roots as a verifier fetches them at [`LATER`]
/// (`/pki/crl-*.crl`): the newest document time-stamp's TSA certificate names the root's
/// CRL, and only a CRL of the validation time can say it is not revoked then. Signed after
/// every licence of the test is issued (a CRL of 2031 would otherwise go into their DSS).
async fn crls_at_later(f: &Fixture) -> Vec<Vec<u8>> {
    let mut crls = vec![];
    for algorithm in [Algorithm::Ed25519, Algorithm::P256] {
        crls.push(f.platform.pki.refresh_crl(algorithm, LATER).await.unwrap().der);
    }
    crls
}

/// What pyHanko's LTA validation says of `pdf` at [`LATER`] with `crls` known besides the
/// file's own, or `None` after a recorded skip (the checker is missing and CI is unset).
async fn pyhanko_lta(f: &Fixture, name: &str, pdf: &[u8], crls: &[Vec<u8>]) -> Option<serde_json::Value> {
    let [python] = tools::require("pyhanko_lta", [tools::env_tool("ZHENGZHAO_TEST_PYTHON")])?;
    let root = f.platform.pki.roots_pem(None).await.unwrap();
    let root_path = f.dir.path().join("roots.pem");
    std::fs::write(&root_path, root).unwrap();
    let pdf_path = f.dir.path().join(name);
    std::fs::write(&pdf_path, pdf).unwrap();
    let script = format!("{}/tests/support/pyhanko_lta.py", env!("CARGO_MANIFEST_DIR"));
    let mut args =
        vec![script, path_text(&pdf_path), path_text(&root_path), "2031-06-01T00:00:00Z".to_owned()];
    for (i, crl) in crls.iter().enumerate() {
        let path = f.dir.path().join(format!("{name}-{i}.crl"));
        std::fs::write(&path, crl).unwrap();
        args.push(path_text(&path));
    }
    let out = tools::run(&python, &args).await;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_else(|| panic!("pyHanko said nothing: {}", tools::text(&out)));
    Some(serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {}", tools::text(&out))))
}

#[tokio::test]
async fn licences_signed_now_are_valid_years_after_their_seal_certificate_expired() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let mut issued = vec![];
    for algorithm in [Algorithm::Ed25519, Algorithm::P256] {
        let seal = seal_of(&f, algorithm).await;
        let expiry = pki::cert_info(&f.platform.pki.seal(&seal).await.unwrap().cert_der).unwrap().not_after;
        assert!(expiry < LATER, "the seal certificate must have expired by {LATER}");
        for (type_code, file) in TYPES {
            let l = issue(&f, &seal, type_code, file, now).await;
            let pdf = l.pdf().unwrap().to_vec();
            let report = f.platform.verification.verify_pdf(pdf.clone(), LATER).await.unwrap();
            // The food licence's own five years are still running then; the others are 长期.
            assert_valid(&report);
            let signing = report.signing_time.clone().unwrap();
            assert_eq!(signing.basis, TimeBasis::TimeStamp, "{report:#?}");
            assert!(signing.time >= now - Duration::seconds(1) && signing.time <= now + Duration::seconds(1));
            assert_eq!(outcome(&report, "pdf.timestamp"), Outcome::Passed);
            assert_eq!(outcome(&report, "pdf.archive"), Outcome::Passed);
            let b_lt = without_last_revision(&pdf);
            let ours = f.platform.verification.verify_pdf(b_lt.clone(), LATER).await.unwrap();
            assert_eq!(ours.verdict, Verdict::Indeterminate, "{:#?}", ours.checks);
            assert_eq!(outcome(&ours, "pdf.archive"), Outcome::NotChecked);
            issued.push((format!("{type_code}-{algorithm}"), pdf, b_lt));
        }
    }
    let crls = crls_at_later(&f).await;
    for (name, pdf, b_lt) in issued {
        let Some(lta) = pyhanko_lta(&f, &format!("{name}.pdf"), &pdf, &crls).await else { return };
        assert_eq!(lta["indication"], "PASSED", "{name}: {lta}");
        assert_eq!((lta["intact"].as_bool(), lta["valid"].as_bool()), (Some(true), Some(true)), "{lta}");
        assert_eq!(lta["signature_timestamp"], "OK", "{lta}");
        // Without the document time-stamp, the same moment has no proof of existence.
        let lt = pyhanko_lta(&f, &format!("{name}-lt.pdf"), &b_lt, &crls).await.unwrap();
        assert_ne!(lt["indication"], "PASSED", "{name} without the document time-stamp: {lt}");
    }
}

#[tokio::test]
async fn revocations_after_the_time_stamp_do_not_matter_unless_for_key_compromise_dated_before_it() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let (dept, _, _) = zhengzhao::platform::DEMO_DEPARTMENT;
    let superseded =
        f.platform.pki.create_seal(dept, "行政审批专用章（旧）", Algorithm::Ed25519, now).await.unwrap();
    let compromised =
        f.platform.pki.create_seal(dept, "行政审批专用章（失窃）", Algorithm::P256, now).await.unwrap();
    let (food, file) = TYPES[1];
    let a = issue(&f, &superseded.id, food, file, now).await;
    let b = issue(&f, &compromised.id, food, file, now).await;
    // Replaced the next day: its licences stand.
    f.platform
        .pki
        .revoke_seal(&superseded.id, RevocationReason::Superseded, now + Duration::days(1))
        .await
        .unwrap();
    // Its key was stolen, and the compromise dated an hour before the licence was stamped.
    f.platform
        .pki
        .revoke_seal(&compromised.id, RevocationReason::KeyCompromise, now - Duration::hours(1))
        .await
        .unwrap();
    let report = f.platform.verification.verify_pdf(a.pdf().unwrap().to_vec(), LATER).await.unwrap();
    assert_valid(&report);
    assert!(report.check("seal.revocation").unwrap().message_en.contains("revoked later"), "{report:#?}");
    let report = f.platform.verification.verify_pdf(b.pdf().unwrap().to_vec(), LATER).await.unwrap();
    assert_eq!(report.verdict, Verdict::Invalid, "{:#?}", report.checks);
    assert_eq!(outcome(&report, "seal.revocation"), Outcome::Failed);
    // pyHanko agrees on the superseded seal's licence, with the CRL of 2031 listing it.
    let crls = crls_at_later(&f).await;
    let Some(lta) = pyhanko_lta(&f, "superseded.pdf", a.pdf().unwrap(), &crls).await else { return };
    assert_eq!(lta["indication"], "PASSED", "{lta}");
    // On the compromised one they differ (measured, pyHanko 0.38): its past validation
    // judges the seal with the DSS CRL of the time-stamp's day, which predates the
    // revocation, and does not look back at the later CRL's backdated compromise; our
    // engine does (above). Asserted so that a change in pyHanko shows.
    let lta = pyhanko_lta(&f, "compromised.pdf", b.pdf().unwrap(), &crls).await.unwrap();
    assert_eq!(lta["indication"], "PASSED", "{lta}");
}

/// A time-stamping authority under a root of its own (not the platform's).
fn foreign_stamper(algorithm: Algorithm, now: OffsetDateTime) -> FixedStamper {
    let rng = ring::rand::SystemRandom::new();
    let root_key = PrivateKey::generate(algorithm, &rng).unwrap();
    let root = pki::make_root(
        algorithm,
        "冒充平台",
        &root_key,
        now - Duration::days(1),
        now + Duration::days(3650),
        [9; 16],
    )
    .unwrap();
    let key = PrivateKey::generate(algorithm, &rng).unwrap();
    let cert = pki::issue_tsa_cert(
        "冒充平台",
        &key.public_key_spki_der(),
        &root,
        &root_key,
        now - Duration::days(1),
        now + Duration::days(3000),
        [8; 16],
    )
    .unwrap();
    let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let policy = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.9");
    FixedStamper::new(Authority::new(signer, cert, root, policy, None).unwrap(), now, 1)
}

/// `pdf` with the signature time-stamp token inside its CMS replaced by `token` (the
/// unsigned attribute is outside the signature, so the seal's signature still holds).
fn replace_signature_timestamp(pdf: &[u8], token: &[u8]) -> Vec<u8> {
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;
    use der::{Decode, Encode};
    let info = zhengzhao::pdf::inspect(pdf).unwrap();
    let [_, b, c, _] = info.byte_range;
    let hex_digits = &pdf[b + 1..c - 1];
    let raw = hex::decode(hex_digits).unwrap();
    // The DER is followed by zero padding: keep exactly the outer TLV.
    let len = match raw[1] {
        n if n < 0x80 => 2 + usize::from(n),
        n => {
            2 + usize::from(n & 0x7f)
                + raw[2..2 + usize::from(n & 0x7f)].iter().fold(0, |a, b| a << 8 | usize::from(*b))
        }
    };
    let ci = ContentInfo::from_der(&raw[..len]).unwrap();
    let mut sd: SignedData = ci.content.decode_as().unwrap();
    let mut signers: Vec<_> = sd.signer_infos.0.into_vec();
    let attr = x509_cert::attr::Attribute {
        oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14"),
        values: der::asn1::SetOfVec::try_from(vec![der::Any::from_der(token).unwrap()]).unwrap(),
    };
    signers[0].unsigned_attrs = Some(der::asn1::SetOfVec::try_from(vec![attr]).unwrap());
    sd.signer_infos = cms::signed_data::SignerInfos(der::asn1::SetOfVec::try_from(signers).unwrap());
    let new = ContentInfo { content_type: ci.content_type, content: der::Any::encode_from(&sd).unwrap() }
        .to_der()
        .unwrap();
    assert!(2 * new.len() <= hex_digits.len(), "the new CMS must fit the reserved space");
    let mut out = pdf.to_vec();
    let mut hex = hex::encode_upper(&new).into_bytes();
    hex.resize(hex_digits.len(), b'0');
    out[b + 1..c - 1].copy_from_slice(&hex);
    out
}

#[tokio::test]
async fn tampered_time_stamps_are_caught() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let seal = seal_of(&f, Algorithm::P256).await;
    let (food, file) = TYPES[1];
    let pdf = issue(&f, &seal, food, file, now).await.pdf().unwrap().to_vec();
    let info = zhengzhao::pdf::inspect(&pdf).unwrap();
    let imprint = ImprintAlg::Sha256;
    // A token from a foreign TSA over the real signature value.
    let foreign =
        foreign_stamper(Algorithm::P256, now).stamp(imprint, &imprint.digest(&info.signature_value)).unwrap();
    let forged = replace_signature_timestamp(&pdf, &foreign);
    let report = f.platform.verification.verify_pdf(without_last_revision(&forged), now).await.unwrap();
    assert_eq!(outcome(&report, "pdf.timestamp"), Outcome::Failed, "{:#?}", report.checks);
    assert!(report.check("pdf.timestamp").unwrap().message_en.contains("tsa_certificate"), "{report:#?}");
    // A genuine token of the platform's TSA, but over other data.
    let stamper = f.platform.tsa.stamper(Algorithm::P256, 1, now).await.unwrap();
    let other = stamper.stamp(imprint, &imprint.digest(b"another signature")).unwrap();
    let swapped = replace_signature_timestamp(&pdf, &other);
    let report = f.platform.verification.verify_pdf(without_last_revision(&swapped), now).await.unwrap();
    assert_eq!(outcome(&report, "pdf.timestamp"), Outcome::Failed);
    assert!(report.check("pdf.timestamp").unwrap().message_en.contains("imprint_mismatch"), "{report:#?}");
    // Swapping the token changed bytes the document time-stamp covers: it fails too.
    let report = f.platform.verification.verify_pdf(swapped, now).await.unwrap();
    assert_eq!(outcome(&report, "pdf.archive"), Outcome::Failed, "{:#?}", report.checks);
    // The document time-stamp removed: valid today (B-T), not provable after the seal expired.
    let b_lt = without_last_revision(&pdf);
    assert_valid(&f.platform.verification.verify_pdf(b_lt.clone(), now).await.unwrap());
    let report = f.platform.verification.verify_pdf(b_lt, LATER).await.unwrap();
    assert_eq!(report.verdict, Verdict::Indeterminate, "{:#?}", report.checks);
    // A revision appended after the last document time-stamp that changes the page.
    let changed = {
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        let page = *doc.get_pages().get(&1).unwrap();
        let mut inc = lopdf::IncrementalDocument::create_from(pdf.clone(), doc);
        inc.opt_clone_object_to_new_document(page).unwrap();
        inc.new_document.get_dictionary_mut(page).unwrap().set("Rotate", lopdf::Object::Integer(180));
        let mut out = Vec::new();
        inc.save_to(&mut out).unwrap();
        out
    };
    let report = f.platform.verification.verify_pdf(changed, now).await.unwrap();
    assert_eq!(outcome(&report, "pdf.changes"), Outcome::Failed, "{:#?}", report.checks);
}

#[tokio::test]
async fn archive_renewal_extends_every_stored_pdf_and_resumes() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let (food, file) = TYPES[1];
    let mut ids = vec![];
    let mut stored = vec![];
    for algorithm in [Algorithm::Ed25519, Algorithm::P256] {
        let seal = seal_of(&f, algorithm).await;
        let l = issue(&f, &seal, food, file, now).await;
        stored.push(l.pdf().unwrap().to_vec());
        ids.push(l.identifier);
    }
    // A licence as older versions stored it: B-LT, no document time-stamp.
    let b_lt = without_last_revision(&stored[1]);
    assert!(f.platform.store.keep_archive(&ids[1], None, Some(&b_lt), now).await.unwrap());
    stored[1] = b_lt;
    // A data-only licence has nothing to renew.
    let request = IssueRequest {
        seal_id: seal_of(&f, Algorithm::Ed25519).await,
        ofd_seal_id: None,
        type_code: food.into(),
        input: example(file),
        document: DocumentKind::None,
        client: None,
        idempotency_key: None,
        renews: None,
    };
    f.platform.issuing.issue(request, now).await.unwrap();

    // Renewal nine and a half years on, of everything whose proof ends within a year: the
    // TSA certificate of the issuing time (`tsa_cert_days`, 3650 by default) ends within
    // it, and the unit that signs now is a newer one (a unit signs in the first half of its
    // certificate's life only), whose certificate lasts ten more years.
    let at = now + Duration::days(3450);
    let before = at + Duration::days(365);
    let mut seen = vec![];
    let report = f.platform.archive.renew(before, false, at, |p| seen.push(p.id.to_owned())).await.unwrap();
    assert_eq!((report.examined, report.renewed, report.failed.len()), (2, 2, 0), "{report:?}");
    assert_eq!(seen, ids);
    for ((id, before_renewal), stamps) in ids.iter().zip(&stored).zip([2, 1]) {
        let (renewed, until) = f.platform.store.archived_pdf(id).await.unwrap().unwrap();
        assert!(until.unwrap() > before, "the new time-stamp lasts beyond the horizon");
        // Every earlier revision is kept byte for byte, and one more time-stamp follows.
        assert!(renewed.starts_with(before_renewal));
        let info = zhengzhao::pdf::inspect(&renewed).unwrap();
        assert_eq!(info.doc_timestamps.len(), stamps);
        assert_eq!(info.doc_timestamps.last().unwrap().revision_len(), renewed.len());
        let report = f.platform.verification.verify_pdf(renewed.clone(), LATER).await.unwrap();
        assert_valid(&report);
        let archive = &report.check("pdf.archive").unwrap().message_en;
        assert!(archive.contains(&format!("{stamps} document time-stamp")), "{archive}");
        // The file as it was before the renewal still validates as it did.
        let report = f.platform.verification.verify_pdf(before_renewal.clone(), now).await.unwrap();
        assert_valid(&report);
    }
    // Resumed or run again: nothing is due any more.
    let again = f.platform.archive.renew(before, false, at, |_| {}).await.unwrap();
    assert_eq!(again.examined, 0, "{again:?}");
    // A licence whose proof lasts beyond the horizon is only recorded.
    let (_, version) = f.platform.store.archived_pdf(&ids[0]).await.unwrap().unwrap();
    assert!(f.platform.store.keep_archive(&ids[0], version, None, now).await.unwrap());
    let recorded = f.platform.archive.renew(now + Duration::days(30), false, at, |_| {}).await.unwrap();
    assert_eq!((recorded.examined, recorded.recorded, recorded.renewed), (1, 1, 0), "{recorded:?}");
    // --all renews even what lasts.
    let all = f.platform.archive.renew(before, true, at, |_| {}).await.unwrap();
    assert_eq!((all.examined, all.renewed), (2, 2));
}
