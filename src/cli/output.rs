//! What every command's output shares: JSON as the command line has always printed it,
//! times in RFC 3339, and the quiet exit on a closed pipe.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Writes `value` as pretty JSON with every object's keys sorted, as the `--json` lists
/// have always printed them (scripts diff them).
pub fn write_json(out: &mut impl Write, value: &impl Serialize) -> Result<()> {
    writeln!(out, "{}", serde_json::to_string_pretty(&serde_json::to_value(value)?)?)?;
    Ok(())
}

/// `t` in RFC 3339 (its Unix time in the unreachable case that it cannot be formatted).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Whether `error` comes from writing to a pipe whose reader has gone (`… | head -1`).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
