//! Round trips of made seals and signatures, tamper cases and hostile inputs.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use ring::rand::SystemRandom;
use sm3::Digest as _;
use time::OffsetDateTime;

use super::*;
use crate::pki::{self, Algorithm, PrivateKey};
use crate::signing::SealSigner;

pub(super) fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

/// A root, a maker and a seal of one algorithm; the maker cert here is a seal-profile
/// certificate (the maker profile lives in `pki`; only its key matters to this module).
pub(super) struct Fixture {
    pub root: (PrivateKey, Vec<u8>),
    pub maker: SealSigner,
    pub maker_cert: Vec<u8>,
    pub seal_key: SealSigner,
    pub seal_cert: Vec<u8>,
    pub picture: PictureSpec,
}

pub(super) fn cert(alg: Algorithm, root: &(PrivateKey, Vec<u8>), id: &str) -> (SealSigner, Vec<u8>) {
    let rng = SystemRandom::new();
    let key = PrivateKey::generate(alg, &rng).unwrap();
    let subject = pki::SealSubject {
        seal_id: id,
        seal_name: "行政审批专用章",
        department_name: "某某市市场监督管理局",
        department_code: "11100000000013338W",
    };
    let der = pki::issue_seal_cert(
        &subject,
        &key.public_key_spki_der(),
        &root.1,
        &root.0,
        "http://127.0.0.1/crl",
        at(1_770_000_000),
        at(1_870_000_000),
        pki::random_serial(&rng).unwrap(),
    )
    .unwrap();
    (SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap(), der)
}

pub(super) fn root(alg: Algorithm) -> (PrivateKey, Vec<u8>) {
    let rng = SystemRandom::new();
    let key = PrivateKey::generate(alg, &rng).unwrap();
    let der = pki::make_root(alg, "测试平台", &key, at(1_760_000_000), at(1_900_000_000), [1; 16]).unwrap();
    (key, der)
}

pub(super) fn fixture() -> Fixture {
    let root = root(Algorithm::Sm2);
    let (maker, maker_cert) = cert(Algorithm::Sm2, &root, "MAKER");
    let (seal_key, seal_cert) = cert(Algorithm::Sm2, &root, "110100000001");
    let drawing = crate::seal::draw("某某市市场监督管理局", "行政审批专用章").unwrap();
    Fixture { root, maker, maker_cert, seal_key, seal_cert, picture: picture_of(&drawing).unwrap() }
}

impl Fixture {
    pub(super) fn spec(&self) -> SealSpec<'_> {
        SealSpec {
            es_id: "110100000001",
            seal_type: SEAL_TYPE_ORGANISATION,
            name: "某某市市场监督管理局行政审批专用章",
            seal_cert_der: &self.seal_cert,
            create_date: at(1_780_000_000),
            valid_start: at(1_770_000_000),
            valid_end: at(1_870_000_000),
            picture: &self.picture,
        }
    }

    pub(super) fn seal(&self) -> Vec<u8> {
        make_seal(&self.spec(), &self.maker, &self.maker_cert).unwrap()
    }

    pub(super) fn signature(&self, seal: &[u8]) -> Vec<u8> {
        let hash = sm3::Sm3::digest(b"<Signature/>");
        sign(
            seal,
            at(1_790_000_000),
            &hash,
            "/Doc_0/Signs/Sign_0/Signature.xml",
            &self.seal_cert,
            &self.seal_key,
            None,
        )
        .unwrap()
    }
}

