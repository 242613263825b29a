//! Running the `openssl` command line in a test's directory, the independent checker of
//! the certificates, seals and time-stamps the platform makes.

use std::path::Path;

use super::tools;

/// Runs `openssl` (`bin`) with `args`, where `@name` stands for the file `name` in `dir`;
/// whether it succeeded, and what it said.
pub async fn run(bin: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let args: Vec<String> = args
        .iter()
        .map(|a| match a.strip_prefix('@') {
            Some(name) => dir.join(name).display().to_string(),
            None => (*a).to_owned(),
        })
        .collect();
    let out = tools::run(bin, &args).await;
    (out.status.success(), tools::text(&out))
}

/// [`run`], which must succeed; what it said.
pub async fn ok(bin: &Path, dir: &Path, args: &[&str]) -> String {
    let (ok, text) = run(bin, dir, args).await;
    assert!(ok, "openssl {args:?}: {text}");
    text
}

/// The `openssl` on `PATH`, or `None` after a recorded skip (a failure under `CI`).
pub fn require(test: &str) -> Option<std::path::PathBuf> {
    tools::require(test, [tools::path_tool("openssl")]).map(|[bin]| bin)
}
