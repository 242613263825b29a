//! Tampering that reaches each signature check: every case here passes the checks before the
//! one it targets, so that removing that one check makes the case verify (or fail elsewhere)
//! and the test fail. PDFs are re-signed with the seal's own key over the tampered bytes
//! where that is what an attacker holding a copy could not do, and with a stranger's key
//! where it is.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerInfos};
use coset::{CoseSign1, TaggedCborSerializable as _};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode};
use lopdf::{IncrementalDocument, Object};
use ring::rand::SystemRandom;
use sha2::{Digest, Sha256, Sha512};
use time::OffsetDateTime;
use x509_cert::attr::Attribute;
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::LicenceInput;
use zhengzhao::pki::{Algorithm, PrivateKey};
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};
use zhengzhao::signing::SealSigner;
use zhengzhao::token;
use zhengzhao::verify::{Outcome, Report, Verdict};

const FOOD: &str = "11100000000013338W002";
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_SIGNING_CERT_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// The PDF checks in report order, up to the CMS signature.
const PDF_ORDER: [&str; 5] =
    ["input.read", "pdf.signature_found", "pdf.byte_range", "pdf.digest", "pdf.signature"];
/// The token checks in report order, up to its signature, when the signature fails: the
/// seal the `kid` names is then only claimed, not confirmed (`token.signer` not checked).
const TOKEN_FAILS: [(&str, Outcome); 3] = [
    ("input.read", Outcome::Passed),
    ("token.signer", Outcome::NotChecked),
    ("token.signature", Outcome::Failed),
];

/// Asserts the token report ends at a failed `token.signature` as [`TOKEN_FAILS`] says.
fn assert_token_signature_fails(report: &Report, case: &str) {
    let seen: Vec<(&str, Outcome)> = report.checks.iter().map(|c| (c.code, c.outcome)).collect();
    assert!(
        report.verdict == Verdict::Invalid && seen == TOKEN_FAILS,
        "{case}: verdict {:?}, checks {seen:?}, expected {TOKEN_FAILS:?}",
        report.verdict
    );
}

struct Fixture {
    _dir: tempfile::TempDir,
    platform: Arc<Platform>,
    /// Per algorithm that signs PDFs: the seal's id.
    seals: Vec<(Algorithm, String)>,
    /// Per algorithm, SM2 included: the seal's id (for tests of QR tokens alone).
    token_seals: Vec<(Algorithm, String)>,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let seals = platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    // Every licence here is issued with a PDF: only seals of algorithms that sign PDFs (SM2
    // seals sign none, `Algorithm::signs_pdf`).
    // Food licences: the market department's seals (the other demo departments issue other types).
    let token_seals: Vec<(Algorithm, String)> = seals
        .iter()
        .filter(|s| s.department_code.as_str() == zhengzhao::platform::DEMO_DEPARTMENT.0)
        .map(|s| (s.algorithm, s.id.clone()))
        .collect();
    let seals = token_seals.iter().filter(|(alg, _)| alg.signs_pdf()).cloned().collect();
    Fixture { platform: Arc::new(platform), seals, token_seals, _dir: dir }
}

async fn issue(f: &Fixture, seal: &str) -> IssuedLicence {
    issue_as(f, seal, zhengzhao::licence::DocumentKind::Pdf).await
}

/// A licence for tests of its QR token: with a PDF where the seal signs PDFs, data-only
/// where it does not (SM2).
async fn issue_for_token(f: &Fixture, alg: Algorithm, seal: &str) -> IssuedLicence {
    use zhengzhao::licence::DocumentKind;
    issue_as(f, seal, if alg.signs_pdf() { DocumentKind::Pdf } else { DocumentKind::None }).await
}

async fn issue_as(f: &Fixture, seal: &str, document: zhengzhao::licence::DocumentKind) -> IssuedLicence {
    let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    let input: LicenceInput = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let request = IssueRequest {
        seal_id: seal.to_owned(),
        ofd_seal_id: None,
        type_code: FOOD.to_owned(),
        input,
        document,
        client: None,
        idempotency_key: None,
        renews: None,
    };
    f.platform.issuing.issue(request, OffsetDateTime::now_utc()).await.unwrap()
}

