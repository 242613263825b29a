//! Loud, counted skips: a test that cannot run because a tool or server is missing calls
//! [`skip`]. Under `CI` that fails the test; otherwise the skip is printed and recorded as a
//! file under `target/tmp/test-skips/`, which `tests/run-all.sh` lists and counts (libtest
//! hides the stderr of passing tests, so a printed warning alone would go unseen).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Whether the run is CI's (`CI` set and not empty).
pub fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// The folder where skips are recorded (emptied by `tests/run-all.sh` before a run).
pub fn skips_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-skips")
}

/// Records that `what` does not run because `why`; panics when `CI` is set.
pub fn skip(what: &str, why: &str) {
    assert!(!ci(), "CI is set and {what} cannot run: {why}");
    static N: AtomicU32 = AtomicU32::new(0);
    eprintln!("\n!!! SKIPPING {what}: {why}\n!!! (allowed only because CI is unset)\n");
    let dir = skips_dir();
    let name = format!("{}-{}.txt", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let recorded = std::fs::create_dir_all(&dir).and_then(|()| {
        let binary = std::env::args().next().unwrap_or_default();
        let binary =
            Path::new(&binary).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // libtest names each test's thread after the test.
        let test = std::thread::current().name().unwrap_or("?").to_owned();
        std::fs::write(dir.join(name), format!("{binary} {test}: {what}: {why}\n"))
    });
    if let Err(e) = recorded {
        panic!("cannot record the skip of {what} in {}: {e}", dir.display());
    }
}
