//! Reading `SES_Seal` and `SES_Signature` (GM/T 0031-2014 v1, GB/T 38540-2020 v4,
//! GM/T 0031-2025 v5) into one read model, [`SealFacts`] and [`SignatureFacts`], that
//! keeps the exact bytes each signature covers.

use der::Tag;
use der::asn1::{BitString, GeneralizedTime, Ia5String, ObjectIdentifier, OctetString, UtcTime};
use time::OffsetDateTime;

use super::asn1::{
    self, CertDigestAsn1, Picture, PropertyV1, PropertyV4, SesHeader, decode, elements, tag_of,
};
use super::error::SesError;
use super::{MAX_CERT_BYTES, MAX_INPUT_BYTES, MAX_LISTED_CERTS, MAX_PICTURE_BYTES, MAX_TEXT_BYTES};

/// The certificates a seal names as allowed to sign with it (`certList`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertList {
    /// `certListType` 1 (and every v1 seal): the certificates, DER.
    Certs(Vec<Vec<u8>>),
    /// `certListType` 2: digests of the certificates.
    Digests(Vec<CertDigest>),
}

/// A digest of a signer certificate in a seal's `certList`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertDigest {
    /// The digest algorithm's name as written (e.g. `SM3`).
    pub algorithm: String,
    /// The digest of the certificate's DER.
    pub value: Vec<u8>,
}

/// The seal's picture (`SES_ESPictrueInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealPicture {
    /// Its format as written (`PNG`, `ofd`, `gif`, …).
    pub kind: String,
    /// The image bytes.
    pub data: Vec<u8>,
    /// Width in millimetres.
    pub width_mm: u32,
    /// Height in millimetres.
    pub height_mm: u32,
}

/// What an electronic seal (`SES_Seal`) says, whatever its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealFacts {
    /// The header's version: 1 (GM/T 0031-2014), 4 (GB/T 38540-2020) or 5 (GM/T 0031-2025).
    pub version: u32,
    /// The header's vendor id (`vid`).
    pub vendor_id: String,
    /// The seal's identifier (`esID`).
    pub es_id: String,
    /// The seal type (`property.type`; 1 = 单位印章, an organisation's seal).
    pub seal_type: i64,
    /// The seal's name.
    pub name: String,
    /// The signer certificates the seal allows.
    pub cert_list: CertList,
    /// `createDate`.
    pub create_date: OffsetDateTime,
    /// `validStart`.
    pub valid_start: OffsetDateTime,
    /// `validEnd`.
    pub valid_end: OffsetDateTime,
    /// The picture.
    pub picture: SealPicture,
    /// `extDatas` of `SES_SealInfo`, DER, if present.
    pub ext_datas: Option<Vec<u8>>,
    /// The seal maker's certificate (制章者), DER.
    pub maker_cert_der: Vec<u8>,
    /// The maker's signature algorithm.
    pub algorithm: ObjectIdentifier,
    /// The maker's signature (`signedValue`), DER `SEQUENCE { r, s }` as written.
    pub maker_signature: Vec<u8>,
    /// The exact bytes the maker signed. v4 and v5: DER(`SES_SealInfo`) as found in the
    /// input. v1 (measured on ofdrw's `UserV1.esl`): DER `SEQUENCE { sealInfo, cert,
    /// signatureAlgorithm }`, the three elements as found in the input under a new header.
    pub maker_signed_der: Vec<u8>,
    /// v5: the seal's time-stamp, DER, if present.
    pub timestamp: Option<Vec<u8>>,
    /// The whole `SES_Seal` as given.
    pub der: Vec<u8>,
}

/// What a seal signature (`SES_Signature`) says, whatever its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFacts {
    /// `TBS_Sign.version`: 1, 4 or 5.
    pub version: u32,
    /// The seal it was made with.
    pub seal: SealFacts,
    /// `timeInfo`: the signing time the signer claims. v1 carries it as text in a BIT
    /// STRING; `None` when that text is not a `yyyyMMddHHmmss` (or GeneralizedTime) time.
    pub time: Option<OffsetDateTime>,
    /// `dataHash`: for OFD, SM3 of `Signature.xml` as stored.
    pub data_hash: Vec<u8>,
    /// `propertyInfo`: for OFD, the path of `Signature.xml`.
    pub property_info: String,
    /// `extDatas` of `TBS_Sign`, DER, if present.
    pub ext_datas: Option<Vec<u8>>,
    /// The signer's certificate, DER.
    pub signer_cert_der: Vec<u8>,
    /// The signature algorithm.
    pub algorithm: ObjectIdentifier,
    /// The signature, DER `SEQUENCE { r, s }` as written.
    pub signature: Vec<u8>,
    /// The exact bytes signed: DER(`TBS_Sign`) as found in the input.
    pub tbs_der: Vec<u8>,
    /// `timeStamp` (v4, v5): the content of its BIT STRING, the DER `TimeStampToken` over
    /// [`SignatureFacts::signature`] (at most [`crate::tsa::MAX_TOKEN_BYTES`]), if present.
    /// GM/T 0031-2014 (v1) signatures have no such field.
    pub timestamp: Option<Vec<u8>>,
}

