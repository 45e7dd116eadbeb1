//! The server's shape, checked from its source: the top-level modules form
//! a graph without cycles, and only the conversation service changes a
//! conversation or publishes what happened to one.
//!
//! `cargo test -p rapport-server --test architecture -- --nocapture`
//! prints the module graph as a list of edges.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its path relative to `src/`.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(src()).unwrap().display().to_string();
            files.push((relative, std::fs::read_to_string(&path).unwrap()));
        }
    }
    files.sort();
    files
}

/// The top-level module a file belongs to (`store/contacts.rs` → `store`);
/// `lib.rs` and `main.rs` are the crate root, not a module.
fn module_of(relative: &str) -> Option<String> {
    let first = relative.split('/').next()?;
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// Code without comments (doc comments name modules without using them).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `from → {to}`: which top-level modules each one names through `crate::`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = sources(&src());
    let modules: BTreeSet<String> = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in &files {
        let Some(from) = module_of(path) else {
            continue;
        };
        let code = code(text);
        let edges = graph.entry(from.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            // `crate::{a, b::c}` names several.
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end].split(',').collect()
            } else {
                vec![rest]
            };
            for name in names {
                let name: String = name
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if modules.contains(&name) && name != from {
                    edges.insert(name);
                }
            }
        }
    }
    graph
}

/// A cycle through the graph, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = module_graph();
    println!("module graph (from -> to):");
    for (from, to) in &graph {
        for to in to {
            println!("  {from} -> {to}");
        }
    }
    assert!(graph.contains_key("conversations") && graph.contains_key("dispatch"));
    assert_eq!(find_cycle(&graph), None, "the module graph has a cycle");
}

#[test]
fn the_graph_points_the_way_the_design_says() {
    let graph = module_graph();
    let depends = |from: &str, to: &str| graph.get(from).is_some_and(|t| t.contains(to));
    // The cluster is a transport: it knows neither the hub nor the dispatcher.
    for inner in ["hub", "dispatch", "conversations", "http", "store", "app"] {
        assert!(!depends("cluster", inner), "cluster -> {inner}");
    }
    // The store knows nothing above it; the hub knows no conversations.
    for above in ["hub", "dispatch", "conversations", "http", "app", "cluster"] {
        assert!(!depends("store", above), "store -> {above}");
    }
    for above in ["dispatch", "conversations", "http", "store", "app"] {
        assert!(!depends("hub", above), "hub -> {above}");
    }
    // The service does not reach up into the dispatcher or the sockets.
    for above in ["dispatch", "http", "app"] {
        assert!(!depends("conversations", above), "conversations -> {above}");
    }
    assert!(depends("dispatch", "conversations") && depends("http", "conversations"));
}

/// The store's methods that change a conversation.
const CHANGES: [&str; 12] = [
    ".append_batch(",
    ".delete_contact(",
    ".delete_site(",
    ".post_visitor_message(",
    ".post_agent_message(",
    ".post_agent_note(",
    ".close_conversation(",
    ".hand_over(",
    ".hand_over_to_team(",
    ".requeue(",
    ".identify_visitor(",
    ".assign(",
];

#[test]
fn only_the_conversation_service_changes_a_conversation() {
    let mut offenders = Vec::new();
    for (path, text) in sources(&src()) {
        if path.starts_with("conversations/") || path.starts_with("store/") {
            continue;
        }
        // Without whitespace, `self.state\n.store\n.requeue(` reads as one call.
        let code: String = code(&text).split_whitespace().collect();
        for change in CHANGES {
            if code.contains(&format!("store{change}")) {
                offenders.push(format!("{path} calls store{change}…)"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "conversation changes outside the service: {offenders:#?}"
    );
}

#[test]
fn only_the_service_publishes_what_happened_to_a_conversation() {
    let mut offenders = Vec::new();
    for (path, text) in sources(&src()) {
        if path.starts_with("conversations/") {
            continue;
        }
        let code = code(&text);
        let publishes = code.contains(".publish(") || code.contains(".publish_local(");
        let names_events = code.contains("Frame::Event") || code.contains("Frame::Conversation");
        if publishes && names_events {
            offenders.push(path);
        }
    }
    assert!(
        offenders.is_empty(),
        "files that publish conversation frames outside the service: {offenders:?}"
    );
}
