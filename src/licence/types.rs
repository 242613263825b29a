//! Licence types: one TOML file per type under `templates/types/`, embedded in the binary.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::codes::{TypeCode, Uscc};

/// The licence types shipped with the platform: (file name, TOML text).
pub const SHIPPED_TYPES: &[(&str, &str)] = &[
    ("business-licence.toml", include_str!("../../templates/types/business-licence.toml")),
    ("food-business-licence.toml", include_str!("../../templates/types/food-business-licence.toml")),
    ("fire-safety-inspection.toml", include_str!("../../templates/types/fire-safety-inspection.toml")),
    ("drainage-permit.toml", include_str!("../../templates/types/drainage-permit.toml")),
    ("outdoor-sign-permit.toml", include_str!("../../templates/types/outdoor-sign-permit.toml")),
    ("teacher-qualification.toml", include_str!("../../templates/types/teacher-qualification.toml")),
];

/// Built-in row keys a layout may name besides the type's own fields.
pub const BUILTIN_ROWS: &[&str] = &["holder_name", "holder_code", "valid_from", "valid_until", "validity"];

/// 持证主体代码类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolderCodeType {
    /// `001` 统一社会信用代码.
    Uscc,
    /// `111` 公民身份号码.
    CitizenId,
}

impl HolderCodeType {
    /// The three-digit national code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Uscc => "001",
            Self::CitizenId => "111",
        }
    }

    /// Parses `001` or `111`.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "001" => Some(Self::Uscc),
            "111" => Some(Self::CitizenId),
            _ => None,
        }
    }

    /// The Chinese name of the code type.
    pub fn label(self) -> &'static str {
        match self {
            Self::Uscc => "统一社会信用代码",
            Self::CitizenId => "公民身份号码",
        }
    }
}

/// What a field holds and how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// Text that may span lines (e.g. 经营范围).
    Multiline,
    /// A date, `YYYY-MM-DD`; shown as `2026年11月22日`.
    Date,
    /// A 统一社会信用代码, check character verified.
    Uscc,
    /// A 公民身份号码, check character verified; shown masked in public.
    CitizenId,
    /// One of the listed `options`.
    Choice,
}

/// One field of a licence type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Stable English key used in input, records and APIs.
    pub key: String,
    /// Chinese label printed on the licence.
    pub label: String,
    /// English label.
    #[serde(default)]
    pub label_en: Option<String>,
    /// Kind of value.
    pub kind: FieldKind,
    /// Whether input must give it.
    #[serde(default)]
    pub required: bool,
    /// Longest value in characters.
    #[serde(default = "default_max_chars")]
    pub max_chars: usize,
    /// Shortest value in characters.
    #[serde(default)]
    pub min_chars: usize,
    /// A regular expression the whole value must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Human description of the pattern, for error messages.
    #[serde(default)]
    pub pattern_hint: Option<String>,
    /// Allowed values of a `choice`.
    #[serde(default)]
    pub options: Vec<String>,
    /// Whether public surfaces (the verification page, `POST /api/v1/verify`) show the
    /// field. Omitted: public for types held by organisations (`001`), NOT public for types
    /// held by persons (`111`), whose birth date and sex would fill the masked digits of the
    /// 公民身份号码. See [`LicenceType::is_public`].
    #[serde(default)]
    pub public: Option<bool>,
    #[serde(skip)]
    pub(crate) regex: Option<regex::Regex>,
}

fn default_max_chars() -> usize {
    100
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeFile {
    code: String,
    name: String,
    name_en: String,
    definer_name: String,
    holder_code_type: String,
    holder_name_label: String,
    holder_code_label: String,
    #[serde(default)]
    number_field: Option<String>,
    #[serde(default)]
    validity_years: Option<u32>,
    example: String,
    fields: Vec<FieldDef>,
    layout: Layout,
}

/// How the type's page is laid out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Line under the title (defaults to the English name). The title itself is always
    /// the type's `name`, so that the page and the register name the licence alike.
    #[serde(default)]
    pub subtitle: Option<String>,
    /// Rows in order: field keys or built-ins (`holder_name`, `holder_code`,
    /// `valid_from`, `valid_until`, `validity`).
    pub rows: Vec<String>,
}

/// A licence type: code, names, holder kind, fields, validity and layout.
#[derive(Debug, Clone)]
pub struct LicenceType {
    /// 证照类型代码.
    pub code: TypeCode,
    /// 证照类型名称.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// 证照定义机构代码 (the first 18 characters of the type code).
    pub definer_code: Uscc,
    /// 证照定义机构.
    pub definer_name: String,
    /// Kind of holder code.
    pub holder_code_type: HolderCodeType,
    /// Label of the holder's name on the page (e.g. 经营者名称).
    pub holder_name_label: String,
    /// Label of the holder's code on the page.
    pub holder_code_label: String,
    /// The field that holds the 证照编号, if the type has its own numbering.
    pub number_field: Option<String>,
    /// Default validity in years; `None` is long-term (长期).
    pub validity_years: Option<u32>,
    /// File name of the example input under `templates/examples/`.
    pub example: String,
    /// The fields.
    pub fields: Vec<FieldDef>,
    /// The page layout.
    pub layout: Layout,
}

