//! `cargo xtask bench`: Rapport and the bare relay under the same load, in
//! one run, from a separate load-generator process; every figure is also
//! given as a ratio to the relay's. `cargo xtask bench-assign` times the
//! matcher and the store's assignment alone.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Result, cargo, check, number, root, value_of};

/// Every shopper of the bench comes from one address, as fast as it can:
/// the per-address and per-socket limits are off (0) for the measurement.
/// Flags rather than environment variables: a renamed one stops the server
/// with an error instead of silently measuring the limits.
pub const NO_LIMITS: [&str; 13] = [
    "--limit-open-conversations-per-ip=0",
    "--limit-after-close-secs=0",
    "--limit-sockets-per-ip=0",
    "--limit-sockets-per-site=0",
    "--limit-visitors-per-ip=0",
    "--limit-visitors-per-site=0",
    "--limit-conversations-per-ip=0",
    "--limit-conversations-per-site=0",
    "--limit-messages-per-conversation=0",
    "--limit-frames-per-second=0",
    "--limit-requests-per-ip=0",
    "--limit-connections-per-ip=0",
    "--limit-uploads-per-ip=0",
];

const USAGE: &str =
    "cargo xtask bench [--shoppers N] [--agents N] [--rate MSG_PER_SEC] [--duration SECS]
                  [--throughput-duration SECS] [--database-url URL] [--no-relay] [--smoke]
                  [--bin-dir DIR]";

/// The page origin the load generator's shoppers claim; the bench's site
/// allows exactly this one, as a real shop's would.
pub const BENCH_ORIGIN: &str = "http://shop.bench";

pub(crate) struct Options {
    shoppers: usize,
    agents: usize,
    rate: u32,
    duration: u64,
    throughput_duration: u64,
    database_url: Option<String>,
    relay: bool,
    /// Binaries to measure instead of building them (`rapport`,
    /// `rapport-loadgen`, `rapport-relay`, `rapport-memgen` of another
    /// commit, to compare with in the same session).
    bin_dir: Option<std::path::PathBuf>,
    /// A run of seconds on a debug build that fails if anything was lost:
    /// `cargo xtask test` runs it so the command cannot break unseen.
    smoke: bool,
}

pub(crate) fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        shoppers: 1000,
        agents: 50,
        rate: 200,
        duration: 10,
        throughput_duration: 5,
        database_url: None,
        relay: true,
        bin_dir: None,
        smoke: false,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--no-relay" {
            options.relay = false;
            continue;
        }
        if flag == "--smoke" {
            options = Options {
                shoppers: 20,
                agents: 2,
                rate: 20,
                duration: 2,
                throughput_duration: 1,
                smoke: true,
                ..options
            };
            continue;
        }
        let value = value_of(flag, &mut args, USAGE)?;
        let number = || number(flag, value);
        match flag.as_str() {
            "--shoppers" => options.shoppers = usize::try_from(number()?)?,
            "--agents" => options.agents = usize::try_from(number()?)?,
            "--rate" => options.rate = u32::try_from(number()?)?,
            "--duration" => options.duration = number()?,
            "--throughput-duration" => options.throughput_duration = number()?,
            "--database-url" => options.database_url = Some(value.clone()),
            "--bin-dir" => options.bin_dir = Some(value.into()),
            _ => return Err(format!("unknown flag {flag}\nusage: {USAGE}").into()),
        }
    }
    if options.agents == 0 || options.shoppers == 0 {
        return Err("--agents and --shoppers must be at least 1".into());
    }
    Ok(options)
}