/// The seal's own signer, read from the key store.
async fn seal_signer(f: &Fixture, seal: &str) -> SealSigner {
    let key = f.platform.keys.read(&f.platform.pki.seal(seal).await.unwrap().key_name).unwrap();
    SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap()
}

/// A fresh key of `alg` that no certificate names.
fn stranger(alg: Algorithm) -> SealSigner {
    let key = PrivateKey::generate(alg, &SystemRandom::new()).unwrap();
    SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap()
}

/// The report ends at `code`, failed for `error` (the library's error code; empty: any),
/// and every check before it is one of the earlier stages of `order`, passed.
#[track_caller]
fn assert_stops_at(report: &Report, order: &[&str], code: &str, error: &str, case: &str) {
    if let Err(why) = stops_at(report, order, code, error) {
        panic!("{case}: {why}\n{:#?}", report.checks);
    }
}

/// [`assert_stops_at`] as a result, for tests that go through many cases before failing.
fn stops_at(report: &Report, order: &[&str], code: &str, error: &str) -> Result<(), String> {
    let seen: Vec<(&str, Outcome)> = report.checks.iter().map(|c| (c.code, c.outcome)).collect();
    let mut expected: Vec<(&str, Outcome)> =
        order.iter().take_while(|c| **c != code).map(|c| (*c, Outcome::Passed)).collect();
    expected.push((code, Outcome::Failed));
    if report.verdict != Verdict::Invalid || seen != expected {
        return Err(format!("verdict {:?}, checks {seen:?}, expected {expected:?}", report.verdict));
    }
    let message = &report.checks[seen.len() - 1].message_en;
    if !error.is_empty() && !message.ends_with(&format!("({error})")) {
        return Err(format!("expected error {error}, got {message:?}"));
    }
    Ok(())
}

/// Two signed byte ranges: (offset, length) each.
type Ranges = [(usize, usize); 2];

/// Where the signature sits in a signed PDF.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// `[` of the `/ByteRange` array and its `]`.
    br: (usize, usize),
    /// `<` of `/Contents` and one past its `>`.
    gap: (usize, usize),
    /// End of the signed revision.
    end: usize,
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    let mut all = hay.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i);
    let at = all.next().unwrap_or_else(|| panic!("no {:?}", String::from_utf8_lossy(needle)));
    assert!(all.next().is_none(), "{:?} occurs twice", String::from_utf8_lossy(needle));
    at
}

fn layout(pdf: &[u8]) -> Layout {
    let sig = zhengzhao::pdf::inspect(pdf).unwrap();
    let [a, b, c, d] = sig.byte_range;
    assert_eq!(a, 0);
    let open = find(pdf, b"/ByteRange") + b"/ByteRange".len();
    let open = open + pdf[open..].iter().position(|&x| x == b'[').unwrap();
    let close = open + pdf[open..].iter().position(|&x| x == b']').unwrap();
    Layout { br: (open, close), gap: (b, c), end: c + d }
}

/// Writes `text` (e.g. `"0 10 20 30"`) as the `/ByteRange` array, padded to its width.
fn write_byte_range(pdf: &mut [u8], l: Layout, text: &str) {
    let room = l.br.1 - l.br.0 - 1;
    assert!(text.len() <= room, "{text} does not fit {room} bytes");
    let field = &mut pdf[l.br.0 + 1..l.br.1];
    field.fill(b' ');
    field[..text.len()].copy_from_slice(text.as_bytes());
}

/// The CMS DER inside `/Contents` (hex, zero padded).
fn cms_of(pdf: &[u8], l: Layout) -> Vec<u8> {
    let raw = hex::decode(&pdf[l.gap.0 + 1..l.gap.1 - 1]).unwrap();
    // One DER TLV, definite length: the header says how long.
    let (len, header) = match raw[1] {
        n if n & 0x80 == 0 => (usize::from(n), 2),
        n => {
            let k = usize::from(n & 0x7f);
            (raw[2..2 + k].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)), 2 + k)
        }
    };
    let len = len + header;
    raw[..len].to_vec()
}

