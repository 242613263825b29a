//! The licence record: the type's fields plus the catalogue metadata, encoded as
//! deterministic CBOR (RFC 8949 §4.2: shortest forms, map keys in bytewise order of their
//! encoding) and hashed with SHA-256. The hash binds register entry, QR token and PDF.
//! Status is not part of the record: it changes; the content does not.

use std::collections::BTreeMap;

use ciborium::Value;
use sha2::{Digest, Sha256};

/// Version of the record encoding.
pub const RECORD_FORMAT: u64 = 1;

/// Stable English keys of the catalogue metadata and their Chinese labels.
pub const CATALOGUE_LABELS: &[(&str, &str)] = &[
    ("licence_name", "证照名称"),
    ("licence_number", "证照编号"),
    ("identifier", "电子证照标识"),
    ("type_name", "证照类型名称"),
    ("type_code", "证照类型代码"),
    ("issuer_name", "证照颁发机构"),
    ("issuer_code", "证照颁发机构代码"),
    ("definer_name", "证照定义机构"),
    ("definer_code", "证照定义机构代码"),
    ("issue_date", "颁证日期"),
    ("valid_from", "有效期起始日期"),
    ("valid_until", "有效期截止日期"),
    ("area_code", "证照所属管辖属地编码"),
    ("holder_name", "持证主体"),
    ("holder_code", "持证主体代码"),
    ("holder_code_type", "持证主体代码类型"),
    ("matter_name", "关联事项名称"),
    ("matter_code", "关联事项代码"),
    ("fields", "扩展业务信息"),
    ("status", "状态"),
];

/// Everything a licence says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LicenceRecord {
    /// 电子证照标识.
    pub identifier: String,
    /// 证照名称.
    pub licence_name: String,
    /// 证照编号.
    pub licence_number: String,
    /// 证照类型代码.
    pub type_code: String,
    /// 证照类型名称.
    pub type_name: String,
    /// 证照颁发机构代码.
    pub issuer_code: String,
    /// 证照颁发机构.
    pub issuer_name: String,
    /// 证照定义机构代码.
    pub definer_code: String,
    /// 证照定义机构.
    pub definer_name: String,
    /// 证照所属管辖属地编码.
    pub area_code: String,
    /// 颁证日期, `YYYY-MM-DD`.
    pub issue_date: String,
    /// 有效期起始日期.
    pub valid_from: String,
    /// 有效期截止日期; `None` is long-term.
    pub valid_until: Option<String>,
    /// 持证主体.
    pub holder_name: String,
    /// 持证主体代码.
    pub holder_code: String,
    /// 持证主体代码类型 (`001`, `111`).
    pub holder_code_type: String,
    /// 关联事项代码.
    pub matter_code: Option<String>,
    /// 关联事项名称.
    pub matter_name: Option<String>,
    /// The type's fields (扩展业务信息).
    pub fields: BTreeMap<String, String>,
    /// The seal that signed it.
    pub seal_id: String,
    /// Version (1 first).
    pub version: u16,
    /// The identifier of the version this one replaces.
    pub replaces: Option<String>,
}

/// Why bytes are not a record.
#[derive(Debug, thiserror::Error)]
#[error("licence record: {0}")]
pub struct RecordError(String);

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn opt(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, text)
}

