//! The page of a licence: its type's layout filled from the record, and the PDF's
//! document information (catalogue metadata under stable keys, the QR token).

use time::{Date, OffsetDateTime};

use crate::licence::{FieldKind, LicenceRecord, LicenceType};
use crate::pdf::{DocInfo, LicencePage};

fn cn_date(d: Date) -> String {
    format!("{}年{:02}月{:02}日", d.year(), u8::from(d.month()), d.day())
}

fn cn_date_text(s: &str) -> String {
    crate::licence::parse_date("", s).map(cn_date).unwrap_or_else(|_| s.to_owned())
}

/// `licence_number` → `LicenceNumber`, for PDF document-information keys.
fn camel(key: &str) -> String {
    key.split('_')
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The page of a licence from its type's layout.
pub fn licence_page(t: &LicenceType, r: &LicenceRecord, url: &str, now: OffsetDateTime) -> LicencePage {
    let until = r.valid_until.as_deref().map_or_else(|| "长期".to_owned(), cn_date_text);
    let fields = t
        .layout
        .rows
        .iter()
        .filter_map(|row| {
            let (label, value) = match row.as_str() {
                "holder_name" => (t.holder_name_label.clone(), r.holder_name.clone()),
                "holder_code" => (t.holder_code_label.clone(), r.holder_code.clone()),
                "valid_from" => ("有效期起始".to_owned(), cn_date_text(&r.valid_from)),
                "valid_until" => ("有效期至".to_owned(), until.clone()),
                "validity" => {
                    ("有效期限".to_owned(), format!("自{}至{}", cn_date_text(&r.valid_from), until))
                }
                key => {
                    let def = t.field(key)?;
                    let value = r.fields.get(key)?;
                    let value = if def.kind == FieldKind::Date { cn_date_text(value) } else { value.clone() };
                    (def.label.clone(), value)
                }
            };
            Some((label, value))
        })
        .collect();
    let mut custom: Vec<(String, String)> = vec![
        ("Identifier".into(), r.identifier.clone()),
        ("LicenceNumber".into(), r.licence_number.clone()),
        ("TypeCode".into(), r.type_code.clone()),
        ("TypeName".into(), r.type_name.clone()),
        ("IssuerName".into(), r.issuer_name.clone()),
        ("IssuerCode".into(), r.issuer_code.clone()),
        ("DefinerName".into(), r.definer_name.clone()),
        ("DefinerCode".into(), r.definer_code.clone()),
        ("IssueDate".into(), r.issue_date.clone()),
        ("ValidFrom".into(), r.valid_from.clone()),
        ("ValidUntil".into(), r.valid_until.clone().unwrap_or_else(|| "长期".into())),
        ("AreaCode".into(), r.area_code.clone()),
        ("HolderName".into(), r.holder_name.clone()),
        ("HolderCode".into(), r.public_holder_code()),
        ("HolderCodeType".into(), r.holder_code_type.clone()),
        ("RecordHash".into(), hex::encode(r.hash())),
        // The QR token as in the URL after `/v/` (base32 has no `/`), for verifiers that
        // read the PDF rather than scan it.
        ("Token".into(), url.rsplit('/').next().unwrap_or_default().to_owned()),
    ];
    if let (Some(code), Some(name)) = (&r.matter_code, &r.matter_name) {
        custom.push((camel("matter_code"), code.clone()));
        custom.push((camel("matter_name"), name.clone()));
    }
    LicencePage {
        title: t.name.clone(),
        subtitle: Some(t.layout.subtitle.clone().unwrap_or_else(|| t.name_en.clone())),
        holder_lines: vec![],
        fields,
        issuer: r.issuer_name.clone(),
        issue_date: cn_date_text(&r.issue_date),
        identifier: r.identifier.clone(),
        identifier_caption: "电子证照标识".into(),
        qr_text: url.to_owned(),
        info: DocInfo {
            title: format!("{} {}", r.licence_name, r.licence_number),
            subject: r.type_name.clone(),
            author: r.issuer_name.clone(),
            keywords: Some(format!("电子证照; {}", r.identifier)),
            creation_date: Some(now),
            custom,
        },
    }
}
