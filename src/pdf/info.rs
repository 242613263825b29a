//! The document information dictionary (`/Info`) of a licence PDF: the standard keys and
//! the catalogue metadata as custom keys, and the PDF date format.

use lopdf::{Dictionary, Object};
use time::OffsetDateTime;

use super::PdfError;
use super::writer::text_string;
use crate::layout::DocInfo;

/// Longest custom metadata value, in characters.
const MAX_META_VALUE: usize = 4096;

/// The `/Info` dictionary.
pub(super) fn info_dict(info: &DocInfo) -> Result<Dictionary, PdfError> {
    const STANDARD: [&str; 9] = [
        "Title",
        "Subject",
        "Author",
        "Keywords",
        "Creator",
        "Producer",
        "CreationDate",
        "ModDate",
        "Trapped",
    ];
    let mut d = Dictionary::new();
    d.set("Title", text_string(&info.title));
    d.set("Subject", text_string(&info.subject));
    d.set("Author", text_string(&info.author));
    if let Some(k) = &info.keywords {
        d.set("Keywords", text_string(k));
    }
    d.set("Creator", Object::string_literal("Zhengzhao"));
    d.set("Producer", Object::string_literal("Zhengzhao"));
    if let Some(t) = info.creation_date {
        d.set("CreationDate", Object::string_literal(pdf_date(t)));
        d.set("ModDate", Object::string_literal(pdf_date(t)));
    }
    for (key, value) in &info.custom {
        let ok = !key.is_empty()
            && key.len() <= 64
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
            && !STANDARD.contains(&key.as_str())
            && !d.has(key.as_bytes());
        if !ok {
            return Err(PdfError::BadMetadataKey(key.clone()));
        }
        let got = value.chars().count();
        if got > MAX_META_VALUE {
            return Err(PdfError::TooLong { what: "metadata value", max: MAX_META_VALUE, got });
        }
        d.set(key.as_str(), text_string(value));
    }
    Ok(d)
}

/// A PDF date string, `D:YYYYMMDDHHmmSS+HH'mm'`.
pub(crate) fn pdf_date(t: OffsetDateTime) -> String {
    let off = t.offset();
    let (h, m) = (off.whole_hours(), off.minutes_past_hour());
    let sign = if off.is_negative() { '-' } else { '+' };
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{sign}{:02}'{:02}'",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        h.unsigned_abs(),
        m.unsigned_abs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_carry_the_offset() {
        assert_eq!(pdf_date(time::macros::datetime!(2026-11-22 10:30:05 +08:00)), "D:20261122103005+08'00'");
        assert_eq!(pdf_date(time::macros::datetime!(2026-01-02 03:04:05 -05:30)), "D:20260102030405-05'30'");
    }
}
