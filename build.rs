//! Rebuilds the crate when a database migration is added or changed: `sqlx::migrate!`
//! embeds `migrations/` at compile time, and Cargo does not watch that directory itself.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
