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
pub const TARGETS: [(&str, Target); 10] = [
    ("widget_frame", widget_frame),
    ("agent_frame", agent_frame),
    ("identity_token", identity_token),
    ("cluster_reassembly", cluster_reassembly),
    ("outgoing_mail", outgoing_mail),
    ("inbound_mail", inbound_mail),
    ("uploaded_file", uploaded_file),
    ("search_query", search_query),
    ("report_query", report_query),
    ("help_article", help_article),
];

/// A letter built from anything people may have typed: a site's name, an
/// agent's name, a recipient's address and a message, split by NUL bytes.
/// It builds or is refused, never panics; once built, it reads back with
/// one sender, one recipient, one subject and no header anyone typed
/// (no `Bcc`, no second `To`), and the names as the service cleaned them.
pub fn outgoing_mail(data: &[u8]) {
    use crate::mail::compose::{self, Letter, LetterKind, Line};
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\0');
    let site_name = fields.next().unwrap_or_default();
    let agent_name = fields.next().unwrap_or_default();
    let recipient = fields.next().unwrap_or_default();
    let message = fields.next().unwrap_or_default();
    let Ok(to) = recipient.trim().parse::<lettre::Address>() else {
        return;
    };
    let Ok(from) = "rapport@chat.example".parse::<lettre::Address>() else {
        return;
    };
    let letter = Letter {
        kind: if message.len().is_multiple_of(2) {
            LetterKind::Unseen
        } else {
            LetterKind::Transcript
        },
        words: crate::mail::texts::words("en"),
        site_name: compose::header_text(site_name),
        from: compose::sender(site_name, Some(agent_name), from),
        to: lettre::message::Mailbox::new(None, to.clone()),
        reply_to: None,
        message_id: "<m@chat.example>".to_owned(),
        thread: "<t@chat.example>".to_owned(),
        earlier: None,
        lines: vec![Line {
            who: agent_name.to_owned(),
            when: "2026-12-01 10:00".to_owned(),
            text: message.to_owned(),
        }],
        continue_url: "https://shop.example/#rapport-continue=x".to_owned(),
        ask_rating: true,
        unsubscribe_url: "https://chat.example/mail/unsubscribe/y".to_owned(),
    };
    let Ok(bytes) = compose::compose(&letter) else {
        return;
    };
    let Some(parsed) = mail_parser::MessageParser::default().parse(&bytes) else {
        panic!("a letter we built does not parse");
    };
    let count = |name: &str| {
        parsed
            .headers()
            .iter()
            .filter(|h| h.name().eq_ignore_ascii_case(name))
            .count()
    };
    for (name, times) in [
        ("From", 1),
        ("To", 1),
        ("Subject", 1),
        ("Bcc", 0),
        ("Cc", 0),
    ] {
        assert_eq!(
            count(name),
            times,
            "{name} in {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let to_read = parsed
        .to()
        .and_then(|list| list.first())
        .and_then(|addr| addr.address())
        .map(str::to_lowercase);
    assert_eq!(to_read, Some(to.to_string().to_lowercase()));
    let from_name = parsed
        .from()
        .and_then(|list| list.first())
        .and_then(|addr| addr.name())
        .unwrap_or_default()
        .to_owned();
    assert!(
        !from_name.contains(['\r', '\n']),
        "a line break in the sender's name: {from_name:?}"
    );
}

/// An email that came in, read as the mail room reads it (MIME, the
/// shopper's words cut from the history): never a panic, never more text
/// than a chat message may hold.
pub fn inbound_mail(data: &[u8]) {
    if let Ok(mail) = crate::mail::parse::read(data, None) {
        assert!(mail.text.chars().count() <= protocol::MAX_BODY_CHARS);
    }
    let _ = crate::mail::reply::fresh_text(&String::from_utf8_lossy(data));
}

/// A file as the upload door takes it: a name, then NUL, then the bytes.
/// Its type comes from the bytes alone, and only one of the kept types;
/// its name is clean (no folders, no control characters, bounded, ending
/// as the type does); a picture stripped once strips to itself again (no
/// metadata is left to take) and never grows by more than the orientation
/// it keeps. The message's text around it splits into links and text that
/// put together are the text.
pub fn uploaded_file(data: &[u8]) {
    use crate::files::{sniff, strip};
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let name = String::from_utf8_lossy(&data[..split]);
    let bytes = data.get(split + 1..).unwrap_or_default();
    let joined: String = protocol::segments(&name)
        .iter()
        .map(|segment| match segment {
            protocol::Segment::Text(t) => *t,
            protocol::Segment::Link(l) => {
                assert!(l.to_ascii_lowercase().starts_with("http"), "{l:?}");
                *l
            }
        })
        .collect();
    assert_eq!(joined, name);
    let head = &bytes[..bytes.len().min(sniff::SNIFF_BYTES)];
    let Ok(sniffed) = sniff::sniff(head) else {
        return;
    };
    let clean = sniff::clean_name(&name, &sniffed);
    assert!(!clean.is_empty() && clean.chars().count() <= protocol::MAX_FILE_NAME_CHARS);
    assert!(
        !clean
            .chars()
            .any(|c| c.is_control() || matches!(c, '/' | '\\' | '"')),
        "{clean:?}"
    );
    let mut once = Vec::new();
    if strip::strip(
        sniffed.content_type,
        &mut std::io::Cursor::new(bytes),
        &mut once,
    )
    .is_ok()
    {
        assert!(
            once.len() <= bytes.len() + 34,
            "grew from {} to {}",
            bytes.len(),
            once.len()
        );
        let mut twice = Vec::new();
        if strip::strip(
            sniffed.content_type,
            &mut std::io::Cursor::new(&once),
            &mut twice,
        )
        .is_ok()
        {
            assert_eq!(once, twice, "stripping left something to strip");
        }
    }
}

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

/// A search box's text (before NUL) and a message (after it): the query
/// the engines get is made of tokens and their own operators only, whatever
/// was typed (no quote, no column filter, no `NEAR`, nothing to inject); the
/// marked words lie inside the message on character boundaries, in order.
pub fn search_query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (typed, message) = text.split_once('\0').unwrap_or((&text, ""));
    let Some(query) = crate::text_search::Query::parse(typed) else {
        return;
    };
    let fts = query.fts5();
    assert!(
        fts.chars()
            .all(|c| c.is_ascii_alphanumeric() || " ()".contains(c)),
        "{fts}"
    );
    let ts = query.tsquery();
    assert!(
        ts.chars()
            .all(|c| c.is_ascii_alphanumeric() || " ()|&".contains(c)),
        "{ts}"
    );
    let mut end = 0;
    for range in query.highlights(message) {
        assert!(range.start >= end && range.end > range.start, "{range:?}");
        assert!(message.get(range.clone()).is_some(), "{range:?}");
        end = range.end;
    }
    assert!(!crate::text_search::index_terms(message).contains(['"', '\'', '(', ':']));
    // The customer list's box takes the same text: its LIKE pattern holds
    // the typed text literally (every `%`, `_`, `\` escaped) and a cursor
    // is read back only in its own shape.
    let pattern = crate::store::contains_pattern(typed);
    let inner = &pattern[1..pattern.len() - 1];
    let mut unescaped = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => unescaped.push(chars.next().expect("an escape escapes something")),
            '%' | '_' => panic!("an unescaped wildcard in {pattern}"),
            other => unescaped.push(other),
        }
    }
    assert_eq!(unescaped, typed.trim().to_lowercase());
    if let Some((at, key)) = crate::store::parse_customer_cursor(typed) {
        let again = format!("{at}:{key}");
        assert_eq!(crate::store::parse_customer_cursor(&again), Some((at, key)));
    }
}

