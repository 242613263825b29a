//! The platform services that the command line and the HTTP API share: initialise the
//! platform's root CAs, register departments, create and revoke seals, keep each
//! root's CRL current. This layer does the I/O (store, key files, clock); the domain
//! modules it calls do none.

mod accesslog;
mod checkpoint;
mod clients;
mod crl;
mod error;
mod holder;
mod issue;
mod portals;
mod ratelimit;
mod register;
mod verify;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ring::rand::SystemRandom;
use time::{Duration, OffsetDateTime};

use crate::codes::{AreaCode, Uscc};
use crate::config::{CONFIG_FILE, Config};
use crate::keystore::KeyStore;
use crate::licence::Catalogue;
use crate::pki::{self, Algorithm, PrivateKey, RevocationReason};
use crate::seal::{self, SealDrawing};
use crate::store::{
    CrlRecord, Department, PlatformRecord, RootRecord, SealRecord, SealStatus, SqlStore, Store, StoreError,
};

pub use checkpoint::{AUDIT_KEY, AuditOutcome, AuditSigner, CHECKPOINT_INTERVAL, audit_dir, read_checkpoint};
pub use clients::{ClientKey, Scope, has_scope, key_hash, may_use_type};
pub use error::PlatformError;
pub use holder::{HOLDER_ASSERTION_BASIS, HolderCall, HolderCaller};
pub use issue::{IssueRequest, IssuedLicence, MAX_IDEMPOTENCY_KEY, licence_page};
pub use portals::{PORTAL_KEY_PREFIX, parse_portal_public_key};
pub use ratelimit::RateLimiter;
pub use register::{
    Access, AuthorisationRequest, AuthorisationView, Basis, CheckClaims, CheckRequest, CheckResult,
    LicenceView, MAX_PAGE, MAX_PURPOSE, StatusView, effective_status,
};
pub use verify::{MAX_VERIFY_PDF_BYTES, TRUST_LIST_VALIDITY, TRUST_SET_TTL};

/// Validity of a root certificate.
const ROOT_YEARS: i64 = 20;
/// Certificates start a little in the past so that a verifier with a slow clock accepts them.
const BACKDATE: Duration = Duration::minutes(5);
/// Longest department name, in characters.
const MAX_DEPARTMENT_NAME: usize = seal::MAX_DEPARTMENT_CHARS;
/// The department and seal `serve` creates on a fresh data directory.
pub const DEMO_DEPARTMENT: (&str, &str, &str) = ("11310115MB2C90510L", "演示市市场监督管理局", "310115");
/// Name of the demo seal.
pub const DEMO_SEAL_NAME: &str = "行政审批专用章";

/// The services, over one store and one key store.
#[derive(Debug, Clone)]
pub struct Platform {
    /// The configuration in force.
    pub config: Config,
    /// The register.
    pub store: Arc<dyn Store>,
    /// The private keys.
    pub keys: KeyStore,
    /// The licence types.
    pub catalogue: Catalogue,
    rng: SystemRandom,
    seal_cache: issue::SealCache,
    trust_cache: verify::SharedTrustCache,
    /// Per root: the CRL that licences signed now carry in their DSS (see [`Platform::dss_crl`]).
    dss_crls: Arc<tokio::sync::Mutex<HashMap<Algorithm, CrlRecord>>>,
    /// Root certificates with their keys, read once (key files may be slow to decrypt).
    root_keys: Arc<std::sync::Mutex<HashMap<Algorithm, Arc<RootWithKey>>>>,
    rate: Arc<RateLimiter>,
    access_log: accesslog::AccessLogWriter,
    /// Slots for uploaded PDFs verified at once (`pdf_verify_concurrency`).
    pdf_slots: Arc<verify::PdfSlots>,
}

/// A root certificate with its private key.
type RootWithKey = (RootRecord, PrivateKey);

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
}

impl Platform {
    /// Opens an initialised data directory; refuses a missing or empty one.
    pub async fn open(config: Config, passphrase: Option<String>) -> Result<Self, PlatformError> {
        if !is_initialised(&config.data_dir) && config.database_url.is_empty() {
            return Err(PlatformError::NotInitialised(config.data_dir.clone()));
        }
        let platform = Self::connect(config, passphrase).await?;
        if platform.store.platform().await?.is_none() {
            return Err(PlatformError::NotInitialised(platform.config.data_dir.clone()));
        }
        Ok(platform)
    }

