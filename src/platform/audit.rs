//! Checkpoints of the access log: the signer's key and certificate, signing the head while
//! entries arrive (a task `serve` starts), the file copies outside the database
//! (`DATA/audit/checkpoint-latest.json` and the append-only `DATA/audit/checkpoints.jsonl`),
//! and checking the stored chain against a checkpoint.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use ring::rand::SystemRandom;

use crate::audit::{ChainBreak, ChainVerifier, GENESIS};
use crate::audit_checkpoint::{Checkpoint, CheckpointError, CheckpointMismatch};
use crate::keystore::KeyStore;
use crate::pki::{self, Algorithm, PrivateKey};
use crate::signing::SealSigner;
use crate::store::Store;

use super::error::PlatformError;
use super::pki::{BACKDATE, Pki};

/// How often the checkpoint task looks for new entries: a new head is signed within this
/// time (so at least every minute while entries arrive).
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(30);
/// The checkpoint signer's key in the key store.
pub const AUDIT_KEY: &str = "audit-ed25519";
/// Validity of a checkpoint signer certificate; a new one is issued for the same key
/// when less than a tenth of it is left.
const AUDIT_CERT_DAYS: i64 = 3 * 365;
/// Largest checkpoint file read (a checkpoint has about 1 KB).
const MAX_CHECKPOINT_FILE: u64 = 64 * 1024;
/// Access log rows read per page.
const PAGE: u32 = 5000;

/// The directory of the checkpoint files.
pub fn audit_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("audit")
}

/// The checkpoint signer: its key and certificate.
#[derive(Debug)]
pub struct AuditSigner {
    signer: SealSigner,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditOutcome {
    /// The chain holds and agrees with the checkpoint (if one was given).
    Intact {
        /// Entries checked.
        entries: u64,
        /// The checkpoint's head sequence number and signing time, if one was given.
        checkpoint: Option<(u64, String)>,
    },
    /// An entry was changed, removed or inserted.
    Broken(ChainBreak),
    /// The checkpoint cannot be believed.
    BadCheckpoint(CheckpointError),
    /// The chain disagrees with a valid checkpoint.
    Mismatch(CheckpointMismatch),
}

/// The access log's checkpoints and chain checks.
#[derive(Debug, Clone)]
pub struct Audit {
    store: Arc<dyn Store>,
    keys: KeyStore,
    data_dir: PathBuf,
    rng: SystemRandom,
    pki: Pki,
}

impl Audit {
    pub(super) fn new(store: Arc<dyn Store>, keys: KeyStore, data_dir: PathBuf, pki: Pki) -> Self {
        Self { store, keys, data_dir, rng: SystemRandom::new(), pki }
    }

    fn audit_cert_path(&self) -> PathBuf {
        audit_dir(&self.data_dir).join("signer.pem")
    }

    /// The file with the newest checkpoint.
    pub fn checkpoint_path(&self) -> PathBuf {
        audit_dir(&self.data_dir).join("checkpoint-latest.json")
    }

    /// The append-only file with every checkpoint, one JSON object a line.
    pub fn checkpoint_history_path(&self) -> PathBuf {
        audit_dir(&self.data_dir).join("checkpoints.jsonl")
    }

