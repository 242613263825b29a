//! One layer of settings (every field optional), read from `DATA/config.toml` or from the
//! `ZHENGZHAO_*` environment, and merged over the layers below it.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::ConfigError;
use crate::netrange::AddrRange;

/// Environment variables the service reads (besides `ZHENGZHAO_DATA`, a global flag).
const ENV_KEYS: &[&str] = &[
    "ZHENGZHAO_LISTEN",
    "ZHENGZHAO_PUBLIC_URL",
    "ZHENGZHAO_OFD_TAG_NAMESPACE",
    "ZHENGZHAO_DATABASE_URL",
    "ZHENGZHAO_LOG",
    "ZHENGZHAO_LOG_FORMAT",
    "ZHENGZHAO_CRL_DAYS",
    "ZHENGZHAO_SEAL_CERT_DAYS",
    "ZHENGZHAO_RATE_LIMIT",
    "ZHENGZHAO_TRUSTED_PROXIES",
    "ZHENGZHAO_HEADER_TIMEOUT",
    "ZHENGZHAO_IDLE_TIMEOUT",
    "ZHENGZHAO_REQUEST_TIMEOUT",
    "ZHENGZHAO_MAX_CONNECTIONS",
    "ZHENGZHAO_MAX_CONNECTIONS_PER_ADDRESS",
    "ZHENGZHAO_PUBLIC_CONCURRENCY",
    "ZHENGZHAO_API_CONCURRENCY",
    "ZHENGZHAO_PDF_VERIFY_TIMEOUT",
    "ZHENGZHAO_PDF_VERIFY_CONCURRENCY",
    "ZHENGZHAO_PDF_VERIFY_WAIT",
    "ZHENGZHAO_PUBLIC_NICE",
    "ZHENGZHAO_IMPORT_DIR",
    "ZHENGZHAO_REFUSAL_DELAY_MS",
    "ZHENGZHAO_API_RESERVED_CONNECTIONS",
    "ZHENGZHAO_TSA_POLICY",
    "ZHENGZHAO_TSA_ACCURACY_MS",
    "ZHENGZHAO_TSA_CERT_DAYS",
];
/// Environment variables that are known but not configuration keys.
const ENV_OTHER: &[&str] = &["ZHENGZHAO_DATA", "ZHENGZHAO_KEY_PASSPHRASE"];

/// The `ZHENGZHAO_*` environment variables by name; an empty value counts as unset.
struct EnvVars(BTreeMap<String, String>);

impl EnvVars {
    /// Names that are neither configuration keys, nor known otherwise, nor test settings.
    fn unknown(&self) -> Vec<String> {
        self.0
            .keys()
            .filter(|k| {
                !ENV_KEYS.contains(&k.as_str())
                    && !ENV_OTHER.contains(&k.as_str())
                    && !k.starts_with("ZHENGZHAO_TEST_")
            })
            .cloned()
            .collect()
    }

    /// The value of `name`, if set and not empty.
    fn text(&self, name: &'static str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// The value of `name` parsed; an unparsable value is an error naming the variable.
    fn parsed<T: std::str::FromStr>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.text(name)
            .map(|v| v.parse::<T>())
            .transpose()
            .map_err(|e| ConfigError::Env { name, message: e.to_string() })
    }

    /// `ZHENGZHAO_LOG_FORMAT`: `text` or `json`.
    fn log_format(&self) -> Result<Option<LogFormat>, ConfigError> {
        match self.text("ZHENGZHAO_LOG_FORMAT").as_deref() {
            None => Ok(None),
            Some("text") => Ok(Some(LogFormat::Text)),
            Some("json") => Ok(Some(LogFormat::Json)),
            Some(other) => Err(ConfigError::Env {
                name: "ZHENGZHAO_LOG_FORMAT",
                message: format!("{other:?} is neither \"text\" nor \"json\""),
            }),
        }
    }

