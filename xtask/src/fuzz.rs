//! `cargo xtask fuzz [--runs N] [TARGET…]`: coverage-guided fuzzing of what
//! an attacker reaches (frames, identity tokens, cluster notices, mail out
//! and in), with the stable toolchain: cargo-fuzz (installed if
//! missing) with `--sanitizer none` and `RUSTC_BOOTSTRAP=1` (its
//! instrumentation flags are otherwise nightly-only). Each target starts
//! from seeds made of the protocol's examples; a crash fails the command
//! and leaves its input in `fuzz/artifacts/`.

use std::process::Command;

use crate::{Result, cargo, check, root};

const TARGETS: [&str; 10] = [
    "widget_frame",
    "agent_frame",
    "identity_token",
    "cluster_reassembly",
    "outgoing_mail",
    "inbound_mail",
    "uploaded_file",
    "search_query",
    "report_query",
    "help_article",
];

/// `[--runs N] [TARGET…]`: inputs per target, and the targets (all by default).
pub fn parse(args: &[String]) -> Result<(u64, Vec<String>)> {
    let mut runs: u64 = 2_500_000;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--runs" {
            runs = args
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or("--runs needs a number")?;
        } else if TARGETS.contains(&arg.as_str()) {
            targets.push(arg.clone());
        } else {
            return Err(format!("unknown target {arg}; the targets are {TARGETS:?}").into());
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    Ok((runs, targets))
}

pub fn run(args: &[String]) -> Result<()> {
    let (runs, targets) = parse(args)?;
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        check(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let corpus = root().join("fuzz").join("corpus");
    check(
        cargo()
            .args([
                "test",
                "-p",
                "rapport-server",
                "--lib",
                "fuzzing::tests::write_seeds",
            ])
            .args(["--", "--ignored", "--exact"])
            .env("RAPPORT_FUZZ_CORPUS", &corpus),
    )?;
    for target in &targets {
        check(
            cargo()
                .current_dir(root().join("fuzz"))
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["fuzz", "run", target, "--sanitizer", "none", "-O"])
                .arg(corpus.join(target))
                .args(["--", &format!("-runs={runs}"), "-print_final_stats=1"]),
        )?;
    }
    eprintln!(
        "xtask: {} targets, {runs} inputs each, no crash",
        targets.len()
    );
    Ok(())
}
