//! `zhengzhao config`: the configuration in force.

use std::io::Write;

use anyhow::{Context, Result};
use zhengzhao::config::{Config, redact_url};

/// Prints the data directory and the configuration in force, with the database URL in
/// force (the SQLite default when none is set) and its password redacted.
pub fn show(config: &Config, out: &mut impl Write) -> Result<()> {
    writeln!(out, "# data directory: {}", config.data_dir.display())?;
    let mut shown = config.clone();
    shown.database_url = redact_url(&config.effective_database_url());
    writeln!(out, "{}", toml::to_string(&shown).context("printing the configuration")?)?;
    Ok(())
}
