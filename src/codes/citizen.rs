//! 公民身份号码 (citizen identity number), GB 11643-1999.

use std::fmt;
use std::str::FromStr;

use super::error::CodeError;

const KIND: &str = "公民身份号码 (citizen identity number)";
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// A valid 18-character 公民身份号码. `Debug` and `Display` show it masked; the full
/// number is only available through [`CitizenId::expose`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CitizenId(String);

impl CitizenId {
    /// Parses and checks a number: digits, a real birth date and the check character.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(CodeError::Length { kind: KIND, expected: 18, got: chars.len() });
        }
        let mut sum = 0;
        for (i, &ch) in chars[..17].iter().enumerate() {
            let d = ch.to_digit(10).filter(|_| ch.is_ascii_digit());
            let d = d.ok_or(CodeError::Character { kind: KIND, ch, position: i + 1 })?;
            sum += d * WEIGHTS[i];
        }
        let expected = char::from(CHECK[(sum % 11) as usize]);
        let got = chars[17];
        if got != expected {
            if got != 'X' && !got.is_ascii_digit() {
                return Err(CodeError::Character { kind: KIND, ch: got, position: 18 });
            }
            return Err(CodeError::Check { kind: KIND, expected, got });
        }
        let birth = &s[6..14];
        let format = time::macros::format_description!("[year][month][day]");
        if time::Date::parse(birth, &format).is_err() {
            return Err(CodeError::Invalid {
                kind: KIND,
                reason: format!("birth date {birth} does not exist"),
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// The full number. Call only where the legal basis allows full disclosure.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The masked form shown everywhere public: first 3 and last 4 characters.
    pub fn masked(&self) -> String {
        mask(&self.0, 3, 4)
    }
}

/// Masks all but the first `keep_start` and last `keep_end` characters with `*`.
pub fn mask(s: &str, keep_start: usize, keep_end: usize) -> String {
    let n = s.chars().count();
    s.chars().enumerate().map(|(i, c)| if i < keep_start || i + keep_end >= n { c } else { '*' }).collect()
}

impl FromStr for CitizenId {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CitizenId({})", self.masked())
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_numbers_and_masks_them() {
        // The GB 11643 worked example and a number ending in X.
        let id = CitizenId::parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "110***********002X");
        assert_eq!(format!("{id:?}"), "CitizenId(110***********002X)");
        assert_eq!(id.to_string(), "110***********002X");
        assert_eq!(id.expose(), "11010519491231002X");
        CitizenId::parse("440524188001010014").unwrap();
    }

    #[test]
    fn names_the_expected_check_character() {
        let err = CitizenId::parse("110105194912310021").unwrap_err();
        assert_eq!(err, CodeError::Check { kind: KIND, expected: 'X', got: '1' });
    }

    #[test]
    fn refuses_impossible_dates_and_bad_characters() {
        // 1949-02-30 does not exist; check character computed to be otherwise valid.
        let mut base: Vec<char> = "11010519490230002".chars().collect();
        let sum: u32 = base.iter().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
        base.push(char::from(CHECK[(sum % 11) as usize]));
        let s: String = base.into_iter().collect();
        assert!(matches!(CitizenId::parse(&s), Err(CodeError::Invalid { .. })));
        assert!(matches!(CitizenId::parse("1101051949123100"), Err(CodeError::Length { .. })));
        assert!(matches!(
            CitizenId::parse("11010519491231A02X"),
            Err(CodeError::Character { position: 15, .. })
        ));
    }
}