#[test]
fn a_made_seal_reads_back_and_its_maker_signature_verifies() {
    let f = fixture();
    let der = f.seal();
    let seal = read_seal(&der).unwrap();
    assert_eq!((seal.version, seal.vendor_id.as_str(), seal.es_id.as_str()), (4, VENDOR_ID, "110100000001"));
    assert_eq!(seal.seal_type, 1);
    assert_eq!(seal.name, "某某市市场监督管理局行政审批专用章");
    assert_eq!(seal.cert_list, CertList::Certs(vec![f.seal_cert.clone()]));
    assert_eq!(
        (seal.create_date, seal.valid_start, seal.valid_end),
        (at(1_780_000_000), at(1_770_000_000), at(1_870_000_000))
    );
    assert_eq!(seal.picture.kind, "PNG");
    assert_eq!(seal.picture.data, f.picture.data);
    assert!(seal.picture.data.starts_with(b"\x89PNG"));
    assert_eq!((seal.picture.width_mm, seal.picture.height_mm), (46, 46));
    assert_eq!(seal.maker_cert_der, f.maker_cert);
    assert_eq!(seal.algorithm, crate::signing::oid::SM2_WITH_SM3);
    assert_eq!((seal.ext_datas.as_ref(), seal.timestamp.as_ref()), (None, None));
    assert_eq!(seal.der, der);
    // The signed bytes are the first element of the seal, exactly.
    assert_eq!(&der[4..4 + seal.maker_signed_der.len()], seal.maker_signed_der.as_slice());
    seal.verify_maker_signature().unwrap();
    f.maker.verifier().verify_der(&seal.maker_signed_der, &seal.maker_signature).unwrap();
    assert!(seal.lists_cert(&f.seal_cert));
    assert!(!seal.lists_cert(&f.maker_cert));
    seal.check_valid_at(at(1_800_000_000)).unwrap();
    assert_eq!(seal.check_valid_at(at(1_870_000_001)).unwrap_err().code(), "ses_seal_not_valid");
    assert_eq!(seal.check_valid_at(at(1_769_999_999)).unwrap_err().code(), "ses_seal_not_valid");
}

#[test]
fn a_made_signature_reads_back_and_verifies() {
    let f = fixture();
    let seal = f.seal();
    let der = f.signature(&seal);
    let sig = read_signature(&der).unwrap();
    assert_eq!(sig.version, 4);
    assert_eq!(sig.seal.der, seal);
    assert_eq!(sig.time, Some(at(1_790_000_000)));
    assert_eq!(sig.data_hash, sm3::Sm3::digest(b"<Signature/>").to_vec());
    assert_eq!(sig.property_info, "/Doc_0/Signs/Sign_0/Signature.xml");
    assert_eq!(sig.signer_cert_der, f.seal_cert);
    assert_eq!(sig.timestamp, None);
    assert_eq!(sig.ext_datas, None);
    assert_eq!(&der[4..4 + sig.tbs_der.len()], sig.tbs_der.as_slice());
    sig.verify_signature().unwrap();
    sig.verify_maker_signature().unwrap();
    sig.signer_listed_in_seal().unwrap();
    sig.seal_valid_at_signing(at(0)).unwrap();
}

#[test]
fn making_refuses_what_it_must() {
    let f = fixture();
    // A maker key that is not its certificate's.
    let err = make_seal(&f.spec(), &f.seal_key, &f.maker_cert).unwrap_err();
    assert_eq!(err.code(), "ses_invalid_input", "{err}");
    // A non-SM2 maker.
    let ed = SealSigner::from_pkcs8_der(
        PrivateKey::generate(Algorithm::Ed25519, &SystemRandom::new()).unwrap().pkcs8_der(),
    )
    .unwrap();
    assert!(make_seal(&f.spec(), &ed, &f.maker_cert).is_err());
    // A non-IA5 esID, a reversed validity.
    let mut spec = f.spec();
    spec.es_id = "印章";
    assert_eq!(make_seal(&spec, &f.maker, &f.maker_cert).unwrap_err().code(), "ses_invalid_input");
    let mut spec = f.spec();
    spec.valid_end = at(1_000_000_000);
    assert!(make_seal(&spec, &f.maker, &f.maker_cert).is_err());
    // Signing by a key the seal does not list, or with a digest that is not SM3-sized.
    let seal = f.seal();
    let hash = [7u8; 32];
    let err = sign(&seal, at(1_790_000_000), &hash, "/p", &f.maker_cert, &f.maker, None).unwrap_err();
    assert_eq!(err, SesError::SignerNotListed);
    assert!(sign(&seal, at(1_790_000_000), &hash[..20], "/p", &f.seal_cert, &f.seal_key, None).is_err());
    assert!(sign(&seal, at(1_790_000_000), &hash, "/p", &f.seal_cert, &f.maker, None).is_err());
}

