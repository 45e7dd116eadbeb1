//! `cargo xtask chaos`: Rapport disrupted while resuming clients talk
//! through it (`rapport-chaos`), then everything acknowledged checked
//! against the stored logs. Modes: `kill` (the server `kill -9`ed at
//! random moments and started again, 50 times by default), `storm` (every
//! shopper drops its own connection over and over), `lost-node` (two
//! servers on one PostgreSQL database, one killed for good).

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::bench::{BENCH_ORIGIN, NO_LIMITS, Setup, free_port, set_up};
use crate::{Result, cargo, check, number, root, value_of};

const USAGE: &str = "cargo xtask chaos [--mode kill|storm|lost-node] [--kills N] [--cycles N]
                  [--shoppers N] [--agents N] [--rate MSG_PER_SEC] [--duration SECS]
                  [--database-url URL] [--smoke]";

pub(crate) struct Options {
    mode: String,
    kills: u32,
    cycles: u32,
    shoppers: usize,
    agents: usize,
    rate: u32,
    duration: u64,
    database_url: Option<String>,
    /// A few kills on a debug build: `cargo xtask test` runs it.
    smoke: bool,
}

pub(crate) fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        mode: "kill".to_owned(),
        kills: 50,
        cycles: 100,
        shoppers: 200,
        agents: 20,
        rate: 200,
        duration: 30,
        database_url: None,
        smoke: false,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--smoke" {
            options = Options {
                kills: 4,
                cycles: 10,
                shoppers: 20,
                agents: 4,
                rate: 40,
                duration: 4,
                smoke: true,
                ..options
            };
            continue;
        }
        let value = value_of(flag, &mut args, USAGE)?;
        let number = || number(flag, value);
        match flag.as_str() {
            "--mode" => match value.as_str() {
                "kill" | "storm" | "lost-node" => options.mode.clone_from(value),
                other => return Err(format!("--mode {other}: kill, storm or lost-node").into()),
            },
            "--kills" => options.kills = u32::try_from(number()?)?,
            "--cycles" => options.cycles = u32::try_from(number()?)?,
            "--shoppers" => options.shoppers = usize::try_from(number()?)?,
            "--agents" => options.agents = usize::try_from(number()?)?,
            "--rate" => options.rate = u32::try_from(number()?)?,
            "--duration" => options.duration = number()?,
            "--database-url" => options.database_url = Some(value.clone()),
            _ => return Err(format!("unknown flag {flag}\nusage: {USAGE}").into()),
        }
    }
    if options.agents < 2 || options.shoppers == 0 {
        return Err("--agents must be at least 2 and --shoppers at least 1".into());
    }
    let postgres = options
        .database_url
        .as_deref()
        .is_some_and(|url| url.starts_with("postgres"));
    if options.mode == "lost-node" && !postgres {
        return Err(
            "--mode lost-node needs two servers on one PostgreSQL database: give --database-url postgres://…"
                .into(),
        );
    }
    Ok(options)
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
    check(&mut build)?;
    let bin = root().join("target").join(profile);
    let work = std::env::temp_dir().join(format!("rapport-chaos-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let database_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", work.join("chaos.db").display()));
    // Every agent may hold every chat: in a lost node, those who stay
    // leave theirs to the others.
    let Setup {
        site_key,
        password,
        run_id,
    } = set_up(
        &bin,
        &database_url,
        options.agents,
        (options.shoppers + 1).min(1000),
    )?;
    let nodes = if options.mode == "lost-node" { 2 } else { 1 };
    let mut command = Command::new(bin.join("rapport-chaos"));
    command
        .args(["--mode", &options.mode])
        .arg("--server-bin")
        .arg(bin.join("rapport"))
        .args(["--database-url", &database_url])
        .arg(format!("--site={site_key}"))
        .args(["--origin", BENCH_ORIGIN])
        .args(["--email-domain", &format!("{run_id}.bench.test")])
        .args(["--agents", &options.agents.to_string()])
        .args(["--shoppers", &options.shoppers.to_string()])
        .args(["--rate", &options.rate.to_string()])
        .args(["--duration", &options.duration.to_string()])
        .args(["--kills", &options.kills.to_string()])
        .args(["--cycles", &options.cycles.to_string()])
        .env("RAPPORT_BENCH_PASSWORD", &password)
        .stderr(Stdio::inherit());
    for limit in NO_LIMITS {
        command.arg(format!("--server-arg={limit}"));
    }
    for _ in 0..nodes {
        command.args(["--port", &free_port()?.to_string()]);
    }
    eprintln!("xtask: $ {command:?}");
    let output = command.output()?;
    let _ = std::fs::remove_dir_all(&work);
    if !output.status.success() {
        return Err(format!("the chaos run failed ({})", output.status).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .ok_or("the chaos run printed no RESULT line")?;
    let report: Value = serde_json::from_str(result)?;
    print_report(&report, &database_url);
    let clean = report["verdict"].as_object().is_some_and(|verdict| {
        [
            "unacked",
            "lost",
            "duplicated",
            "wrong_seq",
            "out_of_order",
            "undelivered",
            "conflicting_acks",
        ]
        .iter()
        .all(|key| verdict.get(*key).and_then(Value::as_u64) == Some(0))
    }) && report["chats_taken_over"] == report["chats_left"];
    if !clean {
        return Err(
            "the chaos run found messages lost, duplicated, out of order or undelivered".into(),
        );
    }
    Ok(())
}

fn print_report(report: &Value, database_url: &str) {
    let backend = database_url.split(':').next().unwrap_or("?");
    let verdict = &report["verdict"];
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    eprintln!();
    eprintln!(
        "Chaos ({}): {} shoppers, {} agents, {backend}, {:.0} s",
        report["mode"].as_str().unwrap_or("?"),
        report["shoppers"],
        report["agents"],
        report["seconds"].as_f64().unwrap_or(0.0)
    );
    if n(&report["kills"]) > 0 {
        eprintln!(
            "  kills (SIGKILL)                   {:>8}   back up in p50 {:.0} ms, max {:.0} ms",
            n(&report["kills"]),
            report["restart"]["p50_ms"].as_f64().unwrap_or(0.0),
            report["restart"]["max_ms"].as_f64().unwrap_or(0.0)
        );
    }
    for (label, value) in [
        ("reconnects, shoppers", &report["shopper_reconnects"]),
        ("reconnects, agents", &report["agent_reconnects"]),
        ("messages sent again", &report["resent"]),
        ("conversations", &verdict["conversations"]),
        ("messages sent", &verdict["sent"]),
        ("acknowledged", &verdict["acked"]),
        ("never acknowledged", &verdict["unacked"]),
        ("acknowledged, not stored (lost)", &verdict["lost"]),
        ("stored twice", &verdict["duplicated"]),
        ("stored at another seq than acked", &verdict["wrong_seq"]),
        ("stored out of order", &verdict["out_of_order"]),
        ("not received by the other side", &verdict["undelivered"]),
        (
            "  of which agents' (by no shopper)",
            &verdict["undelivered_to_shoppers"],
        ),
        (
            "acks that changed their answer",
            &verdict["conflicting_acks"],
        ),
    ] {
        eprintln!("  {label:<34} {:>8}", n(value));
    }
    if report["mode"] == "lost-node" {
        eprintln!(
            "  agents gone with the lost node    {:>8}   their chats {}, taken over by others {}",
            n(&report["agents_gone"]),
            n(&report["chats_left"]),
            n(&report["chats_taken_over"])
        );
    }
    eprintln!(
        "  settled in                        {:>8.1} s",
        report["settled_secs"].as_f64().unwrap_or(0.0)
    );
}
