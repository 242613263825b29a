//! One source record of a bulk import, parsed from a JSONL line or from a CSV row through
//! a column mapping. No I/O: the reader (`reader.rs`) hands lines in, and a bad line is an
//! [`ImportErrorLine`] with its number, its source id if it was read, and the reason.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::Date;
use time::macros::format_description;

use crate::licence::{DocumentKind, HolderInput, LicenceInput, MatterInput};
use crate::store::ImportErrorLine;

use super::super::issuing::BulkItem;

/// Longest source id, in bytes.
pub const MAX_SOURCE_ID: usize = 128;

/// A record read from the input: its line, its source id and what to issue.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    /// Line number, from 1.
    pub line: u64,
    /// The source system's record id: the idempotency key within the import source.
    pub source_id: String,
    /// The licence to issue.
    pub item: BulkItem,
}

/// A JSONL line: the issuing API's body plus `source_id` and `issued_on`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLine {
    source_id: String,
    seal_id: String,
    #[serde(default)]
    ofd_seal_id: Option<String>,
    type_code: String,
    licence: LicenceInput,
    #[serde(default)]
    document: Option<DocumentKind>,
    #[serde(default)]
    issued_on: Option<String>,
}

/// Only the source id of a line that failed to parse, for the error file.
#[derive(Debug, Deserialize)]
struct SourceIdOnly {
    #[serde(default)]
    source_id: Option<serde_json::Value>,
}

fn line_error(line: u64, source_id: Option<String>, reason: impl Into<String>) -> ImportErrorLine {
    ImportErrorLine { line, source_id, reason: reason.into() }
}

/// A source id as given: 1 to [`MAX_SOURCE_ID`] bytes without control characters.
fn source_id(text: &str) -> Result<String, String> {
    let id = text.trim();
    if id.is_empty() || id.len() > MAX_SOURCE_ID || id.chars().any(char::is_control) {
        return Err(format!("source_id must be 1–{MAX_SOURCE_ID} bytes without control characters"));
    }
    Ok(id.to_owned())
}

/// An `issued_on` date, `YYYY-MM-DD`.
fn issued_on(text: &str) -> Result<Date, String> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|e| format!("issued_on {:?} is not a YYYY-MM-DD date: {e}", text.trim()))
}

/// Parses JSONL line number `line`.
pub fn parse_json_line(line: u64, text: &str) -> Result<SourceRecord, ImportErrorLine> {
    let parsed: JsonLine = serde_json::from_str(text).map_err(|e| {
        let id = serde_json::from_str::<SourceIdOnly>(text)
            .ok()
            .and_then(|s| s.source_id)
            .and_then(|v| v.as_str().map(str::to_owned))
            .and_then(|s| source_id(&s).ok());
        line_error(line, id, format!("not a licence line: {e}"))
    })?;
    let id = source_id(&parsed.source_id).map_err(|e| line_error(line, None, e))?;
    let issued = match &parsed.issued_on {
        Some(text) => Some(issued_on(text).map_err(|e| line_error(line, Some(id.clone()), e))?),
        None => None,
    };
    Ok(SourceRecord {
        line,
        source_id: id,
        item: BulkItem {
            seal_id: parsed.seal_id,
            ofd_seal_id: parsed.ofd_seal_id,
            type_code: parsed.type_code,
            input: parsed.licence,
            document: parsed.document.unwrap_or_default(),
            issued_on: issued,
        },
    })
}

/// A CSV column mapping (a TOML file): fixed values for the whole file, and which column
/// (by its header) feeds each part of a record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvMapping {
    /// The licence type of every row.
    pub type_code: String,
    /// The seal of every row, unless a `seal_id` column is mapped.
    #[serde(default)]
    pub seal_id: Option<String>,
    /// For `document = "both"`: the SM2 seal that signs the OFD.
    #[serde(default)]
    pub ofd_seal_id: Option<String>,
    /// The document of every row (default `pdf`).
    #[serde(default)]
    pub document: Option<DocumentKind>,
    /// The field delimiter (default `,`).
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Target → column header. Targets: `source_id` (required), `seal_id`, `issued_on`,
    /// `holder.name`, `holder.code`, `holder.code_type`, `valid_from`, `valid_until`,
    /// `matter.code`, `matter.name`, `fields.KEY`.
    pub columns: BTreeMap<String, String>,
}

