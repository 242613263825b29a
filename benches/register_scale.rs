//! The register at scale: loads `ZHENGZHAO_SCALE_ROWS` licences (1,000,000 in
//! `benches/register_scale.sh`) into SQLite and PostgreSQL, times lookups by identifier and
//! by holder through [`Store`] (p50/p99/max), and drives `POST /api/v1/checks` over loopback
//! HTTP with `wrk`.
//!
//! It does nothing unless `ZHENGZHAO_SCALE_ROWS` is set, so `cargo bench` and
//! `cargo test --all-targets` stay fast; run it with `benches/register_scale.sh`.
//!
//! How the register is filled: the platform issues one real licence per holder kind
//! (a company's 食品经营许可证, a citizen's 教师资格证), and the bulk rows copy those
//! licences' record, token and hash, with their own identifiers (valid GB/T 36904, serial
//! `B000000001`…), holders (`rows × 3/10` of them by default, half companies, half
//! citizens) and only the first `ZHENGZHAO_SCALE_PDF_BYTES` (2 KiB) of the PDF, so that a
//! million rows fit on disk. Each bulk row gets its `issued` history event. Rows go in with
//! multi-row `INSERT … SELECT` (SQLite: from `json_each`, PostgreSQL: from `UNNEST`), one
//! transaction per 50,000 rows.
//!
//! Settings (environment):
//! - `ZHENGZHAO_SCALE_ROWS` (required), `ZHENGZHAO_SCALE_HOLDERS` (default rows × 3/10)
//! - `ZHENGZHAO_SCALE_BACKENDS` (default `sqlite,postgres`)
//! - `ZHENGZHAO_TEST_POSTGRES_URL` (default `postgres://root@127.0.0.1:5432/test`);
//!   `ZHENGZHAO_SCALE_SCHEMA` names the schema made for the run (default `zz_scale_<pid>`),
//!   dropped at the end
//! - `ZHENGZHAO_SCALE_DIR`: where the SQLite file and data directories go (default: a new
//!   temporary directory, removed at the end)
//! - `ZHENGZHAO_SCALE_LOOKUPS` (20,000 per kind), `ZHENGZHAO_SCALE_PHASE_SECS` (each
//!   lookup phase stops after this long, default 60)
//! - `ZHENGZHAO_SCALE_HTTP_SECS` (20), `ZHENGZHAO_SCALE_HTTP_CONNECTIONS` (64),
//!   `ZHENGZHAO_SCALE_HTTP_BACKENDS` (default `sqlite`)
//!
//! Server and `wrk` share the machine's cores; the figures are for this machine only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use sqlx::{Connection, PgConnection, Row, SqliteConnection};
use time::OffsetDateTime;
use zhengzhao::audit::AccessEntry;
use zhengzhao::codes::{LicenceId, TypeCode, Uscc};
use zhengzhao::config::{Config, Layer};
use zhengzhao::platform::{DEMO_DEPARTMENT, IssueRequest, Platform, Scope};
use zhengzhao::server::{Limits, serve_app};
use zhengzhao::store::{LicenceFilter, LicenceRow};

/// 食品经营许可证: held by companies (`001`).
const FOOD: &str = "11100000000013338W002";
/// 教师资格证: held by citizens (`111`).
const TEACHER: &str = "11100000000013338W003";
/// The relying department whose client runs the checks.
const RELYING: (&str, &str, &str) = ("11310115MB2C90512T", "演示市教育局", "310115");
/// Purpose and matter code sent with every check.
const PURPOSE: &str = "办理食品经营许可延续，核验原证";
const MATTER: &str = "310115-SCJG-017";
/// Rows per transaction.
const TX_ROWS: u64 = 50_000;
/// Rows per INSERT statement.
const STATEMENT_ROWS: u64 = 10_000;
/// Identifiers in the wrk script.
const WRK_IDS: usize = 10_000;

/// The run's settings, from the environment.
#[derive(Debug, Clone)]
struct Settings {
    rows: u64,
    holders: u64,
    backends: Vec<String>,
    http_backends: Vec<String>,
    postgres_url: String,
    schema: String,
    dir: Option<PathBuf>,
    lookups: usize,
    phase_limit: Duration,
    pdf_bytes: usize,
    http_secs: u32,
    connections: u32,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|e| anyhow!("{name}={v:?}: {e}")),
        _ => Ok(default),
    }
}

fn list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

