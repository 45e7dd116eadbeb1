//! Every command the docs show is one a test runs: the `cargo xtask` ones
//! are read by xtask's own parsers here (and `cargo xtask test` runs
//! `test`, `dist`, `bench --smoke` and `chaos --smoke` itself; the README's
//! browser test runs the server as `cargo xtask run` does); the `rapport`
//! ones run for real in the server's suite (`docs_commands.rs`).

use std::fs;

use crate::{Result, bench, chaos, fuzz, root};

/// The shell commands in the project's Markdown (```sh blocks), without
/// their comments, with the file each is in.
pub fn commands() -> Result<Vec<(String, String)>> {
    let mut files = vec![root().join("README.md"), root().join("BENCHMARKS.md")];
    for entry in fs::read_dir(root().join("docs"))? {
        files.push(entry?.path());
    }
    let mut found = Vec::new();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "md"))
    {
        let mut in_shell = false;
        for line in fs::read_to_string(file)?.lines() {
            if line.starts_with("```") {
                in_shell = matches!(line.trim(), "```sh" | "```bash");
                continue;
            }
            let command = line.split(" #").next().unwrap_or_default().trim();
            if in_shell && !command.is_empty() && !command.starts_with('#') {
                found.push((file.display().to_string(), command.to_owned()));
            }
        }
    }
    Ok(found)
}

/// Checks one `cargo xtask …` command with the parser that would run it.
fn check_xtask(command: &str) -> Result<()> {
    let words: Vec<String> = command
        .split_whitespace()
        .skip(2)
        .map(str::to_owned)
        .collect();
    let (sub, args) = words.split_first().ok_or("no subcommand")?;
    match sub.as_str() {
        "bench" => bench::parse(args).map(|_| ()),
        "chaos" => chaos::parse(args).map(|_| ()),
        "fuzz" => fuzz::parse(args).map(|_| ()),
        // Its flags go to the server, as `rapport` takes them.
        "run" => Ok(()),
        "test" | "dist" if args.is_empty() => Ok(()),
        // Its flags go to the bench_assign example, which reads them.
        "bench-assign" => Ok(()),
        _ => Err(format!("no xtask command {sub} {args:?}").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_the_docs_show_is_one_a_test_runs() {
        let commands = commands().expect("the docs are readable");
        assert!(commands.len() > 20, "{commands:?}");
        let mut problems = Vec::new();
        for (file, command) in &commands {
            let outcome = if command.starts_with("cargo xtask ") {
                check_xtask(command)
            } else if command.starts_with("rapport ")
                || command.starts_with("cargo run -p rapport-server --bin rapport -- ")
            {
                // Run for real by the server's suite (docs_commands.rs).
                Ok(())
            } else if let Some(filter) =
                command.strip_prefix("cargo test -p rapport-server --test suite ")
            {
                // The suite's modules are files; the filter names one.
                let module = filter.split_whitespace().next().unwrap_or_default();
                root()
                    .join(format!("server/tests/suite/{module}.rs"))
                    .exists()
                    .then_some(())
                    .ok_or_else(|| format!("no suite module {module}").into())
            } else {
                Err("no test runs this command".into())
            };
            if let Err(err) = outcome {
                problems.push(format!("{file}: `{command}`: {err}"));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn a_command_with_a_flag_xtask_does_not_know_is_caught() {
        assert!(check_xtask("cargo xtask bench --shoppers 10").is_ok());
        assert!(check_xtask("cargo xtask bench --shopers 10").is_err());
        assert!(check_xtask("cargo xtask fuzz --runs 100 no_such_target").is_err());
        assert!(check_xtask("cargo xtask deploy").is_err());
    }
}