/// Reads an electronic seal (`SES_Seal`, the content of a `.esl` file) of version 1, 4 or 5.
pub fn read_seal(der: &[u8]) -> Result<SealFacts, SesError> {
    limit("SES_Seal", der.len(), MAX_INPUT_BYTES)?;
    let parts = elements("SES_Seal", der, 5)?;
    let (info, cert, alg, signed, timestamp) = match parts.as_slice() {
        // GM/T 0031-2014: SEQUENCE { sealInfo, signInfo SEQUENCE { cert, signatureAlgorithm, signData } }.
        [info, sign_info] => {
            let sign = elements("SES_SignInfo", sign_info, 3)?;
            let [cert, alg, signed] = sign.as_slice() else {
                return Err(malformed("SES_SignInfo", "expected cert, signatureAlgorithm, signData"));
            };
            (*info, *cert, *alg, *signed, None)
        }
        [info, cert, alg, signed] => (*info, *cert, *alg, *signed, None),
        [info, cert, alg, signed, stamp] => (*info, *cert, *alg, *signed, Some(stamp.to_vec())),
        _ => return Err(malformed("SES_Seal", format!("{} elements, expected 2, 4 or 5", parts.len()))),
    };
    let maker_cert_der = octets("maker certificate", cert, MAX_CERT_BYTES)?;
    let algorithm: ObjectIdentifier = decode("seal signAlgID", alg)?;
    let maker_signature = bits("seal signedValue", signed)?;
    let mut facts = read_seal_info(info)?;
    if parts.len() == 2 && facts.version != 1 || parts.len() != 2 && facts.version == 1 {
        return Err(malformed(
            "SES_Seal",
            format!("version {} in a {}-element seal", facts.version, parts.len()),
        ));
    }
    if facts.version == 1 {
        facts.maker_signed_der = asn1::sequence_of_parts(&[info, cert, alg])?;
    }
    facts.maker_cert_der = maker_cert_der;
    facts.algorithm = algorithm;
    facts.maker_signature = maker_signature;
    facts.timestamp = timestamp;
    facts.der = der.to_vec();
    Ok(facts)
}

/// `SES_SealInfo`; the maker fields are left empty for [`read_seal`] to fill.
fn read_seal_info(info: &[u8]) -> Result<SealFacts, SesError> {
    let parts = elements("SES_SealInfo", info, 5)?;
    let [header, es_id, property, picture, rest @ ..] = parts.as_slice() else {
        return Err(malformed("SES_SealInfo", "expected header, esID, property, picture"));
    };
    let header: SesHeader = decode("SES_Header", header)?;
    if header.id.as_str() != "ES" {
        return Err(malformed("SES_Header", format!("id {:?}, expected \"ES\"", header.id.as_str())));
    }
    let version = match header.version {
        1 | 4 | 5 => header.version as u32,
        other => return Err(SesError::UnsupportedVersion(other)),
    };
    let es_id: Ia5String = decode("esID", es_id)?;
    let property = if version == 1 { read_property_v1(property)? } else { read_property_v4(property)? };
    let picture: Picture = decode("SES_ESPictrueInfo", picture)?;
    let ext_datas = rest.first().map(|e| e.to_vec());
    Ok(SealFacts {
        version,
        vendor_id: text("vid", header.vid.as_str())?,
        es_id: text("esID", es_id.as_str())?,
        seal_type: property.seal_type,
        name: text("seal name", &property.name)?,
        cert_list: property.cert_list,
        create_date: property.create_date,
        valid_start: property.valid_start,
        valid_end: property.valid_end,
        picture: read_picture(picture)?,
        ext_datas,
        maker_cert_der: Vec::new(),
        algorithm: crate::signing::oid::SM2_WITH_SM3,
        maker_signature: Vec::new(),
        maker_signed_der: info.to_vec(),
        timestamp: None,
        der: Vec::new(),
    })
}

/// The property fields common to every version.
struct Property {
    seal_type: i64,
    name: String,
    cert_list: CertList,
    create_date: OffsetDateTime,
    valid_start: OffsetDateTime,
    valid_end: OffsetDateTime,
}

