//! Claims a relying department wants confirmed about a licence (a yes/no check), and
//! their comparison with the licence record. Pure: the register decides status and basis.

use std::collections::BTreeMap;

use time::Date;

use super::input::{FieldError, parse_date};
use super::record::LicenceRecord;

/// Claims a relying department wants confirmed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckClaims {
    /// The holder's name equals this.
    #[serde(default)]
    pub holder_name: Option<String>,
    /// Valid on this date (`YYYY-MM-DD`).
    #[serde(default)]
    pub valid_on: Option<String>,
    /// Field → text the field must contain (e.g. business scope contains 热食类食品制售).
    #[serde(default)]
    pub fields_contain: BTreeMap<String, String>,
    /// Field → exact value.
    #[serde(default)]
    pub fields_equal: BTreeMap<String, String>,
}

impl CheckClaims {
    /// The day the claims are about: `valid_on`, or `today` if none is given.
    pub fn day(&self, today: Date) -> Result<Date, FieldError> {
        self.valid_on.as_deref().map_or(Ok(today), |d| parse_date("claims.valid_on", d))
    }

    /// The claims `record` does not bear out on day `on`, by name: `valid_on` (not in force
    /// yet), `holder_name`, `fields_contain.KEY`, `fields_equal.KEY`. Empty: all hold.
    pub fn mismatches(&self, record: &LicenceRecord, on: Date) -> Vec<String> {
        let mut mismatches = vec![];
        if parse_date("", &record.valid_from).is_ok_and(|from| on < from) {
            mismatches.push("valid_on".to_owned());
        }
        if self.holder_name.as_deref().is_some_and(|n| n.trim() != record.holder_name) {
            mismatches.push("holder_name".to_owned());
        }
        for (key, needle) in &self.fields_contain {
            if !record.fields.get(key).is_some_and(|v| v.contains(needle.trim())) {
                mismatches.push(format!("fields_contain.{key}"));
            }
        }
        for (key, value) in &self.fields_equal {
            if record.fields.get(key).is_none_or(|v| v != value.trim()) {
                mismatches.push(format!("fields_equal.{key}"));
            }
        }
        mismatches
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::licence::record::tests::record;

    #[test]
    fn names_each_claim_the_record_does_not_bear_out() {
        let day = |d: &str| parse_date("", d).unwrap();
        let claims = CheckClaims {
            holder_name: Some(" 上海某某餐饮管理有限公司 ".into()),
            valid_on: None,
            fields_contain: [("a".to_owned(), "1".to_owned()), ("b".to_owned(), "x".to_owned())].into(),
            fields_equal: [("b".to_owned(), " 2 ".to_owned()), ("c".to_owned(), "3".to_owned())].into(),
        };
        let r = record();
        assert_eq!(claims.mismatches(&r, day("2027-01-01")), ["fields_contain.b", "fields_equal.c"]);
        assert_eq!(claims.mismatches(&r, day("2026-11-21"))[0], "valid_on");
        let other = CheckClaims { holder_name: Some("别人".into()), ..CheckClaims::default() };
        assert_eq!(other.mismatches(&r, day("2027-01-01")), ["holder_name"]);
        assert!(CheckClaims::default().mismatches(&r, day("2027-01-01")).is_empty());
    }

    #[test]
    fn the_day_is_the_claimed_one_or_today() {
        let today = parse_date("", "2027-01-01").unwrap();
        assert_eq!(CheckClaims::default().day(today).unwrap(), today);
        let claims = CheckClaims { valid_on: Some("2030-02-03".into()), ..CheckClaims::default() };
        assert_eq!(claims.day(today).unwrap(), parse_date("", "2030-02-03").unwrap());
        let bad = CheckClaims { valid_on: Some("soon".into()), ..CheckClaims::default() };
        assert_eq!(bad.day(today).unwrap_err().field, "claims.valid_on");
    }
}
