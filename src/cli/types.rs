//! `zhengzhao types list [--json]`: the licence types, as a table aligned by display width
//! (a Chinese character takes two columns) or as JSON an input form can be built from.

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;
use zhengzhao::licence::{Catalogue, FieldDef, FieldKind, LicenceType};

use super::output::write_json;

/// Licence types.
#[derive(Debug, Subcommand)]
pub enum TypesCommand {
    /// List the licence types.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `types` subcommand.
pub fn run(cmd: TypesCommand, out: &mut impl Write) -> Result<()> {
    let TypesCommand::List { json } = cmd;
    let catalogue = Catalogue::shipped()?;
    if json {
        write_json(out, &catalogue.iter().map(TypeView::from).collect::<Vec<_>>())
    } else {
        print_table(&catalogue, out)
    }
}

/// `text` padded with spaces to `width` display columns.
fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(fill))
}

/// The licence types as a table whose columns line up on a terminal.
fn print_table(catalogue: &Catalogue, out: &mut impl Write) -> Result<()> {
    let header =
        ["代码 code", "名称 name", "name (en)", "持证主体 holder", "有效期 validity", "示例 example"];
    let mut rows: Vec<[String; 6]> = vec![header.map(str::to_owned)];
    for t in catalogue.iter() {
        rows.push([
            t.code.to_string(),
            t.name.clone(),
            t.name_en.clone(),
            format!("{} {}", t.holder_code_type.code(), t.holder_code_type.label()),
            t.validity_years.map_or_else(|| "长期 long-term".to_owned(), |y| format!("{y} 年 years")),
            format!("templates/examples/{}", t.example),
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, w)| pad(cell, w)).collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

/// A licence type in `types list --json`: with each field's kind, limits and options,
/// and the input keys outside `fields`.
#[derive(Debug, Serialize)]
struct TypeView<'a> {
    code: &'a str,
    name: &'a str,
    name_en: &'a str,
    definer_code: &'a str,
    definer_name: &'a str,
    holder_code_type: &'static str,
    holder_code_type_label: &'static str,
    holder_name_label: &'a str,
    holder_code_label: &'a str,
    validity_years: Option<u32>,
    example: String,
    input: InputKeys,
    fields: Vec<FieldView<'a>>,
}

/// The input keys outside `fields`, with what they take.
#[derive(Debug, Serialize)]
struct InputKeys {
    valid_from: &'static str,
    valid_until: String,
}

/// A field of a licence type in `types list --json`.
#[derive(Debug, Serialize)]
struct FieldView<'a> {
    key: &'a str,
    label: &'a str,
    label_en: Option<&'a str>,
    kind: &'static str,
    required: bool,
    min_chars: usize,
    max_chars: usize,
    pattern: Option<&'a str>,
    pattern_hint: Option<&'a str>,
    options: &'a [String],
}

impl<'a> From<&'a LicenceType> for TypeView<'a> {
    fn from(t: &'a LicenceType) -> Self {
        Self {
            code: t.code.as_str(),
            name: &t.name,
            name_en: &t.name_en,
            definer_code: t.definer_code.as_str(),
            definer_name: &t.definer_name,
            holder_code_type: t.holder_code_type.code(),
            holder_code_type_label: t.holder_code_type.label(),
            holder_name_label: &t.holder_name_label,
            holder_code_label: &t.holder_code_label,
            validity_years: t.validity_years,
            example: format!("templates/examples/{}", t.example),
            input: InputKeys {
                valid_from: "YYYY-MM-DD, optional; default: the issue date",
                valid_until: match t.validity_years {
                    Some(y) => format!("YYYY-MM-DD, optional; default: valid_from + {y} years - 1 day"),
                    None => "not allowed: the type is long-term (长期)".to_owned(),
                },
            },
            fields: t.fields.iter().map(FieldView::from).collect(),
        }
    }
}

impl<'a> From<&'a FieldDef> for FieldView<'a> {
    fn from(f: &'a FieldDef) -> Self {
        Self {
            key: &f.key,
            label: &f.label,
            label_en: f.label_en.as_deref(),
            kind: kind_word(f.kind),
            required: f.required,
            min_chars: f.min_chars,
            max_chars: f.max_chars,
            pattern: f.pattern.as_deref(),
            pattern_hint: f.pattern_hint.as_deref(),
            options: &f.options,
        }
    }
}

fn kind_word(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "text",
        FieldKind::Multiline => "multiline",
        FieldKind::Date => "date",
        FieldKind::Uscc => "uscc",
        FieldKind::CitizenId => "citizen_id",
        FieldKind::Choice => "choice",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_counts_chinese_characters_as_two_columns() {
        assert_eq!(pad("教师", 6), "教师  ");
        assert_eq!(pad("ab", 6), "ab    ");
        assert_eq!(pad("教师资格证书", 6), "教师资格证书");
    }
}
