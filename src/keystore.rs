//! Private keys on disk: one PKCS#8 PEM file per key under `DATA/keys/`, mode 0600 in a
//! 0700 directory, optionally encrypted with the passphrase from
//! `ZHENGZHAO_KEY_PASSPHRASE`. Keys are written once and never overwritten.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::pki::{PkiError, PrivateKey};

/// Where keys live and how they are protected.
#[derive(Clone)]
pub struct KeyStore {
    dir: PathBuf,
    passphrase: Option<Zeroizing<String>>,
}

/// Why a key could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// A key file of that name already exists; keys are never overwritten.
    #[error("key file {0} already exists; refusing to overwrite it")]
    Exists(PathBuf),
    /// The key file is missing.
    #[error("key file {0} is missing")]
    Missing(PathBuf),
    /// Group or others may read the key file.
    #[error("key file {path} is readable by group or others (mode {mode:o}); run: chmod 600 {path}")]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// A key name with characters that could escape the directory.
    #[error("invalid key name {0:?}")]
    BadName(String),
    /// The file exists but its content is not a usable key.
    #[error("key file {path}: {source}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: PkiError,
    },
    /// File system error.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl KeyStore {
    /// A key store in `dir` (created on first write), encrypting with `passphrase` if set.
    pub fn new(dir: PathBuf, passphrase: Option<String>) -> Self {
        Self { dir, passphrase: passphrase.filter(|p| !p.is_empty()).map(Zeroizing::new) }
    }

    /// The directory that holds the keys.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether new keys are encrypted at rest.
    pub fn encrypts(&self) -> bool {
        self.passphrase.is_some()
    }

    /// The path of the key called `name`.
    pub fn path(&self, name: &str) -> Result<PathBuf, KeyStoreError> {
        let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(KeyStoreError::BadName(name.to_owned()));
        }
        Ok(self.dir.join(format!("{name}.key")))
    }

    /// Whether a key called `name` exists.
    pub fn exists(&self, name: &str) -> Result<bool, KeyStoreError> {
        Ok(self.path(name)?.exists())
    }

    /// Writes a new key file (mode 0600); fails if one of that name exists.
    pub fn write_new(&self, name: &str, key: &PrivateKey) -> Result<PathBuf, KeyStoreError> {
        let path = self.path(name)?;
        let io = |source| KeyStoreError::Io { path: path.clone(), source };
        fs::create_dir_all(&self.dir).map_err(io)?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
        let pem = key
            .to_pem(self.passphrase.as_ref().map(|p| p.as_bytes()))
            .map_err(|source| KeyStoreError::Key { path: path.clone(), source })?;
        let mut file = match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(KeyStoreError::Exists(path));
            }
            Err(e) => return Err(io(e)),
        };
        let written = file.write_all(pem.as_bytes()).and_then(|()| file.sync_all());
        if let Err(e) = written {
            // Leave no half-written key behind.
            let _ = fs::remove_file(&path);
            return Err(io(e));
        }
        Ok(path)
    }

    /// Reads the key called `name`, refusing files that others may read.
    pub fn read(&self, name: &str) -> Result<PrivateKey, KeyStoreError> {
        let path = self.path(name)?;
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyStoreError::Missing(path));
            }
            Err(source) => return Err(KeyStoreError::Io { path, source }),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyStoreError::Permissions { path, mode });
        }
        let pem = fs::read_to_string(&path)
            .map(Zeroizing::new)
            .map_err(|source| KeyStoreError::Io { path: path.clone(), source })?;
        PrivateKey::from_pem(&pem, self.passphrase.as_ref().map(|p| p.as_bytes()))
            .map_err(|source| KeyStoreError::Key { path, source })
    }

    /// Removes a key file written by a step that then failed (best effort).
    pub fn discard(&self, name: &str) {
        if let Ok(path) = self.path(name) {
            let _ = fs::remove_file(path);
        }
    }
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("dir", &self.dir)
            .field("encrypted", &self.passphrase.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Algorithm;

    fn key() -> PrivateKey {
        PrivateKey::generate(Algorithm::Ed25519, &ring::rand::SystemRandom::new()).unwrap()
    }

    #[test]
    fn writes_0600_never_overwrites_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let ks = KeyStore::new(dir.path().join("keys"), None);
        let k = key();
        let path = ks.write_new("root-ed25519", &k).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(ks.dir()).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(matches!(ks.write_new("root-ed25519", &key()), Err(KeyStoreError::Exists(_))));
        assert_eq!(ks.read("root-ed25519").unwrap().public_key_spki_der(), k.public_key_spki_der());
        assert!(format!("{ks:?}").contains("encrypted: false"));
    }

    #[test]
    fn refuses_loose_permissions_bad_names_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let ks = KeyStore::new(dir.path().to_owned(), None);
        let path = ks.write_new("a", &key()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = ks.read("a").unwrap_err();
        assert!(matches!(err, KeyStoreError::Permissions { mode: 0o644, .. }), "{err}");
        assert!(matches!(ks.read("../etc/passwd"), Err(KeyStoreError::BadName(_))));
        assert!(matches!(ks.read("nothere"), Err(KeyStoreError::Missing(_))));
    }

    #[test]
    fn encrypted_at_rest() {
        let dir = tempfile::tempdir().unwrap();
        let ks = KeyStore::new(dir.path().to_owned(), Some("correct horse".into()));
        let path = ks.write_new("s", &key()).unwrap();
        let text = fs::read_to_string(path).unwrap();
        assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "{text}");
        ks.read("s").unwrap();
        let wrong = KeyStore::new(dir.path().to_owned(), Some("wrong".into()));
        let err = wrong.read("s").unwrap_err();
        assert!(matches!(err, KeyStoreError::Key { source: PkiError::WrongPassphrase, .. }), "{err}");
        let none = KeyStore::new(dir.path().to_owned(), None);
        let err = none.read("s").unwrap_err();
        assert!(matches!(err, KeyStoreError::Key { source: PkiError::PassphraseRequired, .. }), "{err}");
    }
}
