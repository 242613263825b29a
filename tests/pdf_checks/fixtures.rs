//! PDF check fixtures: test PKIs (Ed25519, P-256), the sample licence rendered, signed, with DSS, and tampered.
//!
//! Usage: pdf_fixtures OUT_DIR CRL_PORT (defaults: /tmp/pdfcheck 18931)
#![allow(clippy::unwrap_used)]
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::macros::datetime;
use zhengzhao::pdf::*;
use zhengzhao::seal;
use zhengzhao::signing::SealSigner;

struct Pki {
    root_der: Vec<u8>,
    root_pem: String,
    seal_der: Vec<u8>,
    seal_key: Vec<u8>,
    crl_der: Vec<u8>,
}

fn pki(alg: &'static rcgen::SignatureAlgorithm, name: &str, port: u16) -> Pki {
    let root_key = KeyPair::generate_for(alg).unwrap();
    let mut rp = CertificateParams::default();
    rp.distinguished_name.push(DnType::CountryName, "CN");
    rp.distinguished_name.push(DnType::OrganizationName, "证照测试平台");
    rp.distinguished_name.push(DnType::CommonName, format!("证照测试平台根证书 {name}"));
    rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    rp.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    rp.not_before = datetime!(2025-01-01 00:00 UTC);
    rp.not_after = datetime!(2045-01-01 00:00 UTC);
    rp.serial_number = Some(SerialNumber::from(vec![0x11; 16]));
    let root = rp.self_signed(&root_key).unwrap();
    let issuer = Issuer::new(rp, &root_key);

    let seal_key = KeyPair::generate_for(alg).unwrap();
    let mut sp = CertificateParams::default();
    sp.distinguished_name.push(DnType::CountryName, "CN");
    sp.distinguished_name.push(DnType::OrganizationName, "上海市浦东新区市场监督管理局");
    sp.distinguished_name.push(DnType::CommonName, "上海市浦东新区市场监督管理局行政审批专用章");
    sp.is_ca = IsCa::ExplicitNoCa;
    sp.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
    sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 36])];
    if std::env::var_os("NSS_EMAIL_EKU").is_some() {
        // NSS (pdfsig) checks certUsageEmailSigner: an EKU without emailProtection is refused.
        sp.extended_key_usages.push(ExtendedKeyUsagePurpose::EmailProtection);
    }
    sp.crl_distribution_points =
        vec![CrlDistributionPoint { uris: vec![format!("http://127.0.0.1:{port}/crl-{name}.crl")] }];
    sp.not_before = datetime!(2025-06-01 00:00 UTC);
    sp.not_after = datetime!(2030-06-01 00:00 UTC);
    sp.serial_number =
        Some(SerialNumber::from(vec![0x4a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]));
    sp.use_authority_key_identifier_extension = true;
    let seal = sp.signed_by(&seal_key, &issuer).unwrap();

    let crl = CertificateRevocationListParams {
        this_update: datetime!(2026-11-01 00:00 UTC),
        next_update: datetime!(2036-11-01 00:00 UTC),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap();
    Pki {
        root_der: root.der().to_vec(),
        root_pem: root.pem(),
        seal_der: seal.der().to_vec(),
        seal_key: seal_key.serialize_der(),
        crl_der: crl.der().to_vec(),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().unwrap_or("/tmp/pdfcheck".into()));
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(18931);
    std::fs::create_dir_all(&out).unwrap();
    let page = sample();
    let rendered = render(&page).unwrap();
    std::fs::write(out.join("unsigned.pdf"), &rendered.pdf).unwrap();
    let drawing = seal::draw("上海市浦东新区市场监督管理局", "行政审批专用章").unwrap();
    for (alg, name) in [(&rcgen::PKCS_ED25519, "ed25519"), (&rcgen::PKCS_ECDSA_P256_SHA256, "p256")] {
        let p = pki(alg, name, port);
        std::fs::write(out.join(format!("root-{name}.pem")), &p.root_pem).unwrap();
        std::fs::write(out.join(format!("root-{name}.der")), &p.root_der).unwrap();
        std::fs::write(out.join(format!("seal-{name}.der")), &p.seal_der).unwrap();
        std::fs::write(out.join(format!("crl-{name}.crl")), &p.crl_der).unwrap();
        let signer = SealSigner::from_pkcs8_der(&p.seal_key).unwrap();
        let params = SignParams {
            signer: &signer,
            cert_chain_der: vec![p.seal_der.clone(), p.root_der.clone()],
            signing_time: datetime!(2026-11-22 10:30:00 +08:00),
            seal: &drawing,
            seal_rect_mm: rendered.seal_rect_mm,
            reason: Some("电子证照签章".into()),
            location: Some("上海市浦东新区".into()),
            name: None,
        };
        let signed = sign(&rendered.pdf, &params).unwrap();
        std::fs::write(out.join(format!("signed-{name}.pdf")), &signed).unwrap();
        let mut times = Vec::new();
        for _ in 0..50 {
            let t = std::time::Instant::now();
            std::hint::black_box(sign(&rendered.pdf, &params).unwrap());
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("{name}: signed {} bytes; sign median {:.3} ms", signed.len(), times[25]);
        let dss =
            add_dss(&signed, &[p.seal_der.clone(), p.root_der.clone()], std::slice::from_ref(&p.crl_der))
                .unwrap();
        std::fs::write(out.join(format!("dss-{name}.pdf")), &dss).unwrap();
        let info = inspect(&signed).unwrap();
        assert_eq!(info.later_revisions, LaterRevisions::None);
        assert_eq!(info.signer_cert_der, p.seal_der);
        let info = inspect(&dss).unwrap();
        println!(
            "{name}: inspect(dss): alg {} digest {} M {:?} later {:?}, dss {} certs {} crls",
            info.algorithm,
            info.digest_algorithm,
            info.signing_time,
            info.later_revisions,
            info.dss_certs.len(),
            info.dss_crls.len()
        );
        let mut times = Vec::new();
        for _ in 0..50 {
            let t = std::time::Instant::now();
            std::hint::black_box(inspect(&signed).unwrap());
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("{name}: inspect median {:.3} ms", times[25]);
        // Tampered copy: one byte of the first signed range changed (inside the page content stream dictionary area).
        let mut bad = signed.clone();
        let at = rendered.pdf.len() / 2;
        bad[at] ^= 0x01;
        std::fs::write(out.join(format!("tampered-{name}.pdf")), &bad).unwrap();
        match inspect(&bad) {
            Err(e) => println!("{name}: inspect(tampered) -> {} ({e})", e.code()),
            Ok(_) => panic!("tampered PDF passed inspect"),
        }
    }
}

fn sample() -> LicencePage {
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
            ("经营项目".into(), "预包装食品（含冷藏冷冻食品）销售，散装食品（含冷藏冷冻食品）销售，热食类食品制售，冷食类食品制售，生食类食品制售，糕点类食品（含裱花蛋糕）制售，自制饮品制售（不含自酿酒）".into()),
            ("许可证编号".into(), "JY23101150012345".into()),
            ("有效期至".into(), "2031年11月21日".into()),
            ("日常监督管理机构".into(), "上海市浦东新区市场监督管理局张江市场监督管理所".into()),
            ("投诉举报电话".into(), "12315".into()),
        ],
        issuer: "上海市浦东新区市场监督管理局".into(),
        issue_date: "2026年11月22日".into(),
        identifier: "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
        qr_text: "https://zhengzhao.example.gov.cn/v/1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
        info: DocInfo {
            title: "食品经营许可证 JY23101150012345".into(),
            subject: "食品经营许可证".into(),
            author: "上海市浦东新区市场监督管理局".into(),
            keywords: None,
            creation_date: Some(time::macros::datetime!(2026-11-22 10:30:00 +08:00)),
            custom: vec![
                ("LicenceIdentifier".into(), "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into()),
                ("HolderName".into(), "上海浦江美食餐饮管理有限公司".into()),
            ],
        },
    }
}