fn read_property_v4(tlv: &[u8]) -> Result<Property, SesError> {
    let p: PropertyV4 = decode("SES_ESPropertyInfo", tlv)?;
    let list = &p.cert_list;
    let cert_list = match p.cert_list_type {
        1 => certs(list.decode_as::<Vec<OctetString>>().map_err(|e| SesError::der("certList", e))?)?,
        2 => {
            let digests: Vec<CertDigestAsn1> = list.decode_as().map_err(|e| SesError::der("certList", e))?;
            limit_count(digests.len())?;
            let digests = digests
                .into_iter()
                .map(|d| {
                    Ok(CertDigest {
                        algorithm: text("certList type", d.kind.as_str())?,
                        value: d.value.into_bytes().into_vec(),
                    })
                })
                .collect::<Result<Vec<_>, SesError>>()?;
            CertList::Digests(digests)
        }
        other => return Err(malformed("certListType", format!("{other}, expected 1 or 2"))),
    };
    Ok(Property {
        seal_type: p.seal_type,
        name: p.name,
        cert_list,
        create_date: generalized(&p.create_date)?,
        valid_start: generalized(&p.valid_start)?,
        valid_end: generalized(&p.valid_end)?,
    })
}

fn read_property_v1(tlv: &[u8]) -> Result<Property, SesError> {
    let p: PropertyV1 = decode("SES_ESPropertyInfo", tlv)?;
    Ok(Property {
        seal_type: p.seal_type,
        name: p.name,
        cert_list: certs(p.cert_list)?,
        create_date: utc(&p.create_date)?,
        valid_start: utc(&p.valid_start)?,
        valid_end: utc(&p.valid_end)?,
    })
}

fn certs(list: Vec<OctetString>) -> Result<CertList, SesError> {
    limit_count(list.len())?;
    let certs = list.into_iter().map(|o| o.into_bytes().into_vec()).collect::<Vec<_>>();
    for c in &certs {
        limit("listed certificate", c.len(), MAX_CERT_BYTES)?;
    }
    Ok(CertList::Certs(certs))
}

fn read_picture(p: Picture) -> Result<SealPicture, SesError> {
    let size = |what, v: i64| u32::try_from(v).map_err(|_| malformed(what, format!("{v} mm")));
    limit("seal picture", p.data.as_bytes().len(), MAX_PICTURE_BYTES)?;
    Ok(SealPicture {
        kind: text("picture type", p.kind.as_str())?,
        width_mm: size("picture width", p.width)?,
        height_mm: size("picture height", p.height)?,
        data: p.data.into_bytes().into_vec(),
    })
}

/// Reads a seal signature (`SES_Signature`, an OFD `SignedValue.dat`) of version 1, 4 or 5.
pub fn read_signature(der: &[u8]) -> Result<SignatureFacts, SesError> {
    limit("SES_Signature", der.len(), MAX_INPUT_BYTES)?;
    let parts = elements("SES_Signature", der, 5)?;
    match parts.as_slice() {
        [tbs, signature] => read_signature_v1(tbs, signature),
        [tbs, cert, alg, signature, rest @ ..] => {
            let timestamp = match rest.first() {
                None => None,
                Some(t) => {
                    let inner = asn1::explicit_inner("timeStamp", t)?;
                    let token = bits("timeStamp", inner)?;
                    limit("timeStamp", token.len(), crate::tsa::MAX_TOKEN_BYTES)?;
                    Some(token)
                }
            };
            let mut facts = read_tbs_v4(tbs)?;
            facts.signer_cert_der = octets("signer certificate", cert, MAX_CERT_BYTES)?;
            facts.algorithm = decode("signatureAlgID", alg)?;
            facts.signature = bits("signature", signature)?;
            facts.timestamp = timestamp;
            Ok(facts)
        }
        _ => Err(malformed("SES_Signature", format!("{} elements, expected 2, 4 or 5", parts.len()))),
    }
}

/// v4/v5 `TBS_Sign`: version, eseal, timeInfo, dataHash, propertyInfo, `[0]` extDatas.
fn read_tbs_v4(tbs: &[u8]) -> Result<SignatureFacts, SesError> {
    let parts = elements("TBS_Sign", tbs, 6)?;
    let [version, eseal, time, hash, property, rest @ ..] = parts.as_slice() else {
        return Err(malformed("TBS_Sign", "expected version, eseal, timeInfo, dataHash, propertyInfo"));
    };
    let version = tbs_version(version)?;
    let seal = read_seal(eseal)?;
    let time = generalized(&decode::<GeneralizedTime>("timeInfo", time)?)?;
    let ext_datas = match rest.first() {
        None => None,
        Some(e) => Some(asn1::explicit_inner("TBS_Sign extDatas", e)?.to_vec()),
    };
    Ok(SignatureFacts {
        version,
        seal,
        time: Some(time),
        data_hash: bits("dataHash", hash)?,
        property_info: ia5("propertyInfo", property)?,
        ext_datas,
        signer_cert_der: Vec::new(),
        algorithm: crate::signing::oid::SM2_WITH_SM3,
        signature: Vec::new(),
        tbs_der: tbs.to_vec(),
        timestamp: None,
    })
}

