//! The demo platform `serve` makes on an empty data directory: the departments of the
//! 开办饭店 case (一件事一次办: one application, licences from five departments) and their seals.

use time::OffsetDateTime;

use crate::licence::{ANY_TYPE, NO_TYPE};
use crate::pki::Algorithm;
use crate::store::SealRecord;

use super::{Platform, PlatformError};

/// A department `serve` creates on a fresh data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoDepartment {
    /// 统一社会信用代码.
    pub code: &'static str,
    /// Official name.
    pub name: &'static str,
    /// 行政区划代码 of its jurisdiction.
    pub area: &'static str,
    /// The licence types it may issue ([`ANY_TYPE`]: every type; [`NO_TYPE`]: none).
    pub types: &'static [&'static str],
    /// The name of its seals (along the bottom of the round seal).
    pub seal_name: &'static str,
    /// The algorithms it has a seal of.
    pub algorithms: &'static [Algorithm],
}

/// The demo departments, the first being [`DEMO_DEPARTMENT`]. Codes: 机构编制 registration
/// (`1`), 机关 (`1`) or 事业单位 (`2`), area 310115, check characters per GB 32100.
pub const DEMO_DEPARTMENTS: &[DemoDepartment] = &[
    // 营业执照 and 食品经营许可证; as the demo's catch-all issuer it may issue every type
    // (the teacher qualification certificate too), as it always could.
    DemoDepartment {
        code: DEMO_DEPARTMENT.0,
        name: DEMO_DEPARTMENT.1,
        area: DEMO_DEPARTMENT.2,
        types: &[ANY_TYPE],
        seal_name: DEMO_SEAL_NAME,
        algorithms: &Algorithm::ALL,
    },
    DemoDepartment {
        code: "11310115MB2C90520M",
        name: "演示市消防救援支队",
        area: "310115",
        types: &["11100000000013338W004"],
        seal_name: "消防安全检查专用章",
        algorithms: &[Algorithm::Ed25519, Algorithm::Sm2],
    },
    DemoDepartment {
        code: "11310115MB2C90530N",
        name: "演示市水务局",
        area: "310115",
        types: &["11100000000013338W005"],
        seal_name: "行政许可专用章",
        algorithms: &[Algorithm::Ed25519, Algorithm::Sm2],
    },
    DemoDepartment {
        code: "11310115MB2C90540P",
        name: "演示市绿化和市容管理局",
        area: "310115",
        types: &["11310115MB2C90540P001"],
        seal_name: "行政许可专用章",
        algorithms: &[Algorithm::Ed25519, Algorithm::Sm2],
    },
    // The one-window 综合窗口's department: it issues no licence; its seal signs the
    // receipts of 一件事 bundles.
    DemoDepartment {
        code: "12310115MB2C90550M",
        name: "演示市政务服务中心",
        area: "310115",
        types: &[NO_TYPE],
        seal_name: "政务服务专用章",
        algorithms: &[Algorithm::Ed25519, Algorithm::Sm2],
    },
];

/// The first demo department (market supervision): (code, name, area).
pub const DEMO_DEPARTMENT: (&str, &str, &str) = ("11310115MB2C90510L", "演示市市场监督管理局", "310115");
/// Name of the first demo department's seals.
pub const DEMO_SEAL_NAME: &str = "行政审批专用章";

