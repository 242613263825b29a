//! Time-stamped GB/T 38540 seal signatures: an OFD issued with a time-stamping authority
//! (`Issuing::issue_stamped`, a `tsa::FixedStamper` whose TSA certificate the platform's
//! SM2 root issued) carries the token over its signature value in `timeStamp`, and the
//! engine takes the token's time as the signing time (`signing_time.basis` time_stamp).
//! Hostile time-stamps — another root's TSA, a token over other bytes, garbage, a
//! truncated or oversized token, a TSA certificate not valid when it stamped — fail
//! `ofd.timestamp` and nothing else; a token that held when made but whose TSA has expired
//! since proves nothing any more and counts as absent (the signing time is the claim, or
//! online the register's date): it never leaves a licence worse off. And what the proven time is for: a
//! seal certificate that expired, or was revoked for an ordinary reason or for key
//! compromise, after the stamp does not invalidate the licence; revoked for key compromise
//! before the stamp it does.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::sync::Arc;

use der::Encode as _;
use sm3::Digest as _;
use time::{Duration, OffsetDateTime};
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::{DocumentKind, LicenceInput};
use zhengzhao::ofd::{Package, ReadLimits};
use zhengzhao::pki::{self, Algorithm, PrivateKey, RevocationReason};
use zhengzhao::platform::{IssueRequest, Platform};
use zhengzhao::ses;
use zhengzhao::signing::SealSigner;
use zhengzhao::tsa::{self, FixedStamper, ImprintAlg, Stamper};
use zhengzhao::verify::trustlist::verify_trust_list;
use zhengzhao::verify::{Engine, Outcome, Report, Subject, TimeBasis, TrustSet, Verdict};

const FOOD: &str = "11100000000013338W002";
const SIGNED_VALUE: &str = "Doc_0/Signs/Sign_0/SignedValue.dat";

struct Fixture {
    _dir: tempfile::TempDir,
    platform: Arc<Platform>,
    /// The platform's SM2 root and its key.
    root: (Vec<u8>, PrivateKey),
    now: OffsetDateTime,
}

async fn fixture() -> Fixture {
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    platform.ensure_demo(now).await.unwrap();
    let roots = platform.store.roots().await.unwrap();
    let root = roots.into_iter().find(|r| r.algorithm == Algorithm::Sm2).unwrap();
    let key = platform.keys.read(&root.key_name).unwrap();
    Fixture { _dir: dir, platform: Arc::new(platform), root: (root.cert_der, key), now }
}

/// An SM2 time-stamping authority under the root `(cert, key)`, its certificate valid from
/// `from` to `until`, stamping at `time`.
fn stamper(
    root: &(Vec<u8>, PrivateKey),
    from: OffsetDateTime,
    until: OffsetDateTime,
    time: OffsetDateTime,
) -> FixedStamper {
    let rng = ring::rand::SystemRandom::new();
    let key = PrivateKey::generate(Algorithm::Sm2, &rng).unwrap();
    let cert = tsa::issue_tsa_cert(
        "证照服务平台",
        &key.public_key_spki_der(),
        &root.0,
        &root.1,
        from,
        until,
        pki::random_serial(&rng).unwrap(),
    )
    .unwrap();
    let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let policy = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.7.1");
    FixedStamper::new(tsa::Authority::new(signer, cert, root.0.clone(), policy, None).unwrap(), time, 1)
}

/// Another platform's SM2 root.
fn foreign_root(now: OffsetDateTime) -> (Vec<u8>, PrivateKey) {
    let key = PrivateKey::generate(Algorithm::Sm2, &ring::rand::SystemRandom::new()).unwrap();
    let cert = pki::make_root(
        Algorithm::Sm2,
        "外地平台",
        &key,
        now - Duration::days(1),
        now + Duration::days(3650),
        [9; 16],
    )
    .unwrap();
    (cert, key)
}

impl Fixture {
    /// The platform's TSA for ten years, stamping at `time`.
    fn tsa_at(&self, time: OffsetDateTime) -> FixedStamper {
        stamper(&self.root, self.now - Duration::days(1), self.now + Duration::days(3650), time)
    }

