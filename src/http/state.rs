//! The state every handler shares.

use std::sync::Arc;

use crate::platform::Platform;

/// Shared state of the handlers.
pub type AppState = Arc<Platform>;
