//! Which licence types a department issues or an API client may use: a list of type
//! codes, where `*` stands for every type and `-` for none. The one place that reads them.

/// The code that stands for every licence type.
pub const ANY_TYPE: &str = "*";

/// The code that, alone, stands for no licence type: a department that issues none (a
/// 政务服务中心 whose seal signs 一件事 receipts only). Stored as the empty list.
pub const NO_TYPE: &str = "-";

/// A list of licence type codes as a department or client record keeps it.
#[derive(Debug, Clone, Copy)]
pub struct TypeScope<'a>(&'a [String]);

impl<'a> TypeScope<'a> {
    /// The scope of the stored codes.
    pub fn new(codes: &'a [String]) -> Self {
        Self(codes)
    }

    /// Whether the scope covers licences of `type_code`.
    pub fn covers(self, type_code: &str) -> bool {
        self.0.iter().any(|t| t == ANY_TYPE || t == type_code)
    }

    /// The codes to store for `given`: each must be `*` or a code `known` accepts, and
    /// none given means every type; [`NO_TYPE`] alone means none (the empty list). `Err`
    /// names the first unknown code (`-` among other codes is one).
    pub fn checked(given: &[String], known: impl Fn(&str) -> bool) -> Result<Vec<String>, String> {
        if given.len() == 1 && given[0] == NO_TYPE {
            return Ok(vec![]);
        }
        if let Some(unknown) = given.iter().find(|c| *c != ANY_TYPE && !known(c)) {
            return Err(unknown.clone());
        }
        Ok(if given.is_empty() { vec![ANY_TYPE.to_owned()] } else { given.to_vec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wildcard_covers_every_type_and_a_list_only_its_own() {
        let any = vec!["*".to_owned()];
        let two = vec!["A".to_owned(), "B".to_owned()];
        assert!(TypeScope::new(&any).covers("Z"));
        assert!(TypeScope::new(&two).covers("B"));
        assert!(!TypeScope::new(&two).covers("C"));
        assert!(!TypeScope::new(&[]).covers("A"));
    }

    #[test]
    fn checked_codes_default_to_every_type_and_refuse_unknown_ones() {
        let known = |c: &str| c == "A";
        assert_eq!(TypeScope::checked(&[], known), Ok(vec!["*".to_owned()]));
        assert_eq!(TypeScope::checked(&["A".into(), "*".into()], known), Ok(vec!["A".into(), "*".into()]));
        assert_eq!(TypeScope::checked(&["A".into(), "Q".into()], known), Err("Q".to_owned()));
        let none = TypeScope::checked(&["-".into()], known).unwrap();
        assert!(none.is_empty() && !TypeScope::new(&none).covers("A"));
        assert_eq!(TypeScope::checked(&["A".into(), "-".into()], known), Err("-".to_owned()));
    }
}
