//! Criterion benchmarks of the issuing hot paths: raw seal signatures (the reference), page
//! rendering (PDF and OFD), PAdES signing, render + sign of the PDF, render + sign + zip of
//! the OFD (GB/T 38540 seal signature by an SM2 seal), the QR token, and issuing end to end
//! on SQLite (PDF, OFD, both).
//!
//! Run with `cargo bench --bench issue`; `benches/compare.sh` runs it beside pyHanko. With
//! `ZHENGZHAO_BENCH_FIXTURES=DIR` set, the run first writes the unsigned PDF it signs and
//! each algorithm's seal key and chain to `DIR` (see [`write_fixtures`]), so another signer
//! can be timed on the same work. The inputs are fixed, so the `expect`s below cannot fail
//! unless the library itself is broken.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::Criterion;
use ring::rand::SystemRandom;
use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::LicenceInput;
use zhengzhao::pdf::{DocInfo, LicencePage, RenderedPdf, SealAppearance, SignParams};
use zhengzhao::pki::{self, Algorithm, PrivateKey, SealSubject};
use zhengzhao::platform::{IssueRequest, Platform};
use zhengzhao::seal::SealDrawing;
use zhengzhao::signing::SealSigner;
use zhengzhao::token::LicenceClaims;

/// Licence identifier of the sample licence (GB/T 36904 form).
const LICENCE_ID: &str = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";
/// The department that issues the sample licence.
const DEPARTMENT: &str = "上海市浦东新区市场监督管理局";
/// Its 统一社会信用代码.
const DEPARTMENT_CODE: &str = "11310115MB2C90510L";
/// The seal's name under the star.
const SEAL_NAME: &str = "行政审批专用章";
/// Type code of the shipped 食品经营许可证 type.
const FOOD_TYPE: &str = "11100000000013338W002";

/// A 食品经营许可证 page as a department issues it (the same content as the PDF unit tests).
fn licence_page() -> LicencePage {
    LicencePage {
        title: "食品经营许可证".into(),
        subtitle: Some("Food Business License".into()),
        holder_lines: vec![],
        fields: vec![
            ("经营者名称".into(), "上海浦江美食餐饮管理有限公司".into()),
            ("统一社会信用代码".into(), "91310115MA1H7ABC2X".into()),
            ("法定代表人".into(), "张伟".into()),
            ("住所".into(), "上海市浦东新区张江路123号1幢2层201室".into()),
            ("经营场所".into(), "上海市浦东新区张江路123号1幢2层201室".into()),
            ("主体业态".into(), "餐饮服务经营者（中型餐馆）".into()),
            (
                "经营项目".into(),
                "预包装食品（含冷藏冷冻食品）销售，散装食品（含冷藏冷冻食品）销售，热食类食品制售，\
                 冷食类食品制售，生食类食品制售，糕点类食品（含裱花蛋糕）制售，自制饮品制售（不含自酿酒）"
                    .into(),
            ),
            ("许可证编号".into(), "JY23101150012345".into()),
            ("有效期至".into(), "2031年11月21日".into()),
            ("日常监督管理机构".into(), "上海市浦东新区市场监督管理局张江市场监督管理所".into()),
            ("投诉举报电话".into(), "12315".into()),
        ],
        issuer: DEPARTMENT.into(),
        issue_date: "2026年11月22日".into(),
        identifier: LICENCE_ID.into(),
        identifier_caption: "电子证照标识".into(),
        qr_text: format!("https://zhengzhao.example.gov.cn/v/{LICENCE_ID}"),
        info: DocInfo {
            title: "食品经营许可证 JY23101150012345".into(),
            subject: "食品经营许可证".into(),
            author: DEPARTMENT.into(),
            keywords: None,
            creation_date: Some(time::macros::datetime!(2026-11-22 10:30:00 +08:00)),
            custom: vec![
                ("LicenceIdentifier".into(), LICENCE_ID.into()),
                ("HolderName".into(), "上海浦江美食餐饮管理有限公司".into()),
            ],
        },
    }
}

