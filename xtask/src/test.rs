//! `cargo xtask test`: everything CI checks, in order, installing what a
//! fresh machine lacks first.

use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::setup::{self, WASM_TARGET};
use crate::{Result, bench, cargo, chaos, check, dist, root};

/// Where CI's machine (and a developer's) has PostgreSQL.
const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn all() -> Result<()> {
    setup::wasm_target()?;
    setup::npm_packages()?;
    setup::chromium()?;

    check(cargo().args(["fmt", "--all", "--check"]))?;
    check(cargo().args([
        "clippy",
        "-p",
        "rapport-protocol",
        "-p",
        "rapport-server",
        "-p",
        "rapport-bench",
        "-p",
        "xtask",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    check(cargo().args([
        "clippy",
        "--target",
        WASM_TARGET,
        "-p",
        "rapport-client",
        "-p",
        "rapport-widget",
        "-p",
        "rapport-app",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;

    let mut tests = cargo();
    tests.args([
        "test",
        "-p",
        "rapport-protocol",
        "-p",
        "rapport-server",
        "-p",
        "rapport-widget",
        "-p",
        "rapport-app",
        "-p",
        "rapport-bench",
        "-p",
        "xtask",
    ]);
    match std::env::var("RAPPORT_TEST_POSTGRES_URL") {
        Ok(url) => eprintln!("xtask: PostgreSQL tests use {url}"),
        Err(_) if postgres_is_listening() => {
            eprintln!(
                "xtask: PostgreSQL found on 127.0.0.1:5432; its tests run against {LOCAL_POSTGRES}"
            );
            tests.env("RAPPORT_TEST_POSTGRES_URL", LOCAL_POSTGRES);
        }
        Err(_) if std::env::var_os("CI").is_some() => {
            return Err("CI: no PostgreSQL on 127.0.0.1:5432 and RAPPORT_TEST_POSTGRES_URL unset; every integration test must run on PostgreSQL too".into());
        }
        Err(_) => eprintln!(
            "xtask: WARNING no PostgreSQL on 127.0.0.1:5432 and RAPPORT_TEST_POSTGRES_URL unset: PostgreSQL tests will be SKIPPED"
        ),
    }
    // The bucket file store is tested against a real S3-compatible server.
    let s3 = setup::s3_server()?;
    tests.env("RAPPORT_TEST_S3_URL", &s3.url);
    // The integration tests are one binary (`server/tests/suite`) whose
    // tests wait on sockets and timers far more than on the CPU: more of
    // them side by side than there are cores.
    tests.args(["--", "--test-threads", "8"]);
    check(&mut tests)?;
    drop(s3);

    dist::build()?;
    // The README's bench command, in seconds: it cannot break unseen. It
    // builds the server binary the browser tests run, too (one build of
    // the server and bench binaries serves both).
    bench::run(&["--smoke".to_owned()])?;
    // A few kill -9s under load: what was acknowledged survives them.
    chaos::run(&["--smoke".to_owned()])?;
    end_to_end()
}

fn postgres_is_listening() -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], 5432).into(), Duration::from_secs(1)).is_ok()
}

/// Playwright in Debian's Chromium against a real server on a fresh SQLite file.
fn end_to_end() -> Result<()> {
    let state = root().join("end2end/.state");
    if state.exists() {
        std::fs::remove_dir_all(&state)?;
    }
    std::fs::create_dir_all(&state)?;
    let binary = root().join("target/debug/rapport");
    check(
        Command::new("npx")
            .args(["playwright", "test"])
            .current_dir(root().join("end2end"))
            .env("RAPPORT_BIN", &binary)
            .env("RAPPORT_E2E_STATE", &state)
            .env("RAPPORT_ASSETS_DIR", root().join("dist"))
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )?;
    if !Path::new(&binary).exists() {
        return Err("the server binary was not built".into());
    }
    Ok(())
}
