//! The verification engine on real licences: every way of presenting one (token, URL,
//! PDF, identifier), online and offline, and every tampering the issue lists, each caught
//! by the right check.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::sync::Arc;

use lopdf::{Dictionary, IncrementalDocument, Object};
use ring::rand::SystemRandom;
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::{LicenceInput, LicenceRecord, LicenceStatus};
use zhengzhao::pki::{self, Algorithm, PrivateKey, RevocationReason, SealSubject};
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};
use zhengzhao::signing::SealSigner;
use zhengzhao::token::{self, LicenceClaims};
use zhengzhao::verify::trustlist::{TrustListError, verify_trust_list};
use zhengzhao::verify::{Engine, Input, Lookup, Mode, Outcome, Report, Step, TrustSet, Verdict};

const FOOD: &str = "11100000000013338W002";
const TEACHER: &str = "11100000000013338W003";

struct Fixture {
    _dir: tempfile::TempDir,
    platform: Arc<Platform>,
    seal_ed: String,
    seal_p256: String,
}

fn example(file: &str) -> LicenceInput {
    let path = format!("{}/templates/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let seals = platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    let seal = |alg| seals.iter().find(|s| s.algorithm == alg).unwrap().id.clone();
    Fixture {
        seal_ed: seal(Algorithm::Ed25519),
        seal_p256: seal(Algorithm::P256),
        platform: Arc::new(platform),
        _dir: dir,
    }
}

async fn issue(
    f: &Fixture,
    seal: &str,
    type_code: &str,
    file: &str,
    renews: Option<String>,
) -> IssuedLicence {
    let request = IssueRequest {
        seal_id: seal.to_owned(),
        ofd_seal_id: None,
        type_code: type_code.to_owned(),
        input: example(file),
        document: zhengzhao::licence::DocumentKind::Pdf,
        client: None,
        idempotency_key: None,
        renews,
    };
    f.platform.issuing.issue(request, OffsetDateTime::now_utc()).await.unwrap()
}

async fn food(f: &Fixture, seal: &str) -> IssuedLicence {
    issue(f, seal, FOOD, "food-business-licence.json", None).await
}

fn outcome(report: &Report, code: &str) -> Outcome {
    report.check(code).unwrap_or_else(|| panic!("no check {code} in {:#?}", report.checks)).outcome
}

fn failed(report: &Report) -> Vec<&'static str> {
    report.checks.iter().filter(|c| c.outcome == Outcome::Failed).map(|c| c.code).collect()
}

#[track_caller]
fn assert_valid(report: &Report) {
    assert_eq!(report.verdict, Verdict::Valid, "{:#?}", report.checks);
    assert!(report.checks.iter().all(|c| c.outcome == Outcome::Passed));
}

#[track_caller]
fn assert_fails(report: &Report, code: &str) {
    assert_eq!(report.verdict, Verdict::Invalid, "{:#?}", report.checks);
    assert!(
        failed(report).contains(&code),
        "expected {code} to fail, failed: {:?}\n{:#?}",
        failed(report),
        report.checks
    );
}

/// Appends an incremental update made by `edit` (lopdf writes the new revision).
fn incremental(pdf: &[u8], edit: impl FnOnce(&mut IncrementalDocument)) -> Vec<u8> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let mut inc = IncrementalDocument::create_from(pdf.to_vec(), doc);
    edit(&mut inc);
    let mut out = Vec::new();
    inc.save_to(&mut out).unwrap();
    out
}

/// Sets text entries of the document information in an incremental update.
fn change_info(pdf: &[u8], entries: &[(&str, &str)]) -> Vec<u8> {
    incremental(pdf, |inc| {
        let info = inc.get_prev_documents().trailer.get(b"Info").unwrap().as_reference().unwrap();
        inc.opt_clone_object_to_new_document(info).unwrap();
        let dict = inc.new_document.get_object_mut(info).unwrap().as_dict_mut().unwrap();
        for (k, v) in entries {
            dict.set(*k, Object::string_literal(*v));
        }
    })
}

