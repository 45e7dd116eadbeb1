//! `rapport-memgen`: a conversation of long messages resumed by sockets
//! that never read (see `rapport_bench::memory`); the last line is
//! `RESULT {json}`.

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use rapport_bench::memory::{self, Params};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    url: String,
    #[arg(long)]
    site: String,
    #[arg(long, default_value = "http://shop.bench")]
    origin: String,
    #[arg(long)]
    server_pid: u32,
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    #[arg(long, default_value_t = protocol::MAX_BODY_CHARS)]
    body_chars: usize,
    #[arg(long, default_value_t = 30)]
    readers: usize,
    /// Seconds the stalled readers are watched.
    #[arg(long, default_value_t = 20)]
    watch: u64,
    /// Files uploaded at once, by as many shoppers, after the readers.
    #[arg(long, default_value_t = 20)]
    uploads: usize,
    /// Bytes of each (the server's default largest file is 10 MB).
    #[arg(long, default_value_t = 10_000_000)]
    upload_bytes: usize,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let report = memory::run(Params {
        base_url: args.url.clone(),
        site_key: args.site.clone(),
        origin: args.origin.clone(),
        server_pid: args.server_pid,
        messages: args.messages,
        body_chars: args.body_chars,
        readers: args.readers,
        watch: Duration::from_secs(args.watch),
    })
    .await?;
    let uploads = rapport_bench::uploads::run(rapport_bench::uploads::Params {
        base_url: args.url,
        site_key: args.site,
        origin: args.origin,
        server_pid: args.server_pid,
        count: args.uploads,
        bytes: args.upload_bytes,
    })
    .await?;
    let mut result = serde_json::to_value(&report)?;
    result["uploads"] = serde_json::to_value(&uploads)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "RESULT {result}")?;
    Ok(())
}