impl Settings {
    fn from_env(rows: u64) -> Result<Self> {
        let schema = env_or("ZHENGZHAO_SCALE_SCHEMA", format!("zz_scale_{}", std::process::id()))?;
        if schema.is_empty()
            || !schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            bail!("ZHENGZHAO_SCALE_SCHEMA must be lower-case letters, digits and _");
        }
        Ok(Self {
            rows,
            holders: env_or("ZHENGZHAO_SCALE_HOLDERS", (rows * 3 / 10).max(1))?.max(1),
            backends: list("ZHENGZHAO_SCALE_BACKENDS", "sqlite,postgres"),
            http_backends: list("ZHENGZHAO_SCALE_HTTP_BACKENDS", "sqlite"),
            postgres_url: env_or(
                "ZHENGZHAO_TEST_POSTGRES_URL",
                "postgres://root@127.0.0.1:5432/test".to_owned(),
            )?,
            schema,
            dir: std::env::var_os("ZHENGZHAO_SCALE_DIR").map(PathBuf::from),
            lookups: env_or("ZHENGZHAO_SCALE_LOOKUPS", 20_000)?,
            phase_limit: Duration::from_secs(env_or("ZHENGZHAO_SCALE_PHASE_SECS", 60)?),
            pdf_bytes: env_or("ZHENGZHAO_SCALE_PDF_BYTES", 2048)?,
            http_secs: env_or("ZHENGZHAO_SCALE_HTTP_SECS", 20)?,
            connections: env_or("ZHENGZHAO_SCALE_HTTP_CONNECTIONS", 64)?,
        })
    }
}

/// A real licence whose content the bulk rows copy.
#[derive(Debug, Clone)]
struct Template {
    row: LicenceRow,
    type_code: TypeCode,
    /// The PDF as the bulk rows store it (a prefix of the real one).
    pdf: Vec<u8>,
}

/// Which rows exist: licence `n` (0-based) belongs to holder `n % holders`; even holders
/// are companies holding [`FOOD`] licences, odd ones citizens holding [`TEACHER`] ones.
#[derive(Debug, Clone)]
struct Layout {
    holders: u64,
    issuer: Uscc,
    templates: [Template; 2],
}

impl Layout {
    fn holder(&self, n: u64) -> u64 {
        n % self.holders
    }

    fn template(&self, holder: u64) -> &Template {
        &self.templates[(holder % 2) as usize]
    }

    /// The holder's code: company codes and citizen numbers of the right length (not
    /// check-digit valid; nothing on the lookup path checks them).
    fn holder_code(&self, holder: u64) -> String {
        if holder.is_multiple_of(2) {
            format!("91310115MA{holder:07}X")
        } else {
            format!("31011519{holder:09}X")
        }
    }

    fn serial(n: u64) -> String {
        format!("B{:09}", n + 1)
    }

    fn id(&self, n: u64) -> Result<String> {
        let t = self.template(self.holder(n));
        Ok(LicenceId::new(&t.type_code, &self.issuer, &Self::serial(n), 1)?.to_string())
    }
}

/// Latencies of one kind of call.
#[derive(Debug, Clone, Default)]
struct Stats {
    samples: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    mean: Duration,
}

