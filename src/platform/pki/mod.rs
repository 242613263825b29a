//! The PKI service: the platform's root CAs, its departments and their seals (keys,
//! certificates, images, revocation) and the roots' CRLs. It owns the key store's root
//! and seal keys and the caches of what they sign with.

mod context;
mod crl;
mod seals;
mod ses;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ring::rand::SystemRandom;
use time::{Duration, OffsetDateTime};

use crate::config::{CONFIG_FILE, Config};
use crate::keystore::KeyStore;
use crate::licence::Catalogue;
use crate::pki::{self, Algorithm, PrivateKey};
use crate::seal;
use crate::store::{CrlRecord, PlatformRecord, RootRecord, SealStatus, Store};

use super::checks::checked_name;
use super::error::PlatformError;
use super::lookup;
use super::trust_cache::TrustCache;
pub(super) use context::SealContext;
pub use ses::SealMaker;

/// Validity of a root certificate.
const ROOT_YEARS: i64 = 20;
/// Certificates start a little in the past so that a verifier with a slow clock accepts them.
pub(super) const BACKDATE: Duration = Duration::minutes(5);
/// Longest department (and platform) name, in characters.
const MAX_DEPARTMENT_NAME: usize = seal::MAX_DEPARTMENT_CHARS;

/// A root certificate with its private key.
pub(super) type RootWithKey = (RootRecord, PrivateKey);

/// What `init` did for each root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    /// The platform's name (the existing one if it was initialised before).
    pub platform_name: String,
    /// Roots made now.
    pub created: Vec<Algorithm>,
    /// Roots that existed and were kept.
    pub kept: Vec<Algorithm>,
    /// Whether the configuration file was written now.
    pub wrote_config: bool,
    /// Whether the GB/T 38540 seal maker (under the SM2 root) was made now.
    pub made_seal_maker: bool,
}

/// Roots, departments, seals and CRLs.
#[derive(Debug, Clone)]
pub struct Pki {
    store: Arc<dyn Store>,
    keys: KeyStore,
    config: Arc<Config>,
    catalogue: Arc<Catalogue>,
    rng: SystemRandom,
    /// Seal signing material, by seal id.
    seal_contexts: context::SealCache,
    /// The verification caches, dropped when a department or seal changes.
    trust: Arc<TrustCache>,
    /// Per root: the CRL that licences signed now carry in their DSS (see [`Pki::dss_crl`]).
    dss_crls: Arc<tokio::sync::Mutex<HashMap<Algorithm, CrlRecord>>>,
    /// Root certificates with their keys, read once (key files may be slow to decrypt).
    root_keys: Arc<Mutex<HashMap<Algorithm, Arc<RootWithKey>>>>,
    /// The GB/T 38540 seal maker, read once (see [`Pki::seal_maker`]).
    seal_maker: Arc<Mutex<Option<Arc<SealMaker>>>>,
}

impl Pki {
    pub(super) fn new(
        store: Arc<dyn Store>,
        keys: KeyStore,
        config: Arc<Config>,
        catalogue: Arc<Catalogue>,
        trust: Arc<TrustCache>,
    ) -> Self {
        Self {
            store,
            keys,
            config,
            catalogue,
            rng: SystemRandom::new(),
            seal_contexts: Default::default(),
            trust,
            dss_crls: Default::default(),
            root_keys: Default::default(),
            seal_maker: Default::default(),
        }
    }

    /// Makes whatever is missing of the platform: its row, a root CA and first CRL per
    /// algorithm, the configuration file. Never replaces an existing root or key.
    pub async fn init(&self, platform_name: &str, now: OffsetDateTime) -> Result<InitReport, PlatformError> {
        let platform_name = checked_name("platform name", platform_name, MAX_DEPARTMENT_NAME)?;
        let existing = self.store.platform().await?;
        let platform_name = match existing {
            Some(p) => p.name,
            None => {
                let record = PlatformRecord { name: platform_name.to_owned(), created_at: now };
                self.store.insert_platform(&record).await?;
                record.name
            }
        };
        let roots = self.store.roots().await?;
        let mut report = InitReport {
            platform_name,
            created: vec![],
            kept: vec![],
            wrote_config: false,
            made_seal_maker: false,
        };
        for algorithm in Algorithm::ALL {
            if roots.iter().any(|r| r.algorithm == algorithm) {
                report.kept.push(algorithm);
                continue;
            }
            self.make_root(&report.platform_name, algorithm, now).await?;
            report.created.push(algorithm);
        }
        report.made_seal_maker = !self.has_seal_maker().await?;
        self.seal_maker(now).await?;
        report.wrote_config = self.write_config_file()?;
        Ok(report)
    }