/// Sorts every map by the deterministic encoding of its keys (RFC 8949 §4.2.1).
fn canonical(value: Value) -> Value {
    match value {
        Value::Map(entries) => {
            let mut entries: Vec<(Vec<u8>, Value, Value)> = entries
                .into_iter()
                .map(|(k, v)| {
                    let mut key_bytes = vec![];
                    // Writing into a Vec cannot fail.
                    let _ = ciborium::into_writer(&k, &mut key_bytes);
                    (key_bytes, k, canonical(v))
                })
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Map(entries.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

impl LicenceRecord {
    /// The catalogue metadata under the keys of [`CATALOGUE_LABELS`] (all but `fields`
    /// and `status`, which the register adds): the one list of them that the CBOR
    /// encoding and the register's view share.
    pub fn metadata(&self) -> [(&'static str, Option<String>); 18] {
        let some = |s: &String| Some(s.clone());
        [
            ("licence_name", some(&self.licence_name)),
            ("licence_number", some(&self.licence_number)),
            ("identifier", some(&self.identifier)),
            ("type_name", some(&self.type_name)),
            ("type_code", some(&self.type_code)),
            ("issuer_name", some(&self.issuer_name)),
            ("issuer_code", some(&self.issuer_code)),
            ("definer_name", some(&self.definer_name)),
            ("definer_code", some(&self.definer_code)),
            ("issue_date", some(&self.issue_date)),
            ("valid_from", some(&self.valid_from)),
            ("valid_until", self.valid_until.clone()),
            ("area_code", some(&self.area_code)),
            ("holder_name", some(&self.holder_name)),
            ("holder_code", some(&self.holder_code)),
            ("holder_code_type", some(&self.holder_code_type)),
            ("matter_name", self.matter_name.clone()),
            ("matter_code", self.matter_code.clone()),
        ]
    }

    fn to_value(&self) -> Value {
        let fields = self.fields.iter().map(|(k, v)| (text(k), text(v))).collect();
        let mut map = vec![(text("format"), Value::Integer(RECORD_FORMAT.into()))];
        map.extend(self.metadata().iter().map(|(k, v)| (text(k), opt(v))));
        map.extend([
            (text("fields"), Value::Map(fields)),
            (text("seal_id"), text(&self.seal_id)),
            (text("version"), Value::Integer(self.version.into())),
            (text("replaces"), opt(&self.replaces)),
        ]);
        // The map's order does not matter: `canonical` sorts it.
        Value::Map(map)
    }

    /// The deterministic CBOR encoding.
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        // Writing a Value of text, integers, null and maps into a Vec cannot fail.
        let _ = ciborium::into_writer(&canonical(self.to_value()), &mut out);
        out
    }

    /// The holder's code as anyone may see it: a citizen's ID number masked, an
    /// organisation's code in full ([`crate::codes::public_holder_code`]).
    pub fn public_holder_code(&self) -> String {
        crate::codes::public_holder_code(&self.holder_code, &self.holder_code_type)
    }

    /// SHA-256 of [`Self::to_cbor`].
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.to_cbor()).into()
    }

    /// Decodes a record written by [`Self::to_cbor`], refusing non-canonical encodings.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, RecordError> {
        let value: Value = ciborium::from_reader(bytes).map_err(|e| RecordError(e.to_string()))?;
        let Value::Map(entries) = value else {
            return Err(RecordError("not a map".into()));
        };
        let map: BTreeMap<String, Value> = entries
            .into_iter()
            .map(|(k, v)| match k {
                Value::Text(k) => Ok((k, v)),
                _ => Err(RecordError("non-text key".into())),
            })
            .collect::<Result<_, _>>()?;
        let get_text = |k: &str| -> Result<String, RecordError> {
            match map.get(k) {
                Some(Value::Text(s)) => Ok(s.clone()),
                _ => Err(RecordError(format!("{k} missing or not text"))),
            }
        };
        let get_opt = |k: &str| -> Result<Option<String>, RecordError> {
            match map.get(k) {
                Some(Value::Text(s)) => Ok(Some(s.clone())),
                Some(Value::Null) => Ok(None),
                _ => Err(RecordError(format!("{k} missing or not text/null"))),
            }
        };
        let fields = match map.get("fields") {
            Some(Value::Map(entries)) => entries
                .iter()
                .map(|(k, v)| match (k, v) {
                    (Value::Text(k), Value::Text(v)) => Ok((k.clone(), v.clone())),
                    _ => Err(RecordError("fields must map text to text".into())),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(RecordError("fields missing".into())),
        };
        let version = match map.get("version") {
            Some(Value::Integer(i)) => {
                u16::try_from(i128::from(*i)).map_err(|_| RecordError("version".into()))?
            }
            _ => return Err(RecordError("version missing".into())),
        };
        let record = Self {
            identifier: get_text("identifier")?,
            licence_name: get_text("licence_name")?,
            licence_number: get_text("licence_number")?,
            type_code: get_text("type_code")?,
            type_name: get_text("type_name")?,
            issuer_code: get_text("issuer_code")?,
            issuer_name: get_text("issuer_name")?,
            definer_code: get_text("definer_code")?,
            definer_name: get_text("definer_name")?,
            area_code: get_text("area_code")?,
            issue_date: get_text("issue_date")?,
            valid_from: get_text("valid_from")?,
            valid_until: get_opt("valid_until")?,
            holder_name: get_text("holder_name")?,
            holder_code: get_text("holder_code")?,
            holder_code_type: get_text("holder_code_type")?,
            matter_code: get_opt("matter_code")?,
            matter_name: get_opt("matter_name")?,
            fields,
            seal_id: get_text("seal_id")?,
            version,
            replaces: get_opt("replaces")?,
        };
        if record.to_cbor() != bytes {
            return Err(RecordError("not in deterministic encoding".into()));
        }
        Ok(record)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A record for tests.
    pub(crate) fn record() -> LicenceRecord {
        LicenceRecord {
            identifier: "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
            licence_name: "食品经营许可证".into(),
            licence_number: "JY23101150012345".into(),
            type_code: "11100000000013338W032".into(),
            type_name: "食品经营许可证".into(),
            issuer_code: "11220000013544541J".into(),
            issuer_name: "某市市场监督管理局".into(),
            definer_code: "11100000000013338W".into(),
            definer_name: "国家市场监督管理总局".into(),
            area_code: "220000".into(),
            issue_date: "2026-11-22".into(),
            valid_from: "2026-11-22".into(),
            valid_until: Some("2031-11-21".into()),
            holder_name: "上海某某餐饮管理有限公司".into(),
            holder_code: "91310115MA1H7ABC2X".into(),
            holder_code_type: "001".into(),
            matter_code: None,
            matter_name: None,
            fields: [("b".to_owned(), "2".to_owned()), ("a".to_owned(), "1".to_owned())].into(),
            seal_id: "22000000000001".into(),
            version: 1,
            replaces: None,
        }
    }

    #[test]
    fn metadata_has_every_catalogue_key_but_fields_and_status() {
        let keys: Vec<&str> = record().metadata().iter().map(|(k, _)| *k).collect();
        let labelled: Vec<&str> =
            CATALOGUE_LABELS.iter().map(|(k, _)| *k).filter(|k| !["fields", "status"].contains(k)).collect();
        assert_eq!(keys, labelled);
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        let r = record();
        let bytes = r.to_cbor();
        assert_eq!(LicenceRecord::from_cbor(&bytes).unwrap(), r);
        assert_eq!(r.clone().to_cbor(), bytes);
        // Keys sorted by encoded bytes: shorter keys first ("fields" before "version"...).
        let decoded: Value = ciborium::from_reader(&bytes[..]).unwrap();
        let keys: Vec<String> =
            decoded.as_map().unwrap().iter().map(|(k, _)| k.as_text().unwrap().to_owned()).collect();
        let mut sorted = keys.clone();
        sorted.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
        assert_eq!(keys, sorted);
    }

    #[test]
    fn any_change_changes_the_hash() {
        let r = record();
        let mut other = r.clone();
        other.fields.insert("a".into(), "9".into());
        assert_ne!(r.hash(), other.hash());
        let mut other = r.clone();
        other.valid_until = None;
        assert_ne!(r.hash(), other.hash());
    }

    #[test]
    fn refuses_non_canonical_and_garbage() {
        let r = record();
        let mut value = r.to_value();
        if let Value::Map(entries) = &mut value {
            entries.reverse();
        }
        let mut unsorted = vec![];
        ciborium::into_writer(&value, &mut unsorted).unwrap();
        assert!(LicenceRecord::from_cbor(&unsorted).is_err());
        assert!(LicenceRecord::from_cbor(&[0xff, 0x00]).is_err());
        assert!(LicenceRecord::from_cbor(&[]).is_err());
    }
}