/// Writes `der` into `/Contents`, zero padded.
fn put_cms(pdf: &mut [u8], l: Layout, der: &[u8]) {
    let hex = hex::encode_upper(der);
    let room = l.gap.1 - l.gap.0 - 2;
    assert!(hex.len() <= room, "the CMS does not fit");
    let field = &mut pdf[l.gap.0 + 1..l.gap.1 - 1];
    field.fill(b'0');
    field[..hex.len()].copy_from_slice(hex.as_bytes());
}

/// The message digest a seal of `alg` signs over `parts`.
fn digest(alg: Algorithm, parts: &[&[u8]]) -> Vec<u8> {
    match alg {
        Algorithm::Ed25519 => {
            let mut h = Sha512::new();
            parts.iter().for_each(|p| h.update(p));
            h.finalize().to_vec()
        }
        _ => {
            let mut h = Sha256::new();
            parts.iter().for_each(|p| h.update(p));
            h.finalize().to_vec()
        }
    }
}

fn message_digest_attribute(value: &[u8]) -> Attribute {
    let any = Any::encode_from(&OctetString::new(value.to_vec()).unwrap()).unwrap();
    Attribute { oid: ID_MESSAGE_DIGEST, values: SetOfVec::try_from(vec![any]).unwrap() }
}

/// The project's CMS with its signed attributes edited by `edit`, then signed by `signer`
/// (the signature covers the DER SET OF attributes, RFC 5652 §5.4).
fn resign_cms(cms_der: &[u8], signer: &SealSigner, edit: impl FnOnce(&mut Vec<Attribute>)) -> Vec<u8> {
    let ci = ContentInfo::from_der(cms_der).unwrap();
    let mut sd: SignedData = ci.content.decode_as().unwrap();
    let mut infos = sd.signer_infos.0.into_vec();
    let si = &mut infos[0];
    let mut attrs = si.signed_attrs.take().unwrap().into_vec();
    edit(&mut attrs);
    let attrs = SetOfVec::try_from(attrs).unwrap();
    si.signature = OctetString::new(signer.sign_der(&attrs.to_der().unwrap())).unwrap();
    si.signed_attrs = Some(attrs);
    // The signature time-stamp stamped the old signature value (a P-256 signature is new
    // every time): it would no longer match, so the re-signed CMS goes without (B-B).
    si.unsigned_attrs = None;
    sd.signer_infos = SignerInfos(SetOfVec::try_from(infos).unwrap());
    ContentInfo { content_type: ci.content_type, content: Any::encode_from(&sd).unwrap() }.to_der().unwrap()
}

/// Re-signs `pdf` as the seal would over the byte ranges `ranges` (offset, length pairs):
/// a new message digest, `edit` applied to the attributes, signed by `signer`.
fn resign_pdf(
    pdf: &mut [u8],
    alg: Algorithm,
    signer: &SealSigner,
    ranges: Ranges,
    edit: impl FnOnce(&mut Vec<Attribute>),
) {
    let l = layout_unchecked(pdf);
    let parts: Vec<&[u8]> = ranges.iter().map(|&(at, len)| &pdf[at..at + len]).collect();
    let md = digest(alg, &parts);
    let cms = resign_cms(&cms_of(pdf, l), signer, |attrs| {
        attrs.retain(|a| a.oid != ID_MESSAGE_DIGEST);
        attrs.push(message_digest_attribute(&md));
        edit(attrs);
    });
    put_cms(pdf, l, &cms);
}

/// [`layout`] of a PDF whose signature may no longer verify: found by text, not by
/// [`zhengzhao::pdf::inspect`].
fn layout_unchecked(pdf: &[u8]) -> Layout {
    let open = find(pdf, b"/ByteRange") + b"/ByteRange".len();
    let open = open + pdf[open..].iter().position(|&x| x == b'[').unwrap();
    let close = open + pdf[open..].iter().position(|&x| x == b']').unwrap();
    let contents = find(pdf, b"/Contents<") + b"/Contents".len();
    let end = contents + pdf[contents..].iter().position(|&x| x == b'>').unwrap() + 1;
    Layout { br: (open, close), gap: (contents, end), end: 0 }
}

