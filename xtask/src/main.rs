//! Build orchestration for Rapport: `cargo xtask <run|test|dist|bench|fuzz>`.
//! A program rather than shell so the steps are the same on every machine.

mod bench;
mod chaos;
mod dist;
#[cfg(test)]
mod docs;
mod fuzz;
mod setup;
mod test;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const USAGE: &str = "usage: cargo xtask <command>

  run [ARGS…]  build the widget and inbox, then start the server (ARGS go to `rapport`)
  test         install what is missing, then run every check and test (what CI runs)
  dist         build the widget and inbox bundles into dist/ and report their sizes
  bench [ARGS…] Rapport and a bare relay under the same load (release build); ARGS:
               --shoppers N --agents N --rate MSG_PER_SEC --duration SECS --database-url URL
  bench-assign [ARGS…] time one assignment decision and its store write; ARGS:
               --waiting N --agents N --capacity N --database-url URL
  bench-search [ARGS…] search and the inbox's views on a large history (release
               build); ARGS: --messages N (default 1,000,000) --runs N --database-url URL
  bench-reports [ARGS…] each owner's report on a large history (release build);
               ARGS: --events N (default 1,000,000) --runs N --database-url URL
  chaos [ARGS…] resuming clients while the server is killed (kill), their
               connections dropped (storm) or a node lost (lost-node); checks
               nothing acknowledged is lost; ARGS: --mode --kills N --cycles N
               --shoppers N --agents N --rate N --duration SECS --database-url URL --smoke
  fuzz [--runs N] [TARGET…] fuzz the frame decoders, the identity token verifier
               and the cluster's reassembly (N inputs per target, default 2,500,000)";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let outcome = match args.next().as_deref() {
        Some("dist") => dist::build().map(|_| ()),
        Some("run") => run(args.collect()),
        Some("test") => test::all(),
        Some("bench") => bench::run(&args.collect::<Vec<_>>()),
        Some("bench-assign") => bench::assign(&args.collect::<Vec<_>>()),
        Some("bench-search") => bench::search(&args.collect::<Vec<_>>()),
        Some("bench-reports") => bench::reports(&args.collect::<Vec<_>>()),
        Some("chaos") => chaos::run(&args.collect::<Vec<_>>()),
        Some("fuzz") => fuzz::run(&args.collect::<Vec<_>>()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<()> {
    dist::build()?;
    let mut command = cargo();
    command
        .args(["run", "-p", "rapport-server", "--bin", "rapport", "--"])
        .args(args);
    command.env("RAPPORT_ASSETS_DIR", root().join("dist"));
    check(&mut command)
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

/// The value that follows `flag` on the command line.
pub fn value_of<'a>(
    flag: &str,
    args: &mut impl Iterator<Item = &'a String>,
    usage: &str,
) -> Result<&'a String> {
    args.next()
        .ok_or_else(|| format!("{flag} needs a value\nusage: {usage}").into())
}

/// A flag's value as a whole number.
pub fn number(flag: &str, value: &str) -> Result<u64> {
    value
        .parse::<u64>()
        .map_err(|_| format!("{flag} {value}: not a number").into())
}

/// Runs a command, failing with its command line if it fails.
pub fn check(command: &mut Command) -> Result<()> {
    eprintln!("xtask: $ {command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})").into())
    }
}
