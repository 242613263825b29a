//! Licence input as an approval system sends it, and its check against the licence type:
//! unknown or missing fields, over-long values, patterns, wrong holder code type and
//! invalid check characters are refused with the field named.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::{Date, Duration};

use super::types::{FieldDef, FieldKind, HolderCodeType, LicenceType};
use crate::codes::{CitizenId, Uscc};

/// Longest holder name, in characters.
const MAX_HOLDER_NAME: usize = 100;

/// The holder (持证主体).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolderInput {
    /// 持证主体 name.
    pub name: String,
    /// 持证主体代码.
    pub code: String,
    /// `001` or `111`; must equal the type's if given.
    #[serde(default)]
    pub code_type: Option<String>,
}

/// The matter (事项) the licence was issued for.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatterInput {
    /// 关联事项编码.
    pub code: String,
    /// 关联事项名称.
    pub name: String,
}

/// A request to issue a licence of some type.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenceInput {
    /// The holder.
    pub holder: HolderInput,
    /// First day of validity, `YYYY-MM-DD`; default: the issue date.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// Last day of validity; default: from the type's validity; absent for long-term types.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// The matter it was issued for.
    #[serde(default)]
    pub matter: Option<MatterInput>,
    /// The type's fields by key.
    pub fields: BTreeMap<String, String>,
}

/// A refused input value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field, e.g. `fields.licence_no` or `holder.code`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn field_err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

/// Input that passed every check, normalised (trimmed, dates parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedInput {
    /// Holder name.
    pub holder_name: String,
    /// Holder code (check character verified).
    pub holder_code: String,
    /// Its kind.
    pub holder_code_type: HolderCodeType,
    /// First day of validity.
    pub valid_from: Date,
    /// Last day of validity; `None` is long-term.
    pub valid_until: Option<Date>,
    /// The matter, if given.
    pub matter: Option<MatterInput>,
    /// The type's fields, trimmed.
    pub fields: BTreeMap<String, String>,
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(field: &str, s: &str) -> Result<Date, FieldError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &format).map_err(|_| field_err(field, format!("{s:?} is not a date YYYY-MM-DD")))
}

/// Checks text: trimmed, no control characters (newlines only where allowed), every
/// character printable with the embedded font, length within limits.
fn check_text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, FieldError> {
    let value = value.trim();
    let n = value.chars().count();
    if n < min.max(1) {
        return Err(field_err(
            field,
            if n == 0 {
                "must not be empty".to_owned()
            } else {
                format!("has {n} characters, at least {min} needed")
            },
        ));
    }
    if n > max {
        return Err(field_err(field, format!("has {n} characters, at most {max} allowed")));
    }
    if let Some(c) = value.chars().find(|&c| c.is_control() && !(multiline && c == '\n')) {
        return Err(field_err(field, format!("contains the control character U+{:04X}", u32::from(c))));
    }
    if let Some(c) = value.chars().find(|&c| c != '\n' && !c.is_whitespace() && !crate::font::has_glyph(c)) {
        return Err(field_err(
            field,
            format!("contains {c:?} (U+{:04X}), which the licence font cannot print", u32::from(c)),
        ));
    }
    Ok(value.to_owned())
}

impl LicenceType {
    /// Checks `input` against this type; `today` is the issue date.
    pub fn check(&self, input: &LicenceInput, today: Date) -> Result<CheckedInput, FieldError> {
        let holder_name = check_text("holder.name", &input.holder.name, 1, MAX_HOLDER_NAME, false)?;
        let holder_code = self.check_holder_code(&input.holder)?;
        let fields = self.check_fields(&input.fields)?;
        let (valid_from, valid_until) = self.check_validity(input, today)?;
        let matter = match &input.matter {
            None => None,
            Some(m) => Some(MatterInput {
                code: check_text("matter.code", &m.code, 1, 64, false)?,
                name: check_text("matter.name", &m.name, 1, 100, false)?,
            }),
        };
        Ok(CheckedInput {
            holder_name,
            holder_code,
            holder_code_type: self.holder_code_type,
            valid_from,
            valid_until,
            matter,
            fields,
        })
    }