    async fn sm2_seal(&self) -> String {
        let seals = self.platform.store.seals(None).await.unwrap();
        seals.iter().find(|s| s.algorithm == Algorithm::Sm2).unwrap().id.clone()
    }

    /// The food business licence as an OFD, its signature time-stamped by `stamper`.
    async fn issue(&self, stamper: Option<Arc<dyn Stamper>>) -> Vec<u8> {
        let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
        let input: LicenceInput = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let request = IssueRequest {
            seal_id: self.sm2_seal().await,
            ofd_seal_id: None,
            type_code: FOOD.into(),
            input,
            document: DocumentKind::Ofd,
            client: None,
            idempotency_key: None,
            renews: None,
        };
        let issued = self.platform.issuing.issue_stamped(request, self.now, stamper).await.unwrap();
        issued.ofd().unwrap().to_vec()
    }

    /// The OFD with its seal signature made again by the seal, time-stamped by `stamper`
    /// (what a signer with the seal's key and that TSA would have made).
    async fn resigned(&self, ofd: &[u8], stamper: Option<&dyn Stamper>) -> Vec<u8> {
        let facts = ses::read_signature(&signed_value(ofd)).unwrap();
        let record = self.platform.store.seal(&self.sm2_seal().await).await.unwrap().unwrap();
        let key = self.platform.keys.read(&record.key_name).unwrap();
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
        let time = facts.time.unwrap();
        let der = ses::sign(
            &facts.seal.der,
            time,
            &facts.data_hash,
            &facts.property_info,
            &facts.signer_cert_der,
            &signer,
            stamper,
        )
        .unwrap();
        with_signed_value(ofd, der)
    }

    async fn verify(&self, ofd: Vec<u8>) -> Report {
        self.platform.verification.verify_ofd(ofd, self.now).await.unwrap()
    }

    /// The platform's signed trust list as an offline verifier holds it at `now`.
    async fn offline_trust(&self, now: OffsetDateTime) -> TrustSet {
        let list = self.platform.verification.trust_list(now).await.unwrap();
        let verified = verify_trust_list(list.as_bytes(), None).unwrap();
        TrustSet::from_trust_list(&verified.body, vec![], now).unwrap()
    }
}

fn signed_value(ofd: &[u8]) -> Vec<u8> {
    Package::from_zip(ofd, &ReadLimits::default()).unwrap().get(SIGNED_VALUE).unwrap().to_vec()
}

fn with_signed_value(ofd: &[u8], der: Vec<u8>) -> Vec<u8> {
    let mut package = Package::from_zip(ofd, &ReadLimits::default()).unwrap();
    package.replace(SIGNED_VALUE, der);
    package.to_zip().unwrap()
}

/// The OFD's `SES_Signature` with `timeStamp` holding `token` (whatever it is), the rest
/// as it was.
fn with_token(ofd: &[u8], token: &[u8]) -> Vec<u8> {
    use der::asn1::{BitString, OctetString};
    use der::{Header, Length, Tag, TagNumber};
    let facts = ses::read_signature(&signed_value(ofd)).unwrap();
    let mut content = facts.tbs_der.clone();
    content.extend(OctetString::new(facts.signer_cert_der.clone()).unwrap().to_der().unwrap());
    content.extend(facts.algorithm.to_der().unwrap());
    content.extend(BitString::from_bytes(&facts.signature).unwrap().to_der().unwrap());
    let bits = BitString::from_bytes(token).unwrap().to_der().unwrap();
    let explicit = Tag::ContextSpecific { constructed: true, number: TagNumber(0) };
    content.extend(Header::new(explicit, Length::try_from(bits.len()).unwrap()).to_der().unwrap());
    content.extend(bits);
    let mut der = Header::new(Tag::Sequence, Length::try_from(content.len()).unwrap()).to_der().unwrap();
    der.extend(content);
    with_signed_value(ofd, der)
}

fn outcome(report: &Report, code: &str) -> Outcome {
    report.check(code).unwrap_or_else(|| panic!("no check {code}: {}", lines(report))).outcome
}

fn message(report: &Report, code: &str) -> String {
    report.check(code).unwrap().message_en.clone()
}