/// The QR token claims of the sample licence.
fn licence_claims() -> LicenceClaims {
    LicenceClaims {
        issuer: "https://zhengzhao.example.gov.cn".into(),
        issued_at: 1_795_314_600,
        expires_at: Some(1_952_956_799),
        licence_id: LICENCE_ID.into(),
        holder_name: "上海浦江美食餐饮管理有限公司".into(),
        holder_code_masked: "91310115MA1H7ABC2X".into(), // a USCC is public: never masked
        valid_from: "2026-11-22".into(),
        valid_until: Some("2031-11-21".into()),
        record_hash: (0u8..32).collect(),
    }
}

/// A seal of one algorithm: its key, signer and certificate chain under a fresh root.
struct Seal {
    key: PrivateKey,
    root_key: PrivateKey,
    signer: SealSigner,
    /// Seal certificate, then the root (DER).
    chain: Vec<Vec<u8>>,
}

impl Seal {
    fn new(alg: Algorithm, now: OffsetDateTime) -> Self {
        let rng = SystemRandom::new();
        let root_key = PrivateKey::generate(alg, &rng).expect("generating a root key");
        let serial = || pki::random_serial(&rng).expect("drawing a serial");
        let root = pki::make_root(
            alg,
            "证照服务平台（基准测试）",
            &root_key,
            now - time::Duration::minutes(5),
            now + time::Duration::days(3650),
            serial(),
        )
        .expect("making the root");
        let key = PrivateKey::generate(alg, &rng).expect("generating a seal key");
        let subject = SealSubject {
            seal_id: "S-BENCH-0001",
            seal_name: "上海市浦东新区市场监督管理局行政审批专用章",
            department_name: DEPARTMENT,
            department_code: DEPARTMENT_CODE,
        };
        let cert = pki::issue_seal_cert(
            &subject,
            &key.public_key_spki_der(),
            &root,
            &root_key,
            "http://127.0.0.1:9/crl/root.crl",
            now - time::Duration::minutes(5),
            now + time::Duration::days(1095),
            serial(),
        )
        .expect("issuing the seal certificate");
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).expect("reading the seal key");
        Self { key, root_key, signer, chain: vec![cert, root] }
    }

    fn params<'a>(
        &'a self,
        drawing: &'a SealDrawing,
        appearance: &'a SealAppearance,
        rendered: &RenderedPdf,
    ) -> SignParams<'a> {
        SignParams {
            signer: &self.signer,
            cert_chain_der: self.chain.clone(),
            signing_time: OffsetDateTime::now_utc(),
            seal: drawing,
            // As the platform does: the seal's appearance is made once per seal.
            appearance: Some(appearance),
            seal_rect_mm: rendered.seal_rect_mm,
            reason: Some("电子证照签章".into()),
            location: None,
            name: None,
            stamper: None,
        }
    }
}

/// What every group shares: the rendered page, the seal drawing, one seal per algorithm.
struct Fixtures {
    page: LicencePage,
    rendered: RenderedPdf,
    drawing: SealDrawing,
    appearance: SealAppearance,
    /// A CRL of the Ed25519 root, for the DSS.
    crl: Vec<u8>,
    ed25519: Seal,
    p256: Seal,
    /// The SM2 seal that signs OFDs, with its `SES_Seal`.
    sm2: Seal,
    /// DER `SES_Seal` of `sm2`, made by a seal maker as the platform makes it.
    ses_seal: Vec<u8>,
}

impl Fixtures {
    fn new() -> Self {
        let now = OffsetDateTime::now_utc();
        let page = licence_page();
        let rendered = zhengzhao::pdf::render(&page).expect("rendering the sample page");
        let drawing = zhengzhao::seal::draw(DEPARTMENT, SEAL_NAME).expect("drawing the seal");
        let appearance = SealAppearance::new(&drawing, rendered.seal_rect_mm);
        let ed25519 = Seal::new(Algorithm::Ed25519, now);
        let crl =
            pki::make_crl(&ed25519.chain[1], &ed25519.root_key, 7, now, now + time::Duration::days(7), &[])
                .expect("signing a CRL");
        let sm2 = Seal::new(Algorithm::Sm2, now);
        let ses_seal = make_ses_seal(&sm2, &drawing, now);
        Self {
            page,
            rendered,
            drawing,
            appearance,
            crl,
            ed25519,
            p256: Seal::new(Algorithm::P256, now),
            sm2,
            ses_seal,
        }
    }

