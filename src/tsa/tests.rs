#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use der::asn1::{Any, ObjectIdentifier, OctetString};
use der::{Decode as _, Encode as _};
use ring::rand::SystemRandom;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::Extension;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::asn1::{MessageImprint, TimeStampReq, TimeStampResp};
use super::*;
use crate::pki::{Algorithm, ChainError, PrivateKey, issue_audit_cert, make_root};
use crate::signing::SealSigner;

const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1");
const DATA: &[u8] = b"the signature value of a licence";

struct Tsa {
    root: Vec<u8>,
    root_key: PrivateKey,
    cert: Vec<u8>,
    signer: SealSigner,
    now: OffsetDateTime,
}

fn tsa(alg: Algorithm) -> Tsa {
    let rng = SystemRandom::new();
    let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
    let root_key = PrivateKey::generate(alg, &rng).unwrap();
    let root = make_root(alg, "测试平台", &root_key, now, now + Duration::days(3650), [1; 16]).unwrap();
    let key = PrivateKey::generate(alg, &rng).unwrap();
    let end = now + Duration::days(365);
    let cert =
        issue_tsa_cert("测试平台", &key.public_key_spki_der(), &root, &root_key, now, end, [2; 16]).unwrap();
    let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    Tsa { root, root_key, cert, signer, now }
}

fn stamp(t: &Tsa) -> Stamp {
    Stamp {
        policy: POLICY,
        serial: 0x8000_0000_0000_0001,
        gen_time: t.now + Duration::hours(1),
        accuracy: Some(Accuracy { seconds: Some(1), millis: Some(500), micros: None }),
        name_tsa: true,
    }
}

#[test]
fn request_reply_verify_round_trips_for_every_algorithm() {
    for alg in [Algorithm::Ed25519, Algorithm::P256, Algorithm::Sm2] {
        let t = tsa(alg);
        for imprint in [ImprintAlg::Sha256, ImprintAlg::Sha384, ImprintAlg::Sha512, ImprintAlg::Sm3] {
            let req = build_request(imprint, DATA, Some(0xfeed_beef), true, Some(POLICY)).unwrap();
            let resp = respond(&req, &t.signer, &t.cert, &stamp(&t)).unwrap();
            assert_eq!(resp.outcome, Outcome::Granted);
            let info = verify_response(&resp.der, DATA, std::slice::from_ref(&t.root), &[]).unwrap();
            assert_eq!(info.gen_time, t.now + Duration::hours(1), "{alg}");
            assert_eq!(info.serial_u64(), Some(0x8000_0000_0000_0001));
            assert_eq!(info.serial, vec![0, 0x80, 0, 0, 0, 0, 0, 0, 1]);
            assert_eq!(info.policy, POLICY);
            assert_eq!(info.nonce, Some(vec![0, 0xfe, 0xed, 0xbe, 0xef]));
            assert_eq!(info.imprint_alg, imprint);
            assert_eq!(info.accuracy, stamp(&t).accuracy);
            assert_eq!((info.algorithm, info.tsa_cert_der.as_slice()), (alg, t.cert.as_slice()));
            // Other data: the imprint does not match.
            let err =
                verify_response(&resp.der, b"other data", std::slice::from_ref(&t.root), &[]).unwrap_err();
            assert!(matches!(err, TsaError::ImprintMismatch), "{err}");
        }
    }
}

#[test]
fn without_cert_req_the_token_needs_the_certificate_given() {
    let t = tsa(Algorithm::P256);
    let req = build_request(ImprintAlg::Sha256, DATA, None, false, None).unwrap();
    let resp = respond(&req, &t.signer, &t.cert, &stamp(&t)).unwrap();
    let roots = [t.root.clone()];
    let err = verify_response(&resp.der, DATA, &roots, &[]).unwrap_err();
    assert!(matches!(err, TsaError::SignerCertMissing), "{err}");
    let info = verify_response(&resp.der, DATA, &roots, std::slice::from_ref(&t.cert)).unwrap();
    assert_eq!(info.nonce, None);
}

fn raw_request(edit: impl FnOnce(&mut TimeStampReq)) -> Vec<u8> {
    let der = build_request(ImprintAlg::Sha256, DATA, Some(7), true, None).unwrap();
    let mut req = TimeStampReq::from_der(&der).unwrap();
    edit(&mut req);
    req.to_der().unwrap()
}

