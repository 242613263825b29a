//! Fuzz target: uploaded OFD bytes → `ofd::inspect` under the default limits. Every outcome
//! must be `Ok` or `Err`, within bounded time and memory (run with `-timeout=` and
//! `-rss_limit_mb=`, see README.md).

#![no_main]

use libfuzzer_sys::fuzz_target;
use zhengzhao::ofd::{ReadLimits, inspect};

fuzz_target!(|data: &[u8]| {
    let _ = inspect(data, &ReadLimits::default());
});