    /// `ZHENGZHAO_TRUSTED_PROXIES`: address ranges separated by commas (empty items skipped).
    fn trusted_proxies(&self) -> Result<Option<Vec<AddrRange>>, ConfigError> {
        self.text("ZHENGZHAO_TRUSTED_PROXIES")
            .map(|v| {
                v.split(',')
                    .filter(|r| !r.trim().is_empty())
                    .map(str::parse)
                    .collect::<Result<Vec<AddrRange>, _>>()
            })
            .transpose()
            .map_err(|e| ConfigError::Env { name: "ZHENGZHAO_TRUSTED_PROXIES", message: e.to_string() })
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// One layer of settings; every field optional.
#[derive(Debug, Default, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// See [`super::Config::listen`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// See [`super::Config::public_url`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// See [`super::Config::database_url`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// See [`super::Config::log`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// See [`super::Config::log_format`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    /// See [`super::Config::crl_days`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crl_days: Option<u32>,
    /// See [`super::Config::seal_cert_days`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal_cert_days: Option<u32>,
    /// See [`super::Config::rate_limit`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u32>,
    /// See [`super::Config::trusted_proxies`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxies: Option<Vec<AddrRange>>,
    /// See [`super::Config::header_timeout`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_timeout: Option<u32>,
    /// See [`super::Config::idle_timeout`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u32>,
    /// See [`super::Config::request_timeout`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<u32>,
    /// See [`super::Config::max_connections`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// See [`super::Config::max_connections_per_address`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections_per_address: Option<u32>,
    /// See [`super::Config::public_concurrency`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_concurrency: Option<u32>,
    /// See [`super::Config::api_concurrency`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_concurrency: Option<u32>,
    /// See [`super::Config::pdf_verify_timeout`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf_verify_timeout: Option<u32>,
    /// See [`super::Config::pdf_verify_concurrency`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf_verify_concurrency: Option<u32>,
    /// See [`super::Config::pdf_verify_wait`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf_verify_wait: Option<u32>,
    /// See [`super::Config::ofd_tag_namespace`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ofd_tag_namespace: Option<String>,
    /// See [`super::Config::public_nice`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_nice: Option<u32>,
    /// See [`super::Config::import_dir`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_dir: Option<String>,
    /// See [`super::Config::refusal_delay_ms`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal_delay_ms: Option<u32>,
    /// See [`super::Config::api_reserved_connections`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_reserved_connections: Option<u32>,
    /// See [`super::Config::tsa_policy`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsa_policy: Option<String>,
    /// See [`super::Config::tsa_accuracy_ms`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsa_accuracy_ms: Option<u32>,
    /// See [`super::Config::tsa_cert_days`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsa_cert_days: Option<u32>,
}

impl Layer {
    /// Reads `DATA/config.toml`; a missing file is an empty layer.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(ConfigError::Read { path: path.to_owned(), source }),
        };
        toml::from_str(&text)
            .map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.message().to_owned() })
    }

    /// Reads the `ZHENGZHAO_*` variables from `env` (pass `std::env::vars()` in).
    /// Returns the layer and the names of unknown `ZHENGZHAO_*` variables.
    pub fn from_env(
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let env = EnvVars(env.into_iter().filter(|(k, _)| k.starts_with("ZHENGZHAO_")).collect());
        let unknown = env.unknown();
        let log_format = env.log_format()?;
        let layer = Self {
            listen: env.parsed("ZHENGZHAO_LISTEN")?,
            public_url: env.text("ZHENGZHAO_PUBLIC_URL"),
            database_url: env.text("ZHENGZHAO_DATABASE_URL"),
            log: env.text("ZHENGZHAO_LOG"),
            log_format,
            crl_days: env.parsed("ZHENGZHAO_CRL_DAYS")?,
            seal_cert_days: env.parsed("ZHENGZHAO_SEAL_CERT_DAYS")?,
            rate_limit: env.parsed("ZHENGZHAO_RATE_LIMIT")?,
            trusted_proxies: env.trusted_proxies()?,
            header_timeout: env.parsed("ZHENGZHAO_HEADER_TIMEOUT")?,
            idle_timeout: env.parsed("ZHENGZHAO_IDLE_TIMEOUT")?,
            request_timeout: env.parsed("ZHENGZHAO_REQUEST_TIMEOUT")?,
            max_connections: env.parsed("ZHENGZHAO_MAX_CONNECTIONS")?,
            max_connections_per_address: env.parsed("ZHENGZHAO_MAX_CONNECTIONS_PER_ADDRESS")?,
            public_concurrency: env.parsed("ZHENGZHAO_PUBLIC_CONCURRENCY")?,
            api_concurrency: env.parsed("ZHENGZHAO_API_CONCURRENCY")?,
            pdf_verify_timeout: env.parsed("ZHENGZHAO_PDF_VERIFY_TIMEOUT")?,
            pdf_verify_concurrency: env.parsed("ZHENGZHAO_PDF_VERIFY_CONCURRENCY")?,
            pdf_verify_wait: env.parsed("ZHENGZHAO_PDF_VERIFY_WAIT")?,
            ofd_tag_namespace: env.text("ZHENGZHAO_OFD_TAG_NAMESPACE"),
            public_nice: env.parsed("ZHENGZHAO_PUBLIC_NICE")?,
            import_dir: env.text("ZHENGZHAO_IMPORT_DIR"),
            refusal_delay_ms: env.parsed("ZHENGZHAO_REFUSAL_DELAY_MS")?,
            api_reserved_connections: env.parsed("ZHENGZHAO_API_RESERVED_CONNECTIONS")?,
            tsa_policy: env.text("ZHENGZHAO_TSA_POLICY"),
            tsa_accuracy_ms: env.parsed("ZHENGZHAO_TSA_ACCURACY_MS")?,
            tsa_cert_days: env.parsed("ZHENGZHAO_TSA_CERT_DAYS")?,
        };
        Ok((layer, unknown))
    }

    /// Values of `over` win over `self`.
    pub fn merged(self, over: Layer) -> Layer {
        Layer {
            listen: over.listen.or(self.listen),
            public_url: over.public_url.or(self.public_url),
            database_url: over.database_url.or(self.database_url),
            log: over.log.or(self.log),
            log_format: over.log_format.or(self.log_format),
            crl_days: over.crl_days.or(self.crl_days),
            seal_cert_days: over.seal_cert_days.or(self.seal_cert_days),
            rate_limit: over.rate_limit.or(self.rate_limit),
            trusted_proxies: over.trusted_proxies.or(self.trusted_proxies),
            header_timeout: over.header_timeout.or(self.header_timeout),
            idle_timeout: over.idle_timeout.or(self.idle_timeout),
            request_timeout: over.request_timeout.or(self.request_timeout),
            max_connections: over.max_connections.or(self.max_connections),
            max_connections_per_address: over
                .max_connections_per_address
                .or(self.max_connections_per_address),
            public_concurrency: over.public_concurrency.or(self.public_concurrency),
            api_concurrency: over.api_concurrency.or(self.api_concurrency),
            pdf_verify_timeout: over.pdf_verify_timeout.or(self.pdf_verify_timeout),
            pdf_verify_concurrency: over.pdf_verify_concurrency.or(self.pdf_verify_concurrency),
            pdf_verify_wait: over.pdf_verify_wait.or(self.pdf_verify_wait),
            ofd_tag_namespace: over.ofd_tag_namespace.or(self.ofd_tag_namespace),
            public_nice: over.public_nice.or(self.public_nice),
            import_dir: over.import_dir.or(self.import_dir),
            refusal_delay_ms: over.refusal_delay_ms.or(self.refusal_delay_ms),
            api_reserved_connections: over.api_reserved_connections.or(self.api_reserved_connections),
            tsa_policy: over.tsa_policy.or(self.tsa_policy),
            tsa_accuracy_ms: over.tsa_accuracy_ms.or(self.tsa_accuracy_ms),
            tsa_cert_days: over.tsa_cert_days.or(self.tsa_cert_days),
        }
    }
}
