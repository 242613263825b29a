//! 行政区划代码 (administrative area code, GB/T 2260): six digits.

use std::fmt;
use std::str::FromStr;

use super::error::CodeError;

const KIND: &str = "行政区划代码 (administrative area code)";

/// A six-digit administrative area code such as `310115` (上海市浦东新区).
///
/// Checked for form (six digits, a province prefix from 11 to 82, non-zero) only: the
/// authoritative list changes every year and is not shipped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AreaCode(String);

impl AreaCode {
    /// Parses a six-digit area code.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let n = s.chars().count();
        if n != 6 {
            return Err(CodeError::Length { kind: KIND, expected: 6, got: n });
        }
        if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(CodeError::Character { kind: KIND, ch, position: i + 1 });
        }
        let province: u32 = s[..2].parse().unwrap_or(0);
        if !(11..=82).contains(&province) {
            return Err(CodeError::Invalid {
                kind: KIND,
                reason: format!("province prefix {} is not between 11 and 82", &s[..2]),
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AreaCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!(AreaCode::parse("310115").unwrap().as_str(), "310115");
        assert!(matches!(AreaCode::parse("31011"), Err(CodeError::Length { .. })));
        assert!(matches!(AreaCode::parse("31011a"), Err(CodeError::Character { position: 6, .. })));
        assert!(matches!(AreaCode::parse("990000"), Err(CodeError::Invalid { .. })));
    }
}