/// An issued B-LTA PDF as it was before its document time-stamp: signature time-stamp and
/// DSS, one signature field.
fn without_doc_timestamp(pdf: &[u8]) -> Vec<u8> {
    let last = zhengzhao::pdf::inspect(pdf).unwrap().doc_timestamps.pop().unwrap();
    assert_eq!(last.revision_len(), pdf.len());
    common::pdf::without_last_revision(pdf)
}

struct Case {
    alg: Algorithm,
    seal: String,
    pdf: Vec<u8>,
    l: Layout,
    signer: SealSigner,
}

async fn cases(f: &Fixture) -> Vec<Case> {
    let mut out = Vec::new();
    for (alg, seal) in &f.seals {
        // The seal's signature is what these cases attack: without the document time-stamp
        // (whose own tampering tests/long_term.rs covers), which any change here would break too.
        let pdf = without_doc_timestamp(issue(f, seal).await.pdf().unwrap());
        let l = layout(&pdf);
        assert_eq!(layout_unchecked(&pdf).gap, l.gap, "the text search finds the signature's /Contents");
        out.push(Case { alg: *alg, seal: seal.clone(), l, signer: seal_signer(f, seal).await, pdf });
    }
    assert_eq!(out.len(), 2, "an Ed25519 and a P-256 seal");
    out
}

impl Case {
    /// The signed ranges as issued.
    fn ranges(&self) -> Ranges {
        [(0, self.l.gap.0), (self.l.gap.1, self.l.end - self.l.gap.1)]
    }
}

/// The harness itself is sound: re-signing untouched bytes with the seal's key gives a
/// valid licence, so each failure below comes from its tampering alone.
#[tokio::test]
async fn re_signing_untouched_bytes_with_the_seal_key_stays_valid() {
    let f = fixture().await;
    let cases = cases(&f).await;
    // Taken after the issuing: a moment in an earlier second predates the signing time, and
    // online revocation is known only until the moment of the check.
    let now = OffsetDateTime::now_utc();
    for c in cases {
        let mut pdf = c.pdf.clone();
        resign_pdf(&mut pdf, c.alg, &c.signer, c.ranges(), |_| {});
        let report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
        assert_eq!(report.verdict, Verdict::Valid, "{:?} {}: {:#?}", c.alg, c.seal, report.checks);
    }
}

/// Content edited and `messageDigest` recomputed, the old signature kept: only the CMS
/// signature can tell. Guarded by `verifier.verify_der(…)` in `src/pdf/cms.rs`.
#[tokio::test]
async fn content_edited_with_a_recomputed_message_digest_fails_the_cms_signature() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    for c in cases(&f).await {
        let mut pdf = c.pdf.clone();
        // The signing time in the signature dictionary: signed bytes that stay a valid PDF.
        let m = find(&pdf, b"/M(D:") + b"/M(D:".len();
        pdf[m + 3] = if pdf[m + 3] == b'0' { b'1' } else { b'0' };
        let l = c.l;
        let parts: Vec<&[u8]> = c.ranges().iter().map(|&(at, len)| &pdf[at..at + len]).collect();
        let md = digest(c.alg, &parts);
        // Keep the seal's signature value: rebuild with the attributes edited only.
        let original = cms_of(&pdf, l);
        let old_signature = {
            let sd: SignedData = ContentInfo::from_der(&original).unwrap().content.decode_as().unwrap();
            sd.signer_infos.0.as_slice()[0].signature.clone()
        };
        let edited = {
            let ci = ContentInfo::from_der(&original).unwrap();
            let mut sd: SignedData = ci.content.decode_as().unwrap();
            let mut infos = sd.signer_infos.0.into_vec();
            let mut attrs = infos[0].signed_attrs.take().unwrap().into_vec();
            attrs.retain(|a| a.oid != ID_MESSAGE_DIGEST);
            attrs.push(message_digest_attribute(&md));
            infos[0].signed_attrs = Some(SetOfVec::try_from(attrs).unwrap());
            infos[0].signature = old_signature;
            sd.signer_infos = SignerInfos(SetOfVec::try_from(infos).unwrap());
            ContentInfo { content_type: ci.content_type, content: Any::encode_from(&sd).unwrap() }
                .to_der()
                .unwrap()
        };
        put_cms(&mut pdf, l, &edited);
        let report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
        assert_stops_at(&report, &PDF_ORDER, "pdf.signature", "bad_signature", &format!("{:?}", c.alg));
    }
}