/// The request is refused with `fail`, as a rejection reply that says so.
fn assert_refused(t: &Tsa, request: &[u8], fail: FailureInfo) {
    assert_eq!(parse_request(request).map_err(|r| r.fail).err(), Some(fail));
    let resp = respond(request, &t.signer, &t.cert, &stamp(t)).unwrap();
    assert!(matches!(&resp.outcome, Outcome::Rejected(r) if r.fail == fail), "{:?}", resp.outcome);
    let parsed = TimeStampResp::from_der(&resp.der).unwrap();
    assert_eq!((parsed.status.status, parsed.time_stamp_token.is_none()), (2, true));
    match verify_response(&resp.der, DATA, std::slice::from_ref(&t.root), &[]) {
        Err(TsaError::NotGranted { status: 2, fail: Some(f) }) => assert_eq!(f, fail),
        other => panic!("{other:?}"),
    }
}

#[test]
fn refusals_are_rejection_replies_with_their_failure_bit() {
    let t = tsa(Algorithm::Ed25519);
    assert_refused(&t, &vec![0x30; MAX_REQUEST_BYTES + 1], FailureInfo::BadDataFormat);
    assert_refused(&t, b"not DER", FailureInfo::BadDataFormat);
    assert_refused(&t, &[], FailureInfo::BadDataFormat);
    assert_refused(&t, &raw_request(|r| r.version = 2), FailureInfo::BadDataFormat);
    let sha1 = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    assert_refused(
        &t,
        &raw_request(|r| {
            r.message_imprint = MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned { oid: sha1, parameters: None },
                hashed_message: OctetString::new(vec![0; 20]).unwrap(),
            }
        }),
        FailureInfo::BadAlg,
    );
    let odd_params = Some(Any::encode_from(&sha1).unwrap());
    assert_refused(
        &t,
        &raw_request(|r| r.message_imprint.hash_algorithm.parameters = odd_params),
        FailureInfo::BadAlg,
    );
    assert_refused(
        &t,
        &raw_request(|r| r.message_imprint.hashed_message = OctetString::new(vec![0; 31]).unwrap()),
        FailureInfo::BadDataFormat,
    );
    assert_refused(
        &t,
        &raw_request(|r| r.nonce = Some(der::asn1::Int::new(&[1; 33]).unwrap())),
        FailureInfo::BadDataFormat,
    );
    let ext = Extension {
        extn_id: ObjectIdentifier::new_unwrap("1.2.3.4"),
        critical: false,
        extn_value: OctetString::new(vec![5, 0]).unwrap(),
    };
    assert_refused(&t, &raw_request(|r| r.extensions = Some(vec![ext])), FailureInfo::UnacceptedExtension);
    let other = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.2");
    let req = build_request(ImprintAlg::Sha256, DATA, None, true, Some(other)).unwrap();
    let resp = respond(&req, &t.signer, &t.cert, &stamp(&t)).unwrap();
    assert!(matches!(resp.outcome, Outcome::Rejected(Refusal { fail: FailureInfo::UnacceptedPolicy, .. })));
    // NULL parameters (as OpenSSL writes them) are accepted and copied as they came.
    let null = Some(Any::encode_from(&der::asn1::Null).unwrap());
    let req = raw_request(|r| r.message_imprint.hash_algorithm.parameters = null);
    let resp = respond(&req, &t.signer, &t.cert, &stamp(&t)).unwrap();
    assert_eq!(resp.outcome, Outcome::Granted);
    verify_response(&resp.der, DATA, std::slice::from_ref(&t.root), &[]).unwrap();
}

#[test]
fn the_tsa_refuses_to_sign_with_a_wrong_key_or_out_of_range_stamp() {
    let t = tsa(Algorithm::P256);
    let u = tsa(Algorithm::P256);
    let req = build_request(ImprintAlg::Sha256, DATA, None, true, None).unwrap();
    let err = respond(&req, &u.signer, &t.cert, &stamp(&t)).unwrap_err();
    assert_eq!(err.code(), "bad_tsa_key");
    let mut bad = stamp(&t);
    bad.accuracy = Some(Accuracy { seconds: None, millis: Some(1000), micros: None });
    assert_eq!(respond(&req, &t.signer, &t.cert, &bad).unwrap_err().code(), "invalid_argument");
    bad.accuracy = None;
    bad.gen_time = OffsetDateTime::from_unix_timestamp(-1).unwrap();
    assert_eq!(respond(&req, &t.signer, &t.cert, &bad).unwrap_err().code(), "invalid_argument");
}