    /// The checkpoint signer, made on first use: a new Ed25519 key in the key store (0600,
    /// encrypted with the passphrase if one is set) and a certificate from the Ed25519 root,
    /// kept in `DATA/audit/signer.pem` and renewed for the same key before it expires.
    pub async fn audit_signer(&self, now: OffsetDateTime) -> Result<AuditSigner, PlatformError> {
        let key = if self.keys.exists(AUDIT_KEY)? {
            self.keys.read(AUDIT_KEY)?
        } else {
            let key = PrivateKey::generate(Algorithm::Ed25519, &self.rng)?;
            self.keys.write_new(AUDIT_KEY, &key)?;
            key
        };
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der())
            .map_err(|error| PlatformError::Signing { key: "checkpoint signer".into(), error })?;
        let path = self.audit_cert_path();
        let root = self.pki.root_with_key(Algorithm::Ed25519).await?;
        let existing = std::fs::read_to_string(&path).ok().and_then(|pem| {
            let der = pki::pem_decode_all(&pem, "CERTIFICATE").ok()?.into_iter().next()?;
            let info = pki::cert_info(&der).ok()?;
            let fresh = info.not_after - now > time::Duration::days(AUDIT_CERT_DAYS / 10);
            let ours = signer.public_key_spki_der() == spki(&der)?;
            let chains =
                pki::validate_audit_signer(&der, std::slice::from_ref(&root.0.cert_der), now).is_ok();
            (fresh && ours && chains).then_some(der)
        });
        if let Some(cert_der) = existing {
            return Ok(AuditSigner { signer, cert_der });
        }
        let platform = self.store.platform().await?.map(|p| p.name).unwrap_or_default();
        let cert_der = pki::issue_audit_cert(
            &platform,
            &signer.public_key_spki_der(),
            &root.0.cert_der,
            &root.1,
            now - BACKDATE,
            now + time::Duration::days(AUDIT_CERT_DAYS),
            pki::random_serial(&self.rng)?,
        )?;
        write_atomically(&path, pki::pem_encode("CERTIFICATE", &cert_der).as_bytes())?;
        Ok(AuditSigner { signer, cert_der })
    }

    /// The newest checkpoint written in this data directory, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, PlatformError> {
        read_checkpoint(&self.checkpoint_path())
    }

    /// Signs the log's current head if it moved since the newest checkpoint, and writes it
    /// to the checkpoint files. Refuses (and signs nothing) when the stored log does not
    /// continue the newest checkpoint: entries were deleted or rewritten. Returns the new
    /// checkpoint, or `None` when the head did not move.
    pub async fn write_checkpoint(
        &self,
        signer: &AuditSigner,
        now: OffsetDateTime,
    ) -> Result<Option<Checkpoint>, PlatformError> {
        let last = self.latest_checkpoint()?;
        let mut verifier = match &last {
            None => ChainVerifier::default(),
            Some(cp) => {
                let head: [u8; 32] =
                    hex::decode(&cp.head).ok().and_then(|h| h.try_into().ok()).ok_or_else(|| {
                        PlatformError::Io(format!("{}: head is not a hash", self.checkpoint_path().display()))
                    })?;
                if cp.seq > 0 {
                    let at_head = self.store.access_log(cp.seq - 1, 1).await?;
                    if at_head.first().is_none_or(|r| r.entry.seq != cp.seq || r.hash != head) {
                        return Err(PlatformError::Conflict(format!(
                            "the access log no longer holds entry {} as the checkpoint of {} signed it: \
                             run `zhengzhao audit verify`",
                            cp.seq, cp.at
                        )));
                    }
                }
                ChainVerifier::resume(cp.seq, &head)
            }
        };
        loop {
            let rows = self.store.access_log(verifier.verified(), PAGE).await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                verifier.push(&r.entry, &r.prev_hash, &r.hash).map_err(|e| {
                    PlatformError::Conflict(format!(
                        "{e}: no checkpoint signed; run `zhengzhao audit verify`"
                    ))
                })?;
            }
        }
        if last.as_ref().is_some_and(|cp| cp.seq == verifier.verified()) {
            return Ok(None);
        }
        let head: [u8; 32] = verifier.head().try_into().unwrap_or(GENESIS);
        let checkpoint = Checkpoint::sign(verifier.verified(), head, now, &signer.cert_der, &signer.signer);
        let line = serde_json::to_string(&checkpoint).map_err(|e| PlatformError::Io(e.to_string()))?;
        append_line(&self.checkpoint_history_path(), &line)?;
        write_atomically(&self.checkpoint_path(), line.as_bytes())?;
        Ok(Some(checkpoint))
    }

    /// Signs a checkpoint every [`CHECKPOINT_INTERVAL`] while entries arrive, until the
    /// process ends. `serve` spawns it after [`Audit::audit_signer`] succeeded.
    pub async fn run_checkpoints(self, signer: AuditSigner, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.write_checkpoint(&signer, OffsetDateTime::now_utc()).await {
                Ok(Some(cp)) => tracing::debug!(seq = cp.seq, "access log checkpoint signed"),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "cannot sign an access log checkpoint"),
            }
        }
    }

    /// Recomputes the whole access log chain; answers the number of entries or the first break.
    pub async fn audit_verify(&self) -> Result<Result<u64, crate::audit::ChainBreak>, PlatformError> {
        let mut verifier = crate::audit::ChainVerifier::default();
        loop {
            let rows = self.store.access_log(verifier.verified(), 5000).await?;
            if rows.is_empty() {
                return Ok(Ok(verifier.verified()));
            }
            for r in &rows {
                if let Err(broken) = verifier.push(&r.entry, &r.prev_hash, &r.hash) {
                    return Ok(Err(broken));
                }
            }
        }
    }

    /// Checks the whole chain and, given a checkpoint, that the chain agrees with it: the
    /// checkpoint's signer is the root's checkpoint signer, its signature holds, the log
    /// reaches its head (else its tail was deleted) and holds the signed hash there (else
    /// the chain was rewritten).
    pub async fn audit_verify_with(
        &self,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<AuditOutcome, PlatformError> {
        let verified = match checkpoint {
            None => None,
            Some(cp) => {
                let roots: Vec<Vec<u8>> = self
                    .store
                    .roots()
                    .await?
                    .into_iter()
                    .filter(|r| r.algorithm == Algorithm::Ed25519)
                    .map(|r| r.cert_der)
                    .collect();
                match cp.verify(&roots) {
                    Ok(v) => Some(v),
                    Err(e) => return Ok(AuditOutcome::BadCheckpoint(e)),
                }
            }
        };
        let mut chain = ChainVerifier::default();
        let mut hash_at_head = None;
        loop {
            let rows = self.store.access_log(chain.verified(), PAGE).await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                if let Err(broken) = chain.push(&r.entry, &r.prev_hash, &r.hash) {
                    return Ok(AuditOutcome::Broken(broken));
                }
                if verified.is_some_and(|v| v.seq == r.entry.seq) {
                    hash_at_head = Some(r.hash.clone());
                }
            }
        }
        if let Some(v) = &verified
            && let Err(mismatch) = v.compare(chain.verified(), hash_at_head.as_deref())
        {
            return Ok(AuditOutcome::Mismatch(mismatch));
        }
        Ok(AuditOutcome::Intact {
            entries: chain.verified(),
            checkpoint: verified.map(|v| (v.seq, checkpoint.map(|c| c.at.clone()).unwrap_or_default())),
        })
    }
}

