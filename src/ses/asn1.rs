//! The GB/T 38540 (and GM/T 0031 v1) ASN.1 structures as `der` derives, and the splitting
//! of a SEQUENCE into the exact bytes of its elements (signatures cover encoded bytes as
//! they came, so those are taken from the input, never re-encoded).
//!
//! Only the leaf SEQUENCEs are derived whole; the outer ones differ between versions
//! (v1 has a two-element `SES_Seal`, v4/v5 four or five elements) and are split with
//! [`elements`] and decoded element by element.

use der::asn1::{Any, AnyRef, BitString, GeneralizedTime, Ia5String, ObjectIdentifier, OctetString, UtcTime};
use der::{Decode as _, Header, Reader as _, Sequence, SliceReader, Tag};

use super::error::SesError;

/// `SES_Header ::= SEQUENCE { id IA5String ("ES"), version INTEGER, vid IA5String }`.
#[derive(Debug, Clone, Sequence)]
pub(super) struct SesHeader {
    pub(super) id: Ia5String,
    pub(super) version: i64,
    pub(super) vid: Ia5String,
}

/// `SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING, width INTEGER,
/// height INTEGER }` (width and height in millimetres).
#[derive(Debug, Clone, Sequence)]
pub(super) struct Picture {
    pub(super) kind: Ia5String,
    pub(super) data: OctetString,
    pub(super) width: i64,
    pub(super) height: i64,
}

/// `SES_CertList` alternative 2 element: `SEQUENCE { type PrintableString, value OCTET STRING }`
/// (a digest of a signer certificate and the digest algorithm's name).
#[derive(Debug, Clone, Sequence)]
pub(super) struct CertDigestAsn1 {
    pub(super) kind: der::asn1::PrintableString,
    pub(super) value: OctetString,
}

/// `SES_ESPropertyInfo` of GB/T 38540 (v4) and v5: GeneralizedTime dates, a
/// `certListType` that says which alternative `certList` is.
#[derive(Debug, Clone, Sequence)]
pub(super) struct PropertyV4 {
    pub(super) seal_type: i64,
    pub(super) name: String,
    pub(super) cert_list_type: i64,
    pub(super) cert_list: Any,
    pub(super) create_date: GeneralizedTime,
    pub(super) valid_start: GeneralizedTime,
    pub(super) valid_end: GeneralizedTime,
}

/// `SES_ESPropertyInfo` of GM/T 0031-2014 (v1): UTCTime dates, certificates only.
#[derive(Debug, Clone, Sequence)]
pub(super) struct PropertyV1 {
    pub(super) seal_type: i64,
    pub(super) name: String,
    pub(super) cert_list: Vec<OctetString>,
    pub(super) create_date: UtcTime,
    pub(super) valid_start: UtcTime,
    pub(super) valid_end: UtcTime,
}

/// `SES_SealInfo` as the maker signs it (v4, without `extDatas`).
#[derive(Debug, Clone, Sequence)]
pub(super) struct SealInfoOut {
    pub(super) header: SesHeader,
    pub(super) es_id: Ia5String,
    pub(super) property: PropertyV4,
    pub(super) picture: Picture,
}

/// `SES_Seal` (v4) around already encoded `SES_SealInfo` bytes.
#[derive(Debug, Clone, Sequence)]
pub(super) struct SesSealOut<'a> {
    pub(super) info: AnyRef<'a>,
    pub(super) cert: OctetString,
    pub(super) sign_alg: ObjectIdentifier,
    pub(super) signed_value: BitString,
}

/// `TBS_Sign` (v4, without `extDatas`) around already encoded `SES_Seal` bytes.
#[derive(Debug, Clone, Sequence)]
pub(super) struct TbsSignOut<'a> {
    pub(super) version: i64,
    pub(super) eseal: AnyRef<'a>,
    pub(super) time_info: GeneralizedTime,
    pub(super) data_hash: BitString,
    pub(super) property_info: Ia5String,
}

/// `SES_Signature` (v4) around already encoded `TBS_Sign` bytes; `timeStamp` is the DER
/// `TimeStampToken` over the signature value, in a BIT STRING under `[0] EXPLICIT`.
#[derive(Debug, Clone, Sequence)]
pub(super) struct SesSignatureOut<'a> {
    pub(super) to_sign: AnyRef<'a>,
    pub(super) cert: OctetString,
    pub(super) signature_alg: ObjectIdentifier,
    pub(super) signature: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(super) time_stamp: Option<BitString>,
}

/// The exact encoded bytes (tag, length and value) of each element of the SEQUENCE that
/// `der` is, which must be all of `der`. At most `max` elements.
pub(super) fn elements<'a>(what: &'static str, der: &'a [u8], max: usize) -> Result<Vec<&'a [u8]>, SesError> {
    let malformed = |e| SesError::der(what, e);
    let mut outer = SliceReader::new(der).map_err(malformed)?;
    let header = Header::decode(&mut outer).map_err(malformed)?;
    header.tag().assert_eq(Tag::Sequence).map_err(malformed)?;
    let body = outer.read_slice(header.length()).map_err(malformed)?;
    outer.finish().map_err(malformed)?;
    let mut inner = SliceReader::new(body).map_err(malformed)?;
    let mut out = Vec::new();
    while !inner.is_finished() {
        if out.len() == max {
            return Err(SesError::Malformed { what, reason: format!("more than {max} elements") });
        }
        out.push(inner.tlv_bytes().map_err(malformed)?);
    }
    Ok(out)
}

/// The tag of an encoded element.
pub(super) fn tag_of(what: &'static str, tlv: &[u8]) -> Result<Tag, SesError> {
    let mut reader = SliceReader::new(tlv).map_err(|e| SesError::der(what, e))?;
    Ok(Header::decode(&mut reader).map_err(|e| SesError::der(what, e))?.tag())
}

/// Decodes one element as `T` (all of it).
pub(super) fn decode<'a, T: der::Decode<'a, Error = der::Error>>(
    what: &'static str,
    tlv: &'a [u8],
) -> Result<T, SesError> {
    T::from_der(tlv).map_err(|e| SesError::der(what, e))
}

/// The content of an `[n] EXPLICIT` element: the exact bytes of the one element inside.
pub(super) fn explicit_inner<'a>(what: &'static str, tlv: &'a [u8]) -> Result<&'a [u8], SesError> {
    let malformed = |e| SesError::der(what, e);
    let mut outer = SliceReader::new(tlv).map_err(malformed)?;
    let header = Header::decode(&mut outer).map_err(malformed)?;
    if !header.tag().is_context_specific() || !header.tag().is_constructed() {
        return Err(SesError::Malformed {
            what,
            reason: format!("expected [0] EXPLICIT, found {}", header.tag()),
        });
    }
    let body = outer.read_slice(header.length()).map_err(malformed)?;
    outer.finish().map_err(malformed)?;
    let mut inner = SliceReader::new(body).map_err(malformed)?;
    let element = inner.tlv_bytes().map_err(malformed)?;
    inner.finish().map_err(malformed)?;
    Ok(element)
}

/// A SEQUENCE whose content is `parts` (encoded elements) as they are.
pub(super) fn sequence_of_parts(parts: &[&[u8]]) -> Result<Vec<u8>, SesError> {
    use der::Encode as _;
    let content: Vec<u8> = parts.concat();
    let len = der::Length::try_from(content.len()).map_err(|e| SesError::der("SEQUENCE", e))?;
    let mut out = Header::new(Tag::Sequence, len).to_der().map_err(|e| SesError::der("SEQUENCE", e))?;
    out.extend_from_slice(&content);
    Ok(out)
}