#[test]
fn tampered_tokens_and_wrong_certificates_fail() {
    let t = tsa(Algorithm::Ed25519);
    let req = build_request(ImprintAlg::Sha256, DATA, Some(1), true, None).unwrap();
    let good = respond(&req, &t.signer, &t.cert, &stamp(&t)).unwrap().der;
    let roots = [t.root.clone()];
    // Every single-bit flip in the token fails (or is not even DER); none verifies. The
    // status before it is not signed (granted 0 and grantedWithMods 1 both carry a token).
    let token = TimeStampResp::from_der(&good).unwrap().time_stamp_token.unwrap().to_der().unwrap();
    assert!(good.ends_with(&token));
    for i in good.len() - token.len()..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        assert!(verify_response(&bad, DATA, &roots, &[]).is_err(), "flip at {i} verified");
    }
    // Another root does not vouch for the TSA; a stamp after its certificate expired fails.
    let other = tsa(Algorithm::Ed25519);
    assert!(matches!(
        verify_response(&good, DATA, std::slice::from_ref(&other.root), &[]),
        Err(TsaError::Chain(_))
    ));
    let mut late = stamp(&t);
    late.gen_time = t.now + Duration::days(400);
    let resp = respond(&req, &t.signer, &t.cert, &late).unwrap().der;
    assert!(matches!(
        verify_response(&resp, DATA, &roots, &[]),
        Err(TsaError::Chain(ChainError::Expired { .. }))
    ));
    // The checkpoint signer's certificate (timeStamping not critical) does not make a TSA.
    let rng = SystemRandom::new();
    let key = PrivateKey::generate(Algorithm::Ed25519, &rng).unwrap();
    let spki = key.public_key_spki_der();
    let end = t.now + Duration::days(30);
    let audit = issue_audit_cert("测试平台", &spki, &t.root, &t.root_key, t.now, end, [9; 16]).unwrap();
    let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let resp = respond(&req, &signer, &audit, &stamp(&t)).unwrap().der;
    let err = verify_response(&resp, DATA, &roots, &[]).unwrap_err();
    assert!(matches!(err, TsaError::Chain(ChainError::WrongExtendedKeyUsage)), "{err}");
    // Oversized input is refused before parsing.
    assert_eq!(
        verify_token(&vec![0; MAX_TOKEN_BYTES + 1], DATA, &roots, &[]).unwrap_err().code(),
        "malformed_token"
    );
}

#[test]
fn the_in_process_authority_stamps_digests_that_verify_over_the_data() {
    for alg in [Algorithm::Ed25519, Algorithm::P256, Algorithm::Sm2] {
        let t = tsa(alg);
        let authority = Authority::new(t.signer, t.cert.clone(), t.root.clone(), POLICY, None).unwrap();
        assert_eq!(authority.algorithm(), alg);
        let stamper = FixedStamper::new(authority, t.now + Duration::minutes(3), 41);
        let imprint = ImprintAlg::for_algorithm(alg);
        let parts: [&[u8]; 2] = [b"first range ", b"second range"];
        let token = stamper.stamp(imprint, &imprint.digest_parts(&parts)).unwrap();
        let roots = std::slice::from_ref(&t.root);
        let info = verify_token_parts(&token, &parts, roots, &[]).unwrap();
        assert_eq!(
            (info.serial_u64(), info.gen_time, info.algorithm),
            (Some(41), t.now + Duration::minutes(3), alg)
        );
        assert_eq!(
            verify_token(&token, b"first range second range", roots, &[]).unwrap().imprint_alg,
            imprint
        );
        let second = stamper.stamp(imprint, &imprint.digest(b"x")).unwrap();
        assert_eq!(verify_token(&second, b"x", roots, &[]).unwrap().serial_u64(), Some(42));
        assert!(matches!(verify_token(&second, b"y", roots, &[]), Err(TsaError::ImprintMismatch)));
        assert_eq!(stamper.chain(), vec![t.cert.clone(), t.root.clone()]);
        // A digest of the wrong length is the caller's error, not a token.
        assert!(matches!(stamper.stamp(imprint, &[0; 20]), Err(TsaError::InvalidArgument(_))));
    }
    // A key that is not the certificate's makes no authority.
    let (a, b) = (tsa(Algorithm::P256), tsa(Algorithm::P256));
    assert!(matches!(Authority::new(a.signer, b.cert, b.root, POLICY, None), Err(TsaError::BadTsaKey(_))));
}