#[tokio::test]
async fn a_licence_verifies_as_token_url_pdf_and_identifier_with_both_algorithms() {
    let f = fixture().await;
    for seal in [&f.seal_ed, &f.seal_p256] {
        let l = food(&f, seal).await;
        // Judged as of after its issuing: a moment taken before it (in an earlier second)
        // predates its registered signing time, and online revocation is known only until then.
        let now = OffsetDateTime::now_utc();
        let by_url = f.platform.verification.verify_token_text(&l.url, now).await.unwrap();
        assert_valid(&by_url);
        let licence = by_url.licence.as_ref().unwrap();
        assert_eq!(licence.identifier, l.identifier);
        assert_eq!(licence.status_label.as_deref(), Some("有效"));
        assert!(!licence.fields.is_empty(), "the register's fields are shown");
        assert_eq!(by_url.seal.as_ref().unwrap().id, *seal);
        let token_text = l.url.rsplit('/').next().unwrap().to_ascii_lowercase();
        assert_valid(&f.platform.verification.verify_token_text(&token_text, now).await.unwrap());
        let by_pdf = f.platform.verification.verify_pdf(l.pdf().unwrap().to_vec(), now).await.unwrap();
        assert_valid(&by_pdf);
        for code in
            ["pdf.byte_range", "pdf.digest", "pdf.signature", "pdf.changes", "pdf.token", "seal.revocation"]
        {
            assert_eq!(outcome(&by_pdf, code), Outcome::Passed, "{code}");
        }
        assert_valid(&f.platform.verification.verify_identifier(&l.identifier, now).await.unwrap());
    }
}

#[tokio::test]
async fn a_personal_licence_shows_the_holder_code_masked() {
    let f = fixture().await;
    let l = issue(&f, &f.seal_ed, TEACHER, "teacher-qualification.json", None).await;
    let report = f.platform.verification.verify_token_text(&l.url, OffsetDateTime::now_utc()).await.unwrap();
    assert_valid(&report);
    let licence = report.licence.unwrap();
    assert_eq!(licence.holder_code_masked, "310***********1239");
    let json = serde_json::to_string(&licence.fields).unwrap();
    let input = serde_json::to_value(example("teacher-qualification.json")).unwrap();
    let code = input["holder"]["code"].as_str().unwrap();
    assert!(!json.contains(code), "an unmasked 公民身份号码 in {json}");
}

async fn offline_trust(f: &Fixture, now: OffsetDateTime) -> TrustSet {
    let list = f.platform.verification.trust_list(now).await.unwrap();
    let verified = verify_trust_list(list.as_bytes(), None).unwrap();
    TrustSet::from_trust_list(&verified.body, vec![], now).unwrap()
}

#[tokio::test]
async fn a_signed_trust_list_alone_sets_up_offline_verification() {
    let f = fixture().await;
    let l = food(&f, &f.seal_ed).await;
    let now = OffsetDateTime::now_utc() + Duration::seconds(2);
    let list = f.platform.verification.trust_list(now).await.unwrap();
    let trust = TrustSet::from_signed_trust_list(list.as_bytes(), vec![], now).unwrap();
    assert_eq!(trust.mode(), Mode::Offline);
    assert_eq!(trust.seal_count(), offline_trust(&f, now).await.seal_count());
    let report = Engine::new(&trust, now).verify_pdf(l.pdf().unwrap());
    assert_eq!((report.mode, report.verdict), (Mode::Offline, Verdict::Indeterminate));
    // The list's signature is checked before anything in it is trusted.
    let mut jws: Value = serde_json::from_str(&list).unwrap();
    jws["signature"] = Value::String(data_encoding::BASE64URL_NOPAD.encode(&[0u8; 64]));
    let forged = jws.to_string();
    let refused = TrustSet::from_signed_trust_list(forged.as_bytes(), vec![], now);
    assert!(matches!(refused, Err(TrustListError::BadSignature(_))));
}

