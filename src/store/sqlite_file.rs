//! The SQLite database file: created mode 0600 (it holds personal data) before SQLite
//! opens it, and the pragmas every connection runs, `synchronous = FULL` among them, so
//! that a licence acknowledged with 201 survives an OS crash or power loss.

use std::path::PathBuf;

use super::error::StoreError;

/// Run on every SQLite connection. With `journal_mode = WAL`, `synchronous = NORMAL` syncs
/// the WAL only at checkpoints, so an OS crash or power cut can roll back transactions that
/// had committed (and been acknowledged); `FULL` syncs the WAL at every commit.
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

/// Mode of the database file and of its `-wal` and `-shm` companions.
pub const DB_FILE_MODE: u32 = 0o600;

/// The file path of a `sqlite:` URL (`sqlite://PATH?…`, `sqlite:PATH`), or `None` for an
/// in-memory database.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Creates the database file with mode 0600 if it does not exist, and narrows an existing
/// file (and its `-wal`/`-shm`) to 0600. SQLite gives the `-wal` and `-shm` files it creates
/// the mode of the database file.
pub fn prepare(url: &str) -> Result<(), StoreError> {
    let Some(path) = sqlite_path(url) else { return Ok(()) };
    restrict(&path)
}

#[cfg(unix)]
fn restrict(path: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |what: &str, p: &std::path::Path, e: std::io::Error| {
        StoreError::Database(sqlx::Error::Configuration(format!("{what} {}: {e}", p.display()).into()))
    };
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(DB_FILE_MODE).open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io("cannot create the database file", path, e)),
    }
    let mut companions = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        companions.push(PathBuf::from(name));
    }
    for file in companions {
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(DB_FILE_MODE))
                .map_err(|e| io("cannot restrict the mode of", &file, e))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_path: &std::path::Path) -> Result<(), StoreError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use super::*;

    #[test]
    fn paths_of_sqlite_urls() {
        assert_eq!(sqlite_path("sqlite:///d/z.db?mode=rwc"), Some(PathBuf::from("/d/z.db")));
        assert_eq!(sqlite_path("sqlite:z.db"), Some(PathBuf::from("z.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("sqlite://x?mode=memory"), None);
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
    }
}
