//! The time-stamping authority's settings: the policy OID written into every token, the
//! accuracy it states, and the validity of its certificates.

use super::error::ConfigError;
use super::within;

/// The TSA policy when none is configured: X.509's `anyPolicy` (RFC 5280 §4.2.1.4), which
/// names no particular practice statement. The project has no OID arc of its own to put a
/// policy under, and an unregistered arc would claim a number that belongs to someone
/// else; an operator with a policy (a practice statement under its organisation's arc,
/// e.g. an IANA Private Enterprise Number) sets `tsa_policy`; `serve` says so at start-up until then.
pub const DEFAULT_TSA_POLICY: &str = "2.5.29.32.0";
/// Default stated accuracy of the time-stamps, in milliseconds.
pub const DEFAULT_TSA_ACCURACY_MS: u32 = 1000;
/// Default validity of a TSA certificate, in days (cut to its root's).
pub const DEFAULT_TSA_CERT_DAYS: u32 = 3650;

/// The TSA settings, checked.
pub(super) struct TsaSettings {
    pub(super) policy: String,
    pub(super) accuracy_ms: u32,
    pub(super) cert_days: u32,
}

/// Checks the TSA keys of a layer: the policy a dotted OID (at least three arcs, each
/// fitting 32 bits, as DER and its readers take them), the accuracy 1 ms to 60 s, the
/// certificate validity 2 days to 20 years (a unit signs during the first half).
pub(super) fn checked(
    policy: Option<String>,
    accuracy_ms: Option<u32>,
    cert_days: Option<u32>,
) -> Result<TsaSettings, ConfigError> {
    let policy = policy.unwrap_or_else(|| DEFAULT_TSA_POLICY.to_owned());
    let parsed = der::asn1::ObjectIdentifier::new(&policy).map_err(|e| ConfigError::Invalid {
        key: "tsa_policy",
        message: format!("{policy:?} is not an object identifier such as 1.2.156.1234.1 ({e})"),
    })?;
    if parsed.len() < 3 || parsed.to_string() != policy {
        return Err(ConfigError::Invalid {
            key: "tsa_policy",
            message: format!(
                "{policy:?} is not an object identifier of at least three arcs, e.g. 1.2.156.1234.1"
            ),
        });
    }
    Ok(TsaSettings {
        policy,
        accuracy_ms: within("tsa_accuracy_ms", accuracy_ms.unwrap_or(DEFAULT_TSA_ACCURACY_MS), 1..=60_000)?,
        cert_days: within("tsa_cert_days", cert_days.unwrap_or(DEFAULT_TSA_CERT_DAYS), 2..=20 * 365)?,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Layer};

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn tsa_settings_default_layer_and_are_checked() {
        let c = Config::from_layer("/x".into(), Layer::default()).unwrap();
        assert_eq!((c.tsa_policy.as_str(), c.tsa_accuracy_ms, c.tsa_cert_days), ("2.5.29.32.0", 1000, 3650));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(crate::config::CONFIG_FILE),
            "tsa_policy = \"1.2.156.112233.1.1\"\ntsa_accuracy_ms = 500\n",
        )
        .unwrap();
        let e = env(&[("ZHENGZHAO_TSA_CERT_DAYS", "730")]);
        let (c, w) = Config::load(dir.path().into(), e, Layer::default()).unwrap();
        assert_eq!(
            (c.tsa_policy.as_str(), c.tsa_accuracy_ms, c.tsa_cert_days, w.len()),
            ("1.2.156.112233.1.1", 500, 730, 0)
        );
        let e = env(&[("ZHENGZHAO_TSA_POLICY", "1.3.6.1.4.1.4242.2")]);
        let (c, _) = Config::load(dir.path().into(), e, Layer::default()).unwrap();
        assert_eq!(c.tsa_policy, "1.3.6.1.4.1.4242.2");
        for (name, value) in [
            ("ZHENGZHAO_TSA_POLICY", "policy"),
            ("ZHENGZHAO_TSA_POLICY", "1.2"),
            ("ZHENGZHAO_TSA_POLICY", "1.2.3.99999999999"),
            ("ZHENGZHAO_TSA_POLICY", "1.2.03"),
            ("ZHENGZHAO_TSA_POLICY", "3.1.2"),
            ("ZHENGZHAO_TSA_ACCURACY_MS", "0"),
            ("ZHENGZHAO_TSA_ACCURACY_MS", "60001"),
            ("ZHENGZHAO_TSA_CERT_DAYS", "1"),
            ("ZHENGZHAO_TSA_CERT_DAYS", "7301"),
        ] {
            let err = Config::load("/x".into(), env(&[(name, value)]), Layer::default()).unwrap_err();
            let key = name["ZHENGZHAO_".len()..].to_ascii_lowercase();
            assert!(err.to_string().contains(&key), "{name}={value}: {err}");
        }
    }
}