/// A child process killed when dropped, so a failed run leaves nothing behind.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let profile = if options.smoke { "debug" } else { "release" };
    let mut build = cargo();
    build.args([
        "build",
        "-p",
        "rapport-server",
        "-p",
        "rapport-bench",
        "--bins",
    ]);
    if !options.smoke {
        build.arg("--release");
    }
    let bin = match &options.bin_dir {
        Some(dir) => dir.clone(),
        None => {
            check(&mut build)?;
            root().join("target").join(profile)
        }
    };
    let work = std::env::temp_dir().join(format!("rapport-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let database_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", work.join("bench.db").display()));
    let started = Instant::now();
    let capacity = options.shoppers.div_ceil(options.agents) + 1;
    let Setup {
        site_key,
        password,
        run_id,
    } = set_up(&bin, &database_url, options.agents, capacity)?;
    eprintln!("xtask: set up in {:.1?}", started.elapsed());
    let run_id = run_id.as_str();

    let port = free_port()?;
    let server = Running(
        Command::new(bin.join("rapport"))
            .args(NO_LIMITS)
            .arg("serve")
            .env("RAPPORT_ADDR", format!("127.0.0.1:{port}"))
            // The agents' sockets come from the server's own origin.
            .env("RAPPORT_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("RAPPORT_DATABASE_URL", &database_url)
            .env("RAPPORT_LOG", "warn")
            // Agents in the bench answer only some chats; none is reassigned.
            .env("RAPPORT_REPLY_TIMEOUT_SECS", "86400")
            .spawn()?,
    );
    wait_healthy(port)?;
    let rapport = loadgen(
        &bin,
        &options,
        port,
        server.0.id(),
        &["--target", "rapport", &format!("--site={site_key}")],
        &password,
        run_id,
    )?;
    drop(server);

    let relay = if options.relay {
        let port = free_port()?;
        let relay = Running(
            Command::new(bin.join("rapport-relay"))
                .args(["--addr", &format!("127.0.0.1:{port}")])
                .spawn()?,
        );
        wait_healthy(port)?;
        let report = loadgen(
            &bin,
            &options,
            port,
            relay.0.id(),
            &["--target", "relay"],
            "",
            run_id,
        )?;
        drop(relay);
        Some(report)
    } else {
        None
    };
    let memory = memory(&bin, &options, &database_url, &site_key)?;
    let _ = std::fs::remove_dir_all(&work);
    print_report(&options, &database_url, &rapport, relay.as_ref());
    print_memory(&memory);
    let uploads = &memory["uploads"];
    if options.smoke && uploads["stored"] != uploads["count"] {
        return Err(format!("uploads were refused: {uploads}").into());
    }
    let readers = memory["readers"].as_u64().unwrap_or(0);
    if options.smoke && memory["closed"].as_u64() != Some(readers) {
        return Err(format!(
            "the server left stalled sockets open: {} of {readers} closed",
            memory["closed"]
        )
        .into());
    }
    let lost = rapport["lost"].as_u64();
    if options.smoke && lost != Some(0) {
        return Err(format!("the smoke run lost messages: {lost:?}").into());
    }
    Ok(())
}

/// What a run set up with the `rapport` CLI.
pub struct Setup {
    pub site_key: String,
    /// The agents' password (never printed).
    pub password: String,
    /// Agents are `agent{i}@{run_id}.bench.test`.
    pub run_id: String,
}

/// Adds `agents` agents (`agent{i}@{run_id}.bench.test`, each taking
/// `capacity` chats) and a site allowing [`BENCH_ORIGIN`] to the database,
/// through the `rapport` CLI in `bin`.
pub fn set_up(bin: &Path, database_url: &str, agents: usize, capacity: usize) -> Result<Setup> {
    let password = random_password();
    // Emails unique to this run, so a reused database works too.
    let run_id = password[..8].to_owned();
    for i in 0..agents {
        let status = Command::new(bin.join("rapport"))
            .args([
                "add-user",
                "--email",
                &format!("agent{i}@{run_id}.bench.test"),
            ])
            .args(["--name", &format!("Agent {i}"), "--role", "agent"])
            .args(["--capacity", &capacity.to_string()])
            .env("RAPPORT_DATABASE_URL", database_url)
            .env("RAPPORT_NEW_PASSWORD", &password)
            .env("RAPPORT_LOG", "warn")
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("could not add agent {i}").into());
        }
    }
    let site = Command::new(bin.join("rapport"))
        .args(["add-site", "--name", "Bench shop", "--origin", BENCH_ORIGIN])
        .env("RAPPORT_DATABASE_URL", database_url)
        .env("RAPPORT_LOG", "warn")
        .output()?;
    if !site.status.success() {
        return Err(format!(
            "could not add the bench's site: {}",
            String::from_utf8_lossy(&site.stderr)
        )
        .into());
    }
    let site: Value = serde_json::from_slice(&site.stdout)?;
    let site_key = site["site_key"]
        .as_str()
        .ok_or("add-site printed no site key")?
        .to_owned();
    Ok(Setup {
        site_key,
        password,
        run_id,
    })
}