/// Flips one byte of `der` at the first place `needle` occurs (plus `offset`).
pub(super) fn flip_at(der: &[u8], needle: &[u8], offset: usize) -> Vec<u8> {
    let pos = der.windows(needle.len()).position(|w| w == needle).unwrap() + offset;
    let mut out = der.to_vec();
    out[pos] ^= 0x01;
    out
}

#[test]
fn a_flipped_picture_byte_breaks_the_maker_signature_only() {
    let f = fixture();
    let seal = f.seal();
    // A byte well inside the PNG data (its IDAT), not its header.
    let tampered = flip_at(&seal, b"IDAT", 40);
    let facts = read_seal(&tampered).unwrap();
    assert_ne!(facts.picture.data, f.picture.data);
    assert_eq!(facts.verify_maker_signature(), Err(SesError::BadMakerSignature));
    // In a signature, the signer's signature breaks too (it covers the seal).
    let sig = f.signature(&seal);
    let facts = read_signature(&flip_at(&sig, b"IDAT", 40)).unwrap();
    assert_eq!(facts.verify_maker_signature(), Err(SesError::BadMakerSignature));
    assert_eq!(facts.verify_signature(), Err(SesError::BadSignature));
    facts.signer_listed_in_seal().unwrap();
}

#[test]
fn a_tbs_resigned_by_another_key_with_the_copied_cert_fails() {
    let f = fixture();
    let seal = f.seal();
    let other = fixture();
    // The forger signs a TBS with its own key and puts the real seal's certificate in.
    let forged_by_other = {
        let genuine = read_signature(&f.signature(&seal)).unwrap();
        let forged_sig = other.seal_key.sign_der(&genuine.tbs_der);
        let tbs = der::asn1::AnyRef::try_from(genuine.tbs_der.as_slice()).unwrap();
        let out = super::asn1::SesSignatureOut {
            to_sign: tbs,
            cert: der::asn1::OctetString::new(f.seal_cert.clone()).unwrap(),
            signature_alg: crate::signing::oid::SM2_WITH_SM3,
            signature: der::asn1::BitString::from_bytes(&forged_sig).unwrap(),
            time_stamp: None,
        };
        der::Encode::to_der(&out).unwrap()
    };
    let facts = read_signature(&forged_by_other).unwrap();
    assert_eq!(facts.verify_signature(), Err(SesError::BadSignature));
    facts.signer_listed_in_seal().unwrap();
    facts.verify_maker_signature().unwrap();
}

#[test]
fn a_foreign_maker_verifies_as_itself_and_shows_its_certificate() {
    let f = fixture();
    let foreign_root = root(Algorithm::Sm2);
    let (maker, maker_cert) = cert(Algorithm::Sm2, &foreign_root, "FOREIGN-MAKER");
    let seal = make_seal(&f.spec(), &maker, &maker_cert).unwrap();
    let facts = read_seal(&seal).unwrap();
    // The signature is sound; the maker is another one, which chain validation judges.
    facts.verify_maker_signature().unwrap();
    assert_eq!(facts.maker_cert_der, maker_cert);
    assert_ne!(facts.maker_cert_der, f.maker_cert);
}

#[test]
fn an_unknown_algorithm_is_a_clear_error() {
    let f = fixture();
    let seal = f.seal();
    // SM2-with-SM3 is 1.2.156.10197.1.501 (…83 75); 502 is SM2-with-SHA1 (…83 76).
    let oid = [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75];
    // Its last occurrence is the seal's signAlgID (the others are in certificates).
    let pos = seal.windows(oid.len()).rposition(|w| w == oid).unwrap();
    let mut tampered = seal.clone();
    tampered[pos + 9] ^= 0x01;
    let facts = read_seal(&tampered).unwrap();
    let err = facts.verify_maker_signature().unwrap_err();
    assert_eq!(err.code(), "ses_unsupported_algorithm");
    assert!(err.to_string().contains("1.2.156.10197.1.500"), "{err}");
}

