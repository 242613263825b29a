//! Configuration in layers: built-in defaults → `DATA/config.toml` → `ZHENGZHAO_*`
//! environment → command-line flags. Unknown keys in the file are errors; unknown
//! `ZHENGZHAO_*` variables are reported as warnings.

mod error;
mod layer;
mod tsa;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Serialize;

pub use error::ConfigError;
pub use layer::{Layer, LogFormat};
pub use tsa::{DEFAULT_TSA_ACCURACY_MS, DEFAULT_TSA_CERT_DAYS, DEFAULT_TSA_POLICY};

use crate::netrange::AddrRange;

/// Name of the configuration file inside the data directory.
pub const CONFIG_FILE: &str = "config.toml";

/// The default namespace of the licence metadata in an OFD's custom tags.
pub const DEFAULT_OFD_TAG_NAMESPACE: &str = "urn:zhengzhao:licence:1";

/// An OFD tag namespace: an absolute URI (a scheme, then `:`), printable ASCII without
/// spaces or XML-special characters, at most 200 characters.
fn checked_tag_namespace(given: Option<String>) -> Result<String, ConfigError> {
    let ns = given.unwrap_or_else(|| DEFAULT_OFD_TAG_NAMESPACE.to_owned());
    let scheme_ok = ns.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty() && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
    });
    let chars_ok = ns.bytes().all(|b| b.is_ascii_graphic() && !b"<>&\"'".contains(&b));
    if ns.len() > 200 || !scheme_ok || !chars_ok {
        return Err(ConfigError::Invalid {
            key: "ofd_tag_namespace",
            message: format!("{ns:?} is not an absolute URI such as {DEFAULT_OFD_TAG_NAMESPACE}"),
        });
    }
    Ok(ns)
}

/// The configuration in force.
#[derive(Clone, PartialEq, Serialize)]
pub struct Config {
    /// The data directory (database, keys, config file).
    #[serde(skip)]
    pub data_dir: PathBuf,
    /// Address `serve` listens on.
    pub listen: SocketAddr,
    /// Base URL under which this platform is reached from outside; certificates name
    /// `PUBLIC_URL/pki/...` as their CRL location, QR codes point under it.
    pub public_url: String,
    /// Database URL; empty means SQLite in the data directory.
    pub database_url: String,
    /// Log filter (tracing `EnvFilter` syntax).
    pub log: String,
    /// Log format: `text` or `json`.
    pub log_format: LogFormat,
    /// How long a CRL is valid (its nextUpdate), in days; it is re-signed at half-life.
    pub crl_days: u32,
    /// Validity of new seal certificates, in days.
    pub seal_cert_days: u32,
    /// Requests a second per API client (bursts of twice that); more get 429.
    pub rate_limit: u32,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers name the client;
    /// from any other peer those headers are ignored.
    pub trusted_proxies: Vec<AddrRange>,
    /// Seconds a client has to send a request's headers once it has started them.
    pub header_timeout: u32,
    /// Seconds an open connection may sit without a request before it is closed.
    pub idle_timeout: u32,
    /// Seconds one request may take (reading its body included); then 408.
    pub request_timeout: u32,
    /// Open connections in all; more are closed at once.
    pub max_connections: u32,
    /// Open connections from one client address (trusted proxies exempt).
    pub max_connections_per_address: u32,
    /// Public requests (`/v/`, `POST /api/v1/verify`, `/pki/*`, the OpenAPI document)
    /// served at once; the next ones queue briefly, then get 503.
    pub public_concurrency: u32,
    /// Authenticated `/api/v1/*` requests served at once; capacity of their own that
    /// public traffic cannot take.
    pub api_concurrency: u32,
    /// Seconds one uploaded PDF may take to verify; then 422 `verification_timeout`.
    pub pdf_verify_timeout: u32,
    /// Uploaded PDFs verified at once (each may hold a 32 MB file); the next wait
    /// `pdf_verify_wait` for a slot, then get 503 `busy`.
    pub pdf_verify_concurrency: u32,
    /// Seconds an uploaded PDF waits for a verification slot before 503 `busy`.
    pub pdf_verify_wait: u32,
    /// The namespace of the licence metadata in an OFD's custom tag file (`CustomTags`):
    /// an absolute URI, [`DEFAULT_OFD_TAG_NAMESPACE`] unless configured.
    pub ofd_tag_namespace: String,
    /// Scheduling priority (`nice`, 0–19) of the threads that do public work; above 0 the
    /// kernel gives the CPU to authenticated work first when both want it.
    pub public_nice: u32,
    /// Milliseconds a public request refused as `busy` (503) or `rate_limited` (429) waits
    /// before its answer is sent, so that a client retrying at once floods at a walk.
    pub refusal_delay_ms: u32,
    /// Connections held back for addresses from which an API client has authenticated
    /// recently: others are closed once `max_connections` minus these are open.
    pub api_reserved_connections: u32,
    /// The time-stamping authority's policy (an OID, dotted), written into every token;
    /// [`DEFAULT_TSA_POLICY`] unless configured.
    pub tsa_policy: String,
    /// The accuracy every time-stamp states, in milliseconds.
    pub tsa_accuracy_ms: u32,
    /// Validity of new TSA certificates, in days (cut to the root's); a TSA unit signs
    /// during the first half, then a new one takes over.
    pub tsa_cert_days: u32,
    /// The directory whose files `POST /api/v1/imports` may name (relative paths only), and
    /// where uploaded import files are kept; default `<data_dir>/imports`.
    pub import_dir: PathBuf,
}

