//! The bodies of the fuzz targets in `fuzz/`: each takes any bytes, runs
//! the real code an attacker can reach, and checks what must hold. They
//! live here so that the fuzzers and a short run in the tests call the
//! same code; `seeds` gives each a starting corpus from the protocol's
//! examples. Built only for the tests and the fuzzers (`cfg(fuzzing)`).

use protocol::{AgentRequest, FrameSet, WidgetRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::contact_token::{self, MAX_TOKEN_LIFETIME_SECS};
use crate::http::socket::decode;

/// A fuzz target: any bytes in, no panic out.
pub type Target = fn(&[u8]);

/// Every target, by the name its fuzzer binary has.
pub const TARGETS: [(&str, Target); 4] = [
    ("widget_frame", widget_frame),
    ("agent_frame", agent_frame),
    ("identity_token", identity_token),
    ("cluster_reassembly", cluster_reassembly),
];

/// What a widget socket does with a text frame; a frame it takes reads
/// back as itself once written out again.
pub fn widget_frame(data: &[u8]) {
    frame::<WidgetRequest>(data);
}

/// What an inbox socket does with a text frame.
pub fn agent_frame(data: &[u8]) {
    frame::<AgentRequest>(data);
}

fn frame<T>(data: &[u8])
where
    T: FrameSet + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(request) = decode::<T>(text, T::TYPES) {
        let written = serde_json::to_string(&request).unwrap_or_default();
        let again = decode::<T>(&written, T::TYPES);
        assert!(
            again.as_ref() == Ok(&request),
            "{text:?} read as {request:?}, written as {written}, read back as {again:?}"
        );
    }
}

const SITE_KEY: &str = "site-a";
const SECRET: &str = "the shop's secret";
const NOW: i64 = 1_800_000_000;

/// The identity token verifier, twice: the bytes as a token (forged,
/// malformed, anything), and the bytes as the claims of a token signed
/// with the site's own secret (so what follows the signature check is
/// reached too). Whatever it accepts names a customer and expires in time.
pub fn identity_token(data: &[u8]) {
    let secrets = [SECRET.to_owned()];
    let text = String::from_utf8_lossy(data);
    let _ = contact_token::verify(&text, SITE_KEY, &secrets, NOW);
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let Ok(token) = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key) else {
        return;
    };
    if let Ok(accepted) = contact_token::verify(&token, SITE_KEY, &secrets, NOW) {
        assert!(!accepted.sub.trim().is_empty(), "{claims}");
        assert!(accepted.exp <= NOW + MAX_TOKEN_LIFETIME_SECS, "{claims}");
    }
}

/// The cluster's reassembly of notice parts, one payload per line. A line
/// starting with `!` is signed with the processes' key first (its fields
/// are the fuzzer's), so the bounds behind the signature are reached.
pub fn cluster_reassembly(data: &[u8]) {
    crate::cluster::fuzz_reassembly(&String::from_utf8_lossy(data));
}

/// Starting inputs for each target: every example of the protocol, good
/// and near-miss tokens, and notices split as a process splits them.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    for request in WidgetRequest::examples() {
        seeds.push(("widget_frame", json(&request)));
    }
    for request in AgentRequest::examples() {
        seeds.push(("agent_frame", json(&request)));
    }
    let claims = serde_json::json!({
        "sub": "cust-1", "aud": SITE_KEY, "exp": NOW + 600, "nbf": NOW - 60,
        "name": "Ada", "email": "ada@example.com", "attributes": {"tier": "gold"},
    });
    seeds.push(("identity_token", claims.to_string().into_bytes()));
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    if let Ok(token) = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key) {
        seeds.push(("identity_token", token.into_bytes()));
    }
    for notice in [r#"{"agent_changed":{"agent_id":"a1"}}"#, &"x".repeat(9000)] {
        seeds.push((
            "cluster_reassembly",
            crate::cluster::fuzz_seed(notice).into_bytes(),
        ));
    }
    seeds
}

fn json(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the seeds to `$RAPPORT_FUZZ_CORPUS/TARGET/seed-N`, for the
    /// fuzzers (`cargo xtask fuzz` runs this first).
    #[test]
    #[ignore = "a tool for `cargo xtask fuzz`, not a check"]
    fn write_seeds() {
        let Some(root) = std::env::var_os("RAPPORT_FUZZ_CORPUS") else {
            return;
        };
        let root = std::path::PathBuf::from(root);
        for (index, (target, seed)) in seeds().into_iter().enumerate() {
            let dir = root.join(target);
            std::fs::create_dir_all(&dir).expect("corpus directory");
            std::fs::write(dir.join(format!("seed-{index}")), seed).expect("seed written");
        }
    }

    /// Bytes that make JSON, tokens and notices interesting.
    const ALPHABET: &[u8] = b"{}[]\":,\\\x1f0-9azA.!\n";

    /// A short run: each seed, and mutations of it, through its target.
    /// The fuzzers (`cargo xtask fuzz`) run millions with coverage.
    #[test]
    fn a_short_fuzz_run_finds_no_panic() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seeds = seeds();
        for (name, target) in TARGETS {
            let mine: Vec<&Vec<u8>> = seeds
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, s)| s)
                .collect();
            assert!(!mine.is_empty(), "{name} has seeds");
            for seed in &mine {
                target(seed);
            }
            for _ in 0..3000 {
                let mut input = mine[(next() as usize) % mine.len()].clone();
                for _ in 0..=(next() % 4) {
                    let at = (next() as usize) % (input.len() + 1);
                    match next() % 3 {
                        0 if at < input.len() => input[at] = next() as u8,
                        1 => input.insert(at, ALPHABET[(next() as usize) % ALPHABET.len()]),
                        _ if at < input.len() => {
                            input.remove(at);
                        }
                        _ => {}
                    }
                }
                target(&input);
            }
        }
    }
}
