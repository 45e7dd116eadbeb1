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
    /// The chat ended unrated: the letter asks how it was, by the same link.
    pub ask_rating: bool,
    pub unsubscribe_url: String,
}

/// Longest display name or subject part taken from what people wrote.
const MAX_HEADER_TEXT_CHARS: usize = 78;

/// Words people wrote (a site's or an agent's name) made fit for a mail
/// header: one line (control characters, line and paragraph separators and
/// direction overrides become spaces), spaces collapsed, at most
/// [`MAX_HEADER_TEXT_CHARS`]. The mail library then encodes what is left;
/// nothing anyone types can start a header of its own.
pub fn header_text(raw: &str) -> String {
    let one_line: String = raw
        .chars()
        .map(|c| {
            if crate::domain::is_unwritable(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let mut text = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > MAX_HEADER_TEXT_CHARS {
        text = text
            .chars()
            .take(MAX_HEADER_TEXT_CHARS - 1)
            .collect::<String>()
            + "…";
    }
    text
}

/// The sender of a site's mail: the site's name (and an agent's, as the
/// site shows agents) at Rapport's `address`. Names people chose go into
/// the header only as one clean line ([`header_text`]), and only through
/// the mail library's own types, which encode them.
pub fn sender(site_name: &str, agent: Option<&str>, address: lettre::Address) -> Mailbox {
    let site_name = header_text(site_name);
    let name = match agent.map(header_text) {
        Some(agent) if !agent.is_empty() && agent != site_name => format!("{agent} ({site_name})"),
        _ => site_name,
    };
    Mailbox::new(Some(name).filter(|name| !name.is_empty()), address)
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
    if letter.ask_rating {
        out.push_str("\n\n");
        out.push_str(words.rate_ask);
        out.push('\n');
        out.push_str(&letter.continue_url);
    }
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
    if letter.ask_rating {
        out.push_str(&format!(
            "<p>{} <a href=\"{}\">{}</a></p>",
            e(words.rate_ask),
            e(&letter.continue_url),
            e(words.rate_link)
        ));
    }
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
        .subject(header_text(&fill(subject, letter)))
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
    automatic_headers(&mut message, &letter.unsubscribe_url);
    Ok(message.formatted())
}

/// The mail that asks a shopper to prove an address before a transcript
/// goes to it: nothing the shopper wrote is in it.
#[derive(Clone, Debug)]
pub struct ConfirmLetter {
    pub words: &'static MailWords,
    pub site_name: String,
    pub from: Mailbox,
    pub to: Mailbox,
    pub message_id: String,
    pub confirm_url: String,
    pub unsubscribe_url: String,
}

/// The confirmation mail as RFC 5322 bytes.
pub fn compose_confirmation(letter: &ConfirmLetter) -> Result<Vec<u8>, MailError> {
    let words = letter.words;
    let fill = |text: &str| {
        text.replace("{site}", &letter.site_name)
            .replace("{email}", letter.to.email.as_ref())
    };
    let plain = format!(
        "{}\n\n{}\n{}\n\n{}\n\n-- \n{}:\n{}\n",
        fill(words.confirm_intro),
        words.confirm_button,
        letter.confirm_url,
        words.confirm_ignore,
        fill(words.unsubscribe),
        letter.unsubscribe_url
    );
    let e = escape_html;
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.4;color:#111\">\
         <p>{}</p><p><a href=\"{}\">{}</a></p><p style=\"color:#555\">{}</p>\
         <p style=\"color:#888;font-size:12px\"><a href=\"{}\" style=\"color:#888\">{}</a></p></body></html>",
        e(&fill(words.confirm_intro)),
        e(&letter.confirm_url),
        e(words.confirm_button),
        e(words.confirm_ignore),
        e(&letter.unsubscribe_url),
        e(&fill(words.unsubscribe)),
    );
    let mut message = Message::builder()
        .from(letter.from.clone())
        .to(letter.to.clone())
        .subject(header_text(&fill(words.confirm_subject)))
        .message_id(Some(letter.message_id.clone()))
        .date_now()
        .multipart(MultiPart::alternative_plain_html(plain, html))
        .map_err(|e| MailError::Compose(e.to_string()))?;
    automatic_headers(&mut message, &letter.unsubscribe_url);
    Ok(message.formatted())
}

/// What every mail of ours says about itself: sent by a program (so
/// out-of-office responders stay quiet, RFC 3834, which keeps loops away;
/// people still answer it), and how to stop it in one click (RFC 8058).
fn automatic_headers(message: &mut Message, unsubscribe_url: &str) {
    let headers = message.headers_mut();
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-generated".to_owned(),
    ));
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("List-Unsubscribe"),
        format!("<{unsubscribe_url}>"),
    ));
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click".to_owned(),
    ));
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
            ask_rating: false,
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