impl Stats {
    fn of(mut v: Vec<Duration>) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        v.sort_unstable();
        let at = |q: usize| v[(v.len() * q / 100).min(v.len() - 1)];
        let total: Duration = v.iter().sum();
        Self { samples: v.len(), p50: at(50), p99: at(99), max: v[v.len() - 1], mean: total / v.len() as u32 }
    }

    fn line(&self) -> String {
        format!(
            "n={} p50={} p99={} max={} mean={}",
            self.samples,
            ms(self.p50),
            ms(self.p99),
            ms(self.max),
            ms(self.mean)
        )
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// What wrk measured.
#[derive(Debug, Clone, Default)]
struct HttpResult {
    requests: u64,
    per_sec: f64,
    errors: u64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    max_us: u64,
    logged: u64,
}

/// One backend's figures.
#[derive(Debug, Clone, Default)]
struct Report {
    backend: String,
    rows: u64,
    load: Duration,
    size_mb: f64,
    by_id: Stats,
    by_holder: Stats,
    full_pdf: Stats,
    http: Option<HttpResult>,
    plan: String,
    /// Access-log appends per second: one writer, and 64 at once.
    appends: (f64, f64),
    /// The holder listing with plain equalities (the proposed fix), timed on its own connection.
    fixed_listing: Option<(String, Stats)>,
}

/// A tiny deterministic generator (SplitMix64), so runs pick the same identifiers.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn example(file: &str) -> Result<serde_json::Value> {
    let path = format!("{}/templates/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).with_context(|| format!("while reading {path}"))?;
    Ok(serde_json::from_str(&text)?)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// A platform on `database_url` (empty: SQLite in `data`) with the demo department, a
/// relying department, a check client and one real licence per template; returns the
/// client's key too.
async fn platform(
    data: &Path,
    database_url: &str,
    pdf_bytes: usize,
) -> Result<(Arc<Platform>, Layout, String)> {
    let layer = Layer {
        public_url: Some("https://zz.example.gov.cn".into()),
        database_url: (!database_url.is_empty()).then(|| database_url.to_owned()),
        // One client sends all the checks: lift its per-client limit so the run measures the
        // service, not the limiter.
        rate_limit: Some(1_000_000),
        ..Layer::default()
    };
    let p = Platform::create(Config::from_layer(data.to_owned(), layer)?, None).await?;
    let now = OffsetDateTime::now_utc();
    let seals = p.ensure_demo(now).await?;
    let seal = seals.first().ok_or_else(|| anyhow!("ensure_demo made no seal"))?;
    p.pki.add_department(RELYING.0, RELYING.1, RELYING.2, &[], now).await?;
    let (_, key) = p
        .clients
        .add_client(RELYING.0, "scale-check", &[Scope::Check], &[FOOD.into(), TEACHER.into()], now)
        .await?;
    let mut templates = vec![];
    for (type_code, file) in [(FOOD, "food-business-licence.json"), (TEACHER, "teacher-qualification.json")] {
        let request = IssueRequest {
            seal_id: seal.id.clone(),
            ofd_seal_id: None,
            type_code: type_code.into(),
            input: serde_json::from_value(example(file)?)?,
            document: zhengzhao::licence::DocumentKind::Pdf,
            client: None,
            idempotency_key: None,
            renews: None,
        };
        let id = p.issuing.issue(request, now).await?.identifier;
        let row = p.store.licence(&id).await?.ok_or_else(|| anyhow!("issued licence {id} is missing"))?;
        let pdf =
            row.licence.document.pdf().map(|p| p[..p.len().min(pdf_bytes)].to_vec()).unwrap_or_default();
        templates.push(Template { row, type_code: TypeCode::parse(type_code)?, pdf });
    }
    let [company, citizen]: [Template; 2] =
        templates.try_into().map_err(|_| anyhow!("expected two template licences"))?;
    let layout =
        Layout { holders: 0, issuer: Uscc::parse(DEMO_DEPARTMENT.0)?, templates: [company, citizen] };
    Ok((Arc::new(p), layout, key.expose().to_owned()))
}

/// The bulk rows `from..to` that copy template `t`: (identifier, serial, holder code).
fn rows_of(layout: &Layout, t: usize, from: u64, to: u64) -> Result<Vec<(String, String, String)>> {
    let mut out = vec![];
    for n in from..to {
        let h = layout.holder(n);
        if (h % 2) as usize == t {
            out.push((layout.id(n)?, Layout::serial(n), layout.holder_code(h)));
        }
    }
    Ok(out)
}

const SQLITE_INSERT: &str = "INSERT INTO licences (id, type_code, issuer_code, serial, version, holder_code, \
     holder_code_type, holder_name, seal_id, status, issued_at, valid_from, valid_until, record_cbor, \
     record_hash, token, pdf, replaces, client_id) \
     SELECT json_extract(value, '$[0]'), $2, $3, json_extract(value, '$[1]'), 1, json_extract(value, '$[2]'), \
     $4, $5, $6, '01', $7, $8, $9, $10, $11, $12, $13, NULL, NULL FROM json_each($1)";
const SQLITE_EVENTS: &str = "INSERT INTO licence_events (licence_id, seq, at, kind, from_status, to_status, \
     reason, actor) SELECT json_extract(value, '$[0]'), 1, $2, 'issued', NULL, '01', 'issued', 'operator' \
     FROM json_each($1)";
const POSTGRES_INSERT: &str = "INSERT INTO licences (id, type_code, issuer_code, serial, version, holder_code, \
     holder_code_type, holder_name, seal_id, status, issued_at, valid_from, valid_until, record_cbor, \
     record_hash, token, pdf, replaces, client_id) \
     SELECT r.id, $4, $5, r.serial, 1, r.holder_code, $6, $7, $8, '01', $9, $10, $11, $12, $13, $14, $15, \
     NULL, NULL FROM UNNEST($1::text[], $2::text[], $3::text[]) AS r (id, serial, holder_code)";
const POSTGRES_EVENTS: &str = "INSERT INTO licence_events (licence_id, seq, at, kind, from_status, to_status, \
     reason, actor) SELECT id, 1, $2, 'issued', NULL, '01', 'issued', 'operator' FROM UNNEST($1::text[]) AS id";

/// The holder listing as a static statement with plain equalities: what the store could
/// run when both holder filters are given.
const LISTING_FIXED: &str = "SELECT * FROM licences WHERE holder_code_type = $1 AND holder_code = $2 \
     ORDER BY id LIMIT 20";

/// The listing statement of `src/store/licences.rs` (`LicenceStore::licences`), for query plans.
const LISTING: &str = "SELECT id FROM licences WHERE ($1 IS NULL OR holder_code_type = $1) \
     AND ($2 IS NULL OR holder_code = $2) AND ($3 IS NULL OR type_code = $3) AND ($4 IS NULL OR status = $4) \
     AND ($5 IS NULL OR issuer_code = $5) AND ($6 IS NULL OR id > $6) ORDER BY id LIMIT $7";

async fn load_sqlite(url: &str, layout: &Layout, rows: u64) -> Result<()> {
    let mut conn = SqliteConnection::connect(url).await?;
    sqlx::query("PRAGMA busy_timeout = 5000").execute(&mut conn).await?;
    let mut from = 0;
    while from < rows {
        let tx_end = (from + TX_ROWS).min(rows);
        let mut tx = conn.begin().await?;
        while from < tx_end {
            let to = (from + STATEMENT_ROWS).min(tx_end);
            for (t, tpl) in layout.templates.iter().enumerate() {
                let json = serde_json::to_string(&rows_of(layout, t, from, to)?)?;
                let l = &tpl.row.licence;
                sqlx::query(SQLITE_INSERT)
                    .bind(&json)
                    .bind(&l.type_code)
                    .bind(&l.issuer_code)
                    .bind(&l.holder_code_type)
                    .bind(&l.holder_name)
                    .bind(&l.seal_id)
                    .bind(l.issued_at.unix_timestamp())
                    .bind(&l.valid_from)
                    .bind(l.valid_until.clone())
                    .bind(l.record_cbor.clone())
                    .bind(l.record_hash.clone())
                    .bind(l.token.clone())
                    .bind(tpl.pdf.clone())
                    .execute(&mut *tx)
                    .await
                    .context("while inserting licences")?;
                sqlx::query(SQLITE_EVENTS)
                    .bind(&json)
                    .bind(l.issued_at.unix_timestamp())
                    .execute(&mut *tx)
                    .await
                    .context("while inserting events")?;
            }
            from = to;
        }
        tx.commit().await?;
        eprint!("\r  sqlite: {from} rows");
    }
    eprintln!();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

async fn load_postgres(url: &str, layout: &Layout, rows: u64) -> Result<()> {
    let mut conn = PgConnection::connect(url).await?;
    let mut from = 0;
    while from < rows {
        let tx_end = (from + TX_ROWS).min(rows);
        let mut tx = conn.begin().await?;
        while from < tx_end {
            let to = (from + STATEMENT_ROWS).min(tx_end);
            for (t, tpl) in layout.templates.iter().enumerate() {
                let part = rows_of(layout, t, from, to)?;
                let ids: Vec<String> = part.iter().map(|r| r.0.clone()).collect();
                let serials: Vec<String> = part.iter().map(|r| r.1.clone()).collect();
                let holders: Vec<String> = part.into_iter().map(|r| r.2).collect();
                let l = &tpl.row.licence;
                sqlx::query(POSTGRES_INSERT)
                    .bind(&ids)
                    .bind(&serials)
                    .bind(&holders)
                    .bind(&l.type_code)
                    .bind(&l.issuer_code)
                    .bind(&l.holder_code_type)
                    .bind(&l.holder_name)
                    .bind(&l.seal_id)
                    .bind(l.issued_at.unix_timestamp())
                    .bind(&l.valid_from)
                    .bind(l.valid_until.clone())
                    .bind(l.record_cbor.clone())
                    .bind(l.record_hash.clone())
                    .bind(l.token.clone())
                    .bind(tpl.pdf.clone())
                    .execute(&mut *tx)
                    .await
                    .context("while inserting licences")?;
                sqlx::query(POSTGRES_EVENTS)
                    .bind(&ids)
                    .bind(l.issued_at.unix_timestamp())
                    .execute(&mut *tx)
                    .await
                    .context("while inserting events")?;
            }
            from = to;
        }
        tx.commit().await?;
        eprint!("\r  postgres: {from} rows");
    }
    eprintln!();
    // Autovacuum would do this shortly after a bulk load; do it now so plans are stable.
    sqlx::query("ANALYZE licences").execute(&mut conn).await?;
    sqlx::query("ANALYZE licence_events").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Times `count` calls of `call(i)` one after another, stopping early after `limit`.
async fn timed<F, Fut>(count: usize, limit: Duration, mut call: F) -> Result<Stats>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut v = Vec::with_capacity(count);
    let start = Instant::now();
    for i in 0..count {
        if start.elapsed() > limit {
            eprintln!("  stopped after {i} calls ({}s limit)", limit.as_secs());
            break;
        }
        let t = Instant::now();
        call(i).await?;
        v.push(t.elapsed());
    }
    Ok(Stats::of(v))
}

/// Lookups through the store: by identifier, by holder (limit 20), and by identifier on
/// the two real licences with full-size PDFs.
async fn lookups(p: &Platform, layout: &Layout, s: &Settings, report: &mut Report) -> Result<()> {
    let mut rng = Rng(0x5EED);
    let ids = (0..s.lookups).map(|_| layout.id(rng.below(s.rows))).collect::<Result<Vec<_>>>()?;
    let holders: Vec<(String, String)> = (0..s.lookups)
        .map(|_| {
            let h = rng.below(s.rows.min(layout.holders));
            (layout.template(h).row.licence.holder_code_type.clone(), layout.holder_code(h))
        })
        .collect();
    let store = &p.store;
    // Warm up the pool and the statement caches.
    for id in ids.iter().take(50) {
        store.licence(id).await?;
    }
    report.by_id = timed(ids.len(), s.phase_limit, |i| {
        let id = &ids[i];
        async move {
            store.licence(id).await?.ok_or_else(|| anyhow!("licence {id} not found"))?;
            Ok(())
        }
    })
    .await?;
    eprintln!("  by identifier: {}", report.by_id.line());
    report.by_holder = timed(holders.len(), s.phase_limit, |i| {
        let (kind, code) = &holders[i];
        let filter = LicenceFilter {
            holder_code_type: Some(kind.clone()),
            holder_code: Some(code.clone()),
            limit: 20,
            ..LicenceFilter::default()
        };
        async move {
            if store.licences(&filter).await?.is_empty() {
                bail!("holder {kind}/{code} has no licences");
            }
            Ok(())
        }
    })
    .await?;
    eprintln!("  by holder:     {}", report.by_holder.line());
    let real: Vec<String> = layout.templates.iter().map(|t| t.row.licence.id.clone()).collect();
    report.full_pdf = timed(2000, s.phase_limit, |i| {
        let id = &real[i % real.len()];
        async move {
            store.licence(id).await?.ok_or_else(|| anyhow!("licence {id} not found"))?;
            Ok(())
        }
    })
    .await?;
    let pdf_kb = layout
        .templates
        .iter()
        .map(|t| t.row.licence.document.pdf().map_or(0, <[u8]>::len))
        .max()
        .unwrap_or(0)
        / 1024;
    eprintln!("  by identifier, real rows ({pdf_kb} KiB PDF): {}", report.full_pdf.line());
    Ok(())
}

/// The wrk script: random checks over `WRK_IDS` identifiers, and a machine-readable summary.
fn wrk_script(layout: &Layout, rows: u64, key: &str) -> Result<String> {
    let mut rng = Rng(0xC0FFEE);
    let mut lua = String::from("local bodies = {\n");
    for _ in 0..WRK_IDS {
        let n = rng.below(rows);
        let name = &layout.template(layout.holder(n)).row.licence.holder_name;
        let body = serde_json::json!({"identifier": layout.id(n)?, "claims": {"holder_name": name}});
        writeln!(lua, "  [==[{body}]==],")?;
    }
    write!(
        lua,
        r#"}}
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Purpose"] = "{PURPOSE}"
wrk.headers["X-Matter-Code"] = "{MATTER}"
local next_seed = 1
setup = function(thread)
  thread:set("seed", next_seed)
  next_seed = next_seed + 1
end
init = function(args)
  math.randomseed(seed)
end
request = function()
  return wrk.format(nil, "/api/v1/checks", nil, bodies[math.random(#bodies)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("ZZ_RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(90)),
    math.floor(latency:percentile(99))))
  io.write(string.format("ZZ_MAX %d\n", math.floor(latency.max)))
end
"#
    )?;
    Ok(lua)
}

/// Serves the app on loopback and runs wrk against `POST /api/v1/checks`.
async fn http_checks(
    p: Arc<Platform>,
    layout: &Layout,
    s: &Settings,
    key: &str,
    dir: &Path,
) -> Result<HttpResult> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // The production server, but with no per-address cap: every wrk connection (and the
    // check by hand) comes from 127.0.0.1.
    let limits = Limits { max_per_address: usize::MAX, ..Limits::from_config(&p.config) };
    let app = zhengzhao::http::app(p.clone());
    let server = tokio::spawn(serve_app(listener, app, limits, async {
        let _ = stopped.await;
    }));

    // One check by hand, to know the load is made of successful checks.
    let body = serde_json::json!({"identifier": layout.id(0)?,
        "claims": {"holder_name": layout.template(0).row.licence.holder_name}});
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/checks"))
        .header("authorization", format!("Bearer {key}"))
        .header("x-purpose", PURPOSE)
        .header("x-matter-code", MATTER)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = answer.status();
    let text = answer.text().await?;
    if !status.is_success() || !text.contains(r#""result":"valid""#) {
        bail!("a sample check answered {status}: {text}");
    }

    let script = dir.join("checks.lua");
    std::fs::write(&script, wrk_script(layout, s.rows, key)?)?;
    let before = p.audit.audit_verify().await?.map_err(|b| anyhow!("access log chain broken: {b:?}"))?;
    eprintln!(
        "  wrk: 2 threads, {} connections, {} s (load average {})",
        s.connections,
        s.http_secs,
        load_average()
    );
    let out = tokio::process::Command::new("wrk")
        .args(["-t2", &format!("-c{}", s.connections), &format!("-d{}s", s.http_secs), "--timeout", "10s"])
        .arg("--latency")
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{addr}"))
        .kill_on_drop(true)
        .output()
        .await
        .context("while running wrk (install it: apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("wrk failed: {}", out.status);
    }
    let _ = stop.send(());
    server.await??;
    let after = p.audit.audit_verify().await?.map_err(|b| anyhow!("access log chain broken: {b:?}"))?;

    let field = |tag: &str| -> Result<Vec<u64>> {
        let line =
            stdout.lines().find_map(|l| l.strip_prefix(tag)).ok_or_else(|| anyhow!("no {tag} from wrk"))?;
        line.split_whitespace().map(|v| v.parse::<u64>().map_err(|e| anyhow!("wrk {tag}: {e}"))).collect()
    };
    let r = field("ZZ_RESULT ")?;
    let [requests, duration_us, errors, p50_us, p90_us, p99_us] = r[..] else {
        bail!("wrk ZZ_RESULT has {} fields", r.len());
    };
    let max_us = field("ZZ_MAX ")?.first().copied().unwrap_or(0);
    Ok(HttpResult {
        requests,
        per_sec: requests as f64 / (duration_us as f64 / 1e6),
        errors,
        p50_us,
        p90_us,
        p99_us,
        max_us,
        logged: after - before,
    })
}

/// The listing's query plan for one holder.
async fn sqlite_plan(url: &str, kind: &str, code: &str) -> Result<String> {
    let mut conn = SqliteConnection::connect(url).await?;
    let sql = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {LISTING}"));
    let rows = listing_binds(sqlx::query(sql), kind, code).fetch_all(&mut conn).await?;
    let plan = rows.iter().map(|r| r.try_get::<String, _>("detail")).collect::<Result<Vec<_>, _>>()?;
    conn.close().await?;
    Ok(plan.join("; "))
}

async fn postgres_plan(url: &str, kind: &str, code: &str) -> Result<String> {
    let mut conn = PgConnection::connect(url).await?;
    let mut out = vec![];
    for mode in ["auto", "force_generic_plan"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("SET plan_cache_mode = {mode}"))).execute(&mut conn).await?;
        let sql = sqlx::AssertSqlSafe(format!("EXPLAIN (ANALYZE, COSTS OFF) {LISTING}"));
        let rows = listing_binds(sqlx::query(sql), kind, code).fetch_all(&mut conn).await?;
        let plan = rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<Vec<_>, _>>()?;
        out.push(format!("[{mode}] {}", plan.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" | ")));
    }
    conn.close().await?;
    Ok(out.join("\n    "))
}

