//! Limits on what callers send, which the API documents.

/// Most bytes an `Idempotency-Key` may have.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;
/// Longest stated purpose, in characters.
pub const MAX_PURPOSE: usize = 200;
/// Largest page of a listing.
pub const MAX_PAGE: u32 = 100;