#[tokio::test]
async fn offline_never_says_valid_but_checks_everything_else() {
    let f = fixture().await;
    let l = food(&f, &f.seal_ed).await;
    let now = OffsetDateTime::now_utc() + Duration::seconds(2);
    let trust = offline_trust(&f, now).await;
    let engine = Engine::new(&trust, now);
    for report in [engine.verify_token_text(&l.url), engine.verify_pdf(l.pdf().unwrap())] {
        assert_eq!(report.verdict, Verdict::Indeterminate, "{:#?}", report.checks);
        assert_eq!(outcome(&report, "licence.status"), Outcome::NotChecked);
        assert_eq!(outcome(&report, "register.record"), Outcome::NotChecked);
        for c in &report.checks {
            if !["licence.status", "register.record"].contains(&c.code) {
                assert_eq!(c.outcome, Outcome::Passed, "{c:?}");
            }
        }
    }
    // An identifier alone cannot be verified offline.
    let report = engine.verify_identifier(&l.identifier);
    assert_eq!(report.verdict, Verdict::Indeterminate);
    // Offline still catches what the signed data show: an expired licence.
    let later = Engine::new(&trust, now + Duration::days(365 * 6));
    assert_fails(&later.verify_token_text(&l.url), "licence.validity");
}

#[tokio::test]
async fn the_trust_list_is_signed_by_the_ed25519_root_and_tampering_shows() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let list = f.platform.verification.trust_list(now).await.unwrap();
    let verified = verify_trust_list(list.as_bytes(), None).unwrap();
    // One root and CRL per algorithm; every demo department's seals.
    assert_eq!(verified.body.roots.len(), Algorithm::ALL.len());
    let demo: usize = zhengzhao::platform::DEMO_DEPARTMENTS.iter().map(|d| d.algorithms.len()).sum();
    assert_eq!(verified.body.seals.len(), demo);
    assert_eq!(verified.body.crls.len(), Algorithm::ALL.len());
    assert!(verified.signer.subject.contains("Ed25519"), "{}", verified.signer.subject);
    // Pinned to the platform's own root it verifies; to another root it does not.
    let root_pem = f.platform.pki.roots_pem(Some(Algorithm::Ed25519)).await.unwrap();
    let root = pki::pem_decode_all(&root_pem, "CERTIFICATE").unwrap().remove(0);
    verify_trust_list(list.as_bytes(), Some(&root)).unwrap();
    let p256_pem = f.platform.pki.roots_pem(Some(Algorithm::P256)).await.unwrap();
    let p256 = pki::pem_decode_all(&p256_pem, "CERTIFICATE").unwrap().remove(0);
    assert!(matches!(verify_trust_list(list.as_bytes(), Some(&p256)), Err(TrustListError::UnexpectedSigner)));
    // A changed payload (one more seal type allowed) breaks the signature.
    let mut jws: Value = serde_json::from_str(&list).unwrap();
    let payload = data_encoding::BASE64URL_NOPAD.decode(jws["payload"].as_str().unwrap().as_bytes()).unwrap();
    let mut body: Value = serde_json::from_slice(&payload).unwrap();
    body["platform"] = Value::String("evil".into());
    jws["payload"] = Value::String(data_encoding::BASE64URL_NOPAD.encode(body.to_string().as_bytes()));
    let forged = jws.to_string();
    assert!(matches!(verify_trust_list(forged.as_bytes(), None), Err(TrustListError::BadSignature(_))));
    assert!(matches!(verify_trust_list(b"{}", None), Err(TrustListError::Malformed(_))));
    assert!(matches!(verify_trust_list(b"\xff\x00", None), Err(TrustListError::Malformed(_))));
}

#[tokio::test]
async fn a_byte_flipped_in_the_signed_range_fails_the_digest() {
    let f = fixture().await;
    let l = food(&f, &f.seal_p256).await;
    let mut pdf = l.pdf().unwrap().to_vec();
    // The version digit of the `%PDF-1.x` header: signed (the first range starts at 0),
    // and the file still reads, so the digest is what must catch it.
    assert_eq!(&pdf[..7], b"%PDF-1.");
    pdf[7] = if pdf[7] == b'7' { b'6' } else { b'7' };
    let report = f.platform.verification.verify_pdf(pdf, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report.verdict, Verdict::Invalid);
    let seen: Vec<(&str, Outcome)> = report.checks.iter().map(|c| (c.code, c.outcome)).collect();
    assert_eq!(
        seen,
        [
            ("input.read", Outcome::Passed),
            ("pdf.signature_found", Outcome::Passed),
            ("pdf.byte_range", Outcome::Passed),
            ("pdf.digest", Outcome::Failed),
        ],
        "{:#?}",
        report.checks
    );
    assert!(report.checks[3].message_en.ends_with("(digest_mismatch)"), "{:?}", report.checks[3]);
}

