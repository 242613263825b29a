//! Load generator for `benches/flood_load.sh`: issuing alone, then issuing while many
//! loopback source addresses flood `/v/` (wrk cannot bind a source address); or `/v/`
//! latency while many distinct rate-limit keys arrive. All traffic goes to 127.0.0.1 only,
//! bounded in connections and time. Prints figures; exits 1 when a target is missed or an
//! answer was wrong.
//!
//! Usage:
//!   flood issue BASE KEY BODY_FILE PAGE_PATH SECONDS FLOOD_CONNECTIONS SOURCES
//!   flood keys BASE PAGE_PATH KEYS CONNECTIONS
#![allow(clippy::unwrap_used)] // A benchmark tool: a failed unwrap is a failed run.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Issuing must keep this share of its unloaded rate under the flood.
const TARGET_SHARE: f64 = 0.70;
/// Concurrent issuing clients (as `benches/issue_load.sh`).
const ISSUERS: usize = 2;
const MAX_SECONDS: u64 = 120;
const MAX_CONNECTIONS: usize = 1000;
const MAX_KEYS: u64 = 1_000_000;

fn main() {
    // `cargo bench` passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let ok = match args.first().map(String::as_str) {
        Some("issue") if args.len() == 8 => runtime.block_on(issue_under_flood(&args[1..])),
        Some("keys") if args.len() == 5 => runtime.block_on(many_keys(&args[1..])),
        // `cargo test --all-targets` and a bare `cargo bench` run it without a job.
        None => {
            println!("flood: skipped. Run benches/flood_load.sh, which starts a server and gives the job.");
            return;
        }
        _ => {
            eprintln!("usage: flood issue BASE KEY BODY_FILE PAGE_PATH SECONDS FLOOD_CONNECTIONS SOURCES");
            eprintln!("       flood keys BASE PAGE_PATH KEYS CONNECTIONS");
            std::process::exit(2);
        }
    };
    if !ok {
        std::process::exit(1);
    }
}

/// The base URL, refused unless it is loopback 127.0.0.1.
fn loopback(base: &str) -> String {
    let base = base.trim_end_matches('/');
    let host = base.strip_prefix("http://").and_then(|r| r.split(':').next()).unwrap_or("");
    if host != "127.0.0.1" {
        eprintln!("refusing {base}: this tool only sends to http://127.0.0.1");
        std::process::exit(2);
    }
    base.to_owned()
}

fn client(source: Option<IpAddr>) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source)
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(1)
        .build()
        .unwrap()
}

#[derive(Default)]
struct Issued {
    ok: AtomicU64,
    bad: AtomicU64,
    latencies_us: std::sync::Mutex<Vec<u64>>,
}