    fn seals(&self) -> [(&'static str, &Seal); 2] {
        [("ed25519", &self.ed25519), ("p256", &self.p256)]
    }
}

/// The `SES_Seal` of an SM2 seal as the platform's seal maker makes it (see
/// `platform::pki::ses`): the drawn seal as PNG, the seal certificate listed, signed by a
/// maker key of its own (another SM2 seal here: only its key matters to the structure).
fn make_ses_seal(seal: &Seal, drawing: &SealDrawing, now: OffsetDateTime) -> Vec<u8> {
    let maker = Seal::new(Algorithm::Sm2, now);
    let info = pki::cert_info(&seal.chain[0]).expect("reading the seal certificate");
    let picture = zhengzhao::ses::picture_of(drawing).expect("the seal picture");
    let name = format!("{DEPARTMENT}{SEAL_NAME}");
    let spec = zhengzhao::ses::SealSpec {
        es_id: "S-BENCH-0001",
        seal_type: zhengzhao::ses::SEAL_TYPE_ORGANISATION,
        name: &name,
        seal_cert_der: &seal.chain[0],
        create_date: now,
        valid_start: info.not_before,
        valid_end: info.not_after,
        picture: &picture,
    };
    zhengzhao::ses::make_seal(&spec, &maker.signer, &maker.chain[0]).expect("making the SES_Seal")
}

/// Renders, signs and zips the sample page as a licence OFD, as issuing does
/// (`platform::issuing::ofd`): `ofd::render`, `ofd::sign` with SM3 of `Signature.xml`
/// and `ses::sign` by the SM2 seal, then `Package::to_zip`.
fn signed_ofd(fx: &Fixtures, page: &LicencePage, options: &zhengzhao::ofd::OfdOptions) -> Vec<u8> {
    use sm3::Digest as _;
    let rendered = zhengzhao::ofd::render(page, options).expect("rendering the OFD");
    let b = rendered.seal_boundary;
    let now = OffsetDateTime::now_utc();
    let spec = zhengzhao::ofd::SignSpec {
        provider_name: "Zhengzhao".into(),
        provider_version: env!("CARGO_PKG_VERSION").into(),
        provider_company: String::new(),
        signature_date_time: now,
        page_id: u64::from(rendered.page_id),
        stamp_boundary: zhengzhao::ofd::Boundary {
            x: f64::from(b.x),
            y: f64::from(b.y),
            width: f64::from(b.width),
            height: f64::from(b.height),
        },
        stamp_annot_id: u64::from(rendered.stamp_annot_id.expect("a reserved StampAnnot ID")),
    };
    let seal = &fx.sm2;
    let mut package = rendered.package;
    zhengzhao::ofd::sign(&mut package, &spec, |tbs| {
        let data_hash = sm3::Sm3::digest(tbs.xml);
        zhengzhao::ses::sign(
            &fx.ses_seal,
            now,
            &data_hash,
            tbs.property_info,
            &seal.chain[0],
            &seal.signer,
            None,
        )
    })
    .expect("signing the OFD");
    package.to_zip().expect("zipping the OFD")
}

/// Writes what another signer needs to do the same work as `sign/*` into `dir`:
/// `unsigned.pdf` (and `signed.ofd`, what `render+sign+zip_ofd` makes), and per algorithm `<alg>/seal-key.pem` (unencrypted PKCS#8),
/// `<alg>/seal-cert.pem` and `<alg>/root.pem`.
fn write_fixtures(fx: &Fixtures, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("unsigned.pdf"), &fx.rendered.pdf)?;
    let ofd_options = zhengzhao::ofd::OfdOptions { signed: true, ..Default::default() };
    std::fs::write(dir.join("signed.ofd"), signed_ofd(fx, &fx.page, &ofd_options))?;
    for (name, seal) in fx.seals() {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub)?;
        let key_pem = seal.key.to_pem(None).map_err(std::io::Error::other)?;
        std::fs::write(sub.join("seal-key.pem"), key_pem.as_bytes())?;
        std::fs::write(sub.join("seal-cert.pem"), pki::pem_encode("CERTIFICATE", &seal.chain[0]))?;
        std::fs::write(sub.join("root.pem"), pki::pem_encode("CERTIFICATE", &seal.chain[1]))?;
    }
    Ok(())
}

