//! The one error type every code parser returns.

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