fn listing_binds<'q, DB: sqlx::Database>(
    q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    kind: &str,
    code: &str,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    q.bind(Some(kind.to_owned()))
        .bind(Some(code.to_owned()))
        .bind(None::<String>)
        .bind(None::<String>)
        .bind(None::<String>)
        .bind(None::<String>)
        .bind(20_i64)
}

/// Access-log appends straight through the store for `secs` seconds each: one at a time,
/// then from 64 tasks at once. Returns appends per second for both.
async fn appends(p: &Platform, secs: u64) -> Result<(f64, f64)> {
    let entry = AccessEntry {
        seq: 0,
        at: OffsetDateTime::now_utc().unix_timestamp(),
        client_id: None,
        department_code: Some(RELYING.0.into()),
        action: "check".into(),
        purpose: Some(PURPOSE.into()),
        basis: Some(format!("duty:{MATTER}")),
        licence_id: None,
        holder_code_type: Some("001".into()),
        holder_code: Some("91310115MA0000000X".into()),
        result: "ok".into(),
        assertion_id: None,
        auth_level: None,
    };
    let limit = Duration::from_secs(secs);
    let start = Instant::now();
    let mut one = 0_u64;
    while start.elapsed() < limit {
        p.store.append_access(entry.clone()).await?;
        one += 1;
    }
    let one = one as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (store, entry) = (p.store.clone(), entry.clone());
        tasks.spawn(async move {
            let mut n = 0_u64;
            while start.elapsed() < limit {
                store.append_access(entry.clone()).await?;
                n += 1;
            }
            Ok::<_, anyhow::Error>(n)
        });
    }
    let mut many = 0;
    while let Some(n) = tasks.join_next().await {
        many += n??;
    }
    Ok((one, many as f64 / start.elapsed().as_secs_f64()))
}