    /// Opens the data directory, creating it (mode 0700) if needed, without requiring
    /// an initialised platform. For `init` and the first start of `serve`.
    pub async fn create(config: Config, passphrase: Option<String>) -> Result<Self, PlatformError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| PlatformError::Io(format!("cannot create {}: {e}", config.data_dir.display())))?;
        restrict_dir(&config.data_dir)?;
        Self::connect(config, passphrase).await
    }

    async fn connect(config: Config, passphrase: Option<String>) -> Result<Self, PlatformError> {
        let store = SqlStore::connect(&config.effective_database_url()).await?;
        let keys = KeyStore::new(config.data_dir.join("keys"), passphrase);
        let catalogue = Catalogue::shipped().map_err(|e| PlatformError::Io(e.to_string()))?;
        let store: Arc<dyn Store> = Arc::new(store);
        Ok(Self {
            access_log: accesslog::AccessLogWriter::start(store.clone()),
            store,
            keys,
            catalogue,
            rng: SystemRandom::new(),
            seal_cache: Default::default(),
            trust_cache: Default::default(),
            dss_crls: Default::default(),
            root_keys: Default::default(),
            rate: Arc::new(RateLimiter::new(config.rate_limit, config.rate_limit.saturating_mul(2))),
            pdf_slots: Arc::new(verify::PdfSlots::new(config.pdf_verify_concurrency as usize)),
            config,
        })
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
        let mut report = InitReport { platform_name, created: vec![], kept: vec![], wrote_config: false };
        for algorithm in Algorithm::ALL {
            if roots.iter().any(|r| r.algorithm == algorithm) {
                report.kept.push(algorithm);
                continue;
            }
            self.make_root(&report.platform_name, algorithm, now).await?;
            report.created.push(algorithm);
        }
        let config_path = self.config.data_dir.join(CONFIG_FILE);
        if !config_path.exists() {
            let text = format!(
                "# Zhengzhao configuration; environment ZHENGZHAO_* and flags override it.\n\
                 public_url = {:?}\n# listen = \"127.0.0.1:8080\"\n# database_url = \"postgres://user@host/db\"\n\
                 # log = \"info\"\n# log_format = \"text\"\n# crl_days = 7\n# seal_cert_days = 1095\n",
                self.config.public_url
            );
            std::fs::write(&config_path, text)
                .map_err(|e| PlatformError::Io(format!("cannot write {}: {e}", config_path.display())))?;
            report.wrote_config = true;
        }
        Ok(report)
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
        self.store
            .platform()
            .await?
            .ok_or_else(|| PlatformError::NotInitialised(self.config.data_dir.clone()))
    }

    async fn root(&self, algorithm: Algorithm) -> Result<RootRecord, PlatformError> {
        self.store
            .roots()
            .await?
            .into_iter()
            .find(|r| r.algorithm == algorithm)
            .ok_or_else(|| PlatformError::NotFound(format!("no {algorithm} root CA; run `zhengzhao init`")))
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

    /// Registers a department after checking its code (with check character), name and
    /// area code.
    pub async fn add_department(
        &self,
        code: &str,
        name: &str,
        area: &str,
        type_codes: &[String],
        now: OffsetDateTime,
    ) -> Result<Department, PlatformError> {
        let code = Uscc::parse(code.trim()).map_err(|e| PlatformError::invalid("code", e))?;
        let name = checked_name("name", name, MAX_DEPARTMENT_NAME)?;
        let area = AreaCode::parse(area.trim()).map_err(|e| PlatformError::invalid("area", e))?;
        // The name goes on the department's seals: it must be drawable.
        seal::draw(name, "")?;
        let type_codes = self.checked_type_codes(type_codes)?;
        let department = Department { code, name: name.to_owned(), area, type_codes, created_at: now };
        self.store.insert_department(&department).await?;
        self.trust_cache.invalidate();
        Ok(department)
    }

    /// Licence type codes as given for a department or client: each must be a type of the
    /// catalogue or `*` (any); none given means `*`.
    pub(crate) fn checked_type_codes(&self, type_codes: &[String]) -> Result<Vec<String>, PlatformError> {
        for code in type_codes {
            if code != "*" && self.catalogue.get(code).is_none() {
                return Err(PlatformError::InvalidInput {
                    field: "types",
                    message: format!("unknown licence type {code:?}; see `zhengzhao types list`"),
                });
            }
        }
        Ok(if type_codes.is_empty() { vec!["*".to_owned()] } else { type_codes.to_vec() })
    }

    /// All departments.
    pub async fn departments(&self) -> Result<Vec<Department>, PlatformError> {
        Ok(self.store.departments().await?)
    }

    async fn department(&self, code: &str) -> Result<Department, PlatformError> {
        let code = Uscc::parse(code.trim()).map_err(|e| PlatformError::invalid("department", e))?;
        self.store
            .department(&code)
            .await?
            .ok_or_else(|| PlatformError::NotFound(format!("department {code}")))
    }

    /// Creates a seal for a department: a new key, a certificate from the root of the
    /// same algorithm, and the record. The name must be drawable (see [`seal::draw`]).
    pub async fn create_seal(
        &self,
        department: &str,
        name: &str,
        algorithm: Algorithm,
        now: OffsetDateTime,
    ) -> Result<SealRecord, PlatformError> {
        let department = self.department(department).await?;
        let name = checked_name("name", name, seal::MAX_SEAL_NAME_CHARS)?;
        seal::draw(&department.name, name)?;
        let root = self.root(algorithm).await?;
        let root_key = self.keys.read(&root.key_name)?;
        let number = self.store.next_counter(&format!("seal:{}", department.area)).await?;
        let id = format!("{}{number:08}", department.area);
        let key_name = format!("seal-{id}");
        let key = PrivateKey::generate(algorithm, &self.rng)?;
        self.keys.write_new(&key_name, &key)?;
        let result = async {
            let serial = pki::random_serial(&self.rng)?;
            let subject = pki::SealSubject {
                seal_id: &id,
                seal_name: name,
                department_name: &department.name,
                department_code: department.code.as_str(),
            };
            let root_info = pki::cert_info(&root.cert_der)?;
            let not_after =
                (now + Duration::days(i64::from(self.config.seal_cert_days))).min(root_info.not_after);
            let cert_der = pki::issue_seal_cert(
                &subject,
                &key.public_key_spki_der(),
                &root.cert_der,
                &root_key,
                &self.config.crl_url(algorithm.as_str()),
                now - BACKDATE,
                not_after,
                serial,
            )?;
            let seal = SealRecord {
                id: id.clone(),
                department_code: department.code.clone(),
                name: name.to_owned(),
                algorithm,
                cert_der,
                serial_hex: hex::encode(serial),
                key_name: key_name.clone(),
                status: SealStatus::Active,
                created_at: now,
                revocation: None,
            };
            self.store.insert_seal(&seal).await?;
            self.trust_cache.invalidate();
            Ok::<_, PlatformError>(seal)
        }
        .await;
        if result.is_err() {
            self.keys.discard(&key_name);
        }
        result
    }

    /// One seal.
    pub async fn seal(&self, id: &str) -> Result<SealRecord, PlatformError> {
        self.store
            .seal(id.trim())
            .await?
            .ok_or_else(|| PlatformError::NotFound(format!("seal {}", id.trim())))
    }

    /// All seals, or one department's.
    pub async fn seals(&self, department: Option<&str>) -> Result<Vec<SealRecord>, PlatformError> {
        match department {
            Some(code) => {
                let department = self.department(code).await?;
                Ok(self.store.seals(Some(&department.code)).await?)
            }
            None => Ok(self.store.seals(None).await?),
        }
    }

    /// The seal certificate and its root, PEM, leaf first.
    pub async fn seal_chain_pem(&self, id: &str) -> Result<String, PlatformError> {
        let seal = self.seal(id).await?;
        let root = self.root(seal.algorithm).await?;
        Ok(pki::pem_encode("CERTIFICATE", &seal.cert_der) + &pki::pem_encode("CERTIFICATE", &root.cert_der))
    }

    /// The seal's image, drawn from its department's name and its own.
    pub async fn seal_drawing(&self, id: &str) -> Result<SealDrawing, PlatformError> {
        let seal = self.seal(id).await?;
        let department = self.department(seal.department_code.as_str()).await?;
        Ok(seal::draw(&department.name, &seal.name)?)
    }

    /// Revokes a seal: marks it and publishes a freshly signed CRL of its root listing
    /// it, atomically.
    pub async fn revoke_seal(
        &self,
        id: &str,
        reason: RevocationReason,
        now: OffsetDateTime,
    ) -> Result<(SealRecord, CrlRecord), PlatformError> {
        let seal = self.seal(id).await?;
        if seal.status == SealStatus::Revoked {
            return Err(PlatformError::Conflict(format!("seal {} is revoked already", seal.id)));
        }
        let crl = self.publish_revocation(&seal, reason, now).await?;
        if let Ok(mut cache) = self.seal_cache.lock() {
            cache.remove(&seal.id);
        }
        self.trust_cache.invalidate();
        // Licences signed from now on carry a CRL that lists the seal.
        let mut dss = self.dss_crls.lock().await;
        if dss.get(&seal.algorithm).is_none_or(|c| c.number < crl.number) {
            dss.insert(seal.algorithm, crl.clone());
        }
        drop(dss);
        Ok((self.seal(&seal.id).await?, crl))
    }

    /// A root's certificate and key, read from the store and key store once.
    async fn root_with_key(&self, algorithm: Algorithm) -> Result<Arc<RootWithKey>, PlatformError> {
        if let Some(r) = self.root_keys.lock().ok().and_then(|c| c.get(&algorithm).cloned()) {
            return Ok(r);
        }
        let root = self.root(algorithm).await?;
        let key = self.keys.read(&root.key_name)?;
        let r = Arc::new((root, key));
        if let Ok(mut cache) = self.root_keys.lock() {
            cache.insert(algorithm, r.clone());
        }
        Ok(r)
    }

    /// Reads every root key and the key of every active seal, so that a missing file,
    /// loose permissions or a wrong passphrase show at start-up. Returns how many.
    pub async fn check_keys(&self) -> Result<usize, PlatformError> {
        let mut names: Vec<String> = self.store.roots().await?.into_iter().map(|r| r.key_name).collect();
        let seals = self.store.seals(None).await?;
        names.extend(seals.into_iter().filter(|s| s.status == SealStatus::Active).map(|s| s.key_name));
        for name in &names {
            self.keys.read(name)?;
        }
        Ok(names.len())
    }

    /// On a fresh data directory: initialises the platform and adds the demo department
    /// and one demo seal per algorithm. Returns the demo seals made now (none if the
    /// platform had departments already).
    pub async fn ensure_demo(&self, now: OffsetDateTime) -> Result<Vec<SealRecord>, PlatformError> {
        self.init("证照服务平台（演示）", now).await?;
        if !self.departments().await?.is_empty() {
            return Ok(vec![]);
        }
        let (code, name, area) = DEMO_DEPARTMENT;
        self.add_department(code, name, area, &[], now).await?;
        let mut seals = vec![];
        for algorithm in Algorithm::ALL {
            seals.push(self.create_seal(code, DEMO_SEAL_NAME, algorithm, now).await?);
        }
        Ok(seals)
    }
}