/// The reports' and the rating's doors: a period (`from\0to\0zone`) is
/// refused or bounded (start before end, at most a year and a day, which
/// daylight saving may lengthen by an hour); a rating's body is read or
/// refused, never a panic; and words a shopper typed come back out of the
/// CSV whole, never as a spreadsheet formula.
pub fn report_query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let (from, to, zone) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or("UTC"),
    );
    if let Ok(zone) = crate::reports::zone(zone)
        && let Ok((start, end)) = crate::reports::period(from, to, &zone)
    {
        assert!(start < end, "{from}..{to}");
        let most = (protocol::MAX_REPORT_DAYS + 1) * 24 * 3_600_000;
        assert!(end - start <= most, "{from}..{to}: {}", end - start);
    }
    let _ = serde_json::from_slice::<protocol::RatingGiven>(data);
    let comment = text.to_string();
    let report = protocol::Report {
        from: String::new(),
        to: String::new(),
        time_zone: "UTC".to_owned(),
        business_hours: false,
        started: 1,
        started_by_chat: 1,
        started_by_email: 0,
        first_response: protocol::Spread::default(),
        time_to_close: protocol::Spread::default(),
        unanswered: 0,
        waited: protocol::Spread::default(),
        closed_panel_waiting: protocol::Spread::default(),
        gave_up: protocol::GaveUp::default(),
        requeues: Vec::new(),
        ratings: protocol::RatingSummary::default(),
        hours: Vec::new(),
        promise: protocol::PromiseSummary::default(),
        help: protocol::ArticleStats::default(),
        rows: vec![protocol::ReportRow {
            conversation_id: "c1".to_owned(),
            site: comment.clone(),
            team: None,
            agent: None,
            channel: "chat".to_owned(),
            started_at_ms: 0,
            started_local: String::new(),
            weekday: 0,
            hour: 0,
            in_business_hours: true,
            reopens: 0,
            answered_openings: 0,
            closed_openings: 0,
            unanswered_openings: 0,
            first_response_ms: None,
            time_to_close_ms: None,
            waited_ms: None,
            gave_up_after_ms: None,
            answered_by_email: false,
            closed_panel_after_ms: None,
            requeues: Vec::new(),
            rating: Some(3),
            rating_comment: Some(comment.clone()),
            promised_wait_ms: None,
            waited_after_promise_ms: None,
        }],
    };
    let bytes = crate::reports::csv(&report).expect("a CSV");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().expect("a header").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    assert_eq!(rows.len(), 1);
    for name in ["site", "rating_comment"] {
        let cell = &rows[0][column(name)];
        let formula = |c: &str| c.starts_with(['=', '+', '-', '@', '\t', '\r']);
        assert!(!formula(cell), "{cell:?}");
        let kept = if formula(&comment) {
            format!("'{comment}")
        } else {
            comment.clone()
        };
        assert_eq!(cell, kept);
    }
}