/// Short runs: the whole suite stays within a few minutes on a shared 2-core machine.
fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

fn bench_raw(c: &mut Criterion, fx: &Fixtures) {
    let msg = [0x5au8; 64];
    let mut group = c.benchmark_group("raw");
    for (name, seal) in fx.seals() {
        group.bench_function(format!("{name}_sign"), |b| b.iter(|| seal.signer.sign_raw(black_box(&msg))));
    }
    // The OFD's seal: SM2 with SM3 over the message.
    group.bench_function("sm2_sign", |b| b.iter(|| fx.sm2.signer.sign_raw(black_box(&msg))));
    group.finish();
}

fn bench_render(c: &mut Criterion, fx: &Fixtures) {
    let mut group = c.benchmark_group("render");
    group.bench_function("licence_page", |b| {
        b.iter(|| zhengzhao::pdf::render(black_box(&fx.page)).expect("rendering"))
    });
    // The same page as an OFD package (unsigned, pointing to the signature it will get):
    // layout, XML, font subset with its cmap; zipping is not included.
    let ofd_options = zhengzhao::ofd::OfdOptions { signed: true, ..Default::default() };
    group.bench_function("licence_page_ofd", |b| {
        b.iter(|| zhengzhao::ofd::render(black_box(&fx.page), &ofd_options).expect("rendering the OFD"))
    });
    group.finish();
}

fn bench_sign(c: &mut Criterion, fx: &Fixtures) {
    let mut group = c.benchmark_group("sign");
    for (name, seal) in fx.seals() {
        let params = seal.params(&fx.drawing, &fx.appearance, &fx.rendered);
        group.bench_function(name, |b| {
            b.iter(|| zhengzhao::pdf::sign(black_box(&fx.rendered.pdf), &params).expect("signing"))
        });
    }
    group.finish();

    // As issuing does it: render, then sign what was rendered without parsing it again.
    let mut group = c.benchmark_group("render+sign");
    for (name, seal) in fx.seals() {
        let params = seal.params(&fx.drawing, &fx.appearance, &fx.rendered);
        group.bench_function(name, |b| {
            b.iter(|| {
                let rendered = zhengzhao::pdf::render(black_box(&fx.page)).expect("rendering");
                zhengzhao::pdf::sign_rendered(&rendered, &params, None).expect("signing")
            })
        });
    }
    group.finish();

    // The licence as an OFD, as issuing does it: render, Signature.xml, SES_Signature by
    // the SM2 seal, zip. The result must read back as a signed OFD whose digests hold.
    let ofd_options = zhengzhao::ofd::OfdOptions { signed: true, ..Default::default() };
    let ofd = signed_ofd(fx, &fx.page, &ofd_options);
    let inspection = zhengzhao::ofd::inspect(&ofd, &zhengzhao::ofd::ReadLimits::default())
        .expect("the signed OFD reads back");
    assert!(inspection.is_signed(), "the benchmarked OFD is signed");
    let mut group = c.benchmark_group("render+sign+zip_ofd");
    group.bench_function("sm2", |b| b.iter(|| signed_ofd(fx, black_box(&fx.page), &ofd_options)));
    group.finish();

    // The whole PDF of a licence: render, sign, and the DSS update with chain and CRL.
    let mut group = c.benchmark_group("render+sign+dss");
    let seal = &fx.ed25519;
    let params = seal.params(&fx.drawing, &fx.appearance, &fx.rendered);
    let dss =
        zhengzhao::pdf::Dss { certs: &seal.chain, crls: std::slice::from_ref(&fx.crl), doc_timestamp: false };
    group.bench_function("ed25519", |b| {
        b.iter(|| {
            let rendered = zhengzhao::pdf::render(black_box(&fx.page)).expect("rendering");
            zhengzhao::pdf::sign_rendered(&rendered, &params, Some(dss)).expect("signing")
        })
    });
    group.finish();
}