#[tokio::test]
async fn text_changed_or_a_page_added_after_signing_is_caught() {
    let f = fixture().await;
    let l = food(&f, &f.seal_ed).await;
    let now = OffsetDateTime::now_utc();
    // Text changed by an incremental update: a new content stream on page 1.
    let changed = incremental(l.pdf().unwrap(), |inc| {
        let page = *inc.get_prev_documents().get_pages().get(&1).unwrap();
        let content = lopdf::Stream::new(Dictionary::new(), b"BT /F1 24 Tf 100 700 Td (FAKE) Tj ET".to_vec());
        let content_id = inc.new_document.add_object(content);
        inc.opt_clone_object_to_new_document(page).unwrap();
        let dict = inc.new_document.get_object_mut(page).unwrap().as_dict_mut().unwrap();
        dict.set("Contents", Object::Reference(content_id));
    });
    let report = f.platform.verification.verify_pdf(changed, now).await.unwrap();
    assert_fails(&report, "pdf.changes");
    // A page added.
    let added = incremental(l.pdf().unwrap(), |inc| {
        let prev = inc.get_prev_documents();
        let pages_id = prev.catalog().unwrap().get(b"Pages").unwrap().as_reference().unwrap();
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference(pages_id));
        page.set("MediaBox", vec![0.into(), 0.into(), 595.into(), 842.into()]);
        let page_id = inc.new_document.add_object(page);
        inc.opt_clone_object_to_new_document(pages_id).unwrap();
        let pages = inc.new_document.get_object_mut(pages_id).unwrap().as_dict_mut().unwrap();
        pages.get_mut(b"Kids").unwrap().as_array_mut().unwrap().push(Object::Reference(page_id));
        pages.set("Count", 2);
    });
    let report = f.platform.verification.verify_pdf(added, now).await.unwrap();
    assert_fails(&report, "pdf.changes");
}

#[tokio::test]
async fn another_licences_token_pasted_into_a_pdf_is_caught() {
    let f = fixture().await;
    let a = food(&f, &f.seal_ed).await;
    let b = food(&f, &f.seal_ed).await;
    let b_token = b.url.rsplit('/').next().unwrap();
    let pasted = change_info(a.pdf().unwrap(), &[("Token", b_token)]);
    let report = f.platform.verification.verify_pdf(pasted, OffsetDateTime::now_utc()).await.unwrap();
    assert_fails(&report, "pdf.changes");
    assert_fails(&report, "pdf.token");
}

/// A root and a seal certificate our platform never made, with the seal's signer.
fn foreign_seal(department_code: &str) -> (Vec<u8>, Vec<u8>, SealSigner) {
    let rng = SystemRandom::new();
    let now = OffsetDateTime::now_utc() - Duration::hours(1);
    let root_key = PrivateKey::generate(Algorithm::Ed25519, &rng).unwrap();
    let root =
        pki::make_root(Algorithm::Ed25519, "冒充平台", &root_key, now, now + Duration::days(3650), [7; 16])
            .unwrap();
    let seal_key = PrivateKey::generate(Algorithm::Ed25519, &rng).unwrap();
    let subject = SealSubject {
        seal_id: "31011500000001",
        seal_name: "行政审批专用章",
        department_name: "演示市市场监督管理局",
        department_code,
    };
    let cert = pki::issue_seal_cert(
        &subject,
        &seal_key.public_key_spki_der(),
        &root,
        &root_key,
        "https://evil.example/crl",
        now,
        now + Duration::days(365),
        [9; 16],
    )
    .unwrap();
    (root, cert, SealSigner::from_pkcs8_der(seal_key.pkcs8_der()).unwrap())
}