/// The public URL given, or `http://LISTEN`, without trailing slashes; it must be http(s).
fn checked_public_url(given: Option<String>, listen: SocketAddr) -> Result<String, ConfigError> {
    let public_url = given.unwrap_or_else(|| format!("http://{listen}"));
    let public_url = public_url.trim_end_matches('/').to_owned();
    if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
        || public_url.contains(char::is_whitespace)
    {
        return Err(ConfigError::Invalid {
            key: "public_url",
            message: format!("{public_url:?} is not an http(s) URL"),
        });
    }
    Ok(public_url)
}

/// `value` if it lies in `range`, else an error naming `key`.
fn within(key: &'static str, value: u32, range: std::ops::RangeInclusive<u32>) -> Result<u32, ConfigError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            key,
            message: format!("{value} is not between {} and {}", range.start(), range.end()),
        })
    }
}

impl Config {
    /// Defaults for `data_dir`, overlaid by `layer`, then checked.
    pub fn from_layer(data_dir: PathBuf, layer: Layer) -> Result<Self, ConfigError> {
        let listen = layer.listen.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
        let public_url = checked_public_url(layer.public_url, listen)?;
        let crl_days = within("crl_days", layer.crl_days.unwrap_or(7), 1..=365)?;
        let seal_cert_days = within("seal_cert_days", layer.seal_cert_days.unwrap_or(3 * 365), 1..=10 * 365)?;
        let rate_limit = within("rate_limit", layer.rate_limit.unwrap_or(1000), 1..=1_000_000)?;
        let header_timeout = within("header_timeout", layer.header_timeout.unwrap_or(10), 1..=3600)?;
        let idle_timeout = within("idle_timeout", layer.idle_timeout.unwrap_or(60), 1..=3600)?;
        let request_timeout = within("request_timeout", layer.request_timeout.unwrap_or(30), 1..=3600)?;
        let max_connections = within("max_connections", layer.max_connections.unwrap_or(768), 1..=1_000_000)?;
        let max_connections_per_address = within(
            "max_connections_per_address",
            layer.max_connections_per_address.unwrap_or(64),
            1..=max_connections,
        )?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let default_public = u32::try_from(cores / 2).unwrap_or(1).max(1);
        let public_concurrency =
            within("public_concurrency", layer.public_concurrency.unwrap_or(default_public), 1..=10_000)?;
        let api_concurrency = within("api_concurrency", layer.api_concurrency.unwrap_or(64), 1..=10_000)?;
        let pdf_verify_timeout =
            within("pdf_verify_timeout", layer.pdf_verify_timeout.unwrap_or(10), 1..=3600)?;
        let pdf_verify_concurrency =
            within("pdf_verify_concurrency", layer.pdf_verify_concurrency.unwrap_or(4), 1..=1024)?;
        let pdf_verify_wait = within("pdf_verify_wait", layer.pdf_verify_wait.unwrap_or(5), 0..=600)?;
        let ofd_tag_namespace = checked_tag_namespace(layer.ofd_tag_namespace)?;
        let public_nice = within("public_nice", layer.public_nice.unwrap_or(10), 0..=19)?;
        let refusal_delay_ms =
            within("refusal_delay_ms", layer.refusal_delay_ms.unwrap_or(1000), 0..=10_000)?;
        let api_reserved_connections = within(
            "api_reserved_connections",
            layer.api_reserved_connections.unwrap_or(max_connections / 8),
            0..=max_connections - 1,
        )?;
        let tsa = tsa::checked(layer.tsa_policy, layer.tsa_accuracy_ms, layer.tsa_cert_days)?;
        Ok(Self {
            tsa_policy: tsa.policy,
            tsa_accuracy_ms: tsa.accuracy_ms,
            tsa_cert_days: tsa.cert_days,
            rate_limit,
            trusted_proxies: layer.trusted_proxies.unwrap_or_default(),
            header_timeout,
            idle_timeout,
            request_timeout,
            max_connections,
            max_connections_per_address,
            public_concurrency,
            api_concurrency,
            pdf_verify_timeout,
            pdf_verify_concurrency,
            pdf_verify_wait,
            ofd_tag_namespace,
            public_nice,
            refusal_delay_ms,
            api_reserved_connections,
            listen,
            public_url,
            database_url: layer.database_url.unwrap_or_default(),
            log: layer.log.unwrap_or_else(|| "info".to_owned()),
            log_format: layer.log_format.unwrap_or(LogFormat::Text),
            crl_days,
            seal_cert_days,
            import_dir: layer.import_dir.map_or_else(|| data_dir.join("imports"), PathBuf::from),
            data_dir,
        })
    }

