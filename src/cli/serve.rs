//! `zhengzhao init` and `zhengzhao serve`: create the platform, and run the HTTP service
//! (the wiring is the library's, in [`zhengzhao::server`]; this prints where things are).

use std::io::Write;

use anyhow::{Context, Result};
use time::OffsetDateTime;
use zhengzhao::config::{CONFIG_FILE, Config, redact_url};
use zhengzhao::licence::{ANY_TYPE, NO_TYPE};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{DEMO_DEPARTMENTS, Platform};
use zhengzhao::server::{self, Service};
use zhengzhao::store::SealRecord;

/// Creates the platform's roots (keeping those that exist) and says where everything is.
pub async fn init(
    config: Config,
    passphrase: Option<String>,
    platform_name: &str,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    let platform = Platform::create(config, passphrase).await?;
    let report = platform.pki.init(platform_name, now).await?;
    for alg in &report.created {
        writeln!(out, "created {alg} root CA")?;
    }
    for alg in &report.kept {
        writeln!(out, "kept existing {alg} root CA")?;
    }
    if report.made_seal_maker {
        writeln!(out, "created the GB/T 38540 seal maker certificate (under the sm2 root CA)")?;
    }
    for alg in platform.tsa.prepare(now).await? {
        writeln!(out, "created the {alg} time-stamping authority certificate (under the {alg} root CA)")?;
    }
    print_locations(out, &platform)
}

/// Serves until Ctrl-C or SIGTERM; on an empty data directory, a new demo platform.
pub async fn serve(config: Config, passphrase: Option<String>) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let opened = server::open(config, passphrase, now).await?;
    match &opened.demo_seals {
        Some(seals) => print_demo(&opened.platform, seals)?,
        // A later start says where everything is too (a closed stdout does not stop it).
        None => {
            let _ = print_locations(&mut std::io::stdout().lock(), &opened.platform);
        }
    }
    let service = Service::prepare(opened.platform, now).await?;
    let listener = service.bind().await?;
    let local = listener.local_addr()?;
    // A server keeps serving when its stdout has gone (println! would panic on a closed pipe).
    let _ = writeln!(
        std::io::stdout(),
        "listening on http://{local} (public URL {})",
        service.platform().config.public_url
    );
    let issuing = service.platform().issuing.clone();
    let served = service.run(listener, server::shutdown_signal()).await.context("serving HTTP");
    if let Err(e) = issuing.give_back_serials().await {
        tracing::warn!("could not give back the licence serials reserved and not used: {e}");
    }
    served?;
    tracing::info!("shut down");
    Ok(())
}

/// What a first start on an empty data directory made, and how to issue a licence.
fn print_demo(platform: &Platform, seals: &[SealRecord]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "initialised a new demo platform")?;
    print_locations(&mut out, platform)?;
    print_demo_departments(&mut out, platform, seals)?;
    if let Some(s) = seals.iter().find(|s| s.algorithm.signs_pdf()) {
        writeln!(
            out,
            "try:            zhengzhao --data {} issue --seal {} --type 11100000000013338W002 \\\n                  --input templates/examples/food-business-licence.json --out licence.pdf",
            platform.config.data_dir.display(),
            s.id
        )?;
    }
    // SM2 seals sign tokens and data-only licences (no PDF validator accepts SM2).
    if let Some(s) = seals.iter().find(|s| !s.algorithm.signs_pdf()) {
        writeln!(
            out,
            "or, with SM2:   zhengzhao --data {} issue --seal {} --type 11100000000013338W002 \\\n                  --input templates/examples/food-business-licence.json --document none",
            platform.config.data_dir.display(),
            s.id
        )?;
    }
    writeln!(
        out,
        "bundle:         templates/examples/bundles/open-restaurant.json (一件事 开办饭店; its \
         SEAL:<department code>:<algorithm> placeholders stand for the demo seals above)"
    )?;
    Ok(())
}

/// Each demo department (code, name, the types it may issue) followed by its seals, one
/// `demo seal:      ID (algorithm, department-code seal-name)` line each (scripts read them).
fn print_demo_departments(out: &mut impl Write, platform: &Platform, seals: &[SealRecord]) -> Result<()> {
    for d in DEMO_DEPARTMENTS {
        let types = match d.types {
            [t] if *t == ANY_TYPE => "every licence type".to_owned(),
            [t] if *t == NO_TYPE => "no licence; its seal signs 一件事 receipts".to_owned(),
            codes => codes
                .iter()
                .map(|c| {
                    platform.catalogue.get(c).map_or_else(|| (*c).to_owned(), |t| format!("{c} {}", t.name))
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        writeln!(out, "demo department: {} {} (area {}; issues {types})", d.code, d.name, d.area)?;
        for s in seals.iter().filter(|s| s.department_code.as_str() == d.code) {
            writeln!(out, "demo seal:      {} ({}, {} {})", s.id, s.algorithm, s.department_code, s.name)?;
        }
    }
    Ok(())
}

/// Where the data, keys and configuration are, and the public URLs.
fn print_locations(out: &mut impl Write, platform: &Platform) -> Result<()> {
    let c = &platform.config;
    writeln!(out, "data directory: {}", c.data_dir.display())?;
    writeln!(out, "database:       {}", redact_url(&c.effective_database_url()))?;
    writeln!(
        out,
        "keys:           {} ({})",
        platform.keys.dir().display(),
        if platform.keys.encrypts() { "encrypted with ZHENGZHAO_KEY_PASSPHRASE" } else { "not encrypted" }
    )?;
    writeln!(out, "config:         {}", c.data_dir.join(CONFIG_FILE).display())?;
    writeln!(out, "home page:      {}/", c.public_url)?;
    writeln!(out, "health:         {}/healthz", c.public_url)?;
    writeln!(out, "trust list:     {}/pki/trust-list.json", c.public_url)?;
    writeln!(out, "OpenAPI:        {}/api/openapi.json", c.public_url)?;
    writeln!(out, "root CAs:       {}/pki/root.pem", c.public_url)?;
    writeln!(out, "time-stamps:    {}/tsa (TSA certificates {}/pki/tsa.pem)", c.public_url, c.public_url)?;
    for alg in Algorithm::ALL {
        writeln!(
            out,
            "CRL ({alg}):{:>w$}{}",
            "",
            c.crl_url(&alg.to_string()),
            w = 8 - alg.to_string().len()
        )?;
    }
    Ok(())
}
