//! Fuzz target: uploaded PDF bytes → `pdf::inspect`. Every outcome must be `Ok` or `Err`,
//! within bounded time and memory (run with `-timeout=` and `-rss_limit_mb=`, see README.md).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = zhengzhao::pdf::inspect(data);
});
