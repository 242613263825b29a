//! Making GB/T 38540 (v4) structures: the electronic seal a seal maker signs
//! ([`make_seal`]) and the seal signature over a document's digest ([`sign`]).
//! Time comes in as an argument; the signers draw their own nonces.

use der::Encode as _;
use der::asn1::{AnyRef, BitString, GeneralizedTime, Ia5String, OctetString};
use time::OffsetDateTime;

use super::asn1::{Picture, PropertyV4, SealInfoOut, SesHeader, SesSealOut, SesSignatureOut, TbsSignOut};
use super::error::SesError;
use super::verify::sm2_key_of;
use super::{MAX_CERT_BYTES, MAX_PICTURE_BYTES, MAX_TEXT_BYTES};
use crate::seal::SealDrawing;
use crate::signing::{Algorithm, SealSigner, oid};
use crate::tsa::{self, ImprintAlg, Stamper};

/// The vendor id (`vid`) of the seals this platform makes.
pub const VENDOR_ID: &str = "ZHENGZHAO";

/// The seal type of an organisation's seal (单位印章), as GM/T 0031 numbers it
/// (1 单位印章, 2 个人印章) and the seals this platform makes carry.
pub const SEAL_TYPE_ORGANISATION: i64 = 1;

/// Width of the PNG of a drawn seal in a `SES_Seal`, in pixels (about 220 dpi for 46 mm).
pub const PICTURE_PX: u32 = 400;

/// The version of the structures this module writes.
pub const VERSION: i64 = 4;

/// What goes into an electronic seal.
#[derive(Debug, Clone)]
pub struct SealSpec<'a> {
    /// The seal's own stable identifier (`esID`; printable ASCII).
    pub es_id: &'a str,
    /// The seal type ([`SEAL_TYPE_ORGANISATION`]).
    pub seal_type: i64,
    /// The seal's name (e.g. department name and seal name).
    pub name: &'a str,
    /// The seal's certificate, DER: the one certificate of `certList` (`certListType` 1).
    pub seal_cert_der: &'a [u8],
    /// `createDate`.
    pub create_date: OffsetDateTime,
    /// `validStart`: the seal certificate's notBefore.
    pub valid_start: OffsetDateTime,
    /// `validEnd`: the seal certificate's notAfter.
    pub valid_end: OffsetDateTime,
    /// The picture: a PNG and its size in millimetres ([`picture_of`]).
    pub picture: &'a PictureSpec,
}

/// A seal picture ready for a `SES_Seal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PictureSpec {
    /// Its type as written (`PNG`).
    pub kind: String,
    /// The image.
    pub data: Vec<u8>,
    /// Width in millimetres.
    pub width_mm: u32,
    /// Height in millimetres.
    pub height_mm: u32,
}

/// The PNG of a drawn seal, [`PICTURE_PX`] square, with its size in millimetres (the
/// diameter and the image's margin, rounded to whole millimetres as the structure holds).
pub fn picture_of(drawing: &SealDrawing) -> Result<PictureSpec, SesError> {
    let data = drawing
        .to_png(PICTURE_PX)
        .map_err(|e| SesError::Invalid { field: "seal picture", reason: e.to_string() })?;
    let side = (drawing.diameter_mm + 2.0 * crate::seal::IMAGE_MARGIN_MM).round() as u32;
    Ok(PictureSpec { kind: "PNG".to_owned(), data, width_mm: side, height_mm: side })
}

/// Makes a `SES_Seal` (v4, vendor [`VENDOR_ID`], `certListType` 1) signed by the seal
/// maker: `maker` (an SM2 key) signs DER(`SES_SealInfo`); `maker_cert_der` is its
/// certificate. Refused: a non-SM2 maker, a maker key that is not the certificate's, a
/// seal certificate without an SM2 key, an empty or reversed validity, texts that are
/// empty or too long, a picture over the size limit.
pub fn make_seal(
    spec: &SealSpec<'_>,
    maker: &SealSigner,
    maker_cert_der: &[u8],
) -> Result<Vec<u8>, SesError> {
    check_signer("maker", maker, maker_cert_der)?;
    sm2_key_of("seal", spec.seal_cert_der)?;
    if spec.valid_end < spec.valid_start {
        return Err(invalid("validity", "validEnd is before validStart"));
    }
    if spec.picture.data.len() > MAX_PICTURE_BYTES {
        return Err(invalid("seal picture", format!("more than {MAX_PICTURE_BYTES} bytes")));
    }
    let header = SesHeader { id: ia5("header id", "ES")?, version: VERSION, vid: ia5("vid", VENDOR_ID)? };
    let certs = vec![octets("seal certificate", spec.seal_cert_der)?];
    let cert_list = der::asn1::Any::encode_from(&certs).map_err(encoding)?;
    let property = PropertyV4 {
        seal_type: spec.seal_type,
        name: text("seal name", spec.name)?.to_owned(),
        cert_list_type: 1,
        cert_list,
        create_date: generalized(spec.create_date)?,
        valid_start: generalized(spec.valid_start)?,
        valid_end: generalized(spec.valid_end)?,
    };
    let picture = Picture {
        kind: ia5("picture type", &spec.picture.kind)?,
        data: OctetString::new(spec.picture.data.clone()).map_err(encoding)?,
        width: i64::from(spec.picture.width_mm),
        height: i64::from(spec.picture.height_mm),
    };
    let info = SealInfoOut { header, es_id: ia5("esID", spec.es_id)?, property, picture };
    let info_der = info.to_der().map_err(encoding)?;
    let signed_value = maker.sign_der(&info_der);
    let seal = SesSealOut {
        info: AnyRef::try_from(info_der.as_slice()).map_err(encoding)?,
        cert: octets("maker certificate", maker_cert_der)?,
        sign_alg: oid::SM2_WITH_SM3,
        signed_value: BitString::from_bytes(&signed_value).map_err(encoding)?,
    };
    seal.to_der().map_err(encoding)
}