/// [`LISTING_FIXED`] on SQLite: its plan, and its latency over the same holders.
async fn sqlite_fixed_listing(url: &str, layout: &Layout, s: &Settings) -> Result<(String, Stats)> {
    let mut conn = SqliteConnection::connect(url).await?;
    let sql = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {LISTING_FIXED}"));
    let rows = sqlx::query(sql).bind("111").bind(layout.holder_code(1)).fetch_all(&mut conn).await?;
    let plan = rows.iter().map(|r| r.try_get::<String, _>("detail")).collect::<Result<Vec<_>, _>>()?;
    let mut rng = Rng(0x5EED);
    let holders: Vec<(String, String)> = (0..2000)
        .map(|_| {
            let h = rng.below(s.rows.min(layout.holders));
            (layout.template(h).row.licence.holder_code_type.clone(), layout.holder_code(h))
        })
        .collect();
    let conn = tokio::sync::Mutex::new(conn);
    let stats = timed(holders.len(), s.phase_limit, |i| {
        let (kind, code) = &holders[i];
        let conn = &conn;
        async move {
            let mut conn = conn.lock().await;
            let rows = sqlx::query(LISTING_FIXED).bind(kind).bind(code).fetch_all(&mut *conn).await?;
            if rows.is_empty() {
                bail!("holder {kind}/{code} has no licences");
            }
            Ok(())
        }
    })
    .await?;
    conn.into_inner().close().await?;
    Ok((plan.join("; "), stats))
}

