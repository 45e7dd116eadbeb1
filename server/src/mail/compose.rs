//! Building the mail a shopper gets: the replies they have not seen, or a
//! transcript they asked for. Plain text and simple HTML (everything the
//! shopper, agents or the site owner wrote is escaped), threaded with a
//! stable root `Message-ID` per conversation, with a one-click unsubscribe.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use super::MailError;
use super::texts::MailWords;

/// What a letter is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LetterKind {
    /// Agents' replies the shopper has not seen in the chat.
    Unseen,
    /// The whole conversation, asked for.
    Transcript,
}

/// One line of the conversation as the letter shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Who wrote it, as the shopper knows them ("You", the agent as the
    /// site shows agents), or empty for what happened ("The chat ended").
    pub who: String,
    /// When, on the shopper's clock.
    pub when: String,
    pub text: String,
}

/// Everything one letter says.
#[derive(Clone, Debug)]
pub struct Letter {
    pub kind: LetterKind,
    pub words: &'static MailWords,
    pub site_name: String,
    pub from: Mailbox,
    pub to: Mailbox,
    /// Where an email reply goes (`reply+TOKEN@…`), when inbound mail is set up.
    pub reply_to: Option<Mailbox>,
    /// This letter's `Message-ID`, `<…>`.
    pub message_id: String,
    /// The conversation's root `Message-ID`, `<…>`, the same in every letter.
    pub thread: String,
    /// The shopper's own last words before the replies (context), if any.
    pub earlier: Option<Line>,
    pub lines: Vec<Line>,
    pub continue_url: String,
    pub unsubscribe_url: String,
}

/// `{site}`, `{email}` filled in.
fn fill(text: &str, letter: &Letter) -> String {
    text.replace("{site}", &letter.site_name)
        .replace("{email}", letter.to.email.as_ref())
}

/// `at_ms` on the shopper's clock (`time_zone`, else UTC): "2026-12-01 14:02".
pub fn clock(at_ms: i64, time_zone: Option<&str>) -> String {
    let zone = time_zone
        .and_then(|name| TimeZone::get(name).ok())
        .unwrap_or(TimeZone::UTC);
    let Ok(at) = Timestamp::from_millisecond(at_ms) else {
        return String::new();
    };
    let local = at.to_zoned(zone.clone());
    let suffix = if zone == TimeZone::UTC { " UTC" } else { "" };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}{suffix}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// Text safe inside HTML.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn plain(letter: &Letter) -> String {
    let words = letter.words;
    let mut out = String::new();
    if letter.reply_to.is_some() {
        out.push_str(words.marker);
        out.push_str("\n\n");
    }
    let intro = match letter.kind {
        LetterKind::Unseen => words.intro,
        LetterKind::Transcript => words.transcript_intro,
    };
    out.push_str(&fill(intro, letter));
    out.push_str("\n\n");
    if let Some(earlier) = &letter.earlier {
        out.push_str(&format!(
            "{} ({})\n{}\n\n",
            words.you_wrote,
            earlier.when,
            quote(&earlier.text)
        ));
    }
    for line in &letter.lines {
        if line.who.is_empty() {
            out.push_str(&format!("— {} ({})\n\n", line.text, line.when));
        } else {
            out.push_str(&format!("{} ({}):\n{}\n\n", line.who, line.when, line.text));
        }
    }
    out.push_str(if letter.reply_to.is_some() {
        words.answer_by_email
    } else {
        words.no_reply
    });
    out.push('\n');
    out.push_str(&letter.continue_url);
    out.push_str("\n\n-- \n");
    out.push_str(&fill(words.unsubscribe, letter));
    out.push_str(":\n");
    out.push_str(&letter.unsubscribe_url);
    out.push('\n');
    out
}