/// A conversation of long messages resumed by sockets that never read,
/// on a server of its own (its quiet deadline short, so that stalled
/// sockets are closed within the watch either way).
fn memory(bin: &Path, options: &Options, database_url: &str, site_key: &str) -> Result<Value> {
    let port = free_port()?;
    let server = Running(
        Command::new(bin.join("rapport"))
            .args(NO_LIMITS)
            .args(["--socket-quiet-secs", "10"])
            .arg("serve")
            .env("RAPPORT_ADDR", format!("127.0.0.1:{port}"))
            .env("RAPPORT_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("RAPPORT_DATABASE_URL", database_url)
            .env("RAPPORT_LOG", "warn")
            .spawn()?,
    );
    wait_healthy(port)?;
    let (messages, readers, watch, uploads) = if options.smoke {
        ("200", "5", "14", "4")
    } else {
        ("2000", "30", "20", "20")
    };
    let output = Command::new(bin.join("rapport-memgen"))
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(["--site", site_key])
        .args(["--origin", BENCH_ORIGIN])
        .args(["--server-pid", &server.0.id().to_string()])
        .args([
            "--messages",
            messages,
            "--readers",
            readers,
            "--watch",
            watch,
            "--uploads",
            uploads,
        ])
        .stderr(Stdio::inherit())
        .output()?;
    drop(server);
    if !output.status.success() {
        return Err(format!("the memory bench failed ({})", output.status).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .ok_or("the memory bench printed no RESULT line")?;
    Ok(serde_json::from_str(result)?)
}

fn print_memory(memory: &Value) {
    let kib = |key: &str| memory[key].as_u64().unwrap_or(0);
    let growth = kib("rss_peak_kib").saturating_sub(kib("rss_before_kib"));
    let conversation = kib("conversation_kib").max(1);
    eprintln!();
    eprintln!(
        "Stalled readers: a conversation of {} messages of {} characters ({:.1} MB) resumed by {} sockets that never read",
        memory["messages"],
        memory["body_chars"],
        conversation as f64 / 1024.0,
        memory["readers"]
    );
    eprintln!(
        "  server RSS {:.1} MB before, {:.1} MB at peak (+{:.1} MB, {:.2}x the conversation; target under 100 MB), {:.1} MB after",
        kib("rss_before_kib") as f64 / 1024.0,
        kib("rss_peak_kib") as f64 / 1024.0,
        growth as f64 / 1024.0,
        growth as f64 / conversation as f64,
        kib("rss_after_kib") as f64 / 1024.0
    );
    eprintln!(
        "  closed by the server within the watch: {} of {}",
        memory["closed"], memory["readers"]
    );
    let uploads = &memory["uploads"];
    let kib = |key: &str| uploads[key].as_u64().unwrap_or(0);
    let count = kib("count").max(1);
    let growth = kib("rss_peak_kib").saturating_sub(kib("rss_before_kib"));
    eprintln!(
        "Uploads: {} files of {:.1} MB at once, by as many shoppers ({} stored in {:.1} s)",
        count,
        kib("bytes") as f64 / 1e6,
        kib("stored"),
        uploads["seconds"].as_f64().unwrap_or(0.0)
    );
    eprintln!(
        "  server RSS {:.1} MB before, {:.1} MB at peak: +{:.2} MB per upload in flight ({:.3}x the file)",
        kib("rss_before_kib") as f64 / 1024.0,
        kib("rss_peak_kib") as f64 / 1024.0,
        growth as f64 / 1024.0 / count as f64,
        growth as f64 * 1024.0 / count as f64 / kib("bytes").max(1) as f64
    );
}

fn loadgen(
    bin: &Path,
    options: &Options,
    port: u16,
    pid: u32,
    target: &[&str],
    password: &str,
    run_id: &str,
) -> Result<Value> {
    let output = Command::new(bin.join("rapport-loadgen"))
        .args(target)
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(["--agents", &options.agents.to_string()])
        .args(["--shoppers", &options.shoppers.to_string()])
        .args(["--rate", &options.rate.to_string()])
        .args(["--duration", &options.duration.to_string()])
        .args([
            "--throughput-duration",
            &options.throughput_duration.to_string(),
        ])
        .args(["--server-pid", &pid.to_string()])
        .args(["--email-domain", &format!("{run_id}.bench.test")])
        .args(["--origin", BENCH_ORIGIN])
        .env("RAPPORT_BENCH_PASSWORD", password)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("the load generator failed ({})", output.status).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .ok_or("the load generator printed no RESULT line")?;
    Ok(serde_json::from_str(result)?)
}

fn print_report(options: &Options, database_url: &str, rapport: &Value, relay: Option<&Value>) {
    let backend = database_url.split(':').next().unwrap_or("?");
    let cores = rapport["cores"].as_u64().unwrap_or(0);
    eprintln!();
    eprintln!(
        "Rapport vs bare relay: {} shoppers, {} agents, {} msg/s for {} s, throughput {} s; {cores} cores; {backend}",
        options.shoppers,
        options.agents,
        options.rate,
        options.duration,
        options.throughput_duration
    );
    let ratio = |path: &[&str]| -> String {
        let get = |v: &Value| {
            path.iter()
                .fold(v.clone(), |v, key| v[*key].clone())
                .as_f64()
        };
        match (get(rapport), relay.and_then(get)) {
            (Some(ours), Some(theirs)) if theirs > 0.0 => format!("{:>8.2}×", ours / theirs),
            _ => "        -".to_owned(),
        }
    };
    let show = |label: &str, path: &[&str], unit: &str| {
        let get = |v: &Value| path.iter().fold(v.clone(), |v, key| v[*key].clone());
        let ours = get(rapport);
        let theirs = relay.map(get).unwrap_or(Value::Null);
        eprintln!(
            "  {label:<34} {:>12} {:>12} {}   {unit}",
            fmt(&ours),
            fmt(&theirs),
            ratio(path)
        );
    };
    eprintln!(
        "  {:<34} {:>12} {:>12} {:>9}",
        "", "rapport", "relay", "ratio"
    );
    for (label, key) in [
        ("shopper → agent", "shopper_to_agent"),
        ("agent → shopper", "agent_to_shopper"),
        ("open (connect + hello)", "open"),
    ] {
        for stat in ["p50_ms", "p99_ms", "max_ms"] {
            show(&format!("{label} {stat}"), &[key, stat], "ms");
        }
    }
    for stat in ["p50_ms", "p99_ms", "max_ms"] {
        show(
            &format!("first agent offer {stat}"),
            &["first_offer", stat],
            "ms",
        );
    }
    show("messages lost", &["lost"], "");
    show("throughput", &["throughput_per_sec"], "msg/s delivered");
    show(
        "server RSS before shoppers",
        &["rss_before_shoppers_kib"],
        "KiB",
    );
    show(
        "server RSS with shoppers",
        &["rss_with_shoppers_kib"],
        "KiB",
    );
    show(
        "server memory per shopper",
        &["rss_per_shopper_bytes"],
        "bytes",
    );
}

fn fmt(value: &Value) -> String {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 => format!("{n:.0}"),
        Some(n) => format!("{n:.3}"),
        None => "-".to_owned(),
    }
}

pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_healthy(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing healthy on port {port} within 30 s").into())
}

/// A password for this run's agents, never printed.
fn random_password() -> String {
    let seed = format!(
        "{:?}{}{:?}",
        Instant::now(),
        std::process::id(),
        std::time::SystemTime::now()
    );
    Sha256::digest(seed.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The older micro-benchmark of one assignment decision and its store write.
pub fn assign(args: &[String]) -> Result<()> {
    server_example("bench_assign", args)
}

/// `cargo xtask bench-search`: the search and views benchmark.
pub fn search(args: &[String]) -> Result<()> {
    server_example("bench_search", args)
}

/// `cargo xtask bench-reports`: the reports benchmark.
pub fn reports(args: &[String]) -> Result<()> {
    server_example("bench_reports", args)
}

/// A release build of one of `server/examples/`, run with `args`.
fn server_example(name: &str, args: &[String]) -> Result<()> {
    check(
        cargo()
            .args([
                "run",
                "--release",
                "-p",
                "rapport-server",
                "--example",
                name,
                "--",
            ])
            .args(args),
    )
}
