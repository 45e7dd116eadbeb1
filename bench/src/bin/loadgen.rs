//! `rapport-loadgen`: drives a running Rapport (or the bare relay) over
//! loopback and prints what it measured; the last line is `RESULT {json}`.

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use rapport_bench::load::{self, Params, Target};

#[derive(Parser)]
struct Args {
    /// `rapport` or `relay`.
    #[arg(long, default_value = "rapport")]
    target: String,
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The site key (Rapport).
    #[arg(long, default_value = "")]
    site: String,
    /// The page origin shoppers claim; the site must allow it (Rapport).
    #[arg(long, default_value = "http://shop.bench")]
    origin: String,
    /// Agents are agent0@DOMAIN … (Rapport).
    #[arg(long, default_value = "bench.test")]
    email_domain: String,
    /// The agents' password (Rapport).
    #[arg(
        long,
        env = "RAPPORT_BENCH_PASSWORD",
        default_value = "",
        hide_env_values = true
    )]
    password: String,
    #[arg(long, default_value_t = 50)]
    agents: usize,
    #[arg(long, default_value_t = 1000)]
    shoppers: usize,
    /// Messages per second, both directions together.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Seconds of steady load.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of the throughput phase.
    #[arg(long, default_value_t = 5)]
    throughput_duration: u64,
    #[arg(long, default_value_t = 256)]
    window: usize,
    #[arg(long, default_value_t = 8)]
    sources: u8,
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long, default_value_t = 200)]
    setup_concurrency: usize,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let target = match args.target.as_str() {
        "rapport" => Target::Rapport {
            site_key: args.site,
            origin: args.origin,
            password: args.password,
            email_domain: args.email_domain,
        },
        "relay" => Target::Relay,
        other => return Err(format!("--target must be rapport or relay, not {other:?}").into()),
    };
    let report = load::run(Params {
        target,
        base_url: args.url,
        agents: args.agents,
        shoppers: args.shoppers,
        rate: args.rate,
        duration: Duration::from_secs(args.duration),
        throughput_duration: Duration::from_secs(args.throughput_duration),
        window: args.window,
        sources: args.sources,
        server_pid: args.server_pid,
        setup_concurrency: args.setup_concurrency,
    })
    .await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "RESULT {}", serde_json::to_string(&report)?)?;
    Ok(())
}