    /// Writes the configuration file unless there is one; whether it wrote it.
    fn write_config_file(&self) -> Result<bool, PlatformError> {
        let config_path = self.config.data_dir.join(CONFIG_FILE);
        if config_path.exists() {
            return Ok(false);
        }
        let text = format!(
            "# Zhengzhao configuration; environment ZHENGZHAO_* and flags override it.\n\
             public_url = {:?}\n# listen = \"127.0.0.1:8080\"\n# database_url = \"postgres://user@host/db\"\n\
             # log = \"info\"\n# log_format = \"text\"\n# crl_days = 7\n# seal_cert_days = 1095\n\
             # tsa_policy = \"2.5.29.32.0\"  # the OID of your time-stamp policy (default: anyPolicy)\n",
            self.config.public_url
        );
        std::fs::write(&config_path, text)
            .map_err(|e| PlatformError::Io(format!("cannot write {}: {e}", config_path.display())))?;
        Ok(true)
    }

    async fn make_root(
        &self,
        name: &str,
        algorithm: Algorithm,
        now: OffsetDateTime,
    ) -> Result<(), PlatformError> {
        let key_name = format!("root-{algorithm}");
        // A key left by an interrupted init is reused, never replaced.
        let (key, fresh) = if self.keys.exists(&key_name)? {
            (self.keys.read(&key_name)?, false)
        } else {
            let key = PrivateKey::generate(algorithm, &self.rng)?;
            self.keys.write_new(&key_name, &key)?;
            (key, true)
        };
        let result = async {
            let serial = pki::random_serial(&self.rng)?;
            let cert_der = pki::make_root(
                algorithm,
                name,
                &key,
                now - BACKDATE,
                now + Duration::days(365 * ROOT_YEARS),
                serial,
            )?;
            let crl = self.sign_crl(algorithm, &cert_der, &key, 1, now, &[])?;
            let root = RootRecord { algorithm, cert_der, key_name: key_name.clone(), created_at: now };
            self.store.insert_root(&root, &crl).await?;
            Ok::<_, PlatformError>(())
        }
        .await;
        if result.is_err() && fresh {
            self.keys.discard(&key_name);
        }
        result
    }

    /// The platform row.
    pub async fn platform(&self) -> Result<PlatformRecord, PlatformError> {
        lookup::platform(self.store.as_ref(), &self.config.data_dir).await
    }

    /// Root certificates as PEM, of one algorithm or all.
    pub async fn roots_pem(&self, algorithm: Option<Algorithm>) -> Result<String, PlatformError> {
        let roots = self.store.roots().await?;
        let pem: String = roots
            .iter()
            .filter(|r| algorithm.is_none_or(|a| a == r.algorithm))
            .map(|r| pki::pem_encode("CERTIFICATE", &r.cert_der))
            .collect();
        if pem.is_empty() {
            return Err(PlatformError::NotFound("no root CA; run `zhengzhao init`".to_owned()));
        }
        Ok(pem)
    }

    /// A root's certificate and key, read from the store and key store once.
    pub(super) async fn root_with_key(
        &self,
        algorithm: Algorithm,
    ) -> Result<Arc<RootWithKey>, PlatformError> {
        if let Some(r) = self.root_keys.lock().ok().and_then(|c| c.get(&algorithm).cloned()) {
            return Ok(r);
        }
        let root = lookup::root(self.store.as_ref(), algorithm).await?;
        let key = self.keys.read(&root.key_name)?;
        let r = Arc::new((root, key));
        if let Ok(mut cache) = self.root_keys.lock() {
            cache.insert(algorithm, r.clone());
        }
        Ok(r)
    }

    /// The algorithms of [`Algorithm::ALL`] without a root: none once `init` has run with
    /// this version; on a data directory made before an algorithm existed (SM2), that
    /// one, until `zhengzhao init` adds it.
    pub async fn missing_roots(&self) -> Result<Vec<Algorithm>, PlatformError> {
        let roots = self.store.roots().await?;
        Ok(Algorithm::ALL.into_iter().filter(|a| !roots.iter().any(|r| r.algorithm == *a)).collect())
    }

    /// Reads every root key, the seal maker's, the key of every active seal and of the
    /// newest time-stamping unit of each algorithm, so that a missing file, loose
    /// permissions or a wrong passphrase show at start-up. Returns how many.
    pub async fn check_keys(&self) -> Result<usize, PlatformError> {
        let mut names: Vec<String> = self.store.roots().await?.into_iter().map(|r| r.key_name).collect();
        let seals = self.store.seals(None).await?;
        names.extend(seals.into_iter().filter(|s| s.status == SealStatus::Active).map(|s| s.key_name));
        names.extend(self.store.seal_maker().await?.map(|m| m.key_name));
        let units = self.store.tsa_units(None).await?;
        for algorithm in Algorithm::ALL {
            names.extend(units.iter().rev().find(|u| u.algorithm == algorithm).map(|u| u.key_name.clone()));
        }
        for name in &names {
            self.keys.read(name)?;
        }
        Ok(names.len())
    }
}
