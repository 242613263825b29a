//! What of a licence public surfaces (the verification page, `POST /api/v1/verify`) may
//! show: the fields its type marks public, personal codes masked, and never a value that
//! would fill the masked digits of the holder's 公民身份号码.

use super::{FieldKind, LicenceRecord, LicenceType};
use crate::codes::mask;

/// The licence's public fields as (label, value), in the type's field order.
///
/// A field is shown when its type marks it public ([`LicenceType::is_public`]); a
/// 公民身份号码 field is masked; and for a holder of type `111` a value that reveals the
/// holder's birth date or the masked digits is left out even if marked public (a type
/// file's mistake must not disclose an identity number).
pub fn public_fields(t: &LicenceType, record: &LicenceRecord) -> Vec<(String, String)> {
    t.fields
        .iter()
        .filter(|def| t.is_public(def))
        .filter_map(|def| {
            let value = record.fields.get(&def.key)?;
            if record.holder_code_type == "111" && reveals_citizen_digits(value, &record.holder_code) {
                return None;
            }
            let shown = if def.kind == FieldKind::CitizenId { mask(value, 3, 4) } else { value.clone() };
            Some((def.label.clone(), shown))
        })
        .collect()
}

/// Whether `value` carries what the masked part of the 公民身份号码 `id` hides: the whole
/// number, its 11 masked characters, or its birth date written as `19900307`, `1990-03-07`,
/// `1990年3月7日`, `900307` or similar (digits compared with separators removed).
pub fn reveals_citizen_digits(value: &str, id: &str) -> bool {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let Some(hidden) = id.get(3..14) else {
        return false;
    };
    let Some(birth) = id.get(6..14) else {
        return false;
    };
    let (year, month, day) = (&birth[..4], &birth[4..6], &birth[6..]);
    let unpadded = format!("{year}{}{}", month.trim_start_matches('0'), day.trim_start_matches('0'));
    let short = &birth[2..];
    value.contains(id)
        || digits.contains(hidden)
        || digits.contains(birth)
        || digits.contains(&unpadded)
        || digits.contains(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "310115199003071239";

    fn teacher(toml: &str) -> (LicenceType, LicenceRecord) {
        let t = LicenceType::from_toml("teacher", toml).unwrap();
        let fields = [
            ("sex", "女"),
            ("birth_date", "1990-03-07"),
            ("qualification", "高级中学教师资格"),
            ("subject", "数学"),
            ("certificate_no", "20233100142000123"),
        ];
        let record = LicenceRecord {
            identifier: "1.2.156.3005.2.11100000000013338W003.11310115MB2C90510L.20260000001.001.I".into(),
            licence_name: t.name.clone(),
            licence_number: "20233100142000123".into(),
            type_code: t.code.as_str().into(),
            type_name: t.name.clone(),
            issuer_code: "11310115MB2C90510L".into(),
            issuer_name: "演示市市场监督管理局".into(),
            definer_code: "11100000000013338W".into(),
            definer_name: t.definer_name.clone(),
            area_code: "310115".into(),
            issue_date: "2026-11-26".into(),
            valid_from: "2026-11-26".into(),
            valid_until: None,
            holder_name: "陈晓燕".into(),
            holder_code: ID.into(),
            holder_code_type: "111".into(),
            matter_code: None,
            matter_name: None,
            fields: fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            seal_id: "31011500000001".into(),
            version: 1,
            replaces: None,
        };
        (t, record)
    }

    #[test]
    fn only_public_fields_and_never_the_birth_date() {
        let shipped = crate::licence::SHIPPED_TYPES.iter().find(|(f, _)| f.starts_with("teacher")).unwrap().1;
        let (t, r) = teacher(shipped);
        let labels: Vec<String> = public_fields(&t, &r).into_iter().map(|(l, _)| l).collect();
        assert_eq!(labels, ["资格种类", "任教学科", "证书号码"]);
        // A type file that marks the birth date public still does not show it; sex it does.
        let careless = shipped.replace("public = false", "public = true");
        let (t, r) = teacher(&careless);
        let shown = public_fields(&t, &r);
        assert!(shown.iter().all(|(l, v)| l != "出生日期" && !v.contains("1990")), "{shown:?}");
        assert!(shown.iter().any(|(l, _)| l == "性别"), "{shown:?}");
        // Without the flag, fields of a person's licence are private.
        let unmarked = shipped.replace("public = true\n", "").replace("public = false\n", "");
        let (t, r) = teacher(&unmarked);
        assert!(public_fields(&t, &r).is_empty());
    }

    #[test]
    fn birth_dates_in_any_form_reveal_the_digits() {
        for v in ["1990-03-07", "19900307", "1990年03月07日", "1990年3月7日", "90.03.07", ID, "115199003071"]
        {
            assert!(reveals_citizen_digits(v, ID), "{v}");
        }
        for v in ["高级中学教师资格", "数学", "20233100142000123", "1990-03-08", "女"] {
            assert!(!reveals_citizen_digits(v, ID), "{v}");
        }
    }
}
