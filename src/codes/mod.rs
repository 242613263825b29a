//! National codes and their check characters: 统一社会信用代码 (GB 32100-2015),
//! 公民身份号码 (GB 11643-1999), administrative area codes (GB/T 2260) and the
//! ISO/IEC 7064 MOD 37,36 check character that GB/T 36904 licence identifiers use.
//!
//! Every code is a newtype that can only be built by parsing, so an invalid value cannot
//! travel through the program. No I/O.

mod area;
mod citizen;
mod disclosure;
mod iso7064;
mod licence_id;
mod uscc;

pub use area::AreaCode;
pub use citizen::{CitizenId, mask};
pub use disclosure::public_holder_code;
pub use iso7064::{mod37_36_check, mod37_36_valid};
pub use licence_id::{Deviation, LicenceId, TypeCode};
pub use uscc::Uscc;

/// Why a code was refused. Messages name the code and say what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// The code has the wrong number of characters.
    #[error("{kind} must have {expected} characters, got {got}")]
    Length {
        /// Which code.
        kind: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length in characters.
        got: usize,
    },
    /// A character outside the code's alphabet.
    #[error("{kind} has an invalid character {ch:?} at position {position}")]
    Character {
        /// Which code.
        kind: &'static str,
        /// The offending character.
        ch: char,
        /// 1-based position.
        position: usize,
    },
    /// The check character does not match.
    #[error("{kind} check character is wrong: expected {expected:?}, got {got:?}")]
    Check {
        /// Which code.
        kind: &'static str,
        /// The check character the rest of the code gives.
        expected: char,
        /// The check character found.
        got: char,
    },
    /// Structurally valid characters that do not form a valid value (e.g. a date).
    #[error("{kind} is invalid: {reason}")]
    Invalid {
        /// Which code.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
}
