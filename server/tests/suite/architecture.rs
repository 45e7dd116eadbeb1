//! The server's shape, checked from its source: the top-level modules form
//! a graph without cycles, and only the conversation service changes a
//! conversation or publishes what happened to one, and only the visitors
//! service a visitor's rows.
//!
//! Who may write is the compiler's to enforce: the store's writes to
//! conversations are methods of `ConversationBook`, its writes to visitors'
//! rows of `VisitorBook`, and only the service that holds one can call
//! them. What is checked here is that the one place that makes them (the
//! wiring, `app.rs`) gives each to its service alone.
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
    for above in ["dispatch", "http", "app", "visitors"] {
        assert!(!depends("conversations", above), "conversations -> {above}");
    }
    assert!(depends("dispatch", "conversations") && depends("http", "conversations"));
    // The shopper's side sits beside the conversation service, under the
    // sockets: it uses the conversation service, never the other way.
    for above in ["http", "app"] {
        assert!(!depends("visitors", above), "visitors -> {above}");
    }
    for below in ["store", "dispatch", "hub", "cluster", "matcher"] {
        assert!(!depends(below, "visitors"), "{below} -> visitors");
    }
    assert!(depends("visitors", "conversations") && depends("http", "visitors"));
}

/// Where each store writer is made: (the call, the one file that may make it).
const WRITERS: [(&str, &str); 2] = [
    ("conversation_book()", "app.rs"),
    ("visitor_book()", "app.rs"),
];

#[test]
fn only_the_wiring_hands_out_the_store_s_writers() {
    let mut offenders = Vec::new();
    for (path, text) in sources(&src()) {
        if path.starts_with("store/") {
            continue;
        }
        let code = code(&text);
        for (call, maker) in WRITERS {
            if code.contains(&format!(".{call}")) && path != maker {
                offenders.push(format!("{path} makes {call}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "store writers made outside the wiring: {offenders:?}"
    );
    let wiring = code(&std::fs::read_to_string(src().join("app.rs")).unwrap());
    // Each is made once, for its service.
    assert_eq!(wiring.matches(".conversation_book()").count(), 1);
    assert_eq!(wiring.matches(".visitor_book()").count(), 1);
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
