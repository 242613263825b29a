//! Writes the seed corpus of the fuzz targets (`fuzz/seeds/token_decode`, `fuzz/seeds/pdf_inspect`,
//! `fuzz/seeds/tsa_request`, and the time-stamped seal signature of `fuzz/seeds/ses_decode` and
//! `fuzz/seeds/ofd_inspect`):
//! real tokens (Ed25519, P-256 and SM2, as COSE bytes and as QR URL text), a one-page
//! PDF signed with Ed25519 and with P-256, the P-256 one with a `/DSS` revision (PAdES
//! has no SM2), and RFC 3161 requests and replies of the platform's time-stamping
//! authority (a granted reply per algorithm, a rejection; the `openssl_*.tsq` requests there
//! come from `openssl ts -query` and are not rewritten), and a GB/T 38540 seal signature
//! time-stamped by an SM2 TSA (`timeStamp`), alone and as the `SignedValue.dat` of ofdrw's
//! signed OFD (whose other files, seeds themselves, are kept). Keys and certificates
//! are fresh each run, so the files change but their structure does not.
//!
//! Run at the repository root: `cargo run --example fuzz_seeds`. (An example of the main
//! crate, not a binary of the fuzz crate: binaries there are built with coverage
//! instrumentation and link only with libFuzzer.)

use std::fs;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType, IsCa, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::macros::datetime;
use zhengzhao::pdf::{RectMm, SignParams};
use zhengzhao::signing::SealSigner;
use zhengzhao::token::{self, LicenceClaims};

/// A seal certificate, its root, the seal's PKCS#8 key and an empty CRL of the root.
struct Pki {
    root: Vec<u8>,
    seal: Vec<u8>,
    key: Vec<u8>,
    crl: Vec<u8>,
}

