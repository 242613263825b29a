//! Distinguished names: building them for rcgen, reading and printing them from x509-parser.

use rcgen::{DistinguishedName, DnType, DnValue};
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::x509::X509Name;

use super::error::PkiError;

/// OID countryName.
pub(crate) const OID_COUNTRY: &str = "2.5.4.6";
/// OID serialNumber (X.520), used for the seal id.
pub(crate) const OID_SERIAL_NUMBER: &str = "2.5.4.5";
/// OID organizationIdentifier (X.520), used for `NTRCN-<统一社会信用代码>`.
pub(crate) const OID_ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";

/// rcgen attribute type for serialNumber.
pub(crate) fn dn_serial_number() -> DnType {
    DnType::CustomDnType(vec![2, 5, 4, 5])
}

/// rcgen attribute type for organizationIdentifier.
pub(crate) fn dn_organization_identifier() -> DnType {
    DnType::CustomDnType(vec![2, 5, 4, 97])
}

/// A PrintableString value when the text allows it, else a UTF8String.
pub(crate) fn printable_or_utf8(s: &str) -> DnValue {
    match rcgen::string::PrintableString::try_from(s) {
        Ok(p) => DnValue::PrintableString(p),
        Err(_) => DnValue::Utf8String(s.to_owned()),
    }
}

/// Checks a caller-supplied name component: non-empty, no control characters, at most
/// `max_chars` characters (the X.520 upper bounds: 64 for O and CN).
pub(crate) fn check_text(field: &'static str, value: &str, max_chars: usize) -> Result<(), PkiError> {
    let invalid = |reason: &str| PkiError::InvalidField { field, reason: reason.to_owned() };
    if value.trim().is_empty() {
        return Err(invalid("must not be empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters"));
    }
    if value.chars().count() > max_chars {
        return Err(invalid(&format!("must be at most {max_chars} characters")));
    }
    Ok(())
}

/// The string value of the first attribute of type `oid` in `name`.
pub(crate) fn attribute(name: &X509Name<'_>, oid: &str) -> Option<String> {
    name.iter_attributes()
        .find(|a| a.attr_type().to_id_string() == oid)
        .and_then(|a| a.as_str().ok().map(str::to_owned))
}

/// Prints a name in RFC 4514 style, in certificate order: `C=CN, O=…, CN=…`.
pub(crate) fn format_name(name: &X509Name<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter() {
        let attrs: Vec<String> = rdn
            .iter()
            .map(|a| {
                let oid = a.attr_type().to_id_string();
                let key = short_name(&oid).map_or(oid.clone(), str::to_owned);
                let value = match a.as_str() {
                    Ok(s) => escape(s),
                    Err(_) => format!("#{}", hex::encode(a.attr_value().data)),
                };
                format!("{key}={value}")
            })
            .collect();
        parts.push(attrs.join("+"));
    }
    parts.join(", ")
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.5" => "serialNumber",
        OID_COUNTRY => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        OID_ORGANIZATION_IDENTIFIER => "organizationIdentifier",
        _ => return None,
    })
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        let edge = (i == 0 && (c == ' ' || c == '#')) || (i + 1 == s.chars().count() && c == ' ');
        if edge || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Converts a parsed name back into an rcgen name with the same attribute types, order and
/// string types, so that an issued certificate's issuer field equals the issuer's subject
/// byte for byte.
pub(crate) fn to_rcgen(name: &X509Name<'_>) -> Result<DistinguishedName, PkiError> {
    let bad = |m: String| PkiError::MalformedCertificate(format!("issuer name: {m}"));
    let mut dn = DistinguishedName::new();
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else {
            return Err(bad("multi-valued or empty RDNs are not supported".to_owned()));
        };
        let arcs: Vec<u64> =
            attr.attr_type().iter().ok_or_else(|| bad("attribute OID too large".to_owned()))?.collect();
        let ty = DnType::from_oid(&arcs);
        if dn.get(&ty).is_some() {
            return Err(bad("repeated attribute types are not supported".to_owned()));
        }
        let data = attr.attr_value().data;
        let text = || std::str::from_utf8(data).map_err(|e| bad(e.to_string()));
        let value = match attr.attr_value().header.tag() {
            Tag::PrintableString => DnValue::PrintableString(
                rcgen::string::PrintableString::try_from(text()?).map_err(|e| bad(e.to_string()))?,
            ),
            Tag::Utf8String => DnValue::Utf8String(text()?.to_owned()),
            Tag::Ia5String => DnValue::Ia5String(
                rcgen::string::Ia5String::try_from(text()?).map_err(|e| bad(e.to_string()))?,
            ),
            other => return Err(bad(format!("unsupported string type {other}"))),
        };
        dn.push(ty, value);
    }
    Ok(dn)
}