/// A time-stamping authority under `seal`'s root, stamping at a fixed time.
fn stamper(seal: &Seal) -> zhengzhao::tsa::FixedStamper {
    let rng = SystemRandom::new();
    let now = OffsetDateTime::now_utc();
    let key = PrivateKey::generate(seal.root_key.algorithm(), &rng).expect("a TSA key");
    let cert = pki::issue_tsa_cert(
        "证照服务平台",
        &key.public_key_spki_der(),
        &seal.chain[1],
        &seal.root_key,
        now - time::Duration::minutes(5),
        now + time::Duration::days(3650),
        pki::random_serial(&rng).expect("a serial"),
    )
    .expect("the TSA certificate");
    let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).expect("the TSA key");
    let policy = zhengzhao::config::DEFAULT_TSA_POLICY.parse().expect("the policy OID");
    let authority = zhengzhao::tsa::Authority::new(signer, cert, seal.chain[1].clone(), policy, None)
        .expect("the authority");
    zhengzhao::tsa::FixedStamper::new(authority, now, 1)
}

/// Long-term validation: what the time-stamps and the B-LTA revision add to a licence PDF
/// (render, sign, DSS: B-LT as before; with the signature time-stamp: B-T + LT; with the
/// document time-stamp too: B-LTA, what issuing does), one TSA token alone, and archive
/// renewal of a stored B-LTA PDF (DSS + document time-stamp, parsing the file).
fn bench_ltv(c: &mut Criterion, fx: &Fixtures) {
    use zhengzhao::tsa::{ImprintAlg, Stamper};
    let mut group = c.benchmark_group("ltv");
    for (name, seal) in fx.seals() {
        let tsa = stamper(seal);
        let mut certs = seal.chain.clone();
        certs.push(tsa.chain()[0].clone());
        let crls = std::slice::from_ref(&fx.crl);
        let imprint = ImprintAlg::for_algorithm(seal.root_key.algorithm());
        let digest = imprint.digest(b"a signature value");
        group.bench_function(format!("{name}/tsa_token"), |b| {
            b.iter(|| tsa.stamp(imprint, black_box(&digest)))
        });
        for (label, stamped, doc_timestamp) in
            [("b_lt", false, false), ("b_t_lt", true, false), ("b_lta", true, true)]
        {
            let mut params = seal.params(&fx.drawing, &fx.appearance, &fx.rendered);
            params.stamper = stamped.then_some(&tsa as &dyn Stamper);
            let dss = zhengzhao::pdf::Dss { certs: &certs, crls, doc_timestamp };
            group.bench_function(format!("{name}/render+sign+{label}"), |b| {
                b.iter(|| {
                    let rendered = zhengzhao::pdf::render(black_box(&fx.page)).expect("rendering");
                    zhengzhao::pdf::sign_rendered(&rendered, &params, Some(dss)).expect("signing")
                })
            });
        }
        let mut params = seal.params(&fx.drawing, &fx.appearance, &fx.rendered);
        params.stamper = Some(&tsa);
        let dss = zhengzhao::pdf::Dss { certs: &certs, crls, doc_timestamp: true };
        let stored = zhengzhao::pdf::sign_rendered(&fx.rendered, &params, Some(dss)).expect("a B-LTA PDF");
        group.bench_function(format!("{name}/archive_renew"), |b| {
            b.iter(|| {
                let with_dss = zhengzhao::pdf::add_dss(black_box(&stored), &tsa.chain(), crls).expect("DSS");
                zhengzhao::pdf::add_doc_timestamp(&with_dss, &tsa, imprint).expect("document time-stamp")
            })
        });
    }
    group.finish();
}

