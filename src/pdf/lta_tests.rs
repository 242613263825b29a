//! PAdES B-T / B-LT / B-LTA at the PDF level: a signature time-stamp, the DSS, document
//! time-stamps (issuing and renewal paths), and what inspecting finds when they are
//! removed, altered or followed by other changes. The PKI is the platform's own
//! (`crate::pki`): root, seal certificate, TSA certificate and CRL.

use lopdf::{IncrementalDocument, Object};
use ring::rand::SystemRandom;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::layout::page_sample as sample;
use crate::pki::{self, Algorithm, PrivateKey, SealSubject};
use crate::signing::SealSigner;
use crate::tsa::{Authority, FixedStamper, ImprintAlg, Stamper};

const POLICY: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("1.2.156.99999.1.1");

pub(super) struct Lta {
    pub(super) root: Vec<u8>,
    pub(super) seal: Vec<u8>,
    pub(super) signer: SealSigner,
    pub(super) crl: Vec<u8>,
    pub(super) stamper: FixedStamper,
    pub(super) now: OffsetDateTime,
    tsa_key: Vec<u8>,
    tsa_cert: Vec<u8>,
}

impl Lta {
    /// Another stamper of the same TSA at the same time, counting from `first`.
    pub(super) fn stamper_from(&self, first: u64) -> FixedStamper {
        let signer = SealSigner::from_pkcs8_der(&self.tsa_key).unwrap();
        let authority =
            Authority::new(signer, self.tsa_cert.clone(), self.root.clone(), POLICY, None).unwrap();
        FixedStamper::new(authority, self.stamper.time, first)
    }
}

/// A root, a seal valid for a year, a TSA valid ten years, the root's CRL, all of `alg`.
pub(super) fn lta_pki(alg: Algorithm, first_serial: u64) -> Lta {
    let rng = SystemRandom::new();
    let now = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
    let root_key = PrivateKey::generate(alg, &rng).unwrap();
    let root = pki::make_root(
        alg,
        "证照测试平台",
        &root_key,
        now - Duration::days(1),
        now + Duration::days(7300),
        [1; 16],
    )
    .unwrap();
    let seal_key = PrivateKey::generate(alg, &rng).unwrap();
    let subject = SealSubject {
        seal_id: "SEAL-0001",
        seal_name: "某某市市场监督管理局行政审批专用章",
        department_name: "某某市市场监督管理局",
        department_code: "11100000000013338W",
    };
    let seal = pki::issue_seal_cert(
        &subject,
        &seal_key.public_key_spki_der(),
        &root,
        &root_key,
        "http://127.0.0.1:9/root.crl",
        now - Duration::hours(1),
        now + Duration::days(365),
        [2; 16],
    )
    .unwrap();
    let tsa_key = PrivateKey::generate(alg, &rng).unwrap();
    let tsa_cert = pki::issue_tsa_cert(
        "证照测试平台",
        &tsa_key.public_key_spki_der(),
        &root,
        &root_key,
        now - Duration::hours(1),
        now + Duration::days(3650),
        [3; 16],
    )
    .unwrap();
    let crl = pki::make_crl(&root, &root_key, 1, now, now + Duration::days(7), &[]).unwrap();
    let tsa_signer = SealSigner::from_pkcs8_der(tsa_key.pkcs8_der()).unwrap();
    let authority = Authority::new(tsa_signer, tsa_cert.clone(), root.clone(), POLICY, None).unwrap();
    Lta {
        root,
        seal,
        signer: SealSigner::from_pkcs8_der(seal_key.pkcs8_der()).unwrap(),
        crl,
        stamper: FixedStamper::new(authority, now + Duration::seconds(1), first_serial),
        now,
        tsa_key: tsa_key.pkcs8_der().to_vec(),
        tsa_cert,
    }
}

/// The sample page signed B-LTA: signature time-stamp, DSS (seal and TSA chains, CRL),
/// document time-stamp.
pub(super) fn lta_pdf(l: &Lta) -> Vec<u8> {
    signed_pdf(l, &l.stamper, true)
}