#[tokio::test]
async fn a_pdf_signed_by_a_key_our_root_never_certified_is_caught() {
    let f = fixture().await;
    let l = food(&f, &f.seal_ed).await;
    let row = f.platform.store.licence(&l.identifier).await.unwrap().unwrap();
    let record = LicenceRecord::from_cbor(&row.licence.record_cbor).unwrap();
    let t = f.platform.catalogue.get(FOOD).unwrap();
    let now = OffsetDateTime::now_utc();
    let page = zhengzhao::platform::licence_page(t, &record, &l.url, now);
    let rendered = zhengzhao::pdf::render(&page).unwrap();
    let (root, cert, signer) = foreign_seal(&record.issuer_code);
    let drawing = f.platform.pki.seal_drawing(&f.seal_ed).await.unwrap();
    let params = zhengzhao::pdf::SignParams {
        signer: &signer,
        cert_chain_der: vec![cert, root],
        signing_time: now,
        seal: &drawing,
        appearance: None,
        seal_rect_mm: rendered.seal_rect_mm,
        reason: None,
        location: None,
        name: None,
        stamper: None,
    };
    let forged = zhengzhao::pdf::sign(&rendered.pdf, &params).unwrap();
    let report = f.platform.verification.verify_pdf(forged, now).await.unwrap();
    assert_fails(&report, "seal.chain");
    assert!(report.check("seal.chain").unwrap().message_en.contains("unknown_issuer"), "{report:#?}");
    // Its embedded token is genuine but was signed by another key than the PDF.
    assert_fails(&report, "pdf.token");
    assert!(report.seal.is_none(), "an untrusted signer is not shown as a seal");
}

fn resign(
    token_bytes: &[u8],
    kid: &[u8],
    signer: &SealSigner,
    edit: impl FnOnce(&mut LicenceClaims),
) -> String {
    let mut claims = token::parse(token_bytes).unwrap().claims;
    claims.record_hash.resize(32, 0);
    edit(&mut claims);
    token::encode_for_url(&token::sign(&claims, kid, signer).unwrap())
}

#[tokio::test]
async fn tokens_resigned_by_unknown_keys_are_caught() {
    let f = fixture().await;
    let l = food(&f, &f.seal_ed).await;
    let now = OffsetDateTime::now_utc();
    let (_, _, stranger) = foreign_seal("11310115MB2C90510L");
    let parsed = token::parse(&l.token).unwrap();
    // Same kid as the real seal, another key: the signature fails.
    let same_kid = resign(&l.token, &parsed.kid, &stranger, |c| c.holder_name = "冒名公司".into());
    let report = f.platform.verification.verify_token_text(&same_kid, now).await.unwrap();
    assert_fails(&report, "token.signature");
    assert!(report.licence.is_none(), "unauthenticated claims are never shown");
    // A kid no trusted seal has: the signer is unknown.
    let other_kid = resign(&l.token, b"\x01\x02\x03\x04\x05\x06\x07\x08", &stranger, |_| {});
    assert_fails(&f.platform.verification.verify_token_text(&other_kid, now).await.unwrap(), "token.signer");
}

#[tokio::test]
async fn a_revoked_seal_fails_later_signatures_and_offline_compromise() {
    let f = fixture().await;
    let before = food(&f, &f.seal_p256).await;
    // Revoked two seconds after issuing (the register keeps seconds: in the same second
    // the revocation would count as before the licence).
    let now = OffsetDateTime::now_utc() + Duration::seconds(2);
    f.platform.pki.revoke_seal(&f.seal_p256, RevocationReason::KeyCompromise, now).await.unwrap();
    let later = now + Duration::seconds(5);
    // Online, the register proves the licence was issued before the revocation.
    let report = f.platform.verification.verify_token_text(&before.url, later).await.unwrap();
    assert_valid(&report);
    assert!(report.check("seal.revocation").unwrap().message_en.contains("revoked later"));
    // Offline, a compromised key could have backdated it: it fails.
    let trust = offline_trust(&f, later).await;
    let offline = Engine::new(&trust, later).verify_token_text(&before.url);
    assert_fails(&offline, "seal.revocation");
    // A token signed with the compromised key after the revocation fails online too.
    let key = f.platform.keys.read(&f.platform.pki.seal(&f.seal_p256).await.unwrap().key_name).unwrap();
    let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let kid = token::parse(&before.token).unwrap().kid;
    let forged = resign(&before.token, &kid, &signer, |c| {
        c.issued_at = (later + Duration::seconds(1)).unix_timestamp();
        c.holder_name = "冒名公司".into();
    });
    let report =
        f.platform.verification.verify_token_text(&forged, later + Duration::seconds(2)).await.unwrap();
    assert_fails(&report, "seal.revocation");
    assert_fails(&report, "register.record");
}

