//! The words of Rapport's mail to shoppers, in each language the widget
//! speaks. `{site}`, `{name}`, `{email}` and `{n}` are filled in.

/// One language's mail words.
#[derive(Debug)]
pub struct MailWords {
    pub code: &'static str,
    /// The marker line above everything (see `reply::MARKER`).
    pub marker: &'static str,
    /// Same subject for every mail of a conversation, so clients thread them.
    pub subject: &'static str,
    /// Above the replies: `{site}`.
    pub intro: &'static str,
    /// Above the shopper's own last message.
    pub you_wrote: &'static str,
    pub answer_by_email: &'static str,
    pub no_reply: &'static str,
    pub continue_in_chat: &'static str,
    /// Below a chat that ended unrated; the link opens the chat, which asks.
    pub rate_ask: &'static str,
    pub rate_link: &'static str,
    pub unsubscribe: &'static str,
    pub transcript_subject: &'static str,
    pub transcript_intro: &'static str,
    pub you: &'static str,
    pub agent_joined: &'static str,
    pub chat_ended: &'static str,
    /// The shopper's rating of the chat: `{n}` out of 5.
    pub rated: &'static str,
    /// The mail that asks a shopper to prove an address: `{site}`, `{email}`.
    pub confirm_subject: &'static str,
    pub confirm_intro: &'static str,
    pub confirm_button: &'static str,
    pub confirm_ignore: &'static str,
}

const EN: MailWords = MailWords {
    code: "en",
    marker: "##- Write your answer above this line to reply by email -##",
    subject: "Your conversation with {site}",
    intro: "You have a reply from {site} that you have not seen yet:",
    you_wrote: "You wrote:",
    answer_by_email: "Answer this email to reply, or continue in the chat:",
    no_reply: "Replies to this email are not read. Continue in the chat:",
    continue_in_chat: "Continue in the chat",
    rate_ask: "How was your chat? Tell us in the chat, with one click:",
    rate_link: "Rate this chat",
    unsubscribe: "Stop emails from {site} to {email}",
    transcript_subject: "Transcript of your conversation with {site}",
    transcript_intro: "Here is your conversation with {site}, as you asked:",
    you: "You",
    agent_joined: "{name} joined",
    chat_ended: "The chat ended",
    rated: "You rated this chat {n} out of 5",
    confirm_subject: "Confirm your email address for {site}",
    confirm_intro: "Someone (we hope you) asked {site} to email a chat transcript to {email}. To get it, confirm that this address is yours:",
    confirm_button: "Yes, send it to me",
    confirm_ignore: "If it was not you, ignore this email: nothing more will come.",
};

const NL: MailWords = MailWords {
    code: "nl",
    marker: "##- Schrijf je antwoord boven deze regel om per e-mail te reageren -##",
    subject: "Je gesprek met {site}",
    intro: "Je hebt een antwoord van {site} dat je nog niet hebt gezien:",
    you_wrote: "Je schreef:",
    answer_by_email: "Beantwoord deze e-mail om te reageren, of ga verder in de chat:",
    no_reply: "Antwoorden op deze e-mail worden niet gelezen. Ga verder in de chat:",
    continue_in_chat: "Verder in de chat",
    rate_ask: "Hoe was je chat? Laat het ons weten in de chat, met één klik:",
    rate_link: "Beoordeel deze chat",
    unsubscribe: "Geen e-mails meer van {site} naar {email}",
    transcript_subject: "Verslag van je gesprek met {site}",
    transcript_intro: "Hier is je gesprek met {site}, zoals je vroeg:",
    you: "Jij",
    agent_joined: "{name} doet mee",
    chat_ended: "De chat is beëindigd",
    rated: "Je gaf deze chat {n} van de 5",
    confirm_subject: "Bevestig je e-mailadres voor {site}",
    confirm_intro: "Iemand (hopelijk jij) vroeg {site} om een verslag van een chat naar {email} te mailen. Bevestig dat dit adres van jou is om het te krijgen:",
    confirm_button: "Ja, stuur het naar mij",
    confirm_ignore: "Was jij het niet? Negeer deze e-mail: er komt niets meer.",
};

