//! GB/T 38540 structures made by other implementations (ofdrw and a commercial e-seal
//! system; `tests/data/ses/NOTICE.md`) read and checked by `zhengzhao::ses`: the v1, v4
//! and v5 seal files decode to their fields, the v4 maker signatures verify, and both
//! real `SignedValue.dat` files decode with `dataHash` = SM3(`Signature.xml`), a signature
//! that verifies, a maker signature that verifies and a signer the seal lists.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use sm3::Digest as _;
use time::macros::datetime;
use zhengzhao::ses::{self, CertList, SesError};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/ses/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn listed_certs(list: &CertList) -> &[Vec<u8>] {
    match list {
        CertList::Certs(c) => c,
        CertList::Digests(d) => panic!("digests: {d:?}"),
    }
}

#[test]
fn the_v4_seal_decodes_and_its_maker_signature_verifies() {
    let seal = ses::read_seal(&data("UserV4.esl")).unwrap();
    assert_eq!((seal.version, seal.vendor_id.as_str()), (4, "OFDR&WTest"));
    assert_eq!(seal.es_id, "51f044b76510434e9bc67a1185c2fba5");
    assert_eq!((seal.seal_type, seal.name.as_str()), (3, "OFD R&W 测试用印章"));
    let certs = listed_certs(&seal.cert_list);
    assert_eq!((certs.len(), certs[0].len()), (1, 528));
    assert_eq!(seal.create_date, datetime!(2020-04-22 02:09:00 UTC));
    assert_eq!(seal.valid_start, datetime!(2020-04-22 02:09:00 UTC));
    assert_eq!(seal.valid_end, datetime!(2022-04-22 02:09:00 UTC));
    assert_eq!(seal.picture.kind, "PNG");
    assert!(seal.picture.data.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!((seal.picture.data.len(), seal.picture.width_mm, seal.picture.height_mm), (15693, 40, 40));
    assert_eq!(seal.maker_cert_der.len(), 526);
    assert_eq!(seal.algorithm.to_string(), "1.2.156.10197.1.501");
    assert_eq!((seal.ext_datas.as_ref(), seal.timestamp.as_ref()), (None, None));
    // The maker signed the first element of the seal, exactly as stored.
    assert_eq!(seal.maker_signed_der.len(), 4 + 16389);
    seal.verify_maker_signature().unwrap();
    seal.check_valid_at(datetime!(2021-01-01 00:00 UTC)).unwrap();
    assert!(matches!(
        seal.check_valid_at(datetime!(2026-01-01 00:00 UTC)),
        Err(SesError::SealNotValid { .. })
    ));
}

#[test]
fn the_v1_seal_decodes_with_its_utc_dates_and_its_maker_signature_verifies() {
    let seal = ses::read_seal(&data("UserV1.esl")).unwrap();
    assert_eq!((seal.version, seal.vendor_id.as_str()), (1, "OFDR&WTest"));
    assert_eq!(seal.es_id, "40C8CDD24DEF43388B86E62CCE1D6832");
    assert_eq!((seal.seal_type, seal.name.as_str()), (1, "OFDRW测试用印章"));
    assert_eq!(listed_certs(&seal.cert_list)[0].len(), 528);
    assert_eq!(seal.create_date, datetime!(2020-04-22 02:18:07 UTC));
    assert_eq!(seal.valid_end, datetime!(2022-04-22 02:18:07 UTC));
    assert_eq!((seal.picture.kind.as_str(), seal.picture.width_mm), ("PNG", 40));
    assert_eq!(seal.maker_cert_der.len(), 526);
    // GM/T 0031-2014 makers sign SEQUENCE { sealInfo, cert, signatureAlgorithm }.
    assert_eq!(seal.maker_signed_der.len(), 4 + 16381 + 530 + 10);
    seal.verify_maker_signature().unwrap();
}

#[test]
fn the_v5_seal_decodes_and_its_maker_signature_verifies() {
    let seal = ses::read_seal(&data("UserV5.esl")).unwrap();
    assert_eq!((seal.version, seal.vendor_id.as_str()), (5, "OFDR&WTestV5"));
    assert_eq!(seal.es_id, "09aaf39291e049e4b3d716414590937e");
    assert_eq!((seal.seal_type, seal.name.as_str()), (3, "OFD R&W V5测试用印章"));
    assert_eq!(seal.valid_start, datetime!(2026-04-24 08:53:23 UTC));
    assert_eq!(seal.valid_end, datetime!(2028-04-24 08:53:23 UTC));
    assert_eq!(seal.timestamp, None);
    seal.verify_maker_signature().unwrap();
}

/// Everything a verifier checks of a real `SignedValue.dat` and its `Signature.xml`.
fn check_real_signature(signed_value: &str, signature_xml: &str) -> ses::SignatureFacts {
    let sig = ses::read_signature(&data(signed_value)).unwrap();
    assert_eq!(sig.version, 4);
    assert_eq!(sig.data_hash, sm3::Sm3::digest(data(signature_xml)).to_vec());
    assert_eq!(sig.property_info, "/Doc_0/Signs/Sign_0/Signature.xml");
    assert_eq!(sig.algorithm.to_string(), "1.2.156.10197.1.501");
    sig.verify_signature().unwrap();
    sig.verify_maker_signature().unwrap();
    sig.signer_listed_in_seal().unwrap();
    sig
}

#[test]
fn the_ofdrw_signature_verifies_whole() {
    let sig = check_real_signature("ofdrw-SignedValue.dat", "ofdrw-Signature.xml");
    assert_eq!(sig.time, Some(datetime!(2026-08-04 02:08:09 UTC)));
    // ofdrw signed with the seal of UserV4.esl, embedded byte for byte.
    assert_eq!(sig.seal.der, data("UserV4.esl"));
    assert_eq!(sig.timestamp, None);
    // Signed after the seal's validity ended: reported, not hidden.
    assert!(sig.seal_valid_at_signing(datetime!(2000-01-01 00:00 UTC)).is_err());
    // A dataHash over another Signature.xml does not match.
    assert_ne!(sig.data_hash, sm3::Sm3::digest(data("vendor-Signature.xml")).to_vec());
}

#[test]
fn the_vendor_signature_verifies_whole() {
    let sig = check_real_signature("vendor-SignedValue.dat", "vendor-Signature.xml");
    assert_eq!(sig.time, Some(datetime!(2020-10-10 07:11:20 UTC)));
    let seal = &sig.seal;
    assert_eq!((seal.version, seal.vendor_id.as_str(), seal.es_id.as_str()), (4, "GOMAIN", "50011200000399"));
    assert_eq!(seal.name, "测试全国统一发票监制章国家税务总局重庆市税务局");
    assert_eq!((seal.picture.kind.as_str(), seal.picture.width_mm, seal.picture.height_mm), ("ofd", 30, 20));
    // The vendor's seal carries extension data (one ExtData with an OID of its own).
    assert!(seal.ext_datas.as_ref().is_some_and(|e| e.len() == 24));
    sig.seal_valid_at_signing(datetime!(2000-01-01 00:00 UTC)).unwrap();
}

#[test]
fn one_changed_byte_in_a_real_signature_is_caught() {
    let genuine = data("vendor-SignedValue.dat");
    // The signing time's last digit ("…071120Z" at offset 5036 + 2 + 13).
    let mut tampered = genuine.clone();
    tampered[5036 + 2 + 13] = b'1';
    let sig = ses::read_signature(&tampered).unwrap();
    assert_eq!(sig.verify_signature(), Err(SesError::BadSignature));
    sig.verify_maker_signature().unwrap();
    // A byte of the seal's picture: both the maker's and the signer's signatures break.
    let mut tampered = genuine;
    tampered[2000] ^= 0x01;
    let sig = ses::read_signature(&tampered).unwrap();
    assert_eq!(sig.verify_maker_signature(), Err(SesError::BadMakerSignature));
    assert_eq!(sig.verify_signature(), Err(SesError::BadSignature));
}

/// A cheap stand-in for the fuzzer in every test run: thousands of one- to four-byte
/// mutations of the real files (a fixed xorshift sequence) read and checked without a
/// panic; none of them keeps a signature valid while changing the signed bytes.
#[test]
fn mutated_real_files_never_panic() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for name in ["UserV1.esl", "UserV4.esl", "UserV5.esl", "ofdrw-SignedValue.dat", "vendor-SignedValue.dat"]
    {
        let original = data(name);
        for _ in 0..600 {
            let mut bytes = original.clone();
            for _ in 0..=(next() % 4) {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            if let Ok(seal) = ses::read_seal(&bytes) {
                if seal.verify_maker_signature().is_ok() {
                    assert_eq!(
                        seal.maker_signed_der,
                        ses::read_seal(&original).unwrap().maker_signed_der,
                        "{name}"
                    );
                }
                let _ = seal.lists_cert(&seal.maker_cert_der);
            }
            if let Ok(sig) = ses::read_signature(&bytes) {
                if sig.verify_signature().is_ok() {
                    assert_eq!(sig.tbs_der, ses::read_signature(&original).unwrap().tbs_der, "{name}");
                }
                let _ = (sig.verify_maker_signature(), sig.signer_listed_in_seal());
            }
        }
    }
}