#[tokio::test]
async fn expired_suspended_revoked_and_superseded_licences_are_not_valid() {
    let f = fixture().await;
    // Expired: verified after its last day.
    let l = food(&f, &f.seal_ed).await;
    // Moments taken after the issuing they judge (see the test above).
    let now = OffsetDateTime::now_utc();
    let until = token::parse(&l.token).unwrap().claims.valid_until.unwrap();
    let until = zhengzhao::licence::parse_date("", &until).unwrap();
    let after = until.next_day().unwrap().midnight().assume_utc() + Duration::hours(12);
    assert_fails(
        &f.platform.verification.verify_token_text(&l.url, after).await.unwrap(),
        "licence.validity",
    );
    // Suspended, then revoked.
    f.platform
        .register
        .set_status(None, &l.identifier, LicenceStatus::Suspended, "抽检不合格", now)
        .await
        .unwrap();
    let report = f.platform.verification.verify_token_text(&l.url, now).await.unwrap();
    assert_fails(&report, "licence.status");
    assert!(report.check("licence.status").unwrap().message_en.contains("suspended"));
    f.platform.register.set_status(None, &l.identifier, LicenceStatus::Revoked, "吊销", now).await.unwrap();
    let report = f.platform.verification.verify_pdf(l.pdf().unwrap().to_vec(), now).await.unwrap();
    assert_fails(&report, "licence.status");
    assert!(report.check("licence.status").unwrap().message_en.contains("revoked"));
    // A renewed licence's old version is superseded; the new one is valid.
    let old = food(&f, &f.seal_ed).await;
    let new = issue(&f, &f.seal_ed, FOOD, "food-business-licence.json", Some(old.identifier.clone())).await;
    let now = OffsetDateTime::now_utc();
    let report = f.platform.verification.verify_token_text(&old.url, now).await.unwrap();
    assert_fails(&report, "licence.status");
    assert!(report.check("licence.status").unwrap().message_en.contains(&new.identifier));
    assert_valid(&f.platform.verification.verify_token_text(&new.url, now).await.unwrap());
}

#[tokio::test]
async fn bad_input_gets_a_clear_answer() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let l = food(&f, &f.seal_ed).await;
    let unreadable = |r: &Report| {
        assert_eq!(r.verdict, Verdict::Invalid, "{r:#?}");
        assert_eq!(r.first_failure().unwrap().code, "input.read", "{r:#?}");
    };
    for text in ["", "hello", "https://zz.example.gov.cn/v/", "AAAA", &"Z".repeat(100_000)] {
        unreadable(&f.platform.verification.verify_token_text(text, now).await.unwrap());
    }
    let random: Vec<u8> = (0..400u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    unreadable(
        &f.platform.verification.verify_token_text(&token::encode_for_url(&random), now).await.unwrap(),
    );
    for pdf in [
        vec![],
        b"not a pdf at all".to_vec(),
        l.pdf().unwrap()[..l.pdf().unwrap().len() / 2].to_vec(),
        l.pdf().unwrap()[..100].to_vec(),
    ] {
        let report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
        assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    }
    let report = f.platform.verification.verify_identifier("1.2.156.3005.2.bogus", now).await.unwrap();
    assert_fails(&report, "licence.identifier");
    let unknown = l.identifier.replace(".001.", ".009.");
    let report = f.platform.verification.verify_identifier(&unknown, now).await.unwrap();
    assert_eq!(report.verdict, Verdict::Invalid);
}