/// Reads a checkpoint file; `None` if it does not exist.
pub fn read_checkpoint(path: &std::path::Path) -> Result<Option<Checkpoint>, PlatformError> {
    if let Ok(meta) = std::fs::metadata(path)
        && meta.len() > MAX_CHECKPOINT_FILE
    {
        return Err(PlatformError::InvalidInput {
            field: "checkpoint",
            message: format!(
                "{} has {} bytes: not a checkpoint (at most {MAX_CHECKPOINT_FILE})",
                path.display(),
                meta.len()
            ),
        });
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PlatformError::Io(format!("cannot read {}: {e}", path.display()))),
    };
    serde_json::from_str(text.trim()).map(Some).map_err(|e| PlatformError::InvalidInput {
        field: "checkpoint",
        message: format!("{} is not a checkpoint: {e}", path.display()),
    })
}

fn spki(cert_der: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der).ok()?;
    Some(cert.public_key().raw.to_vec())
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> PlatformError {
    PlatformError::Io(format!("cannot write {}: {e}", path.display()))
}

fn ensure_parent(path: &std::path::Path) -> Result<(), PlatformError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    Ok(())
}

/// Writes beside `path`, syncs and renames, so that readers see the old or the new file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), PlatformError> {
    ensure_parent(path)?;
    let tmp = path.with_extension("tmp");
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    written.and_then(|()| std::fs::rename(&tmp, path)).map_err(|e| io_error(path, e))
}

/// Appends one line and syncs it.
fn append_line(path: &std::path::Path, line: &str) -> Result<(), PlatformError> {
    ensure_parent(path)?;
    let mut file =
        std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| io_error(path, e))?;
    file.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error(path, e))
}