/// The sample page signed with a signature time-stamp from `stamper` and a DSS, and a
/// document time-stamp when `doc_timestamp`.
fn signed_pdf(l: &Lta, stamper: &FixedStamper, doc_timestamp: bool) -> Vec<u8> {
    let rendered = render(&sample()).unwrap();
    let seal = crate::seal::draw("某某市市场监督管理局", "行政审批专用章").unwrap();
    let params = SignParams {
        signer: &l.signer,
        cert_chain_der: vec![l.seal.clone(), l.root.clone()],
        signing_time: l.now,
        seal: &seal,
        appearance: None,
        seal_rect_mm: rendered.seal_rect_mm,
        reason: None,
        location: None,
        name: None,
        stamper: Some(stamper),
    };
    let certs = [l.seal.clone(), l.root.clone(), l.stamper.chain()[0].clone()];
    let dss = Dss { certs: &certs, crls: std::slice::from_ref(&l.crl), doc_timestamp };
    sign_rendered(&rendered, &params, Some(dss)).unwrap()
}

#[test]
fn a_b_lta_pdf_carries_a_signature_time_stamp_the_dss_and_a_document_time_stamp() {
    for alg in [Algorithm::Ed25519, Algorithm::P256] {
        let l = lta_pki(alg, 100);
        let pdf = lta_pdf(&l);
        let info = inspect(&pdf).unwrap();
        assert_eq!(info.later_revisions, LaterRevisions::Archival { doc_timestamps: 1 }, "{alg}");
        assert_eq!((info.dss_certs.len(), info.dss_crls.len()), (3, 1));
        let roots = std::slice::from_ref(&l.root);
        let token = info.signature_timestamp.as_ref().expect("B-T");
        let stamp = crate::tsa::verify_token(token, &info.signature_value, roots, &[]).unwrap();
        assert_eq!((stamp.serial_u64(), stamp.imprint_alg), (Some(100), ImprintAlg::for_algorithm(alg)));
        let [ts] = info.doc_timestamps.as_slice() else { panic!("one document time-stamp") };
        assert_eq!(ts.revision_len(), pdf.len(), "the document time-stamp covers the whole file");
        let doc_stamp = crate::tsa::verify_token_parts(&ts.token_der, &ts.parts(&pdf), roots, &[]).unwrap();
        assert_eq!(doc_stamp.serial_u64(), Some(101));
        assert_eq!(doc_stamp.imprint_alg, ImprintAlg::for_document(alg), "{alg}: SHA-256 over the file");
        // The signature time-stamp is over the signature value, not over the document.
        assert!(crate::tsa::verify_token_parts(token, &ts.parts(&pdf), roots, &[]).is_err());
    }
}

#[test]
fn renewal_appends_dss_and_another_document_time_stamp_and_both_paths_agree() {
    let l = lta_pki(Algorithm::Ed25519, 1);
    let pdf = lta_pdf(&l);
    let crl2 = l.crl.clone();
    let renewed_dss = add_dss(&pdf, &[], std::slice::from_ref(&crl2)).unwrap();
    let renewed = add_doc_timestamp(&renewed_dss, &l.stamper, ImprintAlg::Sha256).unwrap();
    let info = inspect(&renewed).unwrap();
    assert_eq!(info.later_revisions, LaterRevisions::Archival { doc_timestamps: 2 });
    let roots = std::slice::from_ref(&l.root);
    for ts in &info.doc_timestamps {
        crate::tsa::verify_token_parts(&ts.token_der, &ts.parts(&renewed), roots, &[]).unwrap();
    }
    assert_eq!(info.doc_timestamps[0].revision_len(), pdf.len(), "the first still covers the issued file");
    assert_eq!(info.doc_timestamps[1].revision_len(), renewed.len());
    // Each earlier revision is still the same file and still validates.
    assert_eq!(&renewed[..pdf.len()], &pdf[..]);
    assert_eq!(inspect(&renewed[..pdf.len()]).unwrap().doc_timestamps.len(), 1);
    // The issuing path (no parsing) writes the bytes the parsing path writes (Ed25519 is
    // deterministic; the stampers hand out the same serials).
    let a = lta_pki(Algorithm::Ed25519, 7);
    let fast = lta_pdf(&a);
    let b_lt = signed_pdf(&a, &a.stamper_from(7), false);
    let slow =
        add_doc_timestamp(&b_lt, &a.stamper_from(8), ImprintAlg::for_document(Algorithm::Ed25519)).unwrap();
    assert!(fast == slow, "the two paths wrote different bytes");
}