/// Runs one backend end to end.
async fn run_backend(backend: &str, s: &Settings, dir: &Path) -> Result<Report> {
    eprintln!("== {backend}: {} rows, {} holders", s.rows, s.holders);
    let data = dir.join(format!("data-{backend}"));
    let (url, store_url) = match backend {
        "sqlite" => {
            let url = format!("sqlite://{}?mode=rwc", data.join("zhengzhao.db").display());
            (url, String::new())
        }
        "postgres" => {
            let sep = if s.postgres_url.contains('?') { '&' } else { '?' };
            let url = format!("{}{sep}options=-c%20search_path%3D{}", s.postgres_url, s.schema);
            (url.clone(), url)
        }
        other => bail!("unknown backend {other:?} (use sqlite, postgres)"),
    };
    let (p, mut layout, key) = platform(&data, &store_url, s.pdf_bytes).await?;
    layout.holders = s.holders;
    let mut report = Report { backend: backend.into(), rows: s.rows, ..Report::default() };

    let start = Instant::now();
    if backend == "sqlite" {
        load_sqlite(&url, &layout, s.rows).await?;
    } else {
        load_postgres(&url, &layout, s.rows).await?;
    }
    report.load = start.elapsed();
    report.size_mb = match backend {
        "sqlite" => std::fs::metadata(data.join("zhengzhao.db"))?.len() as f64 / 1e6,
        _ => {
            let mut conn = PgConnection::connect(&url).await?;
            let row = sqlx::query(
                "SELECT pg_total_relation_size('licences') + pg_total_relation_size('licence_events')",
            )
            .fetch_one(&mut conn)
            .await?;
            conn.close().await?;
            row.try_get::<i64, _>(0)? as f64 / 1e6
        }
    };
    eprintln!(
        "  loaded in {:.1} s; {:.0} MB; load average {}",
        report.load.as_secs_f64(),
        report.size_mb,
        load_average()
    );

    let (kind, code) = (layout.template(1).row.licence.holder_code_type.clone(), layout.holder_code(1));
    report.plan = match backend {
        "sqlite" => sqlite_plan(&url, &kind, &code).await?,
        _ => postgres_plan(&url, &kind, &code).await?,
    };
    eprintln!("  listing plan: {}", report.plan);

    lookups(&p, &layout, s, &mut report).await?;
    if backend == "sqlite" {
        let fixed = sqlite_fixed_listing(&url, &layout, s).await?;
        eprintln!("  proposed listing: {} — plan: {}", fixed.1.line(), fixed.0);
        report.fixed_listing = Some(fixed);
    }
    if s.http_backends.iter().any(|b| b == backend) {
        report.http = Some(http_checks(p.clone(), &layout, s, &key, &data).await?);
    }
    report.appends = appends(&p, 5).await?;
    eprintln!(
        "  access-log appends/s: {:.0} one writer, {:.0} with 64 at once",
        report.appends.0, report.appends.1
    );
    Ok(report)
}

