//! Distinguished names: building them with `x509-cert`, reading and printing them from
//! x509-parser.

use der::asn1::{Any, ObjectIdentifier, PrintableStringRef, Utf8StringRef};
use der::{Decode as _, Encode as _};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_parser::x509::X509Name;

use super::error::PkiError;

/// OID countryName.
pub(crate) const OID_COUNTRY: &str = "2.5.4.6";
/// OID serialNumber (X.520), used for the seal id.
pub(crate) const OID_SERIAL_NUMBER: &str = "2.5.4.5";
/// OID organizationIdentifier (X.520), used for `NTRCN-<统一社会信用代码>`.
pub(crate) const OID_ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";

/// Attribute types of the names the platform writes.
pub(crate) mod attr {
    use der::asn1::ObjectIdentifier;

    /// countryName (C).
    pub(crate) const COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
    /// organizationName (O).
    pub(crate) const ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
    /// organizationIdentifier (`NTRCN-<统一社会信用代码>`).
    pub(crate) const ORGANIZATION_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.97");
    /// commonName (CN).
    pub(crate) const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
    /// serialNumber (the seal id).
    pub(crate) const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
}

/// A distinguished name built attribute by attribute, one attribute per RDN, in the order
/// pushed, each value with the string type chosen by the caller.
#[derive(Debug, Default)]
pub(crate) struct NameBuilder {
    rdns: RdnSequence,
}

impl NameBuilder {
    /// An empty name.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends `oid` = `value` as a UTF8String (the names and Chinese text).
    pub(crate) fn utf8(self, oid: ObjectIdentifier, value: &str) -> Result<Self, PkiError> {
        let value = Any::encode_from(&Utf8StringRef::new(value).map_err(|e| bad_name(oid, e))?)
            .map_err(|e| bad_name(oid, e))?;
        self.push(oid, value)
    }

    /// Appends `oid` = `value` as a PrintableString when the text allows it, else as a
    /// UTF8String.
    pub(crate) fn printable_or_utf8(self, oid: ObjectIdentifier, value: &str) -> Result<Self, PkiError> {
        match PrintableStringRef::new(value) {
            Ok(printable) => {
                let value = Any::encode_from(&printable).map_err(|e| bad_name(oid, e))?;
                self.push(oid, value)
            }
            Err(_) => self.utf8(oid, value),
        }
    }

    fn push(mut self, oid: ObjectIdentifier, value: Any) -> Result<Self, PkiError> {
        let rdn = RelativeDistinguishedName::try_from(vec![AttributeTypeAndValue { oid, value }])
            .map_err(|e| bad_name(oid, e))?;
        self.rdns.push(rdn);
        Ok(self)
    }

    /// The name. `x509-cert` builds a `Name` only by parsing (text or DER), so the RDN
    /// sequence, whose string types we chose, goes through its DER.
    pub(crate) fn build(self) -> Result<Name, PkiError> {
        let der = self.rdns.to_der().map_err(|e| PkiError::Signing(format!("encoding a name: {e}")))?;
        Name::from_der(&der).map_err(|e| PkiError::Signing(format!("reading back a name: {e}")))
    }
}

fn bad_name(oid: ObjectIdentifier, e: der::Error) -> PkiError {
    PkiError::InvalidField { field: "name", reason: format!("attribute {oid}: {e}") }
}

/// A name of a parsed certificate as an `x509-cert` name with the same bytes, so that an
/// issued certificate's issuer field equals its issuer's subject byte for byte.
pub(crate) fn copy_name(name: &X509Name<'_>) -> Result<Name, PkiError> {
    Name::from_der(name.as_raw()).map_err(|e| PkiError::MalformedCertificate(format!("issuer name: {e}")))
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
