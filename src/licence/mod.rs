//! Licence types (data in `templates/types/`), checked licence input, and the licence
//! record with its deterministic CBOR encoding and hash. No I/O.

mod input;
mod public;
mod record;
mod types;

pub use input::{CheckedInput, FieldError, HolderInput, LicenceInput, MatterInput, parse_date};
pub use public::{public_fields, reveals_citizen_digits};
pub use record::{CATALOGUE_LABELS, LicenceRecord, RECORD_FORMAT, RecordError};
pub use types::{Catalogue, FieldDef, FieldKind, HolderCodeType, LicenceType, SHIPPED_TYPES, TypeError};

/// 证照状态 (licence status) per the national catalogue practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LicenceStatus {
    /// `01` 有效.
    Valid,
    /// `02` 暂扣.
    Suspended,
    /// `03` 撤销.
    Revoked,
    /// `04` 注销.
    Cancelled,
    /// `05` 失效 (expired).
    Expired,
    /// `06` 办理转出.
    TransferredOut,
    /// `07` 吊销.
    Withdrawn,
    /// `99` 其他.
    Other,
}

impl LicenceStatus {
    /// All statuses.
    pub const ALL: [Self; 8] = [
        Self::Valid,
        Self::Suspended,
        Self::Revoked,
        Self::Cancelled,
        Self::Expired,
        Self::TransferredOut,
        Self::Withdrawn,
        Self::Other,
    ];

    /// The two-digit national code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Valid => "01",
            Self::Suspended => "02",
            Self::Revoked => "03",
            Self::Cancelled => "04",
            Self::Expired => "05",
            Self::TransferredOut => "06",
            Self::Withdrawn => "07",
            Self::Other => "99",
        }
    }

    /// The status for a two-digit code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Valid => "有效",
            Self::Suspended => "暂扣",
            Self::Revoked => "撤销",
            Self::Cancelled => "注销",
            Self::Expired => "失效",
            Self::TransferredOut => "办理转出",
            Self::Withdrawn => "吊销",
            Self::Other => "其他",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip() {
        for s in LicenceStatus::ALL {
            assert_eq!(LicenceStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(LicenceStatus::from_code("08"), None);
        assert_eq!(LicenceStatus::Suspended.label(), "暂扣");
    }
}