impl Platform {
    /// On a fresh data directory: initialises the platform (with its time-stamping units)
    /// and adds the [`DEMO_DEPARTMENTS`] with their seals. Returns the demo seals made now,
    /// department by department in that order (the first department's first, one per
    /// algorithm), or none if the platform had departments already.
    pub async fn ensure_demo(&self, now: OffsetDateTime) -> Result<Vec<SealRecord>, PlatformError> {
        self.pki.init("证照服务平台（演示）", now).await?;
        self.tsa.prepare(now).await?;
        if !self.pki.departments().await?.is_empty() {
            return Ok(vec![]);
        }
        let mut seals = vec![];
        for d in DEMO_DEPARTMENTS {
            let types: Vec<String> = d.types.iter().map(|t| (*t).to_owned()).collect();
            self.pki.add_department(d.code, d.name, d.area, &types, now).await?;
            for &algorithm in d.algorithms {
                seals.push(self.pki.create_seal(d.code, d.seal_name, algorithm, now).await?);
            }
        }
        Ok(seals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{AreaCode, Uscc};
    use crate::licence::{Catalogue, HolderInput, LicenceInput, MatterInput, TypeScope};

    #[test]
    fn demo_departments_have_valid_codes_and_known_types() {
        let catalogue = Catalogue::shipped().unwrap();
        assert_eq!(DEMO_DEPARTMENTS[0].code, DEMO_DEPARTMENT.0);
        for d in DEMO_DEPARTMENTS {
            Uscc::parse(d.code).unwrap();
            AreaCode::parse(d.area).unwrap();
            assert!(d.algorithms.contains(&Algorithm::Ed25519) && d.algorithms.contains(&Algorithm::Sm2));
            for t in d.types {
                assert!(*t == ANY_TYPE || *t == NO_TYPE || catalogue.get(t).is_some(), "{}: {t}", d.name);
            }
        }
        // The 开办饭店 types besides the market's have one department each, restricted to it.
        for code in ["11100000000013338W004", "11100000000013338W005", "11310115MB2C90540P001"] {
            let issuers = DEMO_DEPARTMENTS.iter().filter(|d| d.types == [code]).count();
            assert_eq!(issuers, 1, "{code}");
        }
    }

    /// The department of a `SEAL:<code>:<algorithm>` placeholder, if it names a demo seal.
    fn seal_department(placeholder: &str) -> &'static DemoDepartment {
        let mut parts = placeholder.split(':');
        assert_eq!(parts.next(), Some("SEAL"), "{placeholder}");
        let (code, alg) = (parts.next().unwrap(), parts.next().unwrap());
        let d = DEMO_DEPARTMENTS.iter().find(|d| d.code == code).unwrap_or_else(|| panic!("{placeholder}"));
        assert!(d.algorithms.iter().any(|a| a.to_string() == alg), "{placeholder}: no such demo seal");
        d
    }

    #[test]
    fn the_open_restaurant_bundle_passes_its_types_with_the_demo_departments() {
        let path = format!("{}/templates/examples/bundles/open-restaurant.json", env!("CARGO_MANIFEST_DIR"));
        let bundle: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let catalogue = Catalogue::shipped().unwrap();
        let today = time::Date::from_calendar_date(2026, time::Month::November, 22).unwrap();
        let holder: HolderInput = serde_json::from_value(bundle["applicant"].clone()).unwrap();
        assert_eq!(bundle["matter"]["name"], "开办饭店");
        let receipt = seal_department(bundle["receipt_seal_id"].as_str().unwrap());
        assert_eq!(receipt.types, [NO_TYPE], "the receipt is sealed by the one-window department");

        let mut types = vec![];
        for entry in bundle["licences"].as_array().unwrap() {
            let code = entry["type_code"].as_str().unwrap();
            let t = catalogue.get(code).unwrap_or_else(|| panic!("unknown type {code}"));
            let department = entry["department"].as_str().unwrap();
            let seal = seal_department(entry["seal_id"].as_str().unwrap());
            assert_eq!(seal.code, department, "{}: the seal is the department's", t.name);
            let scope: Vec<String> = seal.types.iter().map(|c| (*c).to_owned()).collect();
            assert!(TypeScope::new(&scope).covers(code), "{} may not issue {}", seal.name, t.name);
            assert_eq!(entry["document"], "pdf");
            let input = LicenceInput {
                holder: holder.clone(),
                valid_from: None,
                valid_until: None,
                matter: Some(serde_json::from_value::<MatterInput>(entry["matter"].clone()).unwrap()),
                fields: serde_json::from_value(entry["fields"].clone()).unwrap(),
            };
            let checked = t.check(&input, today).unwrap_or_else(|e| panic!("{}: {e}", t.name));
            assert_eq!(checked.holder_code, "91310115MA1H7ABC2D");
            types.push(t.name.as_str());
        }
        assert_eq!(
            types,
            [
                "营业执照",
                "食品经营许可证",
                "公众聚集场所投入使用、营业前消防安全检查合格证",
                "城镇污水排入排水管网许可证",
                "户外招牌设置许可"
            ]
        );
    }
}