const RU: MailWords = MailWords {
    code: "ru",
    marker: "##- Напишите ответ над этой строкой, чтобы ответить по почте -##",
    subject: "Ваш разговор с {site}",
    intro: "У вас есть ответ от {site}, который вы ещё не видели:",
    you_wrote: "Вы написали:",
    answer_by_email: "Ответьте на это письмо или продолжите в чате:",
    no_reply: "Ответы на это письмо не читаются. Продолжите в чате:",
    continue_in_chat: "Продолжить в чате",
    rate_ask: "Как прошёл чат? Расскажите нам в чате, одним щелчком:",
    rate_link: "Оценить этот чат",
    unsubscribe: "Больше не присылать письма от {site} на {email}",
    transcript_subject: "Запись вашего разговора с {site}",
    transcript_intro: "Вот ваш разговор с {site}, как вы просили:",
    you: "Вы",
    agent_joined: "{name} присоединился(-ась)",
    chat_ended: "Чат завершён",
    rated: "Вы оценили этот чат на {n} из 5",
    confirm_subject: "Подтвердите адрес почты для {site}",
    confirm_intro: "Кто-то (надеемся, вы) попросил {site} прислать запись чата на {email}. Чтобы её получить, подтвердите, что это ваш адрес:",
    confirm_button: "Да, пришлите мне",
    confirm_ignore: "Если это были не вы, просто не обращайте внимания на это письмо: больше ничего не придёт.",
};

const BN: MailWords = MailWords {
    code: "bn",
    marker: "##- ইমেলে উত্তর দিতে এই লাইনের উপরে লিখুন -##",
    subject: "{site}-এর সঙ্গে আপনার কথোপকথন",
    intro: "{site} থেকে একটি উত্তর এসেছে যা আপনি এখনও দেখেননি:",
    you_wrote: "আপনি লিখেছিলেন:",
    answer_by_email: "উত্তর দিতে এই ইমেলের জবাব দিন, অথবা চ্যাটে চালিয়ে যান:",
    no_reply: "এই ইমেলের জবাব পড়া হয় না। চ্যাটে চালিয়ে যান:",
    continue_in_chat: "চ্যাটে চালিয়ে যান",
    rate_ask: "চ্যাটটি কেমন ছিল? এক ক্লিকে চ্যাটে আমাদের জানান:",
    rate_link: "এই চ্যাটে রেটিং দিন",
    unsubscribe: "{site} থেকে {email}-এ আর ইমেল নয়",
    transcript_subject: "{site}-এর সঙ্গে আপনার কথোপকথনের প্রতিলিপি",
    transcript_intro: "আপনার অনুরোধ অনুযায়ী {site}-এর সঙ্গে আপনার কথোপকথন:",
    you: "আপনি",
    agent_joined: "{name} যোগ দিয়েছেন",
    chat_ended: "চ্যাট শেষ হয়েছে",
    rated: "আপনি এই চ্যাটকে ৫-এর মধ্যে {n} দিয়েছেন",
    confirm_subject: "{site}-এর জন্য আপনার ইমেল ঠিকানা নিশ্চিত করুন",
    confirm_intro: "কেউ (আশা করি আপনি) {site}-কে {email}-এ একটি চ্যাটের প্রতিলিপি পাঠাতে বলেছেন। তা পেতে নিশ্চিত করুন যে এই ঠিকানাটি আপনার:",
    confirm_button: "হ্যাঁ, আমাকে পাঠান",
    confirm_ignore: "আপনি না হলে এই ইমেলটি উপেক্ষা করুন: আর কিছু আসবে না।",
};

const LANGUAGES: [&MailWords; 4] = [&EN, &NL, &RU, &BN];

/// The words for a widget language code; English for any other.
pub fn words(code: &str) -> &'static MailWords {
    LANGUAGES
        .into_iter()
        .find(|words| words.code == code)
        .unwrap_or(&EN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::WIDGET_LANGUAGES;

    #[test]
    fn every_widget_language_has_its_mail_words_and_placeholders() {
        for code in WIDGET_LANGUAGES {
            let words = words(code);
            assert_eq!(words.code, code);
            assert!(
                words.marker.starts_with(super::super::reply::MARKER),
                "{code}"
            );
            assert!(words.subject.contains("{site}"), "{code}");
            assert!(words.intro.contains("{site}"), "{code}");
            assert!(words.unsubscribe.contains("{email}"), "{code}");
            assert!(words.agent_joined.contains("{name}"), "{code}");
            assert!(words.rated.contains("{n}"), "{code}");
            assert!(words.confirm_subject.contains("{site}"), "{code}");
            assert!(words.confirm_intro.contains("{email}"), "{code}");
        }
    }
}
