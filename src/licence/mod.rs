//! Licence types (data in `templates/types/`), checked licence input, the licence
//! record with its deterministic CBOR encoding and hash, and the document a licence is
//! issued with (which seals may sign which). No I/O.

mod claims;
mod document;
mod input;
mod public;
mod record;
mod scope;
mod types;

pub use claims::CheckClaims;
pub use document::{Document, DocumentKind, DocumentUnsupported};
pub use input::{CheckedInput, FieldError, HolderInput, LicenceInput, MatterInput, parse_date};
pub use public::{public_fields, reveals_citizen_digits};
pub use record::{CATALOGUE_LABELS, LicenceRecord, RECORD_FORMAT, RecordError};
pub use scope::{ANY_TYPE, NO_TYPE, TypeScope};
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

    /// Whether a licence in this status may be changed to `to` by its issuer: a valid
    /// licence may be suspended, revoked or cancelled; a suspended one reinstated, revoked
    /// or cancelled. Nothing else changes by hand (expiry is by date, supersession by a
    /// new version).
    pub fn can_become(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Valid, Self::Suspended | Self::Revoked | Self::Cancelled)
                | (Self::Suspended, Self::Valid | Self::Revoked | Self::Cancelled)
        )
    }

    /// The status in force on `today` of a licence stored with this status and last day
    /// `valid_until` (`YYYY-MM-DD`, `None` long-term): a valid licence past its last day
    /// is expired.
    pub fn on(self, valid_until: Option<&str>, today: time::Date) -> Self {
        let ended = valid_until.and_then(|d| parse_date("", d).ok()).is_some_and(|until| until < today);
        if self == Self::Valid && ended { Self::Expired } else { self }
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

    #[test]
    fn only_the_issuers_transitions_are_allowed() {
        use LicenceStatus::*;
        let allowed: Vec<_> = LicenceStatus::ALL
            .into_iter()
            .flat_map(|from| LicenceStatus::ALL.into_iter().map(move |to| (from, to)))
            .filter(|(from, to)| from.can_become(*to))
            .collect();
        assert_eq!(
            allowed,
            [
                (Valid, Suspended),
                (Valid, Revoked),
                (Valid, Cancelled),
                (Suspended, Valid),
                (Suspended, Revoked),
                (Suspended, Cancelled)
            ]
        );
    }

    #[test]
    fn a_valid_licence_past_its_last_day_is_expired() {
        let day = |d: &str| parse_date("", d).unwrap();
        let until = Some("2026-12-31");
        assert_eq!(LicenceStatus::Valid.on(until, day("2026-12-31")), LicenceStatus::Valid);
        assert_eq!(LicenceStatus::Valid.on(until, day("2027-01-01")), LicenceStatus::Expired);
        assert_eq!(LicenceStatus::Valid.on(None, day("2099-01-01")), LicenceStatus::Valid);
        assert_eq!(LicenceStatus::Suspended.on(until, day("2027-01-01")), LicenceStatus::Suspended);
    }
}