/// The seal's certificate kept, the attributes signed by another key of the same kind.
/// Guarded by `verifier.verify_der(…)` in `src/pdf/cms.rs`.
#[tokio::test]
async fn a_signature_by_another_key_under_the_same_certificate_fails() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    for c in cases(&f).await {
        let mut pdf = c.pdf.clone();
        resign_pdf(&mut pdf, c.alg, &stranger(c.alg), c.ranges(), |_| {});
        let report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
        assert_stops_at(&report, &PDF_ORDER, "pdf.signature", "bad_signature", &format!("{:?}", c.alg));
    }
}

/// A CMS signing-time attribute (forbidden by PAdES baseline), signed by the seal's own key.
/// Guarded by `if attrs.iter().any(|a| a.oid == ID_SIGNING_TIME)` in `src/pdf/cms.rs`.
#[tokio::test]
async fn a_signing_time_attribute_is_refused_even_when_the_seal_signed_it() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    for c in cases(&f).await {
        let mut pdf = c.pdf.clone();
        resign_pdf(&mut pdf, c.alg, &c.signer, c.ranges(), |attrs| {
            let at = UtcTime::from_unix_duration(std::time::Duration::from_secs(1_790_000_000)).unwrap();
            let any = Any::encode_from(&at).unwrap();
            attrs.push(Attribute { oid: ID_SIGNING_TIME, values: SetOfVec::try_from(vec![any]).unwrap() });
        });
        let report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
        assert_stops_at(
            &report,
            &PDF_ORDER,
            "pdf.signature",
            "bad_signed_attribute",
            &format!("{:?}", c.alg),
        );
        assert!(report.checks.last().unwrap().message_en.contains("signing-time"), "{report:#?}");
    }
}

/// The ESS signing-certificate-v2 attribute names another certificate (its hash), signed
/// by the seal's own key. Guarded by the `cert_hash` comparison in `src/pdf/cms.rs`.
#[tokio::test]
async fn an_ess_signing_certificate_of_another_certificate_is_refused() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    for c in cases(&f).await {
        let sig = zhengzhao::pdf::inspect(&c.pdf).unwrap();
        let other =
            sig.certificates.iter().find(|d| **d != sig.signer_cert_der).expect("the root is in the CMS");
        let (ours, theirs) = (Sha256::digest(&sig.signer_cert_der), Sha256::digest(other));
        let mut pdf = c.pdf.clone();
        resign_pdf(&mut pdf, c.alg, &c.signer, c.ranges(), |attrs| {
            let ess = attrs.iter_mut().find(|a| a.oid == ID_SIGNING_CERT_V2).unwrap();
            let mut der = ess.values.as_slice()[0].to_der().unwrap();
            let at = der.windows(32).position(|w| w == &ours[..]).expect("the seal's hash");
            der[at..at + 32].copy_from_slice(&theirs);
            ess.values = SetOfVec::try_from(vec![Any::from_der(&der).unwrap()]).unwrap();
        });
        let report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
        assert_stops_at(
            &report,
            &PDF_ORDER,
            "pdf.signature",
            "signing_certificate_mismatch",
            &format!("{:?}", c.alg),
        );
    }
}