fn pki(alg: &'static rcgen::SignatureAlgorithm) -> Pki {
    let root_key = KeyPair::generate_for(alg).expect("root key");
    let mut rp = CertificateParams::default();
    rp.distinguished_name.push(DnType::CommonName, "证照模糊测试根证书");
    rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    rp.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let root = rp.self_signed(&root_key).expect("root certificate");
    let issuer = Issuer::new(rp, &root_key);
    let key = KeyPair::generate_for(alg).expect("seal key");
    let mut sp = CertificateParams::default();
    sp.distinguished_name.push(DnType::CommonName, "某某局行政审批专用章");
    sp.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
    let seal = sp.signed_by(&key, &issuer).expect("seal certificate");
    let crl = CertificateRevocationListParams {
        this_update: datetime!(2026-11-01 00:00 UTC),
        next_update: datetime!(2026-12-01 00:00 UTC),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .expect("CRL");
    Pki {
        root: root.der().to_vec(),
        seal: seal.der().to_vec(),
        key: key.serialize_der(),
        crl: crl.der().to_vec(),
    }
}

/// A minimal one-page PDF (classic xref), small so the fuzzer mutates structure, not fonts.
fn minimal_pdf() -> Vec<u8> {
    let content = b"BT /F1 24 Tf 72 720 Td (Licence) Tj ET";
    let objects: [Vec<u8>; 5] = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
           /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_vec(),
        [format!("<< /Length {} >>\nstream\n", content.len()).as_bytes(), content, b"\nendstream"].concat(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    let mut pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        pdf.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    pdf
}

fn signed_pdf(p: &Pki) -> Vec<u8> {
    signed_pdf_stamped(p, None)
}

/// [`signed_pdf`], its signature value time-stamped by `stamper` (PAdES B-T).
fn signed_pdf_stamped(p: &Pki, stamper: Option<&dyn zhengzhao::tsa::Stamper>) -> Vec<u8> {
    let signer = SealSigner::from_pkcs8_der(&p.key).expect("seal key");
    let seal = zhengzhao::seal::draw("某某市市场监督管理局", "行政审批专用章").expect("seal drawing");
    let params = SignParams {
        signer: &signer,
        cert_chain_der: vec![p.seal.clone(), p.root.clone()],
        signing_time: datetime!(2026-11-22 10:30:00 +08:00),
        seal: &seal,
        appearance: None,
        seal_rect_mm: RectMm { x: 140.0, y: 20.0, width: 42.0, height: 42.0 },
        reason: Some("电子证照签章".into()),
        location: None,
        name: None,
        stamper,
    };
    zhengzhao::pdf::sign(&minimal_pdf(), &params).expect("signing the seed PDF")
}

fn claims() -> LicenceClaims {
    LicenceClaims {
        issuer: "11220000013544541J".into(),
        issued_at: 1_717_200_000,
        expires_at: Some(1_874_966_399),
        licence_id: "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
        holder_name: "上海某某餐饮管理有限公司".into(),
        holder_code_masked: "110***********002X".into(),
        valid_from: "2024-06-01".into(),
        valid_until: Some("2029-05-31".into()),
        record_hash: (100u8..132).collect(),
    }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("seeds");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let path = dir.join(target).join(name);
        fs::create_dir_all(path.parent().expect("a seeds subfolder")).expect("creating the seeds folder");
        fs::write(&path, bytes).expect("writing a seed");
        println!("{} ({} bytes)", path.display(), bytes.len());
    };
    let ed = pki(&rcgen::PKCS_ED25519);
    let p256 = pki(&rcgen::PKCS_ECDSA_P256_SHA256);
    // SM2: a key only (rcgen makes no SM2 certificates; a token needs none).
    let sm2 = zhengzhao::pki::PrivateKey::generate(
        zhengzhao::pki::Algorithm::Sm2,
        &ring::rand::SystemRandom::new(),
    )
    .expect("SM2 key");
    for (name, key) in
        [("ed25519", ed.key.as_slice()), ("p256", p256.key.as_slice()), ("sm2", sm2.pkcs8_der())]
    {
        let signer = SealSigner::from_pkcs8_der(key).expect("seal key");
        let tok = token::sign(&claims(), &[0x5a, 0x1f, 0x03, 0x9e, 0x44, 0x10, 0xc2, 0x7b], &signer)
            .expect("signing the seed token");
        write("token_decode", &format!("{name}.cose"), &tok);
        write(
            "token_decode",
            &format!("{name}-url.txt"),
            token::qr_url("https://zz.example.gov.cn", &tok).as_bytes(),
        );
    }
    write("pdf_inspect", "signed-ed25519.pdf", &signed_pdf(&ed));
    let with_dss = zhengzhao::pdf::add_dss(
        &signed_pdf(&p256),
        std::slice::from_ref(&p256.root),
        std::slice::from_ref(&p256.crl),
    )
    .expect("adding the DSS");
    write("pdf_inspect", "signed-p256-dss.pdf", &with_dss);
    // PAdES B-LTA: signature time-stamp, DSS, document time-stamp (the TSA need not be of
    // the seal's root for the reader).
    let tsa = Sm2Pki::new().stamper();
    let certs = [ed.root.clone(), zhengzhao::tsa::Stamper::chain(&tsa)[0].clone()];
    let b_lt =
        zhengzhao::pdf::add_dss(&signed_pdf_stamped(&ed, Some(&tsa)), &certs, std::slice::from_ref(&ed.crl))
            .expect("adding the DSS");
    let lta = zhengzhao::pdf::add_doc_timestamp(&b_lt, &tsa, zhengzhao::tsa::ImprintAlg::Sha256)
        .expect("adding the document time-stamp");
    write("pdf_inspect", "signed-ed25519-lta.pdf", &lta);
    tsa_seeds(&write);
    stamped_ses_seeds(&dir, &write);
}

/// A v4 `SES_Signature` by an SM2 seal over ofdrw's signed OFD's `Signature.xml`,
/// time-stamped by an SM2 TSA, written alone (`ses_decode`) and in that OFD in place of its
/// `SignedValue.dat` (`ofd_inspect`).
fn stamped_ses_seeds(dir: &Path, write: &dyn Fn(&str, &str, &[u8])) {
    use sm3::Digest as _;
    use zhengzhao::{ofd, ses};
    let sm2 = Sm2Pki::new();
    let ofd_seed =
        fs::read(dir.join("ofd_inspect").join("ofdrw-SESV4SignDoc.ofd")).expect("ofdrw's OFD seed");
    let mut package = ofd::Package::from_zip(&ofd_seed, &ofd::ReadLimits::default()).expect("ofdrw's OFD");
    let (xml_path, value_path) = ("Doc_0/Signs/Sign_0/Signature.xml", "Doc_0/Signs/Sign_0/SignedValue.dat");
    let hash = sm3::Sm3::digest(package.get(xml_path).expect("Signature.xml"));
    let time = datetime!(2026-06-01 8:00 UTC);
    let (seal_cert, seal_key) = (&sm2.seal_cert, &sm2.signer(&sm2.seal_key));
    let stamper = sm2.stamper();
    let signed =
        ses::sign(&sm2.ses_seal(), time, &hash, &format!("/{xml_path}"), seal_cert, seal_key, Some(&stamper))
            .expect("time-stamped SES_Signature");
    write("ses_decode", "stamped-SignedValue.dat", &signed);
    package.replace(value_path, signed);
    write("ofd_inspect", "stamped-SESV4SignDoc.ofd", &package.to_zip().expect("zipping the OFD"));
}

/// An SM2 root with a seal maker, a seal and a time-stamping authority under it.
struct Sm2Pki {
    root: Vec<u8>,
    root_key: zhengzhao::pki::PrivateKey,
    seal_key: zhengzhao::pki::PrivateKey,
    seal_cert: Vec<u8>,
}

impl Sm2Pki {
    const START: time::OffsetDateTime = datetime!(2026-01-01 0:00 UTC);
    const END: time::OffsetDateTime = datetime!(2036-01-01 0:00 UTC);

    fn key() -> zhengzhao::pki::PrivateKey {
        let rng = ring::rand::SystemRandom::new();
        zhengzhao::pki::PrivateKey::generate(zhengzhao::pki::Algorithm::Sm2, &rng).expect("SM2 key")
    }

    fn signer(&self, key: &zhengzhao::pki::PrivateKey) -> SealSigner {
        SealSigner::from_pkcs8_der(key.pkcs8_der()).expect("SM2 signer")
    }

    fn new() -> Self {
        use zhengzhao::pki::{self as zpki, Algorithm};
        let (root_key, seal_key) = (Self::key(), Self::key());
        let root = zpki::make_root(Algorithm::Sm2, "测试平台", &root_key, Self::START, Self::END, [1; 16])
            .expect("root");
        let subject = zpki::SealSubject {
            seal_id: "110100000001",
            seal_name: "行政审批专用章",
            department_name: "某某市市场监督管理局",
            department_code: "11100000000013338W",
        };
        let spki = seal_key.public_key_spki_der();
        let (crl_url, serial) = ("http://127.0.0.1/crl", [3; 16]);
        let seal_cert =
            zpki::issue_seal_cert(&subject, &spki, &root, &root_key, crl_url, Self::START, Self::END, serial)
                .expect("seal certificate");
        Self { root, root_key, seal_key, seal_cert }
    }

    /// The seal, made by a seal maker of the root.
    fn ses_seal(&self) -> Vec<u8> {
        use zhengzhao::ses;
        let maker_key = Self::key();
        let spki = maker_key.public_key_spki_der();
        let (start, end) = (Self::START, Self::END);
        let maker = zhengzhao::pki::issue_seal_maker_cert(
            "测试平台",
            &spki,
            &self.root,
            &self.root_key,
            start,
            end,
            [2; 16],
        )
        .expect("maker certificate");
        let drawing = zhengzhao::seal::draw("某某市市场监督管理局", "行政审批专用章").expect("seal drawing");
        let picture = ses::picture_of(&drawing).expect("seal picture");
        let spec = ses::SealSpec {
            es_id: "110100000001",
            seal_type: ses::SEAL_TYPE_ORGANISATION,
            name: "某某市市场监督管理局行政审批专用章",
            seal_cert_der: &self.seal_cert,
            create_date: start,
            valid_start: start,
            valid_end: end,
            picture: &picture,
        };
        ses::make_seal(&spec, &self.signer(&maker_key), &maker).expect("SES_Seal")
    }

    /// A time-stamping authority of the root, stamping at a fixed time.
    fn stamper(&self) -> zhengzhao::tsa::FixedStamper {
        use zhengzhao::tsa;
        let key = Self::key();
        let spki = key.public_key_spki_der();
        let (start, end) = (Self::START, Self::END);
        let cert = tsa::issue_tsa_cert("测试平台", &spki, &self.root, &self.root_key, start, end, [4; 16])
            .expect("TSA certificate");
        let policy = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.7.1");
        let authority =
            tsa::Authority::new(self.signer(&key), cert, self.root.clone(), policy, None).expect("TSA");
        tsa::FixedStamper::new(authority, datetime!(2026-06-01 8:00:05 UTC), 1)
    }
}
/// A request and the platform TSA's replies: granted with each algorithm, and a rejection.
fn tsa_seeds(write: &dyn Fn(&str, &str, &[u8])) {
    use zhengzhao::pki::{self as zpki, Algorithm, PrivateKey};
    use zhengzhao::tsa::{self, ImprintAlg, Stamp};
    let rng = ring::rand::SystemRandom::new();
    let (start, end) = (datetime!(2026-01-01 0:00 UTC), datetime!(2036-01-01 0:00 UTC));
    let req = tsa::build_request(ImprintAlg::Sha256, b"data", Some(42), true, None).expect("request");
    write("tsa_request", "request_sha256_nonce.tsq", &req);
    for (name, alg) in [("ed25519", Algorithm::Ed25519), ("p256", Algorithm::P256), ("sm2", Algorithm::Sm2)] {
        let root_key = PrivateKey::generate(alg, &rng).expect("root key");
        let root = zpki::make_root(alg, "测试平台", &root_key, start, end, [1; 16]).expect("root");
        let key = PrivateKey::generate(alg, &rng).expect("TSA key");
        let spki = key.public_key_spki_der();
        let cert =
            tsa::issue_tsa_cert("测试平台", &spki, &root, &root_key, start, end, [2; 16]).expect("TSA cert");
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).expect("TSA signer");
        let stamp = Stamp {
            policy: der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.7.1"),
            serial: 7,
            gen_time: datetime!(2026-06-01 8:00 UTC),
            accuracy: None,
            name_tsa: true,
        };
        let granted = tsa::respond(&req, &signer, &cert, &stamp).expect("granted reply");
        write("tsa_request", &format!("reply_{name}.tsr"), &granted.der);
        if alg == Algorithm::P256 {
            let refused = tsa::respond(b"junk", &signer, &cert, &stamp).expect("rejection");
            write("tsa_request", "reply_rejection.tsr", &refused.der);
        }
    }
}