async fn drop_schema(s: &Settings) -> Result<()> {
    let mut conn = PgConnection::connect(&s.postgres_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {} CASCADE", s.schema)))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

fn table(reports: &[Report]) -> String {
    let mut t = String::from(
        "| backend | rows | load | size | by id p50 / p99 / max | by holder p50 / p99 / max | \
         by id, 40 KB PDF p50 / p99 | HTTP checks/s | check p50 / p90 / p99 / max |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for r in reports {
        let trio = |s: &Stats| format!("{} / {} / {} (n={})", ms(s.p50), ms(s.p99), ms(s.max), s.samples);
        let http = match &r.http {
            Some(h) => (
                format!("{:.0} ({} req, {} errors, {} logged)", h.per_sec, h.requests, h.errors, h.logged),
                format!(
                    "{:.2} / {:.2} / {:.2} / {:.2} ms",
                    h.p50_us as f64 / 1e3,
                    h.p90_us as f64 / 1e3,
                    h.p99_us as f64 / 1e3,
                    h.max_us as f64 / 1e3
                ),
            ),
            None => ("—".into(), "—".into()),
        };
        let _ = writeln!(
            t,
            "| {} | {} | {:.1} s | {:.0} MB | {} | {} | {} / {} | {} | {} |",
            r.backend,
            r.rows,
            r.load.as_secs_f64(),
            r.size_mb,
            trio(&r.by_id),
            trio(&r.by_holder),
            ms(r.full_pdf.p50),
            ms(r.full_pdf.p99),
            http.0,
            http.1
        );
    }
    t
}

fn verdicts(reports: &[Report]) -> String {
    let mut out = String::new();
    for r in reports {
        let ok = |b: bool| if b { "met" } else { "MISSED" };
        let limit = Duration::from_millis(2);
        let _ = writeln!(out, "- {}: lookup by id p99 ≤ 2 ms: {}", r.backend, ok(r.by_id.p99 <= limit));
        let _ =
            writeln!(out, "- {}: lookup by holder p99 ≤ 2 ms: {}", r.backend, ok(r.by_holder.p99 <= limit));
        if let Some(h) = &r.http {
            let _ = writeln!(out, "- {}: ≥ 3,000 checks/s over HTTP: {}", r.backend, ok(h.per_sec >= 3000.0));
        }
        let _ = writeln!(out, "- {} listing plan: {}", r.backend, r.plan);
        if let Some((plan, stats)) = &r.fixed_listing {
            let _ = writeln!(
                out,
                "- {} holder listing with plain equalities: {} — plan: {plan}",
                r.backend,
                stats.line()
            );
        }
        let _ = writeln!(
            out,
            "- {} access-log appends/s (store only, no HTTP): {:.0} one writer, {:.0} with 64 at once",
            r.backend, r.appends.0, r.appends.1
        );
    }
    out
}

#[tokio::main]
async fn main() -> Result<()> {
    let Ok(rows) = std::env::var("ZHENGZHAO_SCALE_ROWS") else {
        println!(
            "register_scale: skipped. Run benches/register_scale.sh, or set ZHENGZHAO_SCALE_ROWS \
             (e.g. 1000000) and run `cargo bench --bench register_scale`."
        );
        return Ok(());
    };
    let rows: u64 = rows.trim().parse().context("while reading ZHENGZHAO_SCALE_ROWS")?;
    if rows == 0 {
        bail!("ZHENGZHAO_SCALE_ROWS must be at least 1");
    }
    let s = Settings::from_env(rows)?;
    let temp;
    let dir = match &s.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_owned()
        }
    };
    eprintln!(
        "register_scale: {} cores, load average {}, files in {}",
        num_cores(),
        load_average(),
        dir.display()
    );
    let mut reports = vec![];
    for backend in &s.backends {
        if backend == "postgres" {
            let mut admin = PgConnection::connect(&s.postgres_url)
                .await
                .context("while connecting to ZHENGZHAO_TEST_POSTGRES_URL")?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {}", s.schema)))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
        }
        let result = run_backend(backend, &s, &dir).await;
        if backend == "postgres" {
            drop_schema(&s).await.context("while dropping the PostgreSQL schema")?;
        }
        let _ = std::fs::remove_dir_all(dir.join(format!("data-{backend}")));
        reports.push(result?);
    }
    let verdicts = verdicts(&reports);
    println!("\n{}\n{verdicts}", table(&reports));
    if verdicts.contains(": MISSED") {
        bail!("register_scale missed a target (see the verdicts above)");
    }
    Ok(())
}

fn num_cores() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}