/// `/SubFilter /adbe.pkcs7.detached` (same length), re-signed by the seal over the changed
/// bytes. Guarded by `if sub_filter != "ETSI.CAdES.detached"` in `src/pdf/inspect.rs`.
#[tokio::test]
async fn an_unsupported_sub_filter_is_refused_even_when_the_seal_signed_it() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    for c in cases(&f).await {
        let mut pdf = c.pdf.clone();
        let at = find(&pdf, b"/ETSI.CAdES.detached") + 1;
        pdf[at..at + 19].copy_from_slice(b"adbe.pkcs7.detached");
        resign_pdf(&mut pdf, c.alg, &c.signer, c.ranges(), |_| {});
        let report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
        assert_stops_at(
            &report,
            &PDF_ORDER,
            "pdf.signature_found",
            "unsupported_subfilter",
            &format!("{:?}", c.alg),
        );
    }
}

/// Each malformed `/ByteRange`, re-signed by the seal over the ranges it names where those
/// can be read, so that only the byte-range check stands between it and a valid report.
#[tokio::test]
async fn every_malformed_byte_range_fails_the_byte_range_check() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let mut wrong = Vec::new();
    for c in cases(&f).await {
        let (s, e, end, len) = (c.l.gap.0, c.l.gap.1, c.l.end, c.pdf.len());
        let t = end - e;
        // (what, /ByteRange text, ranges the seal signs (None: keep the signature as issued))
        let shapes: Vec<(&str, String, Option<Ranges>)> = vec![
            // The first byte left unsigned; the gap is still /Contents (offset + length = s).
            ("not starting at 0", format!("1 {s} {e} {t}"), Some([(1, s), (e, t)])),
            ("gap begins before /Contents", format!("0 {} {e} {t}", s - 1), Some([(0, s - 1), (e, t)])),
            (
                "gap ends inside /Contents",
                format!("0 {s} {} {}", e - 1, t + 1),
                Some([(0, s), (e - 1, t + 1)]),
            ),
            ("second range overlapping the first", format!("0 {s} {} {}", s - 40, end - (s - 40)), None),
            ("running past the end of the file", format!("0 {s} {e} {}", len - e + 1), None),
            ("not ending its revision", format!("0 {s} {e} {}", t - 12), Some([(0, s), (e, t - 12)])),
            ("a negative number", format!("0 {s} {e} -{t}"), None),
            ("a real number", format!("0 {s} {e} {t}.5"), None),
            ("three numbers", format!("0 {s} {e}"), None),
            ("five numbers", format!("0 {s} {e} {t} 0"), None),
        ];
        for (what, text, signed) in shapes {
            let mut pdf = c.pdf.clone();
            write_byte_range(&mut pdf, c.l, &text);
            if let Some(ranges) = signed {
                resign_pdf(&mut pdf, c.alg, &c.signer, ranges, |_| {});
            }
            let report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
            if let Err(why) = stops_at(&report, &PDF_ORDER, "pdf.byte_range", "bad_byte_range") {
                wrong.push(format!("{:?} {what}: {why}", c.alg));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A later revision that gives the signature dictionary another `/Contents` than the
/// string the byte ranges leave out. Guarded by the `/Contents` comparison in
/// `src/pdf/inspect.rs` (without it the report would blame `pdf.changes` only).
#[tokio::test]
async fn contents_other_than_the_excluded_string_fails_the_byte_range_check() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    for c in cases(&f).await {
        let doc = lopdf::Document::load_mem(&c.pdf).unwrap();
        let sig_id = doc
            .objects
            .iter()
            .find(|(_, o)| o.as_dict().is_ok_and(|d| d.has(b"ByteRange")))
            .map(|(id, _)| *id)
            .unwrap();
        let mut inc = IncrementalDocument::create_from(c.pdf.clone(), doc);
        inc.opt_clone_object_to_new_document(sig_id).unwrap();
        let sig = inc.new_document.get_object_mut(sig_id).unwrap().as_dict_mut().unwrap();
        sig.set("Contents", Object::String(vec![0x30, 0x00], lopdf::StringFormat::Hexadecimal));
        let mut pdf = Vec::new();
        inc.save_to(&mut pdf).unwrap();
        let report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
        assert_stops_at(&report, &PDF_ORDER, "pdf.byte_range", "bad_byte_range", &format!("{:?}", c.alg));
        assert!(report.checks.last().unwrap().message_en.contains("/Contents"), "{report:#?}");
    }
}

/// A token whose payload was edited and whose COSE structure was re-encoded around the
/// seal's old signature: the verifier recomputes the Sig_structure and the signature no
/// longer holds. Built on the token API (the claims as [`token::parse`] reads them, the
/// payload as [`token::sign`] writes them), not on a fixed claim layout.
#[tokio::test]
async fn a_token_payload_edited_under_the_old_signature_fails_the_token_signature() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    assert!(f.token_seals.iter().any(|(alg, _)| *alg == Algorithm::Sm2), "SM2 tokens are tampered with too");
    for (alg, seal) in &f.token_seals {
        let l = issue_for_token(&f, *alg, seal).await;
        let parsed = token::parse(&l.token).unwrap();
        let mut claims = parsed.claims.clone();
        claims.issued_at -= 86_400;
        // The edited payload, as the token encoder writes it (signed by a throwaway key).
        let payload =
            CoseSign1::from_tagged_slice(&token::sign(&claims, &parsed.kid, &stranger(*alg)).unwrap())
                .unwrap()
                .payload;
        let mut sign1 = CoseSign1::from_tagged_slice(&l.token).unwrap();
        assert_ne!(sign1.payload, payload, "the edit changed the payload");
        sign1.payload = payload;
        let forged = sign1.to_tagged_vec().unwrap();
        let reparsed = token::parse(&forged).unwrap();
        assert_eq!((reparsed.kid, reparsed.claims), (parsed.kid.clone(), claims), "a well-formed token");
        let report =
            f.platform.verification.verify_token_text(&token::encode_for_url(&forged), now).await.unwrap();
        assert_token_signature_fails(&report, &format!("{alg:?}"));
        assert!(report.licence.is_none() && report.seal.is_none(), "nothing unauthenticated is shown");
        // The untouched token passes the same checks.
        let genuine = f.platform.verification.verify_token_text(&l.url, now).await.unwrap();
        assert_eq!(genuine.verdict, Verdict::Valid, "{:#?}", genuine.checks);
    }
}

/// The same claims edited and signed again under the seal's kid, with another key of the
/// same kind. Guarded by `token::verify` in `authenticate_token` (`src/verify/mod.rs`).
#[tokio::test]
async fn a_token_re_signed_by_another_key_under_the_same_kid_fails_the_token_signature() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    for (alg, seal) in &f.token_seals {
        let l = issue_for_token(&f, *alg, seal).await;
        let parsed = token::parse(&l.token).unwrap();
        let mut claims = parsed.claims.clone();
        claims.issued_at -= 86_400;
        let forged = token::sign(&claims, &parsed.kid, &stranger(*alg)).unwrap();
        let report =
            f.platform.verification.verify_token_text(&token::encode_for_url(&forged), now).await.unwrap();
        assert_token_signature_fails(&report, &format!("{alg:?}"));
        assert!(report.licence.is_none(), "unauthenticated claims are never shown");
    }
}

/// Content edited and the ESS attribute broken, signed by the seal over the digest of the
/// original bytes: the report blames the digest, because the digest is checked before the
/// attributes; before that order, it said `pdf.digest` passed when it had not been checked.
#[tokio::test]
async fn an_edit_with_a_broken_attribute_fails_the_digest_first() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    for c in cases(&f).await {
        let mut pdf = c.pdf.clone();
        resign_pdf(&mut pdf, c.alg, &c.signer, c.ranges(), |attrs| {
            let at = UtcTime::from_unix_duration(std::time::Duration::from_secs(1_790_000_000)).unwrap();
            let any = Any::encode_from(&at).unwrap();
            attrs.push(Attribute { oid: ID_SIGNING_TIME, values: SetOfVec::try_from(vec![any]).unwrap() });
        });
        assert_eq!(&pdf[..7], b"%PDF-1.");
        pdf[7] = if pdf[7] == b'7' { b'6' } else { b'7' };
        let report = f.platform.verification.verify_pdf(pdf, now).await.unwrap();
        assert_stops_at(&report, &PDF_ORDER, "pdf.digest", "digest_mismatch", &format!("{:?}", c.alg));
    }
}