fn bench_token(c: &mut Criterion, fx: &Fixtures) {
    let claims = licence_claims();
    let kid = [0x1du8, 0x8e, 0x3a, 0x52, 0x07, 0xc4, 0x91, 0x6b];
    let mut group = c.benchmark_group("token");
    group.bench_function("sign", |b| {
        b.iter(|| zhengzhao::token::sign(black_box(&claims), &kid, &fx.ed25519.signer).expect("token"))
    });
    group.bench_function("sign_p256", |b| {
        b.iter(|| zhengzhao::token::sign(black_box(&claims), &kid, &fx.p256.signer).expect("token"))
    });
    group.finish();
}

/// Issues a 食品经营许可证 through [`Issuing::issue`](zhengzhao::platform::Issuing::issue) on a demo platform with its SQLite
/// database in a temporary directory: checks, token, render, sign, DSS and the stored row;
/// as a PDF (Ed25519 seal), an OFD (SM2 seal) and both (Ed25519 PDF, SM2 OFD).
fn bench_issue_e2e(c: &mut Criterion) {
    use zhengzhao::licence::DocumentKind;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let layer = Layer { public_url: Some("https://zhengzhao.example.gov.cn".into()), ..Layer::default() };
    let config = Config::from_layer(dir.path().join("data"), layer).expect("the bench configuration");
    let (platform, ed25519, sm2) = rt.block_on(async {
        let platform = Platform::create(config, None).await.expect("creating the platform");
        platform.ensure_demo(OffsetDateTime::now_utc()).await.expect("the demo department and seals");
        let seals = platform.pki.seals(None).await.expect("listing the seals");
        let id = |alg| seals.iter().find(|s| s.algorithm == alg).expect("a demo seal").id.clone();
        let (ed25519, sm2) = (id(Algorithm::Ed25519), id(Algorithm::Sm2));
        (platform, ed25519, sm2)
    });
    let example =
        platform.issuing.licence_type(FOOD_TYPE).expect("the shipped food licence type").example.clone();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/examples").join(example);
    let json = std::fs::read_to_string(&path).expect("reading the example licence");
    let input: LicenceInput = serde_json::from_str(&json).expect("parsing the example licence");
    let request = |seal_id: &str, ofd_seal_id: Option<&str>, document| IssueRequest {
        seal_id: seal_id.into(),
        ofd_seal_id: ofd_seal_id.map(Into::into),
        type_code: FOOD_TYPE.into(),
        input: input.clone(),
        document,
        client: None,
        idempotency_key: None,
        renews: None,
    };
    let runs = [
        ("sqlite", request(&ed25519, None, DocumentKind::Pdf)),
        ("sqlite_ofd", request(&sm2, None, DocumentKind::Ofd)),
        ("sqlite_both", request(&ed25519, Some(&sm2), DocumentKind::Both)),
    ];

    let mut group = c.benchmark_group("issue_e2e");
    for (name, request) in runs {
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(platform.issuing.issue(request.clone(), OffsetDateTime::now_utc()))
                    .expect("issuing")
            })
        });
    }
    group.finish();
}

fn main() {
    let fx = Fixtures::new();
    if let Some(dir) = std::env::var_os("ZHENGZHAO_BENCH_FIXTURES") {
        let dir = Path::new(&dir);
        write_fixtures(&fx, dir).expect("writing the bench fixtures");
        eprintln!("bench fixtures written to {}", dir.display());
    }
    let mut c = criterion();
    bench_raw(&mut c, &fx);
    bench_render(&mut c, &fx);
    bench_sign(&mut c, &fx);
    bench_ltv(&mut c, &fx);
    bench_token(&mut c, &fx);
    bench_issue_e2e(&mut c);
    c.final_summary();
}