#[test]
fn hostile_inputs_are_errors() {
    let f = fixture();
    let seal = f.seal();
    let sig = f.signature(&seal);
    // Every truncation of both.
    for n in (0..sig.len()).step_by(97).chain([1, 2, 3, 4, sig.len() - 1]) {
        assert!(read_signature(&sig[..n]).is_err(), "{n}");
    }
    for n in (0..seal.len()).step_by(89).chain([seal.len() - 1]) {
        assert!(read_seal(&seal[..n]).is_err(), "{n}");
    }
    // Trailing bytes.
    let mut long = seal.clone();
    long.push(0);
    assert!(read_seal(&long).is_err());
    // A length far beyond the input, and the largest DER length.
    for bad in [
        &[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02][..],
        &[0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ] {
        assert!(read_seal(bad).is_err());
        assert!(read_signature(bad).is_err());
    }
    // Deep nesting: SEQUENCEs inside SEQUENCEs.
    let mut deep = vec![0x05, 0x00];
    for _ in 0..5000 {
        let len = deep.len();
        let mut outer = vec![0x30];
        if len < 128 {
            outer.push(len as u8)
        } else {
            outer.push(0x82);
            outer.extend_from_slice(&(len as u16).to_be_bytes())
        }
        if len > 60_000 {
            break;
        }
        outer.extend_from_slice(&deep);
        deep = outer;
    }
    assert!(read_seal(&deep).is_err());
    assert!(read_signature(&deep).is_err());
    // Wrong tags: the seal as a SET, the signature's version as a string.
    let mut set = seal.clone();
    set[0] = 0x31;
    assert!(read_seal(&set).is_err());
    let mut wrong = sig.clone();
    wrong[8] = 0x04; // TBS_Sign.version INTEGER → OCTET STRING
    assert_eq!(read_signature(&wrong).unwrap_err().code(), "ses_malformed");
    // Too large.
    let huge = vec![0u8; MAX_INPUT_BYTES + 1];
    assert_eq!(read_seal(&huge).unwrap_err().code(), "ses_too_large");
    // A seal where a signature belongs and the reverse.
    assert!(read_signature(&seal).is_err());
    assert!(read_seal(&sig).is_err());
    // Empty.
    assert!(read_seal(&[]).is_err());
}

#[test]
fn another_version_number_is_refused() {
    let f = fixture();
    let seal = f.seal();
    // header: 30 len 16 02 "ES" 02 01 04 …: version at offset 8 + 4 + 2 + 2 + 2.
    let pos = seal.windows(7).position(|w| w == [0x16, 0x02, b'E', b'S', 0x02, 0x01, 0x04]).unwrap();
    let mut v3 = seal.clone();
    v3[pos + 6] = 3;
    assert_eq!(read_seal(&v3).unwrap_err(), SesError::UnsupportedVersion(3));
}

/// A seal whose `certList` holds digests (`certListType` 2), made by hand from the derives.
fn digest_listed_seal(f: &Fixture, digest: CertDigestSpec) -> Vec<u8> {
    use der::Encode as _;
    use der::asn1::{Any, AnyRef, BitString, GeneralizedTime, Ia5String, OctetString, PrintableString};

    use super::asn1::{CertDigestAsn1, Picture, PropertyV4, SealInfoOut, SesHeader, SesSealOut};
    let time = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(1_780_000_000)).unwrap();
    let list = vec![CertDigestAsn1 {
        kind: PrintableString::new(digest.0).unwrap(),
        value: OctetString::new(digest.1).unwrap(),
    }];
    let info = SealInfoOut {
        header: SesHeader {
            id: Ia5String::new("ES").unwrap(),
            version: 4,
            vid: Ia5String::new("T").unwrap(),
        },
        es_id: Ia5String::new("1").unwrap(),
        property: PropertyV4 {
            seal_type: 1,
            name: "章".into(),
            cert_list_type: 2,
            cert_list: Any::encode_from(&list).unwrap(),
            create_date: time,
            valid_start: time,
            valid_end: time,
        },
        picture: Picture {
            kind: Ia5String::new("PNG").unwrap(),
            data: OctetString::new(f.picture.data.clone()).unwrap(),
            width: 46,
            height: 46,
        },
    };
    let info_der = info.to_der().unwrap();
    let seal = SesSealOut {
        info: AnyRef::try_from(info_der.as_slice()).unwrap(),
        cert: OctetString::new(f.maker_cert.clone()).unwrap(),
        sign_alg: crate::signing::oid::SM2_WITH_SM3,
        signed_value: BitString::from_bytes(&f.maker.sign_der(&info_der)).unwrap(),
    };
    seal.to_der().unwrap()
}