/// An article's Markdown, a search and a query a shopper sent, split by
/// NUL bytes. The Markdown's HTML holds only allowed elements (no script,
/// style, frame, form or embed), no event handler or style attribute,
/// links only to http, https and mailto, images only from https, and is
/// what the cleaner would leave of it again. Ranking never panics, names
/// only the articles given, each once, best first.
pub fn help_article(data: &[u8]) {
    use crate::articles::{markdown, search};
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let (body, query, language) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or("en"),
    );
    let html = markdown::render(body);
    for (tag, attributes) in tags(&html) {
        assert!(
            !matches!(
                tag.as_str(),
                "script"
                    | "style"
                    | "iframe"
                    | "frame"
                    | "object"
                    | "embed"
                    | "form"
                    | "input"
                    | "button"
                    | "textarea"
                    | "select"
                    | "link"
                    | "meta"
                    | "base"
                    | "svg"
                    | "math"
            ),
            "<{tag}> in {html}"
        );
        for (name, value) in attributes {
            assert!(
                !name.starts_with("on") && name != "style",
                "{name} in {html}"
            );
            // As a browser reads a URL: tabs and newlines dropped, leading
            // controls and spaces trimmed.
            let value: String = value
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .collect::<String>()
                .trim_start_matches(|c: char| c <= ' ')
                .to_ascii_lowercase();
            if name == "href" {
                assert!(
                    ["http:", "https:", "mailto:"]
                        .iter()
                        .any(|s| value.starts_with(s)),
                    "href {value} in {html}"
                );
            }
            if name == "src" {
                assert!(value.starts_with("https://"), "src {value} in {html}");
            }
        }
    }
    assert_eq!(markdown::clean(&html), html, "cleaned again, it changed");
    let plain = markdown::plain_text(body);
    let texts: Vec<crate::store::PublishedText> = [body, plain.as_str(), query]
        .iter()
        .enumerate()
        .map(|(at, words)| crate::store::PublishedText {
            article_id: at.to_string(),
            collection: String::new(),
            title: words.chars().take(40).collect(),
            description: String::new(),
            title_terms: crate::text_search::index_terms(
                &words.chars().take(40).collect::<String>(),
            ),
            terms: crate::text_search::index_terms(words),
            updated_at: 0,
        })
        .collect();
    let ranked = search::rank(&texts, language, query);
    let mut seen = std::collections::HashSet::new();
    for pair in ranked.windows(2) {
        assert!(pair[0].1 >= pair[1].1, "best first: {ranked:?}");
    }
    for (at, score) in ranked {
        assert!(at < texts.len() && seen.insert(at) && score.is_finite() && score > 0.0);
    }
}