/// Where a mapped column's value goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    SourceId,
    SealId,
    IssuedOn,
    HolderName,
    HolderCode,
    HolderCodeType,
    ValidFrom,
    ValidUntil,
    MatterCode,
    MatterName,
    Field(String),
}

impl Target {
    fn of(key: &str) -> Result<Self, String> {
        Ok(match key {
            "source_id" => Self::SourceId,
            "seal_id" => Self::SealId,
            "issued_on" => Self::IssuedOn,
            "holder.name" => Self::HolderName,
            "holder.code" => Self::HolderCode,
            "holder.code_type" => Self::HolderCodeType,
            "valid_from" => Self::ValidFrom,
            "valid_until" => Self::ValidUntil,
            "matter.code" => Self::MatterCode,
            "matter.name" => Self::MatterName,
            other => match other.strip_prefix("fields.") {
                Some(k) if !k.is_empty() => Self::Field(k.to_owned()),
                _ => return Err(format!("unknown mapping target {other:?}")),
            },
        })
    }
}

/// A mapping resolved against a file's header row.
#[derive(Debug, Clone)]
pub struct CsvPlan {
    mapping: CsvMapping,
    delimiter: u8,
    width: usize,
    targets: Vec<(Target, usize)>,
}

impl CsvPlan {
    /// Resolves `mapping` against the header line: every mapped column must be there,
    /// `source_id` and the holder's name and code mapped, and the seal given or mapped.
    pub fn new(mapping: CsvMapping, header: &str) -> Result<Self, String> {
        let delimiter = match mapping.delimiter {
            None => b',',
            Some(c) if c.is_ascii() && c != '"' && c != '\n' => c as u8,
            Some(c) => return Err(format!("delimiter {c:?}: use one ASCII character other than a quote")),
        };
        let headers = split_row(header, delimiter)?;
        let mut targets = Vec::new();
        for (key, column) in &mapping.columns {
            let target = Target::of(key)?;
            let index = headers
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == column.as_str())
                .ok_or_else(|| format!("column {column:?} (mapped to {key}) is not in the header row"))?;
            targets.push((target, index));
        }
        for (needed, name) in [
            (Target::SourceId, "source_id"),
            (Target::HolderName, "holder.name"),
            (Target::HolderCode, "holder.code"),
        ] {
            if !targets.iter().any(|(t, _)| *t == needed) {
                return Err(format!("the mapping must name the column of {name}"));
            }
        }
        let seal_mapped = targets.iter().any(|(t, _)| *t == Target::SealId);
        if mapping.seal_id.is_some() == seal_mapped {
            return Err("give seal_id either as a fixed value or as a column, not both or neither".into());
        }
        Ok(Self { mapping, delimiter, width: headers.len(), targets })
    }

    /// Parses CSV record (line) number `line`.
    pub fn parse_row(&self, line: u64, text: &str) -> Result<SourceRecord, ImportErrorLine> {
        let cells = split_row(text, self.delimiter).map_err(|e| line_error(line, None, e))?;
        let id_cell =
            self.targets.iter().find(|(t, _)| *t == Target::SourceId).and_then(|(_, i)| cells.get(*i));
        let known_id = id_cell.and_then(|c| source_id(c).ok());
        if cells.len() != self.width {
            return Err(line_error(
                line,
                known_id,
                format!("{} columns where the header has {}", cells.len(), self.width),
            ));
        }
        let id = source_id(id_cell.map_or("", String::as_str)).map_err(|e| line_error(line, None, e))?;
        let fail = |e: String| line_error(line, Some(id.clone()), e);
        let mut holder = HolderInput { name: String::new(), code: String::new(), code_type: None };
        let mut input = LicenceInput {
            holder: holder.clone(),
            valid_from: None,
            valid_until: None,
            matter: None,
            fields: BTreeMap::new(),
        };
        let (mut seal_id, mut issued, mut matter) = (self.mapping.seal_id.clone(), None, (None, None));
        for (target, index) in &self.targets {
            let value = cells[*index].trim();
            let given = (!value.is_empty()).then(|| value.to_owned());
            match target {
                Target::SourceId => {}
                Target::SealId => seal_id = given,
                Target::IssuedOn => issued = given.as_deref().map(issued_on).transpose().map_err(fail)?,
                Target::HolderName => holder.name = value.to_owned(),
                Target::HolderCode => holder.code = value.to_owned(),
                Target::HolderCodeType => holder.code_type = given,
                Target::ValidFrom => input.valid_from = given,
                Target::ValidUntil => input.valid_until = given,
                Target::MatterCode => matter.0 = given,
                Target::MatterName => matter.1 = given,
                Target::Field(key) => {
                    if let Some(v) = given {
                        input.fields.insert(key.clone(), v);
                    }
                }
            }
        }
        input.holder = holder;
        input.matter = match matter {
            (None, None) => None,
            (Some(code), Some(name)) => Some(MatterInput { code, name }),
            _ => return Err(fail("matter.code and matter.name go together".into())),
        };
        let seal_id = seal_id.ok_or_else(|| fail("the seal_id column is empty".into()))?;
        Ok(SourceRecord {
            line,
            source_id: id,
            item: BulkItem {
                seal_id,
                ofd_seal_id: self.mapping.ofd_seal_id.clone(),
                type_code: self.mapping.type_code.clone(),
                input,
                document: self.mapping.document.unwrap_or_default(),
                issued_on: issued,
            },
        })
    }
}