/// A digest algorithm's name and the digest.
struct CertDigestSpec(&'static str, Vec<u8>);

#[test]
fn a_seal_listing_certificate_digests_matches_by_digest() {
    use sha2::Digest as _;
    let f = fixture();
    let by_sm3 = digest_listed_seal(&f, CertDigestSpec("SM3", sm3::Sm3::digest(&f.seal_cert).to_vec()));
    let seal = read_seal(&by_sm3).unwrap();
    assert!(matches!(&seal.cert_list, CertList::Digests(d) if d.len() == 1 && d[0].algorithm == "SM3"));
    seal.verify_maker_signature().unwrap();
    assert!(seal.lists_cert(&f.seal_cert));
    assert!(!seal.lists_cert(&f.maker_cert));
    let by_sha256 =
        digest_listed_seal(&f, CertDigestSpec("SHA-256", sha2::Sha256::digest(&f.seal_cert).to_vec()));
    assert!(read_seal(&by_sha256).unwrap().lists_cert(&f.seal_cert));
    // A digest algorithm we do not compute never matches.
    let unknown = digest_listed_seal(&f, CertDigestSpec("MD5", vec![0; 16]));
    assert!(!read_seal(&unknown).unwrap().lists_cert(&f.seal_cert));
    // A signature by a digest-listed seal: the signer is found by its digest.
    let hash = [1u8; 32];
    let signed = sign(&by_sm3, at(1_790_000_000), &hash, "/p", &f.seal_cert, &f.seal_key, None).unwrap();
    read_signature(&signed).unwrap().signer_listed_in_seal().unwrap();
}

#[test]
fn optional_time_stamps_and_extension_data_are_read() {
    use super::asn1::{elements, sequence_of_parts};
    let f = fixture();
    let seal = f.seal();
    let sig = f.signature(&seal);
    // SES_Signature with timeStamp [0] EXPLICIT BIT STRING { 0x11 0x22 }.
    let stamp = [0xa0, 0x05, 0x03, 0x03, 0x00, 0x11, 0x22];
    let mut parts = elements("t", &sig, 5).unwrap();
    parts.push(&stamp);
    let stamped = sequence_of_parts(&parts).unwrap();
    let facts = read_signature(&stamped).unwrap();
    assert_eq!(facts.timestamp, Some(vec![0x11, 0x22]));
    facts.verify_signature().unwrap();
    // A timeStamp that is not [0] EXPLICIT is malformed.
    let wrong =
        sequence_of_parts(&[parts[0], parts[1], parts[2], parts[3], &[0x03, 0x02, 0x00, 0x11]]).unwrap();
    assert_eq!(read_signature(&wrong).unwrap_err().code(), "ses_malformed");
    // TBS_Sign with extDatas [0] EXPLICIT: read (and, as it changes the TBS, the signature fails).
    let mut tbs = elements("t", parts[0], 6).unwrap();
    let ext = [0xa0, 0x02, 0x30, 0x00];
    tbs.push(&ext);
    let tbs = sequence_of_parts(&tbs).unwrap();
    let with_ext = sequence_of_parts(&[&tbs, parts[1], parts[2], parts[3]]).unwrap();
    let facts = read_signature(&with_ext).unwrap();
    assert_eq!(facts.ext_datas, Some(vec![0x30, 0x00]));
    assert_eq!(facts.verify_signature(), Err(SesError::BadSignature));
    // A v5-style seal with a fifth element (its time-stamp) keeps it, DER as found.
    let mut seal_parts = elements("s", &seal, 5).unwrap();
    let seal_stamp = [0x04, 0x01, 0x7f];
    seal_parts.push(&seal_stamp);
    let stamped_seal = read_seal(&sequence_of_parts(&seal_parts).unwrap()).unwrap();
    assert_eq!(stamped_seal.timestamp, Some(seal_stamp.to_vec()));
    stamped_seal.verify_maker_signature().unwrap();
}

/// A time-stamping authority of `alg` under `root`, stamping at `time`.
fn stamper(alg: Algorithm, root: &(PrivateKey, Vec<u8>), time: OffsetDateTime) -> crate::tsa::FixedStamper {
    let rng = SystemRandom::new();
    let key = PrivateKey::generate(alg, &rng).unwrap();
    let cert = crate::tsa::issue_tsa_cert(
        "测试平台",
        &key.public_key_spki_der(),
        &root.1,
        &root.0,
        at(1_770_000_000),
        at(1_870_000_000),
        [3; 16],
    )
    .unwrap();
    let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let policy = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.7.1");
    let authority = crate::tsa::Authority::new(signer, cert, root.1.clone(), policy, None).unwrap();
    crate::tsa::FixedStamper::new(authority, time, 1)
}

#[test]
fn a_time_stamped_signature_carries_a_token_over_its_signature_value() {
    use crate::tsa::{ImprintAlg, Stamper as _};
    let f = fixture();
    let seal = f.seal();
    let tsa = stamper(Algorithm::Sm2, &f.root, at(1_790_000_005));
    let hash = sm3::Sm3::digest(b"<Signature/>");
    let der = sign(&seal, at(1_790_000_000), &hash, "/p", &f.seal_cert, &f.seal_key, Some(&tsa)).unwrap();
    let facts = read_signature(&der).unwrap();
    facts.verify_signature().unwrap();
    let token = facts.timestamp.as_deref().unwrap();
    // The token is over the signature value as the BIT STRING holds it (DER r, s), SM3.
    let info =
        crate::tsa::verify_token(token, &facts.signature, std::slice::from_ref(&f.root.1), &[]).unwrap();
    assert_eq!(
        (info.gen_time, info.imprint_alg, info.algorithm),
        (at(1_790_000_005), ImprintAlg::Sm3, Algorithm::Sm2)
    );
    assert_eq!(info.tsa_cert_der, tsa.chain()[0]);
    // Not over the TBS_Sign, nor anything else.
    assert!(crate::tsa::verify_token(token, &facts.tbs_der, std::slice::from_ref(&f.root.1), &[]).is_err());
    // The layout: the fifth element is [0] EXPLICIT BIT STRING (what ofdrw writes and reads).
    let parts = super::asn1::elements("t", &der, 5).unwrap();
    assert_eq!(parts.len(), 5);
    assert_eq!(parts[4][0], 0xa0);
    assert_eq!(super::asn1::explicit_inner("t", parts[4]).unwrap()[0], 0x03);
    // Without a stamper: four elements, as before.
    let plain = f.signature(&seal);
    assert_eq!(super::asn1::elements("t", &plain, 5).unwrap().len(), 4);
}

/// A stamper that answers with whatever bytes it was made with.
#[derive(Debug)]
struct Broken(Vec<u8>, Vec<Vec<u8>>);

impl crate::tsa::Stamper for Broken {
    fn stamp(&self, _: crate::tsa::ImprintAlg, _: &[u8]) -> Result<Vec<u8>, crate::tsa::TsaError> {
        Ok(self.0.clone())
    }
    fn chain(&self) -> Vec<Vec<u8>> {
        self.1.clone()
    }
}

#[test]
fn a_stamper_that_answers_junk_or_for_other_data_makes_no_signature() {
    use crate::tsa::Stamper as _;
    let f = fixture();
    let seal = f.seal();
    let tsa = stamper(Algorithm::Sm2, &f.root, at(1_790_000_005));
    let hash = [7u8; 32];
    let chain = tsa.chain();
    // A real token, but over other data.
    let other = tsa.stamp(crate::tsa::ImprintAlg::Sm3, &[0u8; 32]).unwrap();
    for token in [b"junk".to_vec(), other, vec![0x30; crate::tsa::MAX_TOKEN_BYTES + 1]] {
        let broken = Broken(token, chain.clone());
        let err = sign(&seal, at(1_790_000_000), &hash, "/p", &f.seal_cert, &f.seal_key, Some(&broken))
            .unwrap_err();
        assert_eq!(err.code(), "ses_time_stamp_failed", "{err}");
    }
    // A TSA of another root than the chain it names: refused too.
    let foreign = ForeignChain(stamper(Algorithm::Sm2, &root(Algorithm::Sm2), at(1_790_000_005)), chain);
    let err =
        sign(&seal, at(1_790_000_000), &hash, "/p", &f.seal_cert, &f.seal_key, Some(&foreign)).unwrap_err();
    assert!(err.to_string().ends_with("(tsa_certificate)"), "{err}");
}

/// A stamper whose tokens are its own but whose chain is another TSA's.
#[derive(Debug)]
struct ForeignChain(crate::tsa::FixedStamper, Vec<Vec<u8>>);

impl crate::tsa::Stamper for ForeignChain {
    fn stamp(&self, alg: crate::tsa::ImprintAlg, digest: &[u8]) -> Result<Vec<u8>, crate::tsa::TsaError> {
        self.0.stamp(alg, digest)
    }
    fn chain(&self) -> Vec<Vec<u8>> {
        self.1.clone()
    }
}

#[test]
fn an_oversized_time_stamp_is_refused_when_read() {
    use super::asn1::{elements, sequence_of_parts};
    let f = fixture();
    let sig = f.signature(&f.seal());
    let build = |len: usize| {
        let mut bits = vec![0u8];
        bits.extend(std::iter::repeat_n(0x30, len));
        let bit_string = der::Encode::to_der(&der::asn1::BitString::from_bytes(&bits[1..]).unwrap()).unwrap();
        let mut explicit = vec![0xa0];
        let len_der = der::Encode::to_der(&der::Length::try_from(bit_string.len()).unwrap()).unwrap();
        explicit.extend(len_der);
        explicit.extend(bit_string);
        let mut parts = elements("t", &sig, 5).unwrap();
        parts.push(&explicit);
        sequence_of_parts(&parts).unwrap()
    };
    let max = crate::tsa::MAX_TOKEN_BYTES;
    assert_eq!(read_signature(&build(max)).unwrap().timestamp.unwrap().len(), max);
    assert_eq!(read_signature(&build(max + 1)).unwrap_err().code(), "ses_too_large");
}

#[test]
fn the_fuzz_seeds_read_and_the_stamped_signature_carries_a_token_over_its_value() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/ses_decode");
    let mut stamped = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.display().to_string();
        match path.extension().and_then(|e| e.to_str()) {
            Some("esl") => assert!(read_seal(&bytes).is_ok(), "{name}"),
            Some("dat") => {
                let facts = read_signature(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                if let Some(token) = &facts.timestamp {
                    // Everything but the TSA's root, which the seed's maker kept to itself.
                    let err = crate::tsa::verify_token(token, &facts.signature, &[], &[]).unwrap_err();
                    assert_eq!(err.code(), "tsa_certificate", "{name}: {err}");
                    stamped += 1;
                }
            }
            _ => {}
        }
    }
    assert_eq!(stamped, 1, "fuzz/seeds/ses_decode/stamped-SignedValue.dat (cargo run --example fuzz_seeds)");
}