fn failed(report: &Report) -> Vec<&'static str> {
    report.checks.iter().filter(|c| c.outcome == Outcome::Failed).map(|c| c.code).collect()
}

fn lines(report: &Report) -> String {
    report.checks.iter().map(|c| format!("{} {:?}: {}\n", c.code, c.outcome, c.message_en)).collect()
}

#[tokio::test]
async fn a_time_stamped_ofd_verifies_valid_on_the_time_stamp() {
    let f = fixture().await;
    // Stamped as it was signed (a stamp later than the verification would be later than
    // what the register and CRLs are known up to).
    let stamp_time = f.now;
    let tsa = Arc::new(f.tsa_at(stamp_time));
    let ofd = f.issue(Some(tsa.clone())).await;
    // The token is in timeStamp, over the signature value, from our TSA.
    let facts = ses::read_signature(&signed_value(&ofd)).unwrap();
    let token = facts.timestamp.as_deref().unwrap();
    let info = tsa::verify_token(token, &facts.signature, std::slice::from_ref(&f.root.0), &[]).unwrap();
    assert_eq!(
        (info.gen_time, info.imprint_alg, info.algorithm),
        (stamp_time, ImprintAlg::Sm3, Algorithm::Sm2)
    );
    assert_eq!(info.tsa_cert_der, tsa.chain()[0]);

    let report = f.verify(ofd.clone()).await;
    assert_eq!(report.verdict, Verdict::Valid, "{}", lines(&report));
    let time = report.signing_time.clone().unwrap();
    assert_eq!((time.basis, time.time), (TimeBasis::TimeStamp, stamp_time), "{time:?}");
    assert!(time.tsa.as_deref().unwrap().contains("证照服务平台"), "{time:?}");
    let stamp = message(&report, "ofd.timestamp");
    assert!(stamp.contains("time-stamped by") && stamp.contains("rests on the time-stamp"), "{stamp}");
    // Checks stay in the report order of CHECKS.
    let order: Vec<usize> = report
        .checks
        .iter()
        .map(|c| zhengzhao::verify::CHECKS.iter().position(|(code, _, _)| *code == c.code).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", lines(&report));

    // Offline, with the trust list alone: the time-stamp still proves the time.
    let trust = f.offline_trust(f.now).await;
    let offline = Engine::new(&trust, f.now).verify_ofd(&ofd);
    assert_eq!(outcome(&offline, "ofd.timestamp"), Outcome::Passed, "{}", lines(&offline));
    assert_eq!(offline.signing_time.as_ref().unwrap().basis, TimeBasis::TimeStamp);
    assert_eq!(offline.verdict, Verdict::Indeterminate, "{}", lines(&offline));
}

#[tokio::test]
async fn without_a_time_stamp_the_check_passes_and_says_the_time_is_claimed() {
    let f = fixture().await;
    let ofd = f.issue(None).await;
    assert_eq!(ses::read_signature(&signed_value(&ofd)).unwrap().timestamp, None);
    let report = f.verify(ofd.clone()).await;
    assert_eq!(report.verdict, Verdict::Valid, "{}", lines(&report));
    assert_eq!(outcome(&report, "ofd.timestamp"), Outcome::Passed);
    assert!(message(&report, "ofd.timestamp").contains("no time-stamp"), "{}", lines(&report));
    // Online the register's date stands in; offline only the signer's claim.
    assert_eq!(report.signing_time.as_ref().unwrap().basis, TimeBasis::Register);
    let trust = f.offline_trust(f.now).await;
    let offline = Engine::new(&trust, f.now).verify_ofd(&ofd);
    assert_eq!(offline.signing_time.as_ref().unwrap().basis, TimeBasis::Claimed);
    assert_eq!(outcome(&offline, "ofd.timestamp"), Outcome::Passed);
}

#[tokio::test]
async fn hostile_time_stamps_fail_the_time_stamp_check_alone() {
    let f = fixture().await;
    let ofd = f.issue(None).await;
    let expect_stamp_failure = |r: &Report, what: &str, code: &str| {
        assert_eq!(failed(r), ["ofd.timestamp"], "{what}:\n{}", lines(r));
        assert!(message(r, "ofd.timestamp").contains(code), "{what}: {}", lines(r));
        assert_eq!(r.signing_time.as_ref().unwrap().basis, TimeBasis::Register, "{what}");
    };
    // A TSA of another platform's root.
    let foreign = foreign_root(f.now);
    let other_tsa = stamper(&foreign, f.now - Duration::days(1), f.now + Duration::days(365), f.now);
    let r = f.verify(f.resigned(&ofd, Some(&other_tsa)).await).await;
    expect_stamp_failure(&r, "foreign TSA", "tsa_certificate");
    // Our TSA, but the token is over other bytes.
    let ours = f.tsa_at(f.now);
    let other = ours.stamp(ImprintAlg::Sm3, &sm3::Sm3::digest(b"another signature value")).unwrap();
    let r = f.verify(with_token(&ofd, &other)).await;
    expect_stamp_failure(&r, "imprint over other bytes", "imprint_mismatch");
    // Garbage, and a genuine token cut short.
    let r = f.verify(with_token(&ofd, b"not a time-stamp token")).await;
    expect_stamp_failure(&r, "garbage", "malformed_token");
    let stamped = f.resigned(&ofd, Some(&ours)).await;
    let token = ses::read_signature(&signed_value(&stamped)).unwrap().timestamp.unwrap();
    let r = f.verify(with_token(&ofd, &token[..token.len() / 2])).await;
    expect_stamp_failure(&r, "truncated", "malformed_token");
    // A token over this signature value from a TSA whose certificate had expired when it stamped.
    let lapsed_before = stamper(&f.root, f.now, f.now + Duration::days(1), f.now + Duration::days(5));
    let signature = ses::read_signature(&signed_value(&ofd)).unwrap().signature;
    let token = lapsed_before.stamp(ImprintAlg::Sm3, &sm3::Sm3::digest(signature)).unwrap();
    let r = f.verify(with_token(&ofd, &token)).await;
    expect_stamp_failure(&r, "TSA expired at the stamp", "tsa_certificate");
    // Over the size limit: the SES_Signature itself is refused.
    let r = f.verify(with_token(&ofd, &vec![0x30; tsa::MAX_TOKEN_BYTES + 1])).await;
    assert_eq!(failed(&r), ["ofd.signature"], "oversized:\n{}", lines(&r));
    assert!(message(&r, "ofd.signature").contains("ses_too_large"), "{}", lines(&r));
    // The genuine one, for contrast.
    let r = f.verify(stamped).await;
    assert_eq!((r.verdict, r.signing_time.as_ref().unwrap().basis), (Verdict::Valid, TimeBasis::TimeStamp));
}

#[tokio::test]
async fn a_time_stamp_whose_tsa_expired_since_proves_nothing_and_counts_as_absent() {
    let f = fixture().await;
    let short = stamper(&f.root, f.now - Duration::days(1), f.now + Duration::days(30), f.now);
    let ofd = f.resigned(&f.issue(None).await, Some(&short)).await;
    let now = f.verify(ofd.clone()).await;
    assert_eq!(now.signing_time.as_ref().unwrap().basis, TimeBasis::TimeStamp, "{}", lines(&now));
    let later = f.now + Duration::days(60);
    let v = &f.platform.verification;
    let r = v.verify_document_at(ofd, Subject::Ofd, f.now, Some(later)).await.unwrap();
    assert_eq!(r.checked_at, later);
    // Not wrong, only unproven (nothing in an OFD carries the proof on): it counts as no
    // time-stamp, and the register's date stands in as for a licence never stamped.
    assert_eq!((r.verdict, outcome(&r, "ofd.timestamp")), (Verdict::Valid, Outcome::Passed), "{}", lines(&r));
    assert!(failed(&r).is_empty(), "{}", lines(&r));
    assert!(message(&r, "ofd.timestamp").contains("proves nothing any more"), "{}", lines(&r));
    assert!(message(&r, "ofd.timestamp").contains("expired at"), "{}", lines(&r));
    assert_eq!(r.signing_time.as_ref().unwrap().basis, TimeBasis::Register);
}

/// The seal certificate's validity end.
fn seal_not_after(ofd: &[u8]) -> OffsetDateTime {
    let facts = ses::read_signature(&signed_value(ofd)).unwrap();
    pki::cert_info(&facts.signer_cert_der).unwrap().not_after
}

#[tokio::test]
async fn a_seal_certificate_that_expired_after_the_stamp_does_not_invalidate() {
    let f = fixture().await;
    let ofd = f.issue(Some(Arc::new(f.tsa_at(f.now)))).await;
    // After the seal certificate's end (seal_cert_days 1095), within the licence's five years.
    let at = seal_not_after(&ofd) + Duration::days(5);
    let v = &f.platform.verification;
    let r = v.verify_document_at(ofd, Subject::Ofd, f.now, Some(at)).await.unwrap();
    assert_eq!(r.verdict, Verdict::Valid, "{}", lines(&r));
    assert_eq!(r.checked_at, at);
    assert_eq!(r.signing_time.as_ref().unwrap().basis, TimeBasis::TimeStamp);
    assert_eq!(outcome(&r, "seal.chain"), Outcome::Passed);
}

/// Revokes the SM2 seal at `revoked_at` for `reason`; the offline trust set then (its CRL
/// lists the seal) and an engine over it.
async fn revoked(f: &Fixture, reason: RevocationReason, revoked_at: OffsetDateTime) -> TrustSet {
    f.platform.pki.revoke_seal(&f.sm2_seal().await, reason, revoked_at).await.unwrap();
    f.offline_trust(revoked_at + Duration::days(1)).await
}

#[tokio::test]
async fn revoked_after_the_stamp_for_any_reason_the_licence_holds() {
    let f = fixture().await;
    let plain = f.issue(None).await;
    let stamped = f.resigned(&plain, Some(&f.tsa_at(f.now + Duration::hours(1)))).await;
    let trust = revoked(&f, RevocationReason::KeyCompromise, f.now + Duration::days(2)).await;
    let engine = Engine::new(&trust, trust.built_at);
    // Time-stamped before the compromise: the signature is older than the revocation.
    let r = engine.verify_ofd(&stamped);
    assert_eq!(outcome(&r, "seal.revocation"), Outcome::Passed, "{}", lines(&r));
    assert!(message(&r, "seal.revocation").contains("revoked later"), "{}", lines(&r));
    assert_eq!(r.verdict, Verdict::Indeterminate, "offline: status unchecked\n{}", lines(&r));
    // Without a time-stamp, offline only the signer's claim dates it: a key compromised
    // later could have back-dated it.
    let r = engine.verify_ofd(&plain);
    assert_eq!(failed(&r), ["seal.revocation"], "{}", lines(&r));

    let f = fixture().await;
    let stamped = f.resigned(&f.issue(None).await, Some(&f.tsa_at(f.now + Duration::hours(1)))).await;
    let trust = revoked(&f, RevocationReason::Superseded, f.now + Duration::days(2)).await;
    let r = Engine::new(&trust, trust.built_at).verify_ofd(&stamped);
    assert_eq!(outcome(&r, "seal.revocation"), Outcome::Passed, "{}", lines(&r));
    assert_eq!(r.verdict, Verdict::Indeterminate, "{}", lines(&r));
}

#[tokio::test]
async fn revoked_for_key_compromise_before_the_stamp_the_licence_is_invalid() {
    let f = fixture().await;
    let plain = f.issue(None).await;
    // A stamp made after the revocation: the signature is only proven to exist then.
    let stamped = f.resigned(&plain, Some(&f.tsa_at(f.now + Duration::days(3)))).await;
    let trust = revoked(&f, RevocationReason::KeyCompromise, f.now + Duration::days(2)).await;
    let r = Engine::new(&trust, trust.built_at).verify_ofd(&stamped);
    assert_eq!(r.signing_time.clone().unwrap().basis, TimeBasis::TimeStamp);
    assert_eq!(failed(&r), ["seal.revocation"], "{}", lines(&r));
    assert_eq!(r.verdict, Verdict::Invalid);
}
