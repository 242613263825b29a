//! 统一社会信用代码 (unified social credit code), GB 32100-2015.

use std::fmt;
use std::str::FromStr;

use super::error::CodeError;

const KIND: &str = "统一社会信用代码 (unified social credit code)";
/// The 31-character alphabet: digits and capital letters without I, O, Z, S, V.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A valid 18-character 统一社会信用代码.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

impl Uscc {
    /// Parses and checks a code, including its check character.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(CodeError::Length { kind: KIND, expected: 18, got: chars.len() });
        }
        let mut values = [0u32; 18];
        for (i, &ch) in chars.iter().enumerate() {
            values[i] = value(ch).ok_or(CodeError::Character { kind: KIND, ch, position: i + 1 })?;
        }
        let expected = check_char(&values[..17]);
        if chars[17] != expected {
            return Err(CodeError::Check { kind: KIND, expected, got: chars[17] });
        }
        Ok(Self(s.to_owned()))
    }

    /// A code of valid form whose check character may be wrong; only for foreign
    /// identifiers imported leniently, with the deviation reported.
    pub(super) fn with_wrong_check(s: &str) -> Self {
        Self(s.to_owned())
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Characters 3–8: the administrative area code of the registering authority.
    pub fn area(&self) -> &str {
        &self.0[2..8]
    }
}

fn value(ch: char) -> Option<u32> {
    let b = u8::try_from(ch).ok()?;
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u32)
}

/// The check character for the first 17 character values.
fn check_char(values: &[u32]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    char::from(ALPHABET[check as usize])
}

impl FromStr for Uscc {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Uscc {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_codes() {
        for code in [
            "11100000000013338W",
            "91370406L24894136J",
            "11220000013544541J",
            "11430000006122244L",
            "11330105002500287C",
        ] {
            assert_eq!(Uscc::parse(code).unwrap().as_str(), code);
        }
        assert_eq!(Uscc::parse("91370406L24894136J").unwrap().area(), "370406");
    }

    #[test]
    fn names_the_expected_check_character() {
        let err = Uscc::parse("11100000000013338X").unwrap_err();
        assert_eq!(err, CodeError::Check { kind: KIND, expected: 'W', got: 'X' });
        assert!(err.to_string().contains("expected 'W'"), "{err}");
    }

    #[test]
    fn refuses_bad_length_and_characters() {
        assert!(matches!(Uscc::parse("1110000000001333"), Err(CodeError::Length { got: 16, .. })));
        assert!(matches!(
            Uscc::parse("1110000000I013338W"),
            Err(CodeError::Character { ch: 'I', position: 11, .. })
        ));
        assert!(matches!(Uscc::parse("11100000000013338w"), Err(CodeError::Character { .. })));
        assert!(matches!(Uscc::parse("１1100000000013338W"), Err(CodeError::Character { .. })));
    }
}
