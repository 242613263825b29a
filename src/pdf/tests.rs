//! Round-trip tests of the PDF module: render → sign → add_dss → inspect, with test PKIs.

use lopdf::{Document, IncrementalDocument, Object};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::macros::datetime;

use super::*;
use crate::layout::page_sample as sample;
use crate::signing::{Algorithm, SealSigner};

/// A root, a seal certificate with its PKCS#8 key, and an empty CRL.
struct Pki {
    root: Vec<u8>,
    seal: Vec<u8>,
    key: Vec<u8>,
    crl: Vec<u8>,
}

fn pki(alg: &'static rcgen::SignatureAlgorithm) -> Pki {
    let root_key = KeyPair::generate_for(alg).unwrap();
    let mut rp = CertificateParams::default();
    rp.distinguished_name.push(DnType::CommonName, "证照测试平台根证书");
    rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    rp.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let root = rp.self_signed(&root_key).unwrap();
    let issuer = Issuer::new(rp, &root_key);
    let key = KeyPair::generate_for(alg).unwrap();
    let mut sp = CertificateParams::default();
    sp.distinguished_name.push(DnType::CommonName, "某某局行政审批专用章");
    sp.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
    sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 36])];
    sp.crl_distribution_points =
        vec![CrlDistributionPoint { uris: vec!["http://127.0.0.1:9/crl.crl".into()] }];
    let seal = sp.signed_by(&key, &issuer).unwrap();
    let crl = CertificateRevocationListParams {
        this_update: datetime!(2026-11-01 00:00 UTC),
        next_update: datetime!(2026-12-01 00:00 UTC),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap();
    Pki {
        root: root.der().to_vec(),
        seal: seal.der().to_vec(),
        key: key.serialize_der(),
        crl: crl.der().to_vec(),
    }
}

/// Renders the sample page and signs it with `p`.
fn signed(p: &Pki) -> (RenderedPdf, Vec<u8>) {
    let rendered = render(&sample()).unwrap();
    let signer = SealSigner::from_pkcs8_der(&p.key).unwrap();
    let seal = crate::seal::draw("某某市市场监督管理局", "行政审批专用章").unwrap();
    let params = SignParams {
        signer: &signer,
        cert_chain_der: vec![p.seal.clone(), p.root.clone()],
        signing_time: datetime!(2026-11-22 10:30:00 +08:00),
        seal: &seal,
        appearance: None,
        seal_rect_mm: rendered.seal_rect_mm,
        reason: Some("电子证照签章".into()),
        location: None,
        name: None,
        stamper: None,
    };
    let pdf = sign(&rendered.pdf, &params).unwrap();
    (rendered, pdf)
}

#[test]
fn sign_then_inspect_both_algorithms() {
    for (alg, name, digest) in [
        (&rcgen::PKCS_ED25519, Algorithm::Ed25519, "sha512"),
        (&rcgen::PKCS_ECDSA_P256_SHA256, Algorithm::P256, "sha256"),
    ] {
        let p = pki(alg);
        let (rendered, pdf) = signed(&p);
        assert!(pdf.starts_with(&rendered.pdf), "an incremental update keeps the original bytes");
        let info = inspect(&pdf).unwrap();
        assert_eq!((info.algorithm, info.digest_algorithm), (name, digest));
        assert_eq!(info.field_name.as_deref(), Some("Seal1"));
        assert_eq!(info.sub_filter, "ETSI.CAdES.detached");
        assert_eq!(info.signing_time, Some(datetime!(2026-11-22 10:30:00 +08:00)));
        assert_eq!(info.reason.as_deref(), Some("电子证照签章"));
        assert_eq!(info.signer_cert_der, p.seal);
        assert!(info.certificates.contains(&p.root));
        assert_eq!(info.signed_revision_len, pdf.len());
        assert_eq!(info.later_revisions, LaterRevisions::None);
        let [a, b, c, d] = info.byte_range;
        assert_eq!((a, c + d), (0, pdf.len()));
        assert!(pdf[b] == b'<' && pdf[c - 1] == b'>');
    }
}

#[test]
fn a_changed_byte_is_a_digest_mismatch() {
    let p = pki(&rcgen::PKCS_ED25519);
    let (rendered, pdf) = signed(&p);
    for at in [10, rendered.pdf.len() / 2, pdf.len() - 30] {
        let mut bad = pdf.clone();
        bad[at] ^= 0x01;
        match inspect(&bad) {
            Err(e) => assert!(
                matches!(e, PdfError::DigestMismatch | PdfError::Parse(_) | PdfError::BadByteRange(_)),
                "byte {at}: {e:?}"
            ),
            Ok(_) => panic!("byte {at} changed but the signature still verified"),
        }
    }
    let mut bad = pdf.clone();
    bad[rendered.pdf.len() / 2] ^= 0x01;
    assert_eq!(inspect(&bad).unwrap_err().code(), "digest_mismatch");
}

