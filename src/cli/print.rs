//! What the command line prints for people: the verification report in the same bilingual
//! words as the verification page, the licence-type table aligned by display width (a
//! Chinese character takes two columns), the licence types as JSON a form can be built
//! from, and the quiet exit on a closed pipe.

use std::io::Write;

use anyhow::Result;
use serde_json::{Value, json};
use unicode_width::UnicodeWidthStr;
use zhengzhao::licence::{Catalogue, FieldKind};
use zhengzhao::verify::{Mode, Outcome, Report, Subject};

/// Whether `error` comes from writing to a pipe whose reader has gone (`… | head -1`).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn subject_words(subject: Subject) -> &'static str {
    match subject {
        Subject::Token => "二维码 QR token",
        Subject::Pdf => "PDF 文件 PDF file",
        Subject::Identifier => "证照标识 identifier",
    }
}

fn mode_words(mode: Mode) -> &'static str {
    match mode {
        Mode::Online => "在线核验 online",
        Mode::Offline => "离线核验 offline",
    }
}

/// The report: verdict, licence, seal, then one line per check with the page's mark,
/// Chinese and English title and message, and the stable code.
pub fn print_report(report: &Report, out: &mut impl Write) -> Result<()> {
    writeln!(
        out,
        "{} {} · {} · {}",
        report.verdict.label_zh(),
        report.verdict.label_en(),
        subject_words(report.subject),
        mode_words(report.mode)
    )?;
    if let Some(l) = &report.licence {
        if let Some(name) = &l.type_name {
            writeln!(out, "证照名称 Licence:      {name}")?;
        }
        writeln!(out, "证照标识 Identifier:   {}", l.identifier)?;
        writeln!(out, "持证主体 Holder:       {} ({})", l.holder_name, l.holder_code_masked)?;
        writeln!(
            out,
            "有效期 Valid:          {} 至 to {}",
            l.valid_from,
            l.valid_until.as_deref().unwrap_or("长期 no end date")
        )?;
        if let Some(status) = &l.status_label {
            let since = l.status_since.as_deref().map_or_else(String::new, |t| format!(" (since {t})"));
            let newer = l
                .superseded_by
                .as_deref()
                .map_or_else(String::new, |n| format!("; 已被取代 superseded by {n}"));
            writeln!(out, "证照状态 Status:       {status}{since}{newer}")?;
        }
    }
    if let Some(seal) = &report.seal {
        writeln!(out, "签章 Seal:             {} 「{}」 ({})", seal.department_name, seal.name, seal.id)?;
    }
    writeln!(out, "核验项目 Checks:")?;
    for c in &report.checks {
        let mark = match c.outcome {
            Outcome::Passed => "✓",
            Outcome::Failed => "✗",
            Outcome::NotChecked => "?",
        };
        writeln!(
            out,
            "  {mark} {} {}: {} / {}  [{}]",
            c.title_zh, c.title_en, c.message_zh, c.message_en, c.code
        )?;
    }
    Ok(())
}

/// `text` padded with spaces to `width` display columns.
fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(fill))
}

/// The licence types as a table whose columns line up on a terminal.
pub fn print_types_table(catalogue: &Catalogue, out: &mut impl Write) -> Result<()> {
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

/// The licence types as JSON, with each field's kind, limits and options, and the input
/// keys outside `fields`, so that an input form can be built from it.
pub fn types_json(catalogue: &Catalogue) -> Value {
    let types: Vec<Value> = catalogue
        .iter()
        .map(|t| {
            json!({
                "code": t.code.as_str(), "name": t.name, "name_en": t.name_en,
                "definer_code": t.definer_code.as_str(), "definer_name": t.definer_name,
                "holder_code_type": t.holder_code_type.code(),
                "holder_code_type_label": t.holder_code_type.label(),
                "holder_name_label": t.holder_name_label,
                "holder_code_label": t.holder_code_label,
                "validity_years": t.validity_years,
                "example": format!("templates/examples/{}", t.example),
                "input": {
                    "valid_from": "YYYY-MM-DD, optional; default: the issue date",
                    "valid_until": match t.validity_years {
                        Some(y) => format!("YYYY-MM-DD, optional; default: valid_from + {y} years - 1 day"),
                        None => "not allowed: the type is long-term (长期)".to_owned(),
                    },
                },
                "fields": t.fields.iter().map(|f| json!({
                    "key": f.key, "label": f.label, "label_en": f.label_en,
                    "kind": kind_word(f.kind), "required": f.required,
                    "min_chars": f.min_chars, "max_chars": f.max_chars,
                    "pattern": f.pattern, "pattern_hint": f.pattern_hint,
                    "options": f.options,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Value::Array(types)
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
