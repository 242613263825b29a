//! Input checks the services share: names and licence type lists.

use crate::licence::{Catalogue, TypeScope};

use super::error::PlatformError;

/// Trims a name and checks it is non-empty, at most `max` characters, without control
/// characters.
pub(super) fn checked_name<'a>(
    field: &'static str,
    name: &'a str,
    max: usize,
) -> Result<&'a str, PlatformError> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 {
        return Err(PlatformError::InvalidInput { field, message: "must not be empty".to_owned() });
    }
    if n > max {
        return Err(PlatformError::InvalidInput {
            field,
            message: format!("has {n} characters, at most {max} allowed"),
        });
    }
    if name.chars().any(char::is_control) {
        return Err(PlatformError::InvalidInput { field, message: "contains control characters".to_owned() });
    }
    Ok(name)
}

/// Licence type codes as given for a department or client: each must be a type of the
/// catalogue or `*` (any); none given means `*`.
pub(super) fn checked_type_codes(
    catalogue: &Catalogue,
    type_codes: &[String],
) -> Result<Vec<String>, PlatformError> {
    TypeScope::checked(type_codes, |code| catalogue.get(code).is_some()).map_err(|code| {
        PlatformError::InvalidInput {
            field: "types",
            message: format!("unknown licence type {code:?}; see `zhengzhao types list`"),
        }
    })
}