#[test]
fn dss_is_signature_maintenance_and_other_changes_are_not() {
    let p = pki(&rcgen::PKCS_ECDSA_P256_SHA256);
    let (_, pdf) = signed(&p);
    let with_dss = add_dss(&pdf, &[p.seal.clone(), p.root.clone()], std::slice::from_ref(&p.crl)).unwrap();
    assert!(with_dss.starts_with(&pdf));
    let info = inspect(&with_dss).unwrap();
    assert_eq!(info.later_revisions, LaterRevisions::DssOnly);
    assert_eq!((info.dss_certs.len(), info.dss_crls.len()), (2, 1));
    assert_eq!(info.dss_crls[0], p.crl);
    assert_eq!(info.signed_revision_len, pdf.len());

    // A second DSS update keeps the first one's entries.
    let again = add_dss(&with_dss, &[], std::slice::from_ref(&p.crl)).unwrap();
    let info = inspect(&again).unwrap();
    assert_eq!(
        (info.dss_certs.len(), info.dss_crls.len(), info.later_revisions),
        (2, 2, LaterRevisions::DssOnly)
    );

    // Changing the page after signing is reported.
    let doc = Document::load_mem(&pdf).unwrap();
    let page = *doc.get_pages().get(&1).unwrap();
    let mut inc = IncrementalDocument::create_from(pdf.clone(), doc);
    inc.opt_clone_object_to_new_document(page).unwrap();
    inc.new_document.get_dictionary_mut(page).unwrap().set("Rotate", Object::Integer(90));
    let mut changed = Vec::new();
    inc.save_to(&mut changed).unwrap();
    match inspect(&changed).unwrap().later_revisions {
        LaterRevisions::Other(what) => assert!(what.iter().any(|w| w.contains("changed")), "{what:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn sign_refuses_wrong_key_and_double_signing() {
    let p = pki(&rcgen::PKCS_ED25519);
    let other = pki(&rcgen::PKCS_ED25519);
    let rendered = render(&sample()).unwrap();
    let signer = SealSigner::from_pkcs8_der(&other.key).unwrap();
    let seal = crate::seal::draw("某某局", "").unwrap();
    let mut params = SignParams {
        signer: &signer,
        cert_chain_der: vec![p.seal.clone()],
        signing_time: datetime!(2026-11-22 10:30:00 +08:00),
        seal: &seal,
        appearance: None,
        seal_rect_mm: rendered.seal_rect_mm,
        reason: None,
        location: None,
        name: None,
        stamper: None,
    };
    assert_eq!(sign(&rendered.pdf, &params).unwrap_err().code(), "key_mismatch");
    params.cert_chain_der = vec![];
    assert_eq!(sign(&rendered.pdf, &params).unwrap_err().code(), "empty_chain");
    params.cert_chain_der = vec![other.seal.clone()];
    params.seal_rect_mm = RectMm { x: 200.0, y: 10.0, width: 42.0, height: 42.0 };
    assert_eq!(sign(&rendered.pdf, &params).unwrap_err().code(), "bad_seal_rect");
    params.seal_rect_mm = rendered.seal_rect_mm;
    let once = sign(&rendered.pdf, &params).unwrap();
    assert_eq!(sign(&once, &params).unwrap_err().code(), "already_signed");
    assert_eq!(sign(b"not a pdf", &params).unwrap_err().code(), "pdf_parse");
    assert_eq!(inspect(&rendered.pdf).unwrap_err().code(), "not_signed");
}

#[test]
fn inspect_survives_mutations_and_truncations() {
    let p = pki(&rcgen::PKCS_ED25519);
    let (_, pdf) = signed(&p);
    let with_dss = add_dss(&pdf, std::slice::from_ref(&p.root), &[]).unwrap();
    // A small deterministic generator (xorshift): the same mutations on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let mut bad = with_dss.clone();
        for _ in 0..(next() % 4 + 1) {
            let at = (next() % bad.len() as u64) as usize;
            bad[at] = (next() & 0xff) as u8;
        }
        let _ = inspect(&bad);
    }
    for cut in (0..with_dss.len()).step_by(997) {
        let _ = inspect(&with_dss[..cut]);
    }
}

#[test]
fn sign_rendered_gives_the_bytes_of_sign_then_add_dss() {
    // Ed25519 signatures are deterministic, so both paths must give the same bytes.
    let p = pki(&rcgen::PKCS_ED25519);
    let rendered = render(&sample()).unwrap();
    let signer = SealSigner::from_pkcs8_der(&p.key).unwrap();
    let seal = crate::seal::draw("某某市市场监督管理局", "行政审批专用章").unwrap();
    let params = SignParams {
        signer: &signer,
        cert_chain_der: vec![p.seal.clone(), p.root.clone()],
        signing_time: datetime!(2026-11-22 10:30:00 +08:00),
        seal: &seal,
        appearance: None,
        seal_rect_mm: rendered.seal_rect_mm,
        reason: Some("电子证照签章".into()),
        location: None,
        name: Some("某某市市场监督管理局".into()),
        stamper: None,
    };
    let chain = [p.seal.clone(), p.root.clone()];
    let crls = std::slice::from_ref(&p.crl);
    let slow = add_dss(&sign(&rendered.pdf, &params).unwrap(), &chain, crls).unwrap();
    let fast =
        sign_rendered(&rendered, &params, Some(Dss { certs: &chain, crls, doc_timestamp: false })).unwrap();
    assert_eq!(String::from_utf8_lossy(&fast), String::from_utf8_lossy(&slow));
    let info = inspect(&fast).unwrap();
    assert_eq!(info.later_revisions, LaterRevisions::DssOnly);
    assert_eq!((info.dss_certs.len(), info.dss_crls.len()), (2, 1));
    // A prepared seal appearance gives the same bytes too.
    let ap = SealAppearance::new(&seal, rendered.seal_rect_mm);
    let with_ap = SignParams { appearance: Some(&ap), ..params };
    let prepared =
        sign_rendered(&rendered, &with_ap, Some(Dss { certs: &chain, crls, doc_timestamp: false })).unwrap();
    assert!(prepared == fast, "a prepared appearance changed the PDF");
    let params = SignParams { appearance: None, ..with_ap };
    // Without DSS it is the plain signature.
    assert_eq!(sign_rendered(&rendered, &params, None).unwrap(), sign(&rendered.pdf, &params).unwrap());
}
