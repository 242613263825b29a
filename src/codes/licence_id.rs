//! 电子证照标识 (electronic licence identifier), GB/T 36904-2018:
//! `1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>`.

use std::fmt;
use std::str::FromStr;

use super::error::CodeError;
use super::iso7064::mod37_36_check;
use super::uscc::Uscc;

/// The fixed root arc of every identifier.
pub const ROOT: &str = "1.2.156.3005.2";
/// Longest serial accepted.
pub const MAX_SERIAL: usize = 32;

const KIND: &str = "电子证照标识 (licence identifier)";
const TYPE_KIND: &str = "证照类型代码 (licence type code)";

/// 证照类型代码: the defining body's 统一社会信用代码 and a three-digit number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeCode(String);

impl TypeCode {
    /// Parses a 21-character type code, checking the defining body's code.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let n = s.chars().count();
        if n != 21 || !s.is_ascii() {
            return Err(CodeError::Length { kind: TYPE_KIND, expected: 21, got: n });
        }
        Uscc::parse(&s[..18])?;
        if let Some((i, ch)) = s[18..].chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(CodeError::Character { kind: TYPE_KIND, ch, position: 19 + i });
        }
        Ok(Self(s.to_owned()))
    }

    /// The defining body's 统一社会信用代码.
    pub fn definer(&self) -> &str {
        &self.0[..18]
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TypeCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A GB/T 36904 licence identifier whose parts and check character are valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LicenceId {
    text: String,
    type_code: TypeCode,
    issuer: Uscc,
    serial: String,
    version: u16,
}

/// A deviation accepted when importing a foreign identifier leniently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deviation(pub String);

impl LicenceId {
    /// Builds the identifier of `serial`, `version` (1–999) of a type by an issuer.
    pub fn new(type_code: &TypeCode, issuer: &Uscc, serial: &str, version: u16) -> Result<Self, CodeError> {
        check_serial(serial)?;
        if !(1..=999).contains(&version) {
            return Err(CodeError::Invalid {
                kind: KIND, reason: format!("version {version} is not 1–999")
            });
        }
        let data = format!("{type_code}{issuer}{serial}{version:03}");
        let check = mod37_36_check(&data)
            .ok_or_else(|| CodeError::Invalid { kind: KIND, reason: "non-alphanumeric content".into() })?;
        Ok(Self {
            text: format!("{ROOT}.{type_code}.{issuer}.{serial}.{version:03}.{check}"),
            type_code: type_code.clone(),
            issuer: issuer.clone(),
            serial: serial.to_owned(),
            version,
        })
    }

    /// Parses strictly, as this platform issues: every part and the check character.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let (id, deviations) = Self::parse_lenient(s)?;
        match deviations.into_iter().next() {
            None => Ok(id),
            Some(Deviation(reason)) => Err(CodeError::Invalid { kind: KIND, reason }),
        }
    }

    /// Parses a foreign identifier, accepting a wrong check character or an issuer code
    /// whose own check character is wrong, and reporting them as deviations.
    pub fn parse_lenient(s: &str) -> Result<(Self, Vec<Deviation>), CodeError> {
        let invalid = |reason: String| CodeError::Invalid { kind: KIND, reason };
        if s.len() > 120 {
            return Err(invalid(format!("{} characters is too long", s.chars().count())));
        }
        let rest = s
            .strip_prefix(ROOT)
            .and_then(|r| r.strip_prefix('.'))
            .ok_or_else(|| invalid(format!("must start with {ROOT}.")))?;
        let parts: Vec<&str> = rest.split('.').collect();
        let [type_code, issuer, serial, version, check] = parts[..] else {
            return Err(invalid(format!(
                "must have 5 parts after {ROOT} (type.issuer.serial.version.check), found {}",
                parts.len()
            )));
        };
        let type_code = TypeCode::parse(type_code)?;
        let mut deviations = vec![];
        let issuer = match Uscc::parse(issuer) {
            Ok(code) => code,
            Err(CodeError::Check { .. }) => {
                deviations.push(Deviation(format!("issuer code {issuer} has a wrong check character")));
                Uscc::with_wrong_check(issuer)
            }
            Err(e) => return Err(e),
        };
        check_serial(serial)?;
        if version.len() != 3 || !version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(format!("version {version:?} must be three digits")));
        }
        let version_number: u16 = version.parse().unwrap_or(0);
        if version_number == 0 {
            return Err(invalid("version 000 does not exist; the first is 001".into()));
        }
        let expected = mod37_36_check(&format!("{type_code}{issuer}{serial}{version}"))
            .ok_or_else(|| invalid("non-alphanumeric content".into()))?;
        if check.len() != 1 || !check.starts_with(expected) {
            deviations.push(Deviation(format!("check character is {check:?}, expected '{expected}'")));
        }
        let id = Self {
            text: s.to_owned(),
            type_code,
            issuer,
            serial: serial.to_owned(),
            version: version_number,
        };
        Ok((id, deviations))
    }

    /// The licence type.
    pub fn type_code(&self) -> &TypeCode {
        &self.type_code
    }

    /// The issuing department.
    pub fn issuer(&self) -> &Uscc {
        &self.issuer
    }

    /// The issuer's serial.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The version (1 first).
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The identifier of the next version of the same licence.
    pub fn next_version(&self) -> Result<Self, CodeError> {
        Self::new(&self.type_code, &self.issuer, &self.serial, self.version + 1)
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn check_serial(serial: &str) -> Result<(), CodeError> {
    let n = serial.chars().count();
    if n == 0 || n > MAX_SERIAL {
        return Err(CodeError::Invalid {
            kind: KIND,
            reason: format!("serial must have 1–{MAX_SERIAL} characters"),
        });
    }
    match serial.chars().enumerate().find(|(_, c)| !(c.is_ascii_digit() || c.is_ascii_uppercase())) {
        Some((i, ch)) => Err(CodeError::Character { kind: "流水号 (serial)", ch, position: i + 1 }),
        None => Ok(()),
    }
}

impl fmt::Display for LicenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for LicenceId {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: [&str; 3] = [
        "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
        "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
    ];

    #[test]
    fn real_identifiers_parse_and_rebuild() {
        for text in REAL {
            let id = LicenceId::parse(text).unwrap();
            let again = LicenceId::new(id.type_code(), id.issuer(), id.serial(), id.version()).unwrap();
            assert_eq!(again.as_str(), text);
        }
        let id = LicenceId::parse(REAL[2]).unwrap();
        assert_eq!(
            (id.serial(), id.version(), id.type_code().definer()),
            ("2025052201", 2, "11100000000013338W")
        );
        assert_eq!(id.issuer().as_str(), "11330105002500287C");
        let next = id.next_version().unwrap();
        assert!(
            next.as_str()
                .starts_with("1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.003.")
        );
    }

    #[test]
    fn strict_parse_refuses_what_lenient_reports() {
        let wrong_check = REAL[0].replace(".001.F", ".001.G");
        let err = LicenceId::parse(&wrong_check).unwrap_err();
        assert!(err.to_string().contains("expected 'F'"), "{err}");
        let (_, deviations) = LicenceId::parse_lenient(&wrong_check).unwrap();
        assert_eq!(deviations.len(), 1);
        for bad in [
            "1.2.156.3005.1.11100000000013338W032.11220000013544541J.2430599.001.F",
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001",
            "1.2.156.3005.2.11100000000013338W03.11220000013544541J.2430599.001.F",
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.24305-99.001.F",
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.1.F",
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.000.F",
            "",
        ] {
            assert!(LicenceId::parse_lenient(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_refuses_bad_parts() {
        let t = TypeCode::parse("11100000000013338W032").unwrap();
        let issuer = Uscc::parse("11220000013544541J").unwrap();
        assert!(LicenceId::new(&t, &issuer, "", 1).is_err());
        assert!(LicenceId::new(&t, &issuer, "abc", 1).is_err());
        assert!(LicenceId::new(&t, &issuer, "1", 1000).is_err());
        assert!(TypeCode::parse("11100000000013338W03X").is_err());
        assert!(TypeCode::parse("11100000000013338X032").is_err());
    }
}