/// Whether `dir` holds an initialised platform (a database or configuration file).
pub fn is_initialised(dir: &Path) -> bool {
    dir.join("zhengzhao.db").exists() || dir.join(CONFIG_FILE).exists()
}

/// Whether `dir` is missing or empty, i.e. safe for a first-run initialisation.
pub fn is_fresh(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

fn restrict_dir(dir: &Path) -> Result<(), PlatformError> {
    use std::os::unix::fs::PermissionsExt;
    let path: PathBuf = dir.to_owned();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| PlatformError::Io(format!("cannot restrict {}: {e}", path.display())))
}

fn serial_bytes(hex_serial: &str) -> Result<Vec<u8>, PlatformError> {
    hex::decode(hex_serial)
        .map_err(|e| StoreError::Corrupt(format!("seal serial {hex_serial:?}: {e}")).into())
}

/// Trims a name and checks it is non-empty, at most `max` characters, without control
/// characters.
fn checked_name<'a>(field: &'static str, name: &'a str, max: usize) -> Result<&'a str, PlatformError> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 {
        return Err(PlatformError::InvalidInput { field, message: "must not be empty".to_owned() });
    }
    if n > max {
        return Err(PlatformError::InvalidInput {
            field,
            message: format!("has {n} characters, at most {max} allowed"),
        });
    }
    if name.chars().any(char::is_control) {
        return Err(PlatformError::InvalidInput { field, message: "contains control characters".to_owned() });
    }
    Ok(name)
}
