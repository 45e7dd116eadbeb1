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

/// How a quote header ends, in the languages Rapport speaks, as mail
/// clients write them: Gmail and Apple Mail ("On … wrote:", "Op … schreef
/// …:", "Op … heeft … het volgende geschreven:", "… написал(а):",
/// "… লিখেছেন:"), Thunderbird ("… пишет:").
const WROTE_ENDINGS: [&str; 9] = [
    "wrote:",
    "schreef:",
    "het volgende geschreven:",
    "написал:",
    "написала:",
    "написал(а):",
    "пишет:",
    "লিখেছেন:",
    "লিখেছে:",
];

/// The names of Outlook's header block above a forwarded or quoted mail
/// (From, Sent, To, Subject, and their Dutch, Russian and Bengali names).
const OUTLOOK_FROM: [&str; 4] = ["from:", "van:", "от:", "প্রেরক:"];
const OUTLOOK_HEADERS: [&str; 16] = [
    "from:",
    "van:",
    "от:",
    "প্রেরক:",
    "sent:",
    "verzonden:",
    "отправлено:",
    "পাঠানো হয়েছে:",
    "to:",
    "aan:",
    "кому:",
    "প্রাপক:",
    "subject:",
    "onderwerp:",
    "тема:",
    "বিষয়:",
];

/// Separator lines clients put above a forwarded or quoted mail.
const SEPARATORS: [&str; 6] = [
    "-----original message-----",
    "-------- original message --------",
    "begin forwarded message",
    "---------- forwarded message",
    "-----oorspronkelijk bericht-----",
    "-----исходное сообщение-----",
];

/// Whether `line` ends like a quote header: one of [`WROTE_ENDINGS`], or
/// the sender's address and a colon ("…, Shop <reply+…@…>:"), as Gmail
/// writes it in Russian and Mail.ru and Yandex write it in every language,
/// on a line that also tells a time.
fn ends_like_quote_header(lower: &str) -> bool {
    let text = lower.trim_end();
    if WROTE_ENDINGS.iter().any(|ending| text.ends_with(ending)) {
        return true;
    }
    // Dutch puts the writer last: "Op 01-12-2026 om 10:00 schreef Winkel:".
    if text.starts_with("op ") && text.contains(" schreef ") && text.ends_with(':') {
        return true;
    }
    let addressed = text.strip_suffix(">:").is_some_and(|before| {
        before
            .rsplit_once('<')
            .is_some_and(|(_, address)| address.contains('@') && !address.contains(' '))
    });
    addressed && text.chars().any(|c| c.is_numeric()) && text.contains(':')
}

/// Whether `line` (followed by `next`, then `rest`) begins the history
/// below a reply.
fn starts_history(line: &str, next: &str, rest: &[&str]) -> bool {
    let trimmed = line.trim();
    if trimmed.contains(MARKER) {
        return true;
    }
    let lower = trimmed.to_lowercase();
    if trimmed.chars().count() <= 300 && ends_like_quote_header(&lower) {
        return true;
    }
    // Gmail wraps a long "On …, Shop <reply+…> wrote:" over two lines.
    let joined = format!("{lower} {}", next.trim().to_lowercase());
    if !lower.is_empty()
        && lower.chars().any(char::is_numeric)
        && joined.chars().count() <= 300
        && WROTE_ENDINGS
            .iter()
            .any(|ending| joined.trim_end().ends_with(ending))
    {
        return true;
    }
    if SEPARATORS
        .iter()
        .any(|separator| lower.starts_with(separator))
    {
        return true;
    }
    // Outlook: a rule, or a "From:" line followed by "Sent:"/"To:" lines.
    let is_rule = trimmed.chars().count() >= 10 && trimmed.chars().all(|c| c == '_');
    let header = |text: &str| {
        let text = text.trim_start_matches('*').to_lowercase();
        OUTLOOK_HEADERS.iter().any(|name| text.starts_with(name))
    };
    let from = {
        let text = trimmed.trim_start_matches('*').to_lowercase();
        OUTLOOK_FROM.iter().any(|name| text.starts_with(name))
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

    /// One reply body per mail client and language, as they quote our
    /// mail (`fixtures/CLIENT.LANGUAGE.txt`): only the shopper's words stay.
    #[test]
    fn every_common_client_s_history_is_cut_in_every_language() {
        let expected = |language: &str| match language {
            "en" => "Yes, the blue one please.",
            "nl" => "Ja, de blauwe graag.",
            "ru" => "Да, синюю, пожалуйста.",
            _ => "হ্যাঁ, নীলটা দিন।",
        };
        let fixtures = [
            ("gmail.en", include_str!("fixtures/gmail.en.txt")),
            ("gmail.nl", include_str!("fixtures/gmail.nl.txt")),
            ("gmail.ru", include_str!("fixtures/gmail.ru.txt")),
            ("gmail.bn", include_str!("fixtures/gmail.bn.txt")),
            ("outlook.en", include_str!("fixtures/outlook.en.txt")),
            ("outlook.nl", include_str!("fixtures/outlook.nl.txt")),
            ("outlook.ru", include_str!("fixtures/outlook.ru.txt")),
            ("outlook.bn", include_str!("fixtures/outlook.bn.txt")),
            ("apple.en", include_str!("fixtures/apple.en.txt")),
            ("apple.nl", include_str!("fixtures/apple.nl.txt")),
            ("apple.ru", include_str!("fixtures/apple.ru.txt")),
            ("apple.bn", include_str!("fixtures/apple.bn.txt")),
            (
                "thunderbird.en",
                include_str!("fixtures/thunderbird.en.txt"),
            ),
            (
                "thunderbird.nl",
                include_str!("fixtures/thunderbird.nl.txt"),
            ),
            (
                "thunderbird.ru",
                include_str!("fixtures/thunderbird.ru.txt"),
            ),
            (
                "thunderbird.bn",
                include_str!("fixtures/thunderbird.bn.txt"),
            ),
            ("mailru.ru", include_str!("fixtures/mailru.ru.txt")),
            ("mailru.en", include_str!("fixtures/mailru.en.txt")),
            ("yandex.ru", include_str!("fixtures/yandex.ru.txt")),
            ("yandex.nl", include_str!("fixtures/yandex.nl.txt")),
            ("yandex.bn", include_str!("fixtures/yandex.bn.txt")),
        ];
        for (name, body) in fixtures {
            let language = name.rsplit('.').next().unwrap_or_default();
            assert_eq!(fresh_text(body), expected(language), "{name}");
            // The same with the CRLF line ends mail travels with.
            assert_eq!(
                fresh_text(&body.replace('\n', "\r\n")),
                expected(language),
                "{name}, CRLF"
            );
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "From: my side, the order is fine.\nOn Monday I will call.\n- a list\n-- not a signature";
        assert_eq!(fresh_text(text), text);
        let addresses = "Send it to Grace <grace@example.com>:\nthe address in the order is old.";
        assert_eq!(
            fresh_text(addresses),
            addresses,
            "no time on the line: not a header"
        );
        let russian = "Я пишет: как дела?\nНормально.";
        assert_eq!(fresh_text(russian), russian);
    }
}
