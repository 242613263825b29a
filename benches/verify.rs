//! Criterion benchmarks of verification: the raw seal signature check (the reference),
//! token verification (base32 decode, COSE parse, signature), the whole token report
//! offline and online, and document verification offline and online, for each demo seal:
//! Ed25519 and P-256 licences with PDFs (`pdf_verify/*`), the SM2 one with an OFD signed by
//! a GB/T 38540 seal signature (SM2 signs no PDF; `ofd_verify/*`).
//!
//! Run with `cargo bench --bench verify`; `benches/verify_compare.sh` runs it beside
//! pyHanko's validation of the same PDFs. With `ZHENGZHAO_BENCH_FIXTURES=DIR` set, the run
//! writes the signed PDFs and OFD, the roots and the CRLs it verifies to `DIR`. The inputs are
//! made by the library itself, so the `expect`s below cannot fail unless it is broken.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::{DocumentKind, LicenceInput};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};
use zhengzhao::signing::SealSigner;
use zhengzhao::verify::trustlist::verify_trust_list;
use zhengzhao::verify::{Engine, TrustSet, Verdict};

const FOOD_TYPE: &str = "11100000000013338W002";

struct Setup {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    platform: Arc<Platform>,
    licences: Vec<(&'static str, IssuedLicence)>,
    signers: Vec<(&'static str, SealSigner)>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temporary directory");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let (platform, licences, signers) = runtime.block_on(async {
        let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
        let config = Config::from_layer(dir.path().join("data"), layer).expect("config");
        let platform = Platform::create(config, None).await.expect("platform");
        let now = OffsetDateTime::now_utc();
        let seals = platform.ensure_demo(now).await.expect("demo");
        let input: LicenceInput =
            serde_json::from_str(include_str!("../templates/examples/food-business-licence.json"))
                .expect("example");
        let mut licences = Vec::new();
        let mut signers = Vec::new();
        for (name, alg) in
            [("ed25519", Algorithm::Ed25519), ("p256", Algorithm::P256), ("sm2", Algorithm::Sm2)]
        {
            let seal = seals.iter().find(|s| s.algorithm == alg).expect("demo seal");
            // SM2 seals sign no PDF: their licence is an OFD.
            let document = if alg.signs_pdf() { DocumentKind::Pdf } else { DocumentKind::Ofd };
            let request = IssueRequest {
                seal_id: seal.id.clone(),
                ofd_seal_id: None,
                type_code: FOOD_TYPE.into(),
                input: input.clone(),
                document,
                client: None,
                idempotency_key: None,
                renews: None,
            };
            licences.push((name, platform.issuing.issue(request, now).await.expect("issue")));
            let key = platform.keys.read(&seal.key_name).expect("seal key");
            signers.push((name, SealSigner::from_pkcs8_der(key.pkcs8_der()).expect("signer")));
        }
        (Arc::new(platform), licences, signers)
    });
    Setup { _dir: dir, runtime, platform, licences, signers }
}

fn write_fixtures(s: &Setup, dir: &std::path::Path) {
    std::fs::create_dir_all(dir).expect("fixtures directory");
    let roots = s.runtime.block_on(s.platform.pki.roots_pem(None)).expect("roots");
    std::fs::write(dir.join("roots.pem"), roots).expect("write roots");
    for alg in [Algorithm::Ed25519, Algorithm::P256] {
        let crl = s.runtime.block_on(s.platform.pki.current_crl(alg)).expect("crl");
        std::fs::write(dir.join(format!("crl-{alg}.crl")), &crl.der).expect("write crl");
    }
    for (name, pdf) in pdfs(s) {
        std::fs::write(dir.join(format!("{name}.pdf")), pdf).expect("write pdf");
    }
    for (name, ofd) in ofds(s) {
        std::fs::write(dir.join(format!("{name}.ofd")), ofd).expect("write ofd");
    }
}

/// The licences that have a PDF (not the SM2 seal's OFD one), by algorithm name.
fn pdfs(s: &Setup) -> impl Iterator<Item = (&'static str, &[u8])> {
    s.licences.iter().filter_map(|(name, l)| l.pdf().map(|pdf| (*name, pdf)))
}

/// The licences that have an OFD (the SM2 seal's), by algorithm name.
fn ofds(s: &Setup) -> impl Iterator<Item = (&'static str, &[u8])> {
    s.licences.iter().filter_map(|(name, l)| l.ofd().map(|ofd| (*name, ofd)))
}