/// Issues with `ISSUERS` clients until `stop`; returns (201s, other answers, latencies).
async fn issue_for(base: &str, key: &str, body: &str, seconds: u64, phase: &str) -> (u64, u64, Vec<u64>) {
    let issued = Arc::new(Issued::default());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for worker in 0..ISSUERS {
        let (issued, base, key, body) = (issued.clone(), base.to_owned(), key.to_owned(), body.to_owned());
        let phase = phase.to_owned();
        tasks.push(tokio::spawn(async move {
            let c = client(None);
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let started = Instant::now();
                let r = c
                    .post(format!("{base}/api/v1/licences"))
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("flood-{phase}-{worker}-{n}-{}", std::process::id()))
                    .body(body.clone())
                    .send()
                    .await;
                let status = match r {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                if status == 201 {
                    issued.ok.fetch_add(1, Ordering::Relaxed);
                    let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                    issued.latencies_us.lock().unwrap().push(us);
                } else {
                    issued.bad.fetch_add(1, Ordering::Relaxed);
                    if issued.bad.load(Ordering::Relaxed) <= 3 {
                        eprintln!("issuing answered {status}");
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut latencies = std::mem::take(&mut *issued.latencies_us.lock().unwrap());
    latencies.sort_unstable();
    (issued.ok.load(Ordering::Relaxed), issued.bad.load(Ordering::Relaxed), latencies)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)] as f64 / 1000.0
}

async fn issue_under_flood(args: &[String]) -> bool {
    let base = loopback(&args[0]);
    let key = &args[1];
    let body = std::fs::read_to_string(&args[2]).unwrap();
    let page = format!("{base}{}", &args[3]);
    let seconds: u64 = args[4].parse::<u64>().unwrap().clamp(1, MAX_SECONDS);
    let connections: usize = args[5].parse::<usize>().unwrap().clamp(1, MAX_CONNECTIONS);
    let sources: u8 = args[6].parse::<u8>().unwrap().clamp(1, 250);

    let (alone, bad_alone, lat_alone) = issue_for(&base, key, &body, seconds, "alone").await;
    let rate_alone = alone as f64 / seconds as f64;
    println!(
        "issuing alone:        {rate_alone:8.1} licences/s  (p50 {:.1} ms, p99 {:.1} ms, {bad_alone} not 201)",
        percentile(&lat_alone, 0.5),
        percentile(&lat_alone, 0.99)
    );

    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<[AtomicU64; 4]> = Arc::new(Default::default()); // 200, 429, 503, other
    let mut flood = Vec::new();
    for i in 0..connections {
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % usize::from(sources)) as u8));
        let (stop, counts, page) = (stop.clone(), counts.clone(), page.clone());
        flood.push(tokio::spawn(async move {
            let c = client(Some(source));
            while !stop.load(Ordering::Relaxed) {
                let slot = match c.get(&page).send().await {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        match s {
                            200 => 0,
                            429 => 1,
                            503 => 2,
                            _ => 3,
                        }
                    }
                    Err(_) => 3,
                };
                counts[slot].fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Let the flood reach its pace first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before: Vec<u64> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let (loaded, bad_loaded, lat_loaded) = issue_for(&base, key, &body, seconds, "flood").await;
    let after: Vec<u64> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    stop.store(true, Ordering::Relaxed);
    for f in flood {
        let _ = tokio::time::timeout(Duration::from_secs(35), f).await;
    }
    let rate_loaded = loaded as f64 / seconds as f64;
    let d: Vec<f64> = after.iter().zip(&before).map(|(a, b)| (a - b) as f64 / seconds as f64).collect();
    println!(
        "issuing under flood:  {rate_loaded:8.1} licences/s  (p50 {:.1} ms, p99 {:.1} ms, {bad_loaded} not 201)",
        percentile(&lat_loaded, 0.5),
        percentile(&lat_loaded, 0.99)
    );
    println!(
        "flood on /v/:         {connections} connections from {sources} addresses: {:.0} pages/s 200, {:.0}/s 429, {:.0}/s 503, {:.0}/s other",
        d[0], d[1], d[2], d[3]
    );
    let share = if rate_alone > 0.0 { rate_loaded / rate_alone } else { 0.0 };
    let pass = share >= TARGET_SHARE && bad_alone == 0 && bad_loaded == 0 && alone > 0 && d[0] > 0.0;
    println!(
        "issuing keeps {:.0} % of its unloaded rate (target ≥ {:.0} %): {}",
        share * 100.0,
        TARGET_SHARE * 100.0,
        if pass { "MEETS" } else { "MISSES" }
    );
    pass
}

/// `/v/` latency while `KEYS` distinct client addresses (named by `X-Forwarded-For` through
/// a trusted proxy at 127.0.0.1) arrive, in windows of a tenth of the keys.
async fn many_keys(args: &[String]) -> bool {
    let base = loopback(&args[0]);
    let page = format!("{base}{}", &args[1]);
    let keys: u64 = args[2].parse::<u64>().unwrap().clamp(1, MAX_KEYS);
    let connections: usize = args[3].parse::<usize>().unwrap().clamp(1, MAX_CONNECTIONS);
    let next = Arc::new(AtomicU64::new(0));
    let window = keys.div_ceil(10);
    let latencies: Arc<Vec<std::sync::Mutex<Vec<u64>>>> =
        Arc::new((0..10).map(|_| std::sync::Mutex::new(Vec::new())).collect());
    let bad = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (next, latencies, bad, page) = (next.clone(), latencies.clone(), bad.clone(), page.clone());
        tasks.push(tokio::spawn(async move {
            let c = client(None);
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= keys {
                    break;
                }
                // 10.0.0.0/8 holds 16 million distinct addresses.
                let address = Ipv4Addr::from(0x0A00_0000u32 + u32::try_from(k).unwrap());
                let t = Instant::now();
                let status = match c.get(&page).header("x-forwarded-for", address.to_string()).send().await {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                if status != 200 {
                    bad.fetch_add(1, Ordering::Relaxed);
                }
                let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                let w = usize::try_from(k / window).unwrap_or(9).min(9);
                latencies[w].lock().unwrap().push(us);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{keys} distinct keys over {connections} connections in {elapsed:.1} s ({:.0} requests/s)",
        keys as f64 / elapsed
    );
    let mut worst_p99 = 0.0f64;
    let mut first_p99 = f64::NAN;
    for (i, w) in latencies.iter().enumerate() {
        let mut l = std::mem::take(&mut *w.lock().unwrap());
        l.sort_unstable();
        let p99 = percentile(&l, 0.99);
        if i == 0 {
            first_p99 = p99;
        }
        worst_p99 = worst_p99.max(p99);
        println!(
            "keys {:>7}–{:>7}: p50 {:6.2} ms  p99 {:6.2} ms  max {:6.2} ms",
            i as u64 * window,
            ((i as u64 + 1) * window).min(keys),
            percentile(&l, 0.5),
            p99,
            l.last().map_or(f64::NAN, |m| *m as f64 / 1000.0)
        );
    }
    let bad = bad.load(Ordering::Relaxed);
    // Latency must not grow with the number of keys seen: the last windows' p99 stays
    // within 3× the first's (plus 5 ms of noise on a shared machine).
    let pass = bad == 0 && worst_p99 <= first_p99 * 3.0 + 5.0;
    println!(
        "answers other than 200: {bad}; p99 first window {first_p99:.2} ms, worst {worst_p99:.2} ms: {}",
        if pass { "MEETS" } else { "MISSES" }
    );
    pass
}