/// The start tags of HTML as a cleaner writes it (every `<` in text is
/// `&lt;`, every attribute value double-quoted): names and attributes,
/// lower-cased names, values with their entities left as they are.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if rest.starts_with('/') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find('>').expect("a tag ends");
        let inside = &rest[..end];
        let name_end = inside.find([' ', '/']).unwrap_or(inside.len());
        let name = inside[..name_end].to_ascii_lowercase();
        let mut attributes = Vec::new();
        let mut attrs = inside[name_end..].trim_start_matches('/');
        loop {
            attrs = attrs.trim_start_matches([' ', '/']);
            if attrs.is_empty() {
                break;
            }
            let eq = attrs.find(['=', ' ']).unwrap_or(attrs.len());
            let attribute = attrs[..eq].to_ascii_lowercase();
            attrs = &attrs[eq..];
            let value = if let Some(quoted) = attrs.strip_prefix("=\"") {
                let close = quoted.find('"').expect("a quoted value ends");
                attrs = &quoted[close + 1..];
                quoted[..close].to_owned()
            } else {
                String::new()
            };
            attributes.push((attribute, value));
        }
        found.push((name, attributes));
        rest = &rest[end..];
    }
    found
}

/// Starting inputs for each target: every example of the protocol, good
/// and near-miss tokens, and notices split as a process splits them.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    for query in [
        "2026-01-05\x002026-01-06\x00America/New_York",
        "2026-10-19\x002026-10-25\x00Europe/Amsterdam",
        "2025-01-01\x002025-12-31\x00Asia/Kathmandu",
        "{\"score\": 4, \"comment\": \"=HYPERLINK(1)\"}",
        "@SUM(A1)\0-1\0+1",
    ] {
        seeds.push(("report_query", query.as_bytes().to_vec()));
    }
    for article in [
        "# Returns\n\nSend **shoes** back.\0how do I return shoes\0en",
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\0script\0en",
        "[a](javascript:alert(1)) [b](JAVASCRIPT&colon;x) [c](data:text/html,x) ![i](http://x/y.png)\0retrun\0en",
        "| a | b |\n|---|---|\n| <iframe src=x> | ~~c~~ |\0таблица\0ru",
        "<a href=\"https://ok.example\" onclick=\"x()\" style=\"color:red\">ok</a>\0জুতা ফেরত\0bn",
    ] {
        seeds.push(("help_article", article.as_bytes().to_vec()));
    }
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
    for mail in [
        "Shop\0Ada Lovelace\0grace@example.com\0It left today.",
        "Shop\r\nBcc: victim@example.com\0Ada\nTo: x@evil.example\0grace@example.com\0hi",
        "Магазин «Ромашка»\0Ада\0grace@example.com\0Отправили сегодня.",
        "\u{202e}pohs\0\0a@b.c\0",
    ] {
        seeds.push(("outgoing_mail", mail.as_bytes().to_vec()));
    }
    for body in [
        include_str!("mail/fixtures/gmail.ru.txt"),
        include_str!("mail/fixtures/outlook.bn.txt"),
        include_str!("mail/fixtures/yandex.nl.txt"),
    ] {
        let mail = format!(
            "From: Grace <grace@example.com>\r\nTo: reply+abc@reply.shop.example\r\nSubject: Re: hi\r\n\
             Message-ID: <r1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
            body.replace('\n', "\r\n")
        );
        seeds.push(("inbound_mail", mail.into_bytes()));
    }
    let photo: &[u8] = include_bytes!("../tests/fixtures/gps-photo.jpg");
    for (name, bytes) in [
        ("IMG_0001.JPG", photo),
        (
            "see https://shop.example/a.(b).",
            b"\x89PNG\r\n\x1a\n\0\0\0\x04tEXtabcd1234\0\0\0\0IEND\xae\x42\x60\x82".as_slice(),
        ),
        (
            "../../x.html",
            b"<html><script>alert(1)</script>".as_slice(),
        ),
        ("notes.txt", "Order 1042 — café\n".as_bytes()),
    ] {
        seeds.push(("uploaded_file", [name.as_bytes(), b"\0", bytes].concat()));
    }
    for search in [
        "returning shoes\0I returned the shoes",
        "заказа\0Где мой заказ?",
        "অর্ডার\0আমার অর্ডার কোথায়?",
        "\"x\" OR NEAR(a b) col:y *\0x",
    ] {
        seeds.push(("search_query", search.as_bytes().to_vec()));
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