    /// Assembles the configuration: defaults → file → environment → `flags`.
    /// Returns it with warnings (unknown environment variables).
    pub fn load(
        data_dir: PathBuf,
        env: impl IntoIterator<Item = (String, String)>,
        flags: Layer,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let file = Layer::from_file(&data_dir.join(CONFIG_FILE))?;
        let (env, unknown) = Layer::from_env(env)?;
        let warnings = unknown
            .into_iter()
            .map(|name| format!("unknown environment variable {name} is ignored"))
            .collect();
        let config = Self::from_layer(data_dir, file.merged(env).merged(flags))?;
        Ok((config, warnings))
    }

    /// The database URL in force: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("zhengzhao.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// The CRL URL of the root of `algorithm`, as certificates name it.
    pub fn crl_url(&self, algorithm: &str) -> String {
        format!("{}/pki/crl-{algorithm}.crl", self.public_url)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The database URL may carry a password.
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("database_url", &redact_url(&self.database_url))
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("crl_days", &self.crl_days)
            .field("seal_cert_days", &self.seal_cert_days)
            .field("rate_limit", &self.rate_limit)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("header_timeout", &self.header_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_connections", &self.max_connections)
            .field("max_connections_per_address", &self.max_connections_per_address)
            .field("public_concurrency", &self.public_concurrency)
            .field("api_concurrency", &self.api_concurrency)
            .field("pdf_verify_timeout", &self.pdf_verify_timeout)
            .field("pdf_verify_concurrency", &self.pdf_verify_concurrency)
            .field("pdf_verify_wait", &self.pdf_verify_wait)
            .field("tsa_policy", &self.tsa_policy)
            .field("tsa_accuracy_ms", &self.tsa_accuracy_ms)
            .field("tsa_cert_days", &self.tsa_cert_days)
            .field("import_dir", &self.import_dir)
            .finish()
    }
}

/// Replaces a password in `scheme://user:password@host` with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_ofd_tag_namespace_is_an_absolute_uri() {
        let dir = tempfile::tempdir().unwrap();
        let (c, _) = Config::load(dir.path().into(), env(&[]), Layer::default()).unwrap();
        assert_eq!(c.ofd_tag_namespace, DEFAULT_OFD_TAG_NAMESPACE);
        let e = env(&[("ZHENGZHAO_OFD_TAG_NAMESPACE", "https://samr.example.gov.cn/ns/licence")]);
        let (c, warnings) = Config::load(dir.path().into(), e, Layer::default()).unwrap();
        assert_eq!(
            (c.ofd_tag_namespace.as_str(), warnings.len()),
            ("https://samr.example.gov.cn/ns/licence", 0)
        );
        for bad in ["licence", "urn:", ":x", "urn:a b", "urn:a\"b", "urn:<x>", "1x:y"] {
            let e = env(&[("ZHENGZHAO_OFD_TAG_NAMESPACE", bad)]);
            let err = Config::load(dir.path().into(), e, Layer::default()).unwrap_err();
            assert!(err.to_string().contains("ofd_tag_namespace"), "{bad}: {err}");
        }
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "listen = \"127.0.0.1:9000\"\npublic_url = \"https://file.example/\"\ncrl_days = 3\n",
        )
        .unwrap();
        let (c, _) = Config::load(dir.path().into(), env(&[]), Layer::default()).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.public_url, "https://file.example");
        assert_eq!(c.crl_days, 3);

        let e = env(&[("ZHENGZHAO_LISTEN", "127.0.0.1:9001"), ("ZHENGZHAO_CRL_DAYS", "5")]);
        let (c, _) = Config::load(dir.path().into(), e.clone(), Layer::default()).unwrap();
        assert_eq!((c.listen.port(), c.crl_days), (9001, 5));
        assert_eq!(c.public_url, "https://file.example");

        let flags = Layer { listen: Some("127.0.0.1:9002".parse().unwrap()), ..Layer::default() };
        let (c, _) = Config::load(dir.path().into(), e, flags).unwrap();
        assert_eq!(c.listen.port(), 9002);
    }

    #[test]
    fn defaults_and_sqlite_url() {
        let (c, w) = Config::load("/tmp/zz-none".into(), env(&[]), Layer::default()).unwrap();
        assert!(w.is_empty());
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.effective_database_url(), "sqlite:///tmp/zz-none/zhengzhao.db?mode=rwc");
        assert_eq!(c.crl_url("p256"), "http://127.0.0.1:8080/pki/crl-p256.crl");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "lisen = \"x\"\n").unwrap();
        let err = Config::load(dir.path().into(), env(&[]), Layer::default()).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");

        let (_, w) = Config::load(
            "/tmp/zz-none".into(),
            env(&[("ZHENGZHAO_LISTN", "x"), ("ZHENGZHAO_TEST_POSTGRES_URL", "y")]),
            Layer::default(),
        )
        .unwrap();
        assert_eq!(w, vec!["unknown environment variable ZHENGZHAO_LISTN is ignored"]);

        let err =
            Config::load("/x".into(), env(&[("ZHENGZHAO_LISTEN", "nope")]), Layer::default()).unwrap_err();
        assert!(err.to_string().contains("ZHENGZHAO_LISTEN"), "{err}");
        let flags = Layer { public_url: Some("ftp://x".into()), ..Layer::default() };
        assert!(Config::load("/x".into(), env(&[]), flags).is_err());
    }

    #[test]
    fn server_limits_layer_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nheader_timeout = 5\nmax_connections = 100\n",
        )
        .unwrap();
        let (c, _) = Config::load(dir.path().into(), env(&[]), Layer::default()).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(c.trusted_proxies[0].contains("10.9.9.9".parse().unwrap()));
        assert_eq!((c.header_timeout, c.idle_timeout, c.request_timeout), (5, 60, 30));
        assert_eq!((c.max_connections, c.max_connections_per_address), (100, 64));
        let e = env(&[
            ("ZHENGZHAO_TRUSTED_PROXIES", "192.0.2.1, 198.51.100.0/24"),
            ("ZHENGZHAO_IDLE_TIMEOUT", "7"),
        ]);
        let (c, _) = Config::load(dir.path().into(), e, Layer::default()).unwrap();
        assert_eq!(
            c.trusted_proxies.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["192.0.2.1/32", "198.51.100.0/24"]
        );
        assert_eq!(c.idle_timeout, 7);
        let err =
            Config::load("/x".into(), env(&[("ZHENGZHAO_TRUSTED_PROXIES", "10.0.0.0/40")]), Layer::default())
                .unwrap_err();
        assert!(err.to_string().contains("ZHENGZHAO_TRUSTED_PROXIES"), "{err}");
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "max_connections = 10\nmax_connections_per_address = 11\n",
        )
        .unwrap();
        let err = Config::load(dir.path().into(), env(&[]), Layer::default()).unwrap_err();
        assert!(err.to_string().contains("max_connections_per_address"), "{err}");
        let flags = Layer { header_timeout: Some(0), ..Layer::default() };
        assert!(Config::load("/x".into(), env(&[]), flags).is_err());
    }

    #[test]
    fn pdf_verify_limits_default_layer_and_are_checked() {
        let c = Config::from_layer("/x".into(), Layer::default()).unwrap();
        assert_eq!((c.pdf_verify_timeout, c.pdf_verify_concurrency, c.pdf_verify_wait), (10, 4, 5));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "pdf_verify_timeout = 3\npdf_verify_concurrency = 2\n")
            .unwrap();
        let (c, _) = Config::load(dir.path().into(), env(&[]), Layer::default()).unwrap();
        assert_eq!((c.pdf_verify_timeout, c.pdf_verify_concurrency), (3, 2));
        let e = env(&[
            ("ZHENGZHAO_PDF_VERIFY_TIMEOUT", "5"),
            ("ZHENGZHAO_PDF_VERIFY_CONCURRENCY", "7"),
            ("ZHENGZHAO_PDF_VERIFY_WAIT", "0"),
        ]);
        let (c, w) = Config::load(dir.path().into(), e, Layer::default()).unwrap();
        assert_eq!(
            (c.pdf_verify_timeout, c.pdf_verify_concurrency, c.pdf_verify_wait, w.len()),
            (5, 7, 0, 0)
        );
        for (name, value) in [
            ("ZHENGZHAO_PDF_VERIFY_TIMEOUT", "0"),
            ("ZHENGZHAO_PDF_VERIFY_CONCURRENCY", "0"),
            ("ZHENGZHAO_PDF_VERIFY_WAIT", "601"),
        ] {
            let err = Config::load("/x".into(), env(&[(name, value)]), Layer::default()).unwrap_err();
            assert!(err.to_string().contains(&name["ZHENGZHAO_".len()..].to_ascii_lowercase()), "{err}");
        }
        let err =
            Config::load("/x".into(), env(&[("ZHENGZHAO_PDF_VERIFY_TIMEOUT", "ten")]), Layer::default())
                .unwrap_err();
        assert!(err.to_string().contains("ZHENGZHAO_PDF_VERIFY_TIMEOUT"), "{err}");
    }

    #[test]
    fn debug_hides_database_password() {
        let layer = Layer { database_url: Some("postgres://u:secret@h/db".into()), ..Layer::default() };
        let c = Config::from_layer("/x".into(), layer).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret") && shown.contains("u:***@h"), "{shown}");
    }
}