/// GM/T 0031-2014: `SES_Signature ::= SEQUENCE { toSign TBS_Sign, signature BIT STRING }`,
/// `TBS_Sign ::= SEQUENCE { version, eseal, timeInfo BIT STRING, dataHash BIT STRING,
/// propertyInfo IA5String, cert OCTET STRING, signatureAlgorithm OID, extDatas OPTIONAL }`.
fn read_signature_v1(tbs: &[u8], signature: &[u8]) -> Result<SignatureFacts, SesError> {
    let parts = elements("TBS_Sign", tbs, 8)?;
    let [version, eseal, time, hash, property, cert, alg, rest @ ..] = parts.as_slice() else {
        return Err(malformed("TBS_Sign", "expected the seven fields of GM/T 0031-2014"));
    };
    let time = match tag_of("timeInfo", time)? {
        Tag::GeneralizedTime => Some(generalized(&decode::<GeneralizedTime>("timeInfo", time)?)?),
        _ => time_text(&bits("timeInfo", time)?),
    };
    Ok(SignatureFacts {
        version: tbs_version(version)?,
        seal: read_seal(eseal)?,
        time,
        data_hash: bits("dataHash", hash)?,
        property_info: ia5("propertyInfo", property)?,
        ext_datas: rest.first().map(|e| e.to_vec()),
        signer_cert_der: octets("signer certificate", cert, MAX_CERT_BYTES)?,
        algorithm: decode("signatureAlgorithm", alg)?,
        signature: bits("signature", signature)?,
        tbs_der: tbs.to_vec(),
        timestamp: None,
    })
}

fn tbs_version(tlv: &[u8]) -> Result<u32, SesError> {
    match decode::<i64>("TBS_Sign version", tlv)? {
        v @ (1 | 4 | 5) => Ok(v as u32),
        other => Err(SesError::UnsupportedVersion(other)),
    }
}

/// A v1 `timeInfo`: `yyyyMMddHHmmss` (UTC) or a GeneralizedTime's text, in a BIT STRING.
fn time_text(bytes: &[u8]) -> Option<OffsetDateTime> {
    let text = std::str::from_utf8(bytes).ok()?.trim_end_matches('Z');
    let format = time::macros::format_description!("[year][month][day][hour][minute][second]");
    time::PrimitiveDateTime::parse(text, format).ok().map(|t| t.assume_utc())
}

fn octets(what: &'static str, tlv: &[u8], max: usize) -> Result<Vec<u8>, SesError> {
    let o: OctetString = decode(what, tlv)?;
    limit(what, o.as_bytes().len(), max)?;
    Ok(o.into_bytes().into_vec())
}

/// A BIT STRING's bytes; it must be whole octets.
fn bits(what: &'static str, tlv: &[u8]) -> Result<Vec<u8>, SesError> {
    let b: BitString = decode(what, tlv)?;
    b.as_bytes().map(<[u8]>::to_vec).ok_or_else(|| malformed(what, "not a whole number of octets"))
}

fn ia5(what: &'static str, tlv: &[u8]) -> Result<String, SesError> {
    let s: Ia5String = decode(what, tlv)?;
    text(what, s.as_str())
}

fn text(what: &'static str, s: &str) -> Result<String, SesError> {
    limit(what, s.len(), MAX_TEXT_BYTES)?;
    Ok(s.to_owned())
}

fn generalized(t: &GeneralizedTime) -> Result<OffsetDateTime, SesError> {
    unix(t.to_unix_duration())
}

fn utc(t: &UtcTime) -> Result<OffsetDateTime, SesError> {
    unix(t.to_unix_duration())
}

fn unix(d: std::time::Duration) -> Result<OffsetDateTime, SesError> {
    i64::try_from(d.as_secs())
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| malformed("time", "out of range"))
}

fn limit(what: &'static str, len: usize, max: usize) -> Result<(), SesError> {
    if len > max {
        return Err(SesError::TooLarge { what, len, max });
    }
    Ok(())
}

fn limit_count(n: usize) -> Result<(), SesError> {
    if n == 0 || n > MAX_LISTED_CERTS {
        return Err(malformed("certList", format!("{n} entries, expected 1 to {MAX_LISTED_CERTS}")));
    }
    Ok(())
}

fn malformed(what: &'static str, reason: impl Into<String>) -> SesError {
    SesError::Malformed { what, reason: reason.into() }
}
