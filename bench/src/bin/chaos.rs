//! `rapport-chaos`: starts Rapport server processes itself, disrupts them
//! (kills at random moments, reconnect storms, a lost node) while resuming
//! clients talk through them, then checks that nothing acknowledged was
//! lost, duplicated, reordered or left undelivered. The last line is
//! `RESULT {json}`. Run by `cargo xtask chaos`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use rapport_bench::chaos::run::{Mode, RunParams, run};
use rapport_bench::chaos::servers::ServerCommand;

#[derive(Parser)]
struct Args {
    /// `kill`, `storm` or `lost-node`.
    #[arg(long, default_value = "kill")]
    mode: String,
    /// The `rapport` binary.
    #[arg(long)]
    server_bin: PathBuf,
    /// Passed to every server before `serve`.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
    #[arg(long)]
    database_url: String,
    /// Loopback ports of the servers (two for `lost-node`).
    #[arg(long = "port", required = true)]
    ports: Vec<u16>,
    #[arg(long)]
    site: String,
    #[arg(long, default_value = "http://shop.bench")]
    origin: String,
    #[arg(long, default_value = "bench.test")]
    email_domain: String,
    #[arg(long, env = "RAPPORT_BENCH_PASSWORD", hide_env_values = true)]
    password: String,
    #[arg(long, default_value_t = 20)]
    agents: usize,
    #[arg(long, default_value_t = 200)]
    shoppers: usize,
    /// Messages per second, both ways together.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Seconds of traffic (at least).
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// `kill`: how many times the server is killed.
    #[arg(long, default_value_t = 50)]
    kills: u32,
    /// `kill`: milliseconds a server lives between kills, at most.
    #[arg(long, default_value_t = 1500)]
    max_up_ms: u64,
    /// `storm`: disconnects per shopper over the run.
    #[arg(long, default_value_t = 100)]
    cycles: u32,
    /// Seconds to wait at the end for what is outstanding.
    #[arg(long, default_value_t = 60)]
    settle: u64,
    #[arg(long, default_value_t = 8)]
    sources: u8,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mode = match args.mode.as_str() {
        "kill" => Mode::Kill { kills: args.kills },
        "storm" => Mode::Storm {
            cycles: args.cycles,
        },
        "lost-node" => Mode::LostNode,
        other => return Err(format!("--mode: kill, storm or lost-node, not {other:?}").into()),
    };
    let mut server_args = args.server_args;
    server_args.push("serve".to_owned());
    let server = ServerCommand {
        bin: args.server_bin,
        args: server_args,
        env: vec![
            ("RAPPORT_DATABASE_URL".to_owned(), args.database_url),
            ("RAPPORT_LOG".to_owned(), "warn".to_owned()),
            // Agents answer in their own time here; no chat is taken away
            // for a late reply.
            ("RAPPORT_REPLY_TIMEOUT_SECS".to_owned(), "86400".to_owned()),
            ("RAPPORT_OFFLINE_GRACE_SECS".to_owned(), "5".to_owned()),
        ],
    };
    let report = run(RunParams {
        mode,
        server,
        ports: args.ports,
        site_key: args.site,
        origin: args.origin,
        password: args.password,
        email_domain: args.email_domain,
        agents: args.agents,
        shoppers: args.shoppers,
        rate: args.rate,
        duration: Duration::from_secs(args.duration),
        max_up: Duration::from_millis(args.max_up_ms),
        settle: Duration::from_secs(args.settle),
        sources: args.sources,
    })
    .await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "RESULT {}", serde_json::to_string(&report)?)?;
    Ok(())
}
