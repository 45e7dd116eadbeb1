//! Every `rapport` command the README and docs/ show, run as written (its
//! placeholders filled) against the real binary, each on a fresh SQLite
//! database holding what the docs assume exists: the first run's owner,
//! Ada and Bob where it names them, a site, the Billing team. xtask's own test checks the
//! `cargo xtask` commands with the parsers that run them.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::PASSWORD;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `rapport` commands shown in ```sh blocks, as argument lists.
fn documented_commands() -> Vec<(String, Vec<String>)> {
    let mut files = vec![workspace().join("README.md")];
    for entry in std::fs::read_dir(workspace().join("docs")).unwrap() {
        files.push(entry.unwrap().path());
    }
    let mut found = Vec::new();
    for file in files {
        let mut in_shell = false;
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            if line.starts_with("```") {
                in_shell = matches!(line.trim(), "```sh" | "```bash");
                continue;
            }
            let command = line.split(" #").next().unwrap_or_default().trim();
            let args = command
                .strip_prefix("rapport ")
                .or_else(|| command.strip_prefix("cargo run -p rapport-server --bin rapport -- "));
            if let (true, Some(args)) = (in_shell, args) {
                found.push((command.to_owned(), words(args)));
            }
        }
    }
    found
}

/// Splits a command line as the shell would, for the quoting the docs use.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let (mut word, mut quoted, mut started) = (String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => (quoted, started) = (!quoted, true),
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            c => (word.push(c), started = true).1,
        }
    }
    if started {
        words.push(word);
    }
    words
}

fn rapport(database: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(args)
        .env("RAPPORT_DATABASE_URL", database)
        .env("RAPPORT_NEW_PASSWORD", PASSWORD)
        .env("RAPPORT_LOG", "warn")
        .output()
        .unwrap()
}

fn ok(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A database with what the docs take for granted; returns the site's key.
fn seeded(database: &str, command: &[String]) -> String {
    let people = [
        ("owner@example.com", "Owner"),
        ("ada@shop.example", "Ada"),
        ("bob@shop.example", "Bob"),
    ];
    // The address a command creates, or moves someone to, is left free.
    let after = |flag: &str| {
        command
            .windows(2)
            .find(|pair| pair[0] == flag)
            .map(|pair| pair[1].as_str())
    };
    let created = match command[0].as_str() {
        "add-user" => after("--email"),
        _ => after("--new-email"),
    };
    for (email, name) in people {
        // The account's first owner always; the others where the command
        // names them (each is an Argon2 hash at the real cost).
        let first = email == "owner@example.com";
        if created == Some(email) || !(first || command.iter().any(|w| w == email)) {
            continue;
        }
        let role = if name == "Bob" { "agent" } else { "owner" };
        ok(
            rapport(
                database,
                &["add-user", "--email", email, "--name", name, "--role", role],
            ),
            "seeding a person",
        );
    }
    if command[0] != "add-team" {
        ok(
            rapport(database, &["add-team", "--name", "Billing"]),
            "seeding a team",
        );
    }
    let site = ok(
        rapport(
            database,
            &[
                "add-site",
                "--name",
                "Shop",
                "--origin",
                "https://shop.example",
            ],
        ),
        "seeding a site",
    );
    let site: serde_json::Value = serde_json::from_str(&site).unwrap();
    site["site_key"].as_str().unwrap().to_owned()
}

#[test]
fn every_rapport_command_the_docs_show_runs_as_written() {
    let commands = documented_commands();
    let subcommands: std::collections::BTreeSet<&str> =
        commands.iter().map(|(_, args)| args[0].as_str()).collect();
    for expected in [
        "add-user",
        "update-user",
        "set-password",
        "add-site",
        "add-team",
        "add-topic",
        "site-secret",
    ] {
        assert!(
            subcommands.contains(expected),
            "the docs show {expected}: {subcommands:?}"
        );
    }
    for (line, args) in &commands {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}/rapport.db", dir.path().display());
        let site_key = seeded(&database, args);
        let args: Vec<String> = args
            .iter()
            .map(|w| w.replace("SITE_KEY", &site_key))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(rapport(&database, &args), line);
    }
}