/// The cells of one CSV line (RFC 4180 quoting; a quoted cell does not span lines).
fn split_row(text: &str, delimiter: u8) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Ok(record.iter().map(str::to_owned).collect()),
        Ok(false) => Ok(Vec::new()),
        Err(e) => Err(format!("not a CSV row: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &str =
        r#"{"holder":{"name":"某某公司","code":"91370406L24894136J"},"fields":{"licence_no":"JY1"}}"#;

    #[test]
    fn a_json_line_reads_its_source_id_and_date() {
        let text = format!(
            r#"{{"source_id":" A-1 ","seal_id":"s","type_code":"t","licence":{FIELDS},"issued_on":"2019-03-04"}}"#
        );
        let r = parse_json_line(7, &text).unwrap();
        assert_eq!((r.line, r.source_id.as_str()), (7, "A-1"));
        assert_eq!(r.item.issued_on, Some(time::macros::date!(2019 - 03 - 04)));
        assert_eq!(r.item.document, DocumentKind::Pdf);
    }

    #[test]
    fn a_bad_json_line_names_its_source_id_when_it_can() {
        let e = parse_json_line(3, r#"{"source_id":"B-2","seal_id":1}"#).unwrap_err();
        assert_eq!((e.line, e.source_id.as_deref()), (3, Some("B-2")));
        let e = parse_json_line(4, "\u{0}\u{1}garbage").unwrap_err();
        assert_eq!((e.line, e.source_id), (4, None));
        let deep = "[".repeat(10_000);
        assert!(parse_json_line(5, &deep).unwrap_err().reason.contains("not a licence line"));
        let text = format!(
            r#"{{"source_id":"C","seal_id":"s","type_code":"t","licence":{FIELDS},"issued_on":"x"}}"#
        );
        assert!(parse_json_line(6, &text).unwrap_err().reason.contains("issued_on"));
    }

    fn mapping() -> CsvMapping {
        toml::from_str(
            r#"
type_code = "T"
seal_id = "seal-1"
[columns]
source_id = "编号"
"holder.name" = "名称"
"holder.code" = "代码"
"fields.licence_no" = "许可证号"
issued_on = "发证日期"
"#,
        )
        .unwrap()
    }

    #[test]
    fn a_csv_row_maps_its_columns() {
        let plan = CsvPlan::new(mapping(), "\u{feff}编号,名称,代码,许可证号,发证日期").unwrap();
        let r = plan.parse_row(2, "X1,\"某某, 公司\",91370406L24894136J,JY1,2018-01-02").unwrap();
        assert_eq!(r.source_id, "X1");
        assert_eq!(r.item.input.holder.name, "某某, 公司");
        assert_eq!(r.item.input.fields.get("licence_no").map(String::as_str), Some("JY1"));
        assert_eq!(r.item.seal_id, "seal-1");
        let e = plan.parse_row(3, "X2,a,b").unwrap_err();
        assert_eq!((e.line, e.source_id.as_deref()), (3, Some("X2")));
        assert!(e.reason.contains("3 columns"));
    }

    #[test]
    fn a_mapping_must_fit_the_header() {
        assert!(CsvPlan::new(mapping(), "编号,名称,代码").unwrap_err().contains("许可证号"));
        let mut m = mapping();
        m.columns.insert("nonsense".into(), "编号".into());
        assert!(
            CsvPlan::new(m, "编号,名称,代码,许可证号,发证日期")
                .unwrap_err()
                .contains("unknown mapping target")
        );
    }
}