/// Why a type file is unusable.
#[derive(Debug, thiserror::Error)]
#[error("licence type file {file}: {message}")]
pub struct TypeError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

impl LicenceType {
    /// Parses and checks one type file.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, TypeError> {
        let err = |message: String| TypeError { file: file.to_owned(), message };
        let raw: TypeFile = toml::from_str(text).map_err(|e| err(e.message().to_owned()))?;
        let code = TypeCode::parse(&raw.code).map_err(|e| err(e.to_string()))?;
        let definer_code = Uscc::parse(code.definer()).map_err(|e| err(e.to_string()))?;
        let holder_code_type = HolderCodeType::from_code(&raw.holder_code_type).ok_or_else(|| {
            err(format!("holder_code_type {:?} is neither 001 nor 111", raw.holder_code_type))
        })?;
        let mut fields = raw.fields;
        let mut keys = BTreeSet::new();
        for f in &mut fields {
            if !f.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                return Err(err(format!("field key {:?} must be snake_case ASCII", f.key)));
            }
            if BUILTIN_ROWS.contains(&f.key.as_str()) || !keys.insert(f.key.clone()) {
                return Err(err(format!("field key {:?} is duplicated or reserved", f.key)));
            }
            if f.kind == FieldKind::Choice && f.options.is_empty() {
                return Err(err(format!("choice field {:?} has no options", f.key)));
            }
            if let Some(p) = &f.pattern {
                let anchored = format!("^(?:{p})$");
                f.regex =
                    Some(regex::Regex::new(&anchored).map_err(|e| err(format!("field {:?}: {e}", f.key)))?);
            }
        }
        if let Some(n) = &raw.number_field
            && !keys.contains(n)
        {
            return Err(err(format!("number_field {n:?} is not a field")));
        }
        for row in &raw.layout.rows {
            if !keys.contains(row) && !BUILTIN_ROWS.contains(&row.as_str()) {
                return Err(err(format!("layout row {row:?} is neither a field nor a built-in")));
            }
        }
        if raw.validity_years == Some(0) {
            return Err(err("validity_years must be at least 1; omit it for long-term".into()));
        }
        Ok(Self {
            code,
            name: raw.name,
            name_en: raw.name_en,
            definer_code,
            definer_name: raw.definer_name,
            holder_code_type,
            holder_name_label: raw.holder_name_label,
            holder_code_label: raw.holder_code_label,
            number_field: raw.number_field,
            validity_years: raw.validity_years,
            example: raw.example,
            fields,
            layout: raw.layout,
        })
    }

    /// The field with `key`.
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Whether public surfaces may show `field`: as its type file says, else public only
    /// for organisations' licences (a person's fields are private unless marked public).
    pub fn is_public(&self, field: &FieldDef) -> bool {
        field.public.unwrap_or(self.holder_code_type == HolderCodeType::Uscc)
    }
}

/// All licence types the platform knows, by code.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    types: BTreeMap<String, LicenceType>,
}

impl Catalogue {
    /// The shipped types.
    pub fn shipped() -> Result<Self, TypeError> {
        Self::from_sources(SHIPPED_TYPES.iter().copied())
    }

    /// Types from (file name, TOML text) pairs; duplicate codes are refused.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, TypeError> {
        let mut types = BTreeMap::new();
        for (file, text) in sources {
            let t = LicenceType::from_toml(file, text)?;
            let code = t.code.as_str().to_owned();
            if types.insert(code.clone(), t).is_some() {
                return Err(TypeError {
                    file: file.to_owned(),
                    message: format!("type code {code} is defined twice"),
                });
            }
        }
        Ok(Self { types })
    }

    /// One type.
    pub fn get(&self, code: &str) -> Option<&LicenceType> {
        self.types.get(code)
    }

    /// All types, by code.
    pub fn iter(&self) -> impl Iterator<Item = &LicenceType> {
        self.types.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_types_load() {
        let c = Catalogue::shipped().unwrap();
        let names: Vec<&str> = c.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names.len(), 6, "{names:?}");
        for t in c.iter() {
            assert_eq!(t.definer_code.as_str(), t.code.definer());
            assert!(!t.layout.rows.is_empty());
        }
        assert!(c.iter().any(|t| t.holder_code_type == HolderCodeType::CitizenId));
    }

    #[test]
    fn bad_type_files_are_refused_with_the_reason() {
        let good = SHIPPED_TYPES[1].1;
        let bad_code = good.replacen("code = \"11100000000013338W", "code = \"11100000000013338X", 1);
        assert!(LicenceType::from_toml("x", &bad_code).unwrap_err().to_string().contains("check character"));
        let unknown_key = format!("{good}\nsurprise = 1\n");
        assert!(LicenceType::from_toml("x", &unknown_key).is_err());
        let bad_row = good.replacen("rows = [", "rows = [\"nonexistent\", ", 1);
        assert!(LicenceType::from_toml("x", &bad_row).unwrap_err().to_string().contains("nonexistent"));
        let twice = [("a", good), ("b", good)];
        assert!(Catalogue::from_sources(twice).unwrap_err().to_string().contains("twice"));
    }
}