/// Makes a seal signature, `SES_Signature` (v4): `TBS_Sign` with version 4, the seal
/// `seal_der` as given, `time`, `data_hash` (for OFD: SM3 of `Signature.xml` as stored, 32
/// bytes) and `property_info` (for OFD: the path of `Signature.xml`), signed by `signer`
/// (the seal's SM2 key) whose certificate `signer_cert_der` the seal must list. The seal
/// must read as a v4 seal.
///
/// With a `stamper`, the signature value (the content of the `signature` BIT STRING, DER
/// `SEQUENCE { r, s }`) is time-stamped with an SM3 imprint, and the token goes in
/// `timeStamp`. The token must verify over the signature value with the stamper's own
/// chain and be at most [`crate::tsa::MAX_TOKEN_BYTES`], else [`SesError::TimeStamp`] and
/// nothing is made.
pub fn sign(
    seal_der: &[u8],
    time: OffsetDateTime,
    data_hash: &[u8],
    property_info: &str,
    signer_cert_der: &[u8],
    signer: &SealSigner,
    stamper: Option<&dyn Stamper>,
) -> Result<Vec<u8>, SesError> {
    let seal = super::read_seal(seal_der)?;
    if seal.version != 4 {
        return Err(invalid("seal", format!("version {}, expected 4", seal.version)));
    }
    check_signer("signer", signer, signer_cert_der)?;
    if !seal.lists_cert(signer_cert_der) {
        return Err(SesError::SignerNotListed);
    }
    if data_hash.len() != 32 {
        return Err(invalid("dataHash", format!("{} bytes, expected an SM3 digest of 32", data_hash.len())));
    }
    let tbs = TbsSignOut {
        version: VERSION,
        eseal: AnyRef::try_from(seal_der).map_err(encoding)?,
        time_info: generalized(time)?,
        data_hash: BitString::from_bytes(data_hash).map_err(encoding)?,
        property_info: ia5("propertyInfo", text("propertyInfo", property_info)?)?,
    };
    let tbs_der = tbs.to_der().map_err(encoding)?;
    let signature = signer.sign_der(&tbs_der);
    let time_stamp = match stamper {
        Some(stamper) => Some(BitString::from_bytes(&stamp(stamper, &signature)?).map_err(encoding)?),
        None => None,
    };
    let out = SesSignatureOut {
        to_sign: AnyRef::try_from(tbs_der.as_slice()).map_err(encoding)?,
        cert: octets("signer certificate", signer_cert_der)?,
        signature_alg: oid::SM2_WITH_SM3,
        signature: BitString::from_bytes(&signature).map_err(encoding)?,
        time_stamp,
    };
    out.to_der().map_err(encoding)
}

/// A time-stamp token over `signature` (SM3 imprint) from `stamper`, checked against the
/// stamper's own chain (its TSA certificate, then the root) before it is embedded.
fn stamp(stamper: &dyn Stamper, signature: &[u8]) -> Result<Vec<u8>, SesError> {
    let failed = |e: tsa::TsaError| SesError::TimeStamp(format!("{e} ({})", e.code()));
    let alg = ImprintAlg::Sm3;
    let token = stamper.stamp(alg, &alg.digest(signature)).map_err(failed)?;
    if token.len() > tsa::MAX_TOKEN_BYTES {
        return Err(SesError::TimeStamp(format!("a token of {} bytes", token.len())));
    }
    let chain = stamper.chain();
    let (tsa_cert, roots) = chain.split_first().ok_or_else(|| SesError::TimeStamp("no TSA chain".into()))?;
    tsa::verify_token(&token, signature, roots, std::slice::from_ref(tsa_cert)).map_err(failed)?;
    Ok(token)
}

/// The key must be SM2 and the one `cert_der` certifies.
fn check_signer(which: &'static str, signer: &SealSigner, cert_der: &[u8]) -> Result<(), SesError> {
    if signer.algorithm() != Algorithm::Sm2 {
        return Err(invalid(which, format!("a {} key, not SM2", signer.algorithm().label())));
    }
    if sm2_key_of(which, cert_der)? != signer.verifier() {
        return Err(invalid(which, "the key is not the certificate's"));
    }
    Ok(())
}

fn text<'s>(field: &'static str, s: &'s str) -> Result<&'s str, SesError> {
    if s.is_empty() || s.len() > MAX_TEXT_BYTES {
        return Err(invalid(field, format!("must have 1 to {MAX_TEXT_BYTES} bytes")));
    }
    Ok(s)
}

fn ia5(field: &'static str, s: &str) -> Result<Ia5String, SesError> {
    Ia5String::new(text(field, s)?).map_err(|e| invalid(field, format!("not IA5 (ASCII) text: {e}")))
}

fn octets(field: &'static str, bytes: &[u8]) -> Result<OctetString, SesError> {
    if bytes.len() > MAX_CERT_BYTES {
        return Err(invalid(field, format!("more than {MAX_CERT_BYTES} bytes")));
    }
    OctetString::new(bytes.to_vec()).map_err(encoding)
}

fn generalized(t: OffsetDateTime) -> Result<GeneralizedTime, SesError> {
    let secs =
        u64::try_from(t.unix_timestamp()).map_err(|_| invalid("time", format!("{t} is before 1970")))?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|e| invalid("time", format!("{t}: {e}")))
}

fn invalid(field: &'static str, reason: impl Into<String>) -> SesError {
    SesError::Invalid { field, reason: reason.into() }
}

fn encoding(e: der::Error) -> SesError {
    SesError::Invalid { field: "encoding", reason: e.to_string() }
}