#[tokio::test]
async fn a_department_may_only_issue_the_types_it_is_authorised_for() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let dept = "11310115MB2C90512T";
    f.platform.pki.add_department(dept, "演示市教育局", "310115", &[TEACHER.to_owned()], now).await.unwrap();
    let seal = f.platform.pki.create_seal(dept, "行政审批专用章", Algorithm::Ed25519, now).await.unwrap();
    let refused = f
        .platform
        .issuing
        .issue(
            IssueRequest {
                seal_id: seal.id.clone(),
                ofd_seal_id: None,
                type_code: FOOD.into(),
                input: example("food-business-licence.json"),
                document: zhengzhao::licence::DocumentKind::Pdf,
                client: None,
                idempotency_key: None,
                renews: None,
            },
            now,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "forbidden", "{refused}");
    let l = issue(&f, &seal.id, TEACHER, "teacher-qualification.json", None).await;
    assert_valid(&f.platform.verification.verify_token_text(&l.url, now).await.unwrap());
    // A token for a type the department may not issue, signed with its real key, fails.
    let key = f.platform.keys.read(&seal.key_name).unwrap();
    let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let kid = token::parse(&l.token).unwrap().kid;
    let forged = resign(&l.token, &kid, &signer, |c| {
        c.licence_id = c.licence_id.replace(TEACHER, FOOD);
        let id = zhengzhao::codes::LicenceId::parse_lenient(&c.licence_id).unwrap().0;
        c.licence_id =
            zhengzhao::codes::LicenceId::new(id.type_code(), id.issuer(), id.serial(), id.version())
                .unwrap()
                .to_string();
    });
    let report = f.platform.verification.verify_token_text(&forged, now).await.unwrap();
    assert_fails(&report, "issuer.authorised");
}

#[tokio::test]
async fn offline_the_pdfs_own_dss_crl_answers_revocation() {
    let f = fixture().await;
    // A trust list made before the licence: its CRLs predate the signature.
    let made = OffsetDateTime::now_utc();
    let trust = offline_trust(&f, made).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let l = food(&f, &f.seal_ed).await;
    let now = OffsetDateTime::now_utc();
    let engine = Engine::new(&trust, now);
    let token = engine.verify_token_text(&l.url);
    assert_eq!(outcome(&token, "seal.revocation"), Outcome::NotChecked, "{:#?}", token.checks);
    // The PDF carries a CRL issued at or after its signing time (PAdES B-LT structure).
    let pdf = engine.verify_pdf(l.pdf().unwrap());
    assert_eq!(outcome(&pdf, "seal.revocation"), Outcome::Passed, "{:#?}", pdf.checks);
    assert_eq!(pdf.verdict, Verdict::Indeterminate, "offline: the status is still not checked");
}

/// The engine does no I/O: online, reading stops at what it needs from the register
/// (guarded by the `Step::Lookup` arm of `Engine::read`), and the caller's answer decides
/// the register checks (guarded by `Engine::conclude` and `finish_identifier`).
#[tokio::test]
async fn the_engine_names_what_it_needs_and_finishes_with_the_callers_answer() {
    let f = fixture().await;
    let l = food(&f, &f.seal_ed).await;
    let now = OffsetDateTime::now_utc();
    let online = f.platform.verification.trust_set(now).await.unwrap();
    let engine = Engine::new(&online, now);
    for input in [Input::TokenText(&l.url), Input::Pdf(l.pdf().unwrap()), Input::Identifier(&l.identifier)] {
        let read = |engine: &Engine<'_>| match engine.read(input) {
            Step::Lookup(pending) => pending,
            Step::Done(report) => panic!("{input:?} needs the register: {report:#?}"),
        };
        assert_eq!(read(&engine).identifier(), l.identifier, "{input:?}");
        let down = engine.finish(read(&engine), Lookup::Unavailable);
        assert_eq!((down.mode, down.verdict), (Mode::Online, Verdict::Indeterminate), "{input:?}");
        assert_eq!(outcome(&down, "register.record"), Outcome::NotChecked, "{input:?}");
        let missing = engine.finish(read(&engine), Lookup::Missing);
        assert_fails(&missing, "register.record");
        let offline = engine.finish(read(&engine), Lookup::Offline);
        assert_eq!((offline.mode, offline.verdict), (Mode::Offline, Verdict::Indeterminate), "{input:?}");
    }
    // Offline, nothing is left to look up.
    let trust = offline_trust(&f, now).await;
    assert!(matches!(Engine::new(&trust, now).read(Input::TokenText(&l.url)), Step::Done(_)));
}
