//! The independent tools the tests call: found on `PATH` or named by an environment
//! variable (`tests/run-all.sh` installs them and sets the variables), required with a
//! loud skip ([`super::skip`]) or, under `CI`, a failure when missing, and run with a
//! time limit.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// Longest a checker may run before it is killed and the test fails (unless its test sets
/// its own limit with [`run_for`]).
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// An executable named by environment variable `var`, if it exists.
pub fn env_tool(var: &str) -> Result<PathBuf, String> {
    match std::env::var_os(var) {
        Some(p) if Path::new(&p).is_file() => Ok(PathBuf::from(p)),
        Some(p) => Err(format!("{var}={} does not exist", Path::new(&p).display())),
        None => Err(format!("{var} is unset (tests/run-all.sh sets it)")),
    }
}

/// An executable on `PATH`, if any.
pub fn path_tool(name: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name} is not on PATH (tests/run-all.sh installs it)"))
}

/// All `tools`, or `None` after a recorded skip ([`super::skip::skip`]) when one is
/// missing and `CI` is unset. Panics when one is missing and `CI` is set.
pub fn require<const N: usize>(test: &str, tools: [Result<PathBuf, String>; N]) -> Option<[PathBuf; N]> {
    let missing: Vec<String> = tools.iter().filter_map(|t| t.as_ref().err().cloned()).collect();
    if missing.is_empty() {
        return Some(tools.map(Result::unwrap));
    }
    super::skip::skip(test, &missing.join("; "));
    None
}

/// Runs `program` with `args`, killing it after [`TOOL_TIMEOUT`].
pub async fn run<I, S>(program: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_for(program, args, TOOL_TIMEOUT).await
}

/// Runs `program` with `args`, killing it after `limit` (for a checker known to be slow).
pub async fn run_for<I, S>(program: &Path, args: I, limit: Duration) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).kill_on_drop(true).stdin(std::process::Stdio::null());
    let line = format!("{cmd:?}");
    match tokio::time::timeout(limit, cmd.output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!("cannot run {line}: {e}"),
        Err(_) => panic!("{line} ran longer than {limit:?} and was killed"),
    }
}

/// stdout and stderr of a run, for assertions and failure messages.
pub fn text(out: &Output) -> String {
    format!(
        "exit {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