fn benches(c: &mut Criterion) {
    let s = setup();
    if let Ok(dir) = std::env::var("ZHENGZHAO_BENCH_FIXTURES") {
        write_fixtures(&s, std::path::Path::new(&dir));
    }
    let now = OffsetDateTime::now_utc();
    let list = s.runtime.block_on(s.platform.verification.trust_list(now)).expect("trust list");
    let list = verify_trust_list(list.as_bytes(), None).expect("verified trust list");
    let offline = TrustSet::from_trust_list(&list.body, vec![], now).expect("trust set");

    let signers: Vec<(&str, &SealSigner)> = s.signers.iter().map(|(name, signer)| (*name, signer)).collect();
    let texts: Vec<(&str, &str)> =
        s.licences.iter().map(|(name, l)| (*name, l.url.rsplit('/').next().expect("token text"))).collect();

    // The reference: the raw signature check, on a message the size of a token's
    // Sig_structure.
    let message = vec![0x5a_u8; 300];
    let mut raw = c.benchmark_group("raw");
    for (name, signer) in &signers {
        let signature = signer.sign_raw(&message);
        let verifier = signer.verifier();
        raw.bench_function(format!("{name}_verify"), |b| {
            b.iter(|| verifier.verify_raw(black_box(&message), black_box(&signature)).expect("verifies"))
        });
    }
    // SM2 signing too, for `benches/verify_compare.sh` to set beside `openssl speed sm2`.
    let (_, sm2_signer) = signers.iter().find(|(name, _)| *name == "sm2").expect("SM2 seal");
    raw.bench_function("sm2_sign", |b| b.iter(|| sm2_signer.sign_raw(black_box(&message))));
    raw.finish();

    let mut token = c.benchmark_group("token_verify");
    for (name, text) in &texts {
        let signer = signers.iter().find(|(n, _)| n == name).expect("signer").1;
        let verifier = signer.verifier();
        token.bench_function(*name, |b| {
            b.iter(|| {
                let bytes = zhengzhao::token::decode_from_url(black_box(text)).expect("base32");
                let parsed = zhengzhao::token::parse(&bytes).expect("parses");
                zhengzhao::token::verify(&parsed, &verifier).expect("verifies");
            })
        });
    }
    token.finish();

    reports(c, &s, &offline, now);
}

/// Whole verification reports, offline and online: of tokens, then of PDFs and OFDs.
fn reports(c: &mut Criterion, s: &Setup, offline: &TrustSet, now: OffsetDateTime) {
    let mut report = c.benchmark_group("token_report");
    for (name, l) in &s.licences {
        let engine = Engine::new(offline, now);
        report.bench_function(format!("offline_{name}"), |b| {
            b.iter(|| {
                let r = engine.verify_token_text(black_box(&l.url));
                assert_eq!(r.verdict, Verdict::Indeterminate);
            })
        });
        report.bench_function(format!("online_{name}"), |b| {
            b.iter(|| {
                let r = s
                    .runtime
                    .block_on(s.platform.verification.verify_token_text(black_box(&l.url), now))
                    .expect("report");
                assert_eq!(r.verdict, Verdict::Valid);
            })
        });
    }
    report.finish();

    let mut pdf = c.benchmark_group("pdf_verify");
    pdf.sample_size(50);
    for (name, file) in pdfs(s) {
        pdf.bench_function(format!("inspect_{name}"), |b| {
            b.iter(|| zhengzhao::pdf::inspect(black_box(file)).expect("inspects"))
        });
        let engine = Engine::new(offline, now);
        pdf.bench_function(format!("offline_{name}"), |b| {
            b.iter(|| {
                let r = engine.verify_pdf(black_box(file));
                assert_eq!(r.verdict, Verdict::Indeterminate);
            })
        });
        pdf.bench_function(format!("online_{name}"), |b| {
            b.iter(|| {
                let r = s
                    .runtime
                    .block_on(s.platform.verification.verify_pdf(file.to_vec(), now))
                    .expect("report");
                assert_eq!(r.verdict, Verdict::Valid);
            })
        });
    }
    pdf.finish();

    // The same for the OFD: `inspect` reads the zip, the XML and the seal signature's
    // structure and checks every SM3 reference; the reports add the SM2 signature checks
    // (the SES_Signature, the maker's over the SES_Seal) and the chain.
    let mut ofd = c.benchmark_group("ofd_verify");
    ofd.sample_size(50);
    for (name, file) in ofds(s) {
        let limits = zhengzhao::ofd::ReadLimits::default();
        ofd.bench_function(format!("inspect_{name}"), |b| {
            b.iter(|| zhengzhao::ofd::inspect(black_box(file), &limits).expect("inspects"))
        });
        let engine = Engine::new(offline, now);
        ofd.bench_function(format!("offline_{name}"), |b| {
            b.iter(|| {
                let r = engine.verify_ofd(black_box(file));
                assert_eq!(r.verdict, Verdict::Indeterminate);
            })
        });
        ofd.bench_function(format!("online_{name}"), |b| {
            b.iter(|| {
                let r = s
                    .runtime
                    .block_on(s.platform.verification.verify_ofd(file.to_vec(), now))
                    .expect("report");
                assert_eq!(r.verdict, Verdict::Valid);
            })
        });
    }
    ofd.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    benches(&mut c);
    c.final_summary();
}