    /// The holder's code, normalised, after its code type (if given) and check character.
    fn check_holder_code(&self, holder: &HolderInput) -> Result<String, FieldError> {
        if let Some(ct) = &holder.code_type
            && ct != self.holder_code_type.code()
        {
            return Err(field_err(
                "holder.code_type",
                format!(
                    "{} holders are identified by {} ({}), not {ct:?}",
                    self.name,
                    self.holder_code_type.label(),
                    self.holder_code_type.code()
                ),
            ));
        }
        let code = holder.code.trim();
        match self.holder_code_type {
            HolderCodeType::Uscc => Uscc::parse(code).map(|c| c.as_str().to_owned()),
            HolderCodeType::CitizenId => CitizenId::parse(code).map(|c| c.expose().to_owned()),
        }
        .map_err(|e| field_err("holder.code", e.to_string()))
    }

    /// The type's fields, checked and normalised: none unknown, every required one given.
    fn check_fields(&self, given: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, FieldError> {
        for key in given.keys() {
            if self.field(key).is_none() {
                return Err(field_err(format!("fields.{key}"), format!("is not a field of {}", self.name)));
            }
        }
        let mut fields = BTreeMap::new();
        for def in &self.fields {
            let name = format!("fields.{}", def.key);
            let Some(raw) = given.get(&def.key).filter(|v| !v.trim().is_empty()) else {
                if def.required {
                    return Err(field_err(name, format!("{} is required", def.label)));
                }
                continue;
            };
            fields.insert(def.key.clone(), check_field(def, &name, raw)?);
        }
        Ok(fields)
    }

    /// First and last day of validity: the given or default ones, in order, not already past.
    fn check_validity(&self, input: &LicenceInput, today: Date) -> Result<(Date, Option<Date>), FieldError> {
        let valid_from = match &input.valid_from {
            Some(s) => parse_date("valid_from", s)?,
            None => today,
        };
        let valid_until = match (&input.valid_until, self.validity_years) {
            (Some(_), None) => {
                return Err(field_err(
                    "valid_until",
                    format!("{} is long-term (长期) and has no end date", self.name),
                ));
            }
            (Some(s), Some(_)) => Some(parse_date("valid_until", s)?),
            (None, Some(years)) => Some(add_years(valid_from, years) - Duration::days(1)),
            (None, None) => None,
        };
        if let Some(until) = valid_until
            && until < valid_from
        {
            return Err(field_err("valid_until", format!("{until} is before valid_from {valid_from}")));
        }
        if let Some(until) = valid_until
            && until < today
        {
            return Err(field_err(
                "valid_until",
                format!("{until} is already past (today is {today}): a licence cannot be issued expired"),
            ));
        }
        Ok((valid_from, valid_until))
    }
}

/// One field's value (`raw`, not blank), checked against its definition and normalised;
/// `name` is the field as errors name it.
fn check_field(def: &FieldDef, name: &str, raw: &str) -> Result<String, FieldError> {
    let multiline = def.kind == FieldKind::Multiline;
    let value = check_text(name, raw, def.min_chars, def.max_chars, multiline)?;
    let value = match def.kind {
        FieldKind::Text | FieldKind::Multiline => value,
        FieldKind::Date => parse_date(name, &value)?.to_string(),
        FieldKind::Uscc => Uscc::parse(&value).map_err(|e| field_err(name, e.to_string()))?.to_string(),
        FieldKind::CitizenId => {
            CitizenId::parse(&value).map_err(|e| field_err(name, e.to_string()))?.expose().to_owned()
        }
        FieldKind::Choice => {
            if !def.options.contains(&value) {
                return Err(field_err(name, format!("must be one of: {}", def.options.join("、"))));
            }
            value
        }
    };
    if let Some(re) = &def.regex
        && !re.is_match(&value)
    {
        let hint = def.pattern_hint.clone().unwrap_or_else(|| format!("must match {:?}", def.pattern));
        return Err(field_err(name, hint));
    }
    Ok(value)
}

/// The same day `years` later (29 February becomes 28 February).
fn add_years(date: Date, years: u32) -> Date {
    let year = date.year() + years as i32;
    Date::from_calendar_date(year, date.month(), date.day())
        .or_else(|_| Date::from_calendar_date(year, date.month(), date.day() - 1))
        .unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::licence::Catalogue;

    fn example(file: &str) -> LicenceInput {
        let path = format!("{}/templates/examples/{file}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn today() -> Date {
        Date::from_calendar_date(2026, time::Month::November, 22).unwrap()
    }

    #[test]
    fn every_shipped_example_passes_its_type() {
        let c = Catalogue::shipped().unwrap();
        for t in c.iter() {
            let checked = t.check(&example(&t.example), today()).unwrap();
            assert_eq!(checked.holder_code_type, t.holder_code_type);
            if let Some(years) = t.validity_years {
                assert_eq!(checked.valid_until.unwrap().year(), 2026 + years as i32);
            }
        }
    }

    fn food() -> (LicenceType, LicenceInput) {
        let c = Catalogue::shipped().unwrap();
        let t = c.iter().find(|t| t.name == "食品经营许可证").unwrap().clone();
        let input = example(&t.example);
        (t, input)
    }

    #[test]
    fn refusals_name_the_field() {
        let (t, good) = food();
        let mut i = good.clone();
        i.fields.insert("colour".into(), "red".into());
        assert_eq!(t.check(&i, today()).unwrap_err().field, "fields.colour");

        let mut i = good.clone();
        i.fields.remove("licence_no");
        assert_eq!(t.check(&i, today()).unwrap_err().field, "fields.licence_no");

        let mut i = good.clone();
        i.fields.insert("licence_no".into(), "AB123".into());
        let e = t.check(&i, today()).unwrap_err();
        assert_eq!(e.field, "fields.licence_no");

        let mut i = good.clone();
        i.fields.insert("business_items".into(), "食".repeat(2001));
        let e = t.check(&i, today()).unwrap_err();
        assert!(e.message.contains("at most"), "{e}");

        let mut i = good.clone();
        i.holder.code = "91310115MA1H7ABC2Y".into();
        let e = t.check(&i, today()).unwrap_err();
        assert_eq!(e.field, "holder.code");
        assert!(e.message.contains("expected"), "{e}");

        let mut i = good.clone();
        i.holder.code_type = Some("111".into());
        assert_eq!(t.check(&i, today()).unwrap_err().field, "holder.code_type");

        let mut i = good.clone();
        i.holder.name = "王\u{0007}".into();
        assert_eq!(t.check(&i, today()).unwrap_err().field, "holder.name");

        let mut i = good.clone();
        i.holder.name = "\u{E000}公司".into();
        assert!(t.check(&i, today()).unwrap_err().message.contains("cannot print"));

        let mut i = good;
        i.valid_until = Some("2020-01-01".into());
        assert_eq!(t.check(&i, today()).unwrap_err().field, "valid_until");
    }

    #[test]
    fn citizen_holders_and_long_term_types() {
        let c = Catalogue::shipped().unwrap();
        let t = c.iter().find(|t| t.holder_code_type == HolderCodeType::CitizenId).unwrap();
        let mut i = example(&t.example);
        let checked = t.check(&i, today()).unwrap();
        assert_eq!(checked.valid_until, None);
        i.valid_until = Some("2030-01-01".into());
        assert_eq!(t.check(&i, today()).unwrap_err().field, "valid_until");
        i.valid_until = None;
        i.holder.code = "11010519491231002Y".into();
        assert_eq!(t.check(&i, today()).unwrap_err().field, "holder.code");
    }

    #[test]
    fn a_validity_that_ended_before_today_is_refused() {
        let c = Catalogue::shipped().unwrap();
        let t = c.iter().find(|t| t.validity_years.is_some()).unwrap();
        let mut i = example(&t.example);
        i.valid_from = Some("2019-01-01".into());
        i.valid_until = Some("2020-01-01".into());
        let e = t.check(&i, today()).unwrap_err();
        assert_eq!(e.field, "valid_until");
        assert!(e.message.contains("already past"), "{e}");
        // Ending today is still valid today.
        i.valid_until = Some(today().to_string());
        assert!(t.check(&i, today()).is_ok());
    }

    #[test]
    fn leap_days_roll_back() {
        let d = Date::from_calendar_date(2028, time::Month::February, 29).unwrap();
        assert_eq!(add_years(d, 1).to_string(), "2029-02-28");
    }
}
