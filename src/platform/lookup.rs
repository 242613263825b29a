//! Reads several services share, each a store call with its "not found" answer: the
//! platform row, a root, a department, a seal, a licence.

use std::path::Path;

use crate::codes::Uscc;
use crate::pki::Algorithm;
use crate::store::{Department, LicenceRow, PlatformRecord, RootRecord, SealRecord, Store};

use super::error::PlatformError;

/// The platform row; `data_dir` names the directory in the error.
pub(super) async fn platform(store: &dyn Store, data_dir: &Path) -> Result<PlatformRecord, PlatformError> {
    store.platform().await?.ok_or_else(|| PlatformError::NotInitialised(data_dir.to_owned()))
}

/// The root CA of `algorithm`.
pub(super) async fn root(store: &dyn Store, algorithm: Algorithm) -> Result<RootRecord, PlatformError> {
    store
        .roots()
        .await?
        .into_iter()
        .find(|r| r.algorithm == algorithm)
        .ok_or_else(|| PlatformError::NotFound(format!("no {algorithm} root CA; run `zhengzhao init`")))
}

/// The department with `code` (统一社会信用代码, checked).
pub(super) async fn department(store: &dyn Store, code: &str) -> Result<Department, PlatformError> {
    let code = Uscc::parse(code.trim()).map_err(|e| PlatformError::invalid("department", e))?;
    store.department(&code).await?.ok_or_else(|| PlatformError::NotFound(format!("department {code}")))
}

/// The seal with `id`.
pub(super) async fn seal(store: &dyn Store, id: &str) -> Result<SealRecord, PlatformError> {
    store.seal(id.trim()).await?.ok_or_else(|| PlatformError::NotFound(format!("seal {}", id.trim())))
}

/// The licence with identifier `id`.
pub(super) async fn licence(store: &dyn Store, id: &str) -> Result<LicenceRow, PlatformError> {
    store.licence(id.trim()).await?.ok_or_else(|| PlatformError::NotFound(format!("licence {}", id.trim())))
}
