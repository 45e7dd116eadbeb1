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
