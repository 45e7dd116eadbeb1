//! Installs what a fresh machine lacks: the wasm target, npm packages
//! (wasm-opt, Playwright) and Debian's Chromium. Each step is skipped when
//! its result is already there.

use std::path::PathBuf;
use std::process::Command;

use crate::{Result, check, root};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
pub const CHROMIUM: &str = "/usr/bin/chromium";

pub fn wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(WASM_TARGET))
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    check(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// The npm packages of `end2end/` (binaryen's wasm-opt and Playwright).
pub fn npm_packages() -> Result<()> {
    let dir = root().join("end2end");
    if dir.join("node_modules/.package-lock.json").exists()
        && wasm_opt().exists()
        && terser().exists()
    {
        return Ok(());
    }
    // Playwright must never download its own browsers here; we use Debian's.
    check(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .current_dir(dir),
    )
}

pub fn terser() -> PathBuf {
    root().join("end2end/node_modules/.bin/terser")
}

pub fn wasm_opt() -> PathBuf {
    root().join("end2end/node_modules/.bin/wasm-opt")
}

/// Debian packages the browser tests need: Chromium, and a Bengali font so
/// that the Bengali widget's screenshot shows letters, not boxes.
const BROWSER_PACKAGES: [&str; 2] = ["chromium", "fonts-lohit-beng-bengali"];

pub fn chromium() -> Result<()> {
    let missing: Vec<&str> = BROWSER_PACKAGES
        .into_iter()
        .filter(|package| !installed(package))
        .collect();
    if missing.is_empty() && std::path::Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    check(Command::new("apt-get").args(["update", "-q"]))?;
    check(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(BROWSER_PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
}

/// The S3-compatible server the bucket store is tested against: moto's
/// server mode, from PyPI, in a virtual environment of its own under
/// `target/` (pinned, so every machine tests against the same one).
const MOTO: &str = "moto[server]==5.2.1";

/// A running S3-compatible server; stopped when dropped.
pub struct S3Server {
    child: std::process::Child,
    pub url: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Installs (once) and starts moto's S3 server on a free loopback port.
pub fn s3_server() -> Result<S3Server> {
    let venv = root().join("target/s3-server");
    let server = venv.join("bin/moto_server");
    if !server.exists() {
        check(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
        check(Command::new(venv.join("bin/pip")).args([
            "install",
            "-q",
            "--disable-pip-version-check",
            MOTO,
        ]))?;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let running = S3Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            return Err("the S3 test server did not start within 30 s".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    eprintln!("xtask: S3 test server (moto) at {}", running.url);
    Ok(running)
}
