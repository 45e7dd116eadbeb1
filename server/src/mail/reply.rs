//! What a shopper actually wrote in an email reply: the text above the
//! quoted history and above their signature.
//!
//! Our own mail carries a marker line (`##- … -##`) above everything it
//! says, so the sure cut is there; for mail clients that drop or move it,
//! the usual quote headers ("On … wrote:", Outlook's "From:/Sent:" block,
//! "-----Original Message-----", in the languages Rapport speaks), quoted
//! `>` lines and signature lines are cut too.

/// The start of the marker line our mail puts above the quoted part.
pub const MARKER: &str = "##-";

/// The lines of `body` the shopper wrote for this reply.
pub fn fresh_text(body: &str) -> String {
    let body = body.replace("\r\n", "\n");
    let lines: Vec<&str> = body.lines().collect();
    let mut end = lines.len();
    for (index, line) in lines.iter().enumerate() {
        let next = lines.get(index + 1).copied().unwrap_or_default();
        if starts_history(line, next, &lines[index + 1..]) {
            end = index;
            break;
        }
    }
    let mut kept: Vec<&str> = lines[..end]
        .iter()
        .copied()
        .take_while(|line| !is_signature_start(line))
        .filter(|line| !line.trim_start().starts_with('>'))
        .collect();
    while kept.last().is_some_and(|line| line.trim().is_empty()) {
        kept.pop();
    }
    while kept.first().is_some_and(|line| line.trim().is_empty()) {
        kept.remove(0);
    }
    kept.iter()
        .map(|line| line.trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `line` (followed by `next`, then `rest`) begins the history
/// below a reply.
fn starts_history(line: &str, next: &str, rest: &[&str]) -> bool {
    let trimmed = line.trim();
    if trimmed.contains(MARKER) {
        return true;
    }
    let lower = trimmed.to_lowercase();
    let wrote = |text: &str| {
        let text = text.trim_end();
        (text.starts_with("on ") && text.ends_with("wrote:"))
            || (text.starts_with("op ")
                && (text.ends_with("schreef:") || text.contains(" schreef ")))
            || text.ends_with("написал:")
            || text.ends_with("написала:")
            || text.ends_with("написал(а):")
            || text.ends_with("লিখেছেন:")
    };
    // Gmail wraps a long "On …, Shop <reply+…> wrote:" over two lines.
    if wrote(&lower)
        || (lower.starts_with("on ") && wrote(&format!("{lower} {}", next.trim().to_lowercase())))
    {
        return true;
    }
    if lower.starts_with("-----original message-----")
        || lower.starts_with("-------- original message --------")
        || lower.starts_with("begin forwarded message")
        || lower.starts_with("---------- forwarded message")
        || lower.starts_with("-----oorspronkelijk bericht-----")
        || lower.starts_with("-----исходное сообщение-----")
    {
        return true;
    }
    // Outlook: a rule, or a "From:" line followed by "Sent:"/"To:" lines.
    let is_rule = trimmed.len() >= 10 && trimmed.chars().all(|c| c == '_');
    let header = |text: &str| {
        let text = text.trim_start_matches('*').to_lowercase();
        [
            "from:",
            "van:",
            "от:",
            "sent:",
            "verzonden:",
            "отправлено:",
            "to:",
            "aan:",
            "кому:",
        ]
        .iter()
        .any(|name| text.starts_with(name))
    };
    let from = {
        let text = trimmed.trim_start_matches('*').to_lowercase();
        text.starts_with("from:") || text.starts_with("van:") || text.starts_with("от:")
    };
    (is_rule || from)
        && rest.iter().take(4).filter(|l| header(l)).count() >= if is_rule { 1 } else { 2 }
}

/// Whether a signature starts at `line` ("-- " by convention, or a phone's
/// "Sent from my…").
fn is_signature_start(line: &str) -> bool {
    let trimmed = line.trim_end();
    if trimmed == "--" || trimmed == "-- " {
        return true;
    }
    let lower = trimmed.trim_start().to_lowercase();
    [
        "sent from my ",
        "get outlook for ",
        "verzonden vanaf mijn ",
        "verstuurd vanaf mijn ",
        "verzonden met ",
        "отправлено с ",
        "отправлено из ",
    ]
    .iter()
    .any(|start| lower.starts_with(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_was_written_above_our_marker() {
        let mail = "Yes, the blue one please.\r\n\r\n##- Reply above this line -##\r\nAda wrote: …";
        assert_eq!(fresh_text(mail), "Yes, the blue one please.");
    }

    #[test]
    fn cuts_the_usual_quote_headers_quotes_and_signatures() {
        let gmail = "Thanks!\n\nOn Mon, Dec 1, 2026 at 2:02 PM Shop <reply+abc@reply.shop.example>\nwrote:\n> Your order left\n";
        assert_eq!(fresh_text(gmail), "Thanks!");
        let apple = "Great\n\nSent from my iPhone\n\n> On 1 Dec 2026, at 14:02, Shop wrote:\n> hi";
        assert_eq!(fresh_text(apple), "Great");
        let outlook = "Works now.\n\n________________________________\nFrom: Shop <x@y>\nSent: Monday\nTo: me\nSubject: Re: hi\n\nold";
        assert_eq!(fresh_text(outlook), "Works now.");
        let dutch = "Dank je!\n\nOp ma 1 dec. 2026 om 14:02 schreef Winkel <x@y>:\n> oud";
        assert_eq!(fresh_text(dutch), "Dank je!");
        let russian = "Спасибо!\n\n1 дек. 2026 г., в 14:02, Магазин написал(а):\n> старое";
        assert_eq!(fresh_text(russian), "Спасибо!");
        let signed = "See you.\n-- \nGrace Hopper\nNavy";
        assert_eq!(fresh_text(signed), "See you.");
        let inline = "> quoted first\nmy answer\n> more quote";
        assert_eq!(fresh_text(inline), "my answer");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "From: my side, the order is fine.\nOn Monday I will call.\n- a list\n-- not a signature";
        assert_eq!(fresh_text(text), text);
    }
}
