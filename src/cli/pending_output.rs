//! An output file opened before the work that fills it: `issue --out` opens it before the
//! register is touched, so that an unwritable path fails without storing a licence.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// A file being written beside its target (`NAME.partial`), renamed onto the target when
/// finished; dropped unfinished, it is removed.
#[derive(Debug)]
pub struct PendingOutput {
    target: PathBuf,
    partial: PathBuf,
    file: Option<std::fs::File>,
    done: bool,
}

impl PendingOutput {
    /// Opens `NAME.partial` beside `target` for writing: fails now if the directory is
    /// missing or not writable, or if `target` is a directory.
    pub fn open(target: &Path) -> Result<Self> {
        if target.is_dir() {
            bail!("cannot write {}: it is a directory", target.display());
        }
        let mut name = target.file_name().map(|n| n.to_owned()).unwrap_or_default();
        if name.is_empty() {
            bail!("cannot write {}: no file name", target.display());
        }
        name.push(".partial");
        let partial = target.with_file_name(name);
        let file =
            std::fs::File::create(&partial).with_context(|| format!("cannot write {}", target.display()))?;
        Ok(Self { target: target.to_path_buf(), partial, file: Some(file), done: false })
    }

    /// Writes `bytes`, syncs them and renames the file onto the target.
    pub fn finish(mut self, bytes: &[u8]) -> Result<()> {
        let mut file = self.file.take().context("the output was finished already")?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", self.partial.display()))?;
        drop(file);
        std::fs::rename(&self.partial, &self.target)
            .with_context(|| format!("cannot write {}", self.target.display()))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for PendingOutput {
    fn drop(&mut self) {
        if !self.done {
            drop(self.file.take());
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}