#[test]
fn removed_or_altered_document_time_stamps_and_later_changes_show() {
    let l = lta_pki(Algorithm::P256, 1);
    let pdf = lta_pdf(&l);
    let info = inspect(&pdf).unwrap();
    let roots = std::slice::from_ref(&l.root);
    // Removed: the file cut back to the DSS revision has no document time-stamp.
    let dss_end = pdf[..pdf.len() - 6].windows(5).rposition(|w| w == b"%%EOF").unwrap() + 5;
    let cut = inspect(&pdf[..dss_end + 1]).unwrap();
    assert!(cut.doc_timestamps.is_empty());
    assert_eq!(cut.later_revisions, LaterRevisions::DssOnly);
    // Altered: a byte of the DSS revision changed breaks the document time-stamp's imprint
    // but not the signature.
    let ts = &info.doc_timestamps[0];
    let mut bad = pdf.clone();
    let at = dss_end - 40;
    bad[at] ^= 0x01;
    let bad_info = inspect(&bad).unwrap();
    assert!(matches!(
        crate::tsa::verify_token_parts(&bad_info.doc_timestamps[0].token_der, &ts.parts(&bad), roots, &[]),
        Err(crate::tsa::TsaError::ImprintMismatch)
    ));
    // A revision appended after the last document time-stamp that changes the page is a
    // change, not validation data.
    let doc = crate::pdf::inspect::load(&pdf).unwrap();
    let page_id = *doc.get_pages().get(&1).unwrap();
    let mut inc = IncrementalDocument::create_from(pdf.clone(), doc);
    inc.opt_clone_object_to_new_document(page_id).unwrap();
    inc.new_document.get_dictionary_mut(page_id).unwrap().set("Rotate", Object::Integer(90));
    let mut changed = Vec::new();
    inc.save_to(&mut changed).unwrap();
    assert!(matches!(inspect(&changed).unwrap().later_revisions, LaterRevisions::Other(_)));
    // More validation data after it is allowed (and not protected by it).
    let more = add_dss(&pdf, &[], std::slice::from_ref(&l.crl)).unwrap();
    let more_info = inspect(&more).unwrap();
    assert_eq!(more_info.later_revisions, LaterRevisions::Archival { doc_timestamps: 1 });
    assert!(more_info.doc_timestamps[0].revision_len() < more.len());
}

#[test]
fn a_visible_widget_posing_as_a_document_time_stamp_is_a_change() {
    let l = lta_pki(Algorithm::P256, 1);
    let pdf = lta_pdf(&l);
    let doc = crate::pdf::inspect::load(&pdf).unwrap();
    let info = inspect(&pdf).unwrap();
    let name = info.doc_timestamps[0].field_name.clone().unwrap();
    let widget = doc
        .objects
        .iter()
        .find(|(_, o)| {
            o.as_dict().is_ok_and(|d| d.get(b"T").ok().and_then(|t| t.as_str().ok()) == Some(name.as_bytes()))
        })
        .map(|(id, _)| *id)
        .unwrap();
    let mut inc = IncrementalDocument::create_from(pdf.clone(), doc);
    inc.opt_clone_object_to_new_document(widget).unwrap();
    let rect = [0, 0, 300, 300].map(Object::Integer).to_vec();
    inc.new_document.get_dictionary_mut(widget).unwrap().set("Rect", Object::Array(rect));
    let mut shown = Vec::new();
    inc.save_to(&mut shown).unwrap();
    assert!(matches!(inspect(&shown).unwrap().later_revisions, LaterRevisions::Other(_)));
}

/// The `(reserved, used)` bytes of each `/Contents` of `pdf`: hex digits over two, and the
/// DER length of the CMS at their start.
fn contents_room(pdf: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(key) = pdf[at..].windows(9).position(|w| w == b"/Contents").map(|i| at + i + 9) {
        at = key;
        let i = key + pdf[key..].iter().position(|b| !b.is_ascii_whitespace()).unwrap();
        if pdf[i] != b'<' {
            continue; // a page's content stream reference
        }
        let i = i + 1;
        let len = pdf[i..].iter().position(|&b| b == b'>').unwrap();
        let head = hex::decode(&pdf[i..i + 8]).unwrap();
        assert_eq!(&head[..2], &[0x30, 0x82], "a CMS of 256 bytes to 64 KiB");
        found.push((len / 2, 4 + usize::from(u16::from_be_bytes([head[2], head[3]]))));
        at = i + len;
    }
    found
}

#[test]
fn reservations_fit_and_waste_little() {
    for alg in [Algorithm::Ed25519, Algorithm::P256] {
        let l = lta_pki(alg, 100);
        let rooms = contents_room(&lta_pdf(&l));
        assert_eq!(rooms.len(), 2, "{alg}: the signature and the document time-stamp");
        for (reserved, used) in rooms {
            // Every byte reserved and not used is stored with every licence, as two zeros.
            assert!(used <= reserved && reserved - used < 512, "{alg}: {used} bytes used of {reserved}");
        }
    }
}