fn quote(text: &str) -> String {
    text.lines()
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn html(letter: &Letter) -> String {
    let words = letter.words;
    let e = escape_html;
    let paragraph = |text: &str| e(text).replace('\n', "<br>");
    let mut out = String::from(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.4;color:#111\">",
    );
    if letter.reply_to.is_some() {
        out.push_str(&format!(
            "<p style=\"color:#888;font-size:12px\">{}</p>",
            e(words.marker)
        ));
    }
    let intro = match letter.kind {
        LetterKind::Unseen => words.intro,
        LetterKind::Transcript => words.transcript_intro,
    };
    out.push_str(&format!("<p>{}</p>", e(&fill(intro, letter))));
    if let Some(earlier) = &letter.earlier {
        out.push_str(&format!(
            "<p style=\"color:#555\">{} <small>({})</small></p><blockquote style=\"color:#555;border-left:3px solid #ddd;margin:0 0 1em;padding-left:8px\">{}</blockquote>",
            e(words.you_wrote),
            e(&earlier.when),
            paragraph(&earlier.text)
        ));
    }
    for line in &letter.lines {
        if line.who.is_empty() {
            out.push_str(&format!(
                "<p style=\"color:#888\">— {} <small>({})</small></p>",
                e(&line.text),
                e(&line.when)
            ));
        } else {
            out.push_str(&format!(
                "<p><strong>{}</strong> <small style=\"color:#888\">({})</small><br>{}</p>",
                e(&line.who),
                e(&line.when),
                paragraph(&line.text)
            ));
        }
    }
    let lead = if letter.reply_to.is_some() {
        words.answer_by_email
    } else {
        words.no_reply
    };
    out.push_str(&format!(
        "<p>{} <a href=\"{}\">{}</a></p>",
        e(lead),
        e(&letter.continue_url),
        e(words.continue_in_chat)
    ));
    out.push_str(&format!(
        "<p style=\"color:#888;font-size:12px\"><a href=\"{}\" style=\"color:#888\">{}</a></p></body></html>",
        e(&letter.unsubscribe_url),
        e(&fill(words.unsubscribe, letter))
    ));
    out
}

/// The letter as RFC 5322 bytes, ready to send and to send again.
pub fn compose(letter: &Letter) -> Result<Vec<u8>, MailError> {
    let subject = match letter.kind {
        LetterKind::Unseen => letter.words.subject,
        LetterKind::Transcript => letter.words.transcript_subject,
    };
    let mut builder = Message::builder()
        .from(letter.from.clone())
        .to(letter.to.clone())
        .subject(fill(subject, letter))
        .message_id(Some(letter.message_id.clone()))
        .date_now();
    if letter.kind == LetterKind::Unseen {
        builder = builder
            .in_reply_to(letter.thread.clone())
            .references(letter.thread.clone());
    }
    if let Some(reply_to) = &letter.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    let mut message = builder
        .multipart(MultiPart::alternative_plain_html(
            plain(letter),
            html(letter),
        ))
        .map_err(|e| MailError::Compose(e.to_string()))?;
    let headers = message.headers_mut();
    // Out-of-office responders stay quiet for this (RFC 3834), which keeps
    // loops away; people still answer it.
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-generated".to_owned(),
    ));
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("List-Unsubscribe"),
        format!("<{}>", letter.unsubscribe_url),
    ));
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click".to_owned(),
    ));
    Ok(message.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::texts::words;

    fn letter() -> Letter {
        Letter {
            kind: LetterKind::Unseen,
            words: words("en"),
            site_name: "Shop <&> Co".to_owned(),
            from: "Ada at Shop <rapport@shop.example>"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
            to: "grace@example.com"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
            reply_to: Some(
                "reply+abc@reply.shop.example"
                    .parse()
                    .unwrap_or_else(|_| unreachable!()),
            ),
            message_id: "<m1@shop.example>".to_owned(),
            thread: "<c1@shop.example>".to_owned(),
            earlier: Some(Line {
                who: "You".to_owned(),
                when: "2026-12-01 14:00".to_owned(),
                text: "Where is <b>order</b> 1042?".to_owned(),
            }),
            lines: vec![Line {
                who: "Ada".to_owned(),
                when: "2026-12-01 14:02".to_owned(),
                text: "It left today.\n<script>alert(1)</script>".to_owned(),
            }],
            continue_url: "https://shop.example/cart#rapport-continue=x".to_owned(),
            unsubscribe_url: "https://chat.example/mail/unsubscribe/y".to_owned(),
        }
    }

    #[test]
    fn a_letter_threads_escapes_and_offers_a_way_out() {
        let bytes = compose(&letter()).unwrap_or_default();
        let parsed = mail_parser::MessageParser::default()
            .parse(&bytes)
            .expect("parses");
        assert_eq!(parsed.in_reply_to().as_text(), Some("c1@shop.example"));
        assert_eq!(parsed.message_id(), Some("m1@shop.example"));
        let text = parsed.body_text(0).unwrap_or_default();
        assert!(text.starts_with("##-"), "{text}");
        assert!(text.contains("It left today."));
        assert!(text.contains("> Where is <b>order</b> 1042?"));
        let html = parsed.body_html(0).unwrap_or_default();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("Shop &lt;&amp;&gt; Co"));
        assert!(
            parsed
                .header_raw("List-Unsubscribe")
                .is_some_and(|v| v.contains("/mail/unsubscribe/y"))
        );
        assert_eq!(
            parsed.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated")
        );
    }

    #[test]
    fn times_are_told_on_the_shoppers_clock() {
        // 2026-12-01 13:02 UTC
        let at = 1_796_130_120_000;
        assert_eq!(clock(at, Some("Europe/Amsterdam")), "2026-12-01 14:02");
        assert_eq!(clock(at, None), "2026-12-01 13:02 UTC");
        assert_eq!(clock(at, Some("Not/AZone")), "2026-12-01 13:02 UTC");
    }
}
