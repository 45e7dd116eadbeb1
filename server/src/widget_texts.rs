//! The widget's words in each language it speaks. They live on the server
//! and travel in the widget's config, so the widget carries no language of
//! its own and a site owner's choice applies on the next page load.

use protocol::{SiteSettings, WidgetText};

/// A language's interface strings (in [`WidgetText`] order) and the
/// defaults for what a site owner may word themselves.
pub struct Language {
    pub code: &'static str,
    pub texts: [&'static str; WidgetText::COUNT],
    pub launcher: &'static str,
    pub greeting: &'static str,
    pub greeting_known: &'static str,
    pub away: &'static str,
    /// Monday first, for "we are back Monday 09:00".
    pub weekdays: [&'static str; 7],
}

const EN: Language = Language {
    code: "en",
    texts: [
        "Chat",
        "Online",
        "Connecting…",
        "Close chat",
        "What is it about?",
        "Waiting for an agent… you will be connected as soon as one is free.",
        "No agent is online right now. Leave your message here and we will answer as soon as someone is back.",
        "You are number {n} in line, about {m} min.",
        "You are number {n} in line. We cannot estimate the wait yet.",
        "Message",
        "Type your message…",
        "Send",
        "{name} joined the chat",
        "This chat has ended",
        "We are back {time}.",
        "Your email, so we can answer",
        "Leave a message",
        "Thank you! We will answer by email as soon as we are back.",
        "Leave your email and we will answer you there if you have to go.",
        "Save",
        "Thanks! If you are not here, we will answer at {email}.",
        "Email me this conversation",
        "On its way to {email}.",
        "by email",
        "{name} is typing…",
        "Seen",
        "Retry",
        "Today",
        "Yesterday",
        "New message",
        "That was quick: please wait a moment, then try again.",
        "Earlier messages",
        "Nobody is online right now",
        "Start a new conversation",
        "Check {email}: confirm the address there, and the transcript follows.",
        "You rated this chat {n} out of 5",
        "Attach a file",
        "Uploading…",
        "Could not send this file.",
        "Remove",
        "How was your chat?",
        "Very bad",
        "Bad",
        "OK",
        "Good",
        "Very good",
        "Anything to add? (optional)",
        "Send rating",
        "Thank you for your rating!",
        "Help",
        "Search help articles",
        "No articles found.",
        "This might help",
        "This answered my question",
        "Talk to a person",
        "Back",
        "Glad it helped!",
    ],
    launcher: "Chat",
    greeting: "Hi! Ask us anything. We usually answer within minutes.",
    greeting_known: "Hi {first_name}! How can we help?",
    away: "We are away right now. Leave a message and we will answer by email.",
    weekdays: [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
};

const NL: Language = Language {
    code: "nl",
    texts: [
        "Chat",
        "Online",
        "Verbinden…",
        "Chat sluiten",
        "Waar gaat het over?",
        "Wachten op een medewerker… je wordt verbonden zodra er iemand vrij is.",
        "Er is nu geen medewerker online. Laat hier je bericht achter, dan antwoorden we zodra er iemand terug is.",
        "Je bent nummer {n} in de rij, ongeveer {m} min.",
        "Je bent nummer {n} in de rij. We kunnen de wachttijd nog niet inschatten.",
        "Bericht",
        "Typ je bericht…",
        "Versturen",
        "{name} doet mee aan de chat",
        "Deze chat is beëindigd",
        "We zijn terug {time}.",
        "Je e-mailadres, zodat we kunnen antwoorden",
        "Laat een bericht achter",
        "Bedankt! We antwoorden per e-mail zodra we terug zijn.",
        "Laat je e-mailadres achter, dan antwoorden we daar als je weg moet.",
        "Bewaren",
        "Bedankt! Als je er niet bent, antwoorden we op {email}.",
        "Mail me dit gesprek",
        "Onderweg naar {email}.",
        "per e-mail",
        "{name} typt…",
        "Gelezen",
        "Opnieuw",
        "Vandaag",
        "Gisteren",
        "Nieuw bericht",
        "Dat ging snel: wacht even en probeer het dan opnieuw.",
        "Eerdere berichten",
        "Er is nu niemand online",
        "Begin een nieuw gesprek",
        "Kijk in {email}: bevestig daar het adres, dan volgt het verslag.",
        "Je gaf deze chat {n} van de 5",
        "Bestand toevoegen",
        "Uploaden…",
        "Dit bestand kon niet worden verstuurd.",
        "Verwijderen",
        "Hoe was je chat?",
        "Heel slecht",
        "Slecht",
        "Gaat wel",
        "Goed",
        "Heel goed",
        "Nog iets te zeggen? (niet verplicht)",
        "Beoordeling versturen",
        "Bedankt voor je beoordeling!",
        "Hulp",
        "Zoek in de hulpartikelen",
        "Geen artikelen gevonden.",
        "Dit kan helpen",
        "Dit beantwoordde mijn vraag",
        "Met een medewerker praten",
        "Terug",
        "Fijn dat het hielp!",
    ],
    launcher: "Chat",
    greeting: "Hallo! Vraag ons wat je wilt. Meestal antwoorden we binnen een paar minuten.",
    greeting_known: "Hallo {first_name}! Waarmee kunnen we helpen?",
    away: "We zijn er nu niet. Laat een bericht achter, dan antwoorden we per e-mail.",
    weekdays: [
        "maandag",
        "dinsdag",
        "woensdag",
        "donderdag",
        "vrijdag",
        "zaterdag",
        "zondag",
    ],
};

const RU: Language = Language {
    code: "ru",
    texts: [
        "Чат",
        "В сети",
        "Подключение…",
        "Закрыть чат",
        "О чём ваш вопрос?",
        "Ждём оператора… вас соединят, как только кто-нибудь освободится.",
        "Сейчас нет операторов в сети. Оставьте сообщение, и мы ответим, как только кто-нибудь вернётся.",
        "Вы {n}-й в очереди, примерно {m} мин.",
        "Вы {n}-й в очереди. Пока не можем оценить время ожидания.",
        "Сообщение",
        "Введите сообщение…",
        "Отправить",
        "{name} в чате",
        "Чат завершён",
        "Мы вернёмся {time}.",
        "Ваш e-mail, чтобы мы могли ответить",
        "Оставить сообщение",
        "Спасибо! Мы ответим по e-mail, как только вернёмся.",
        "Оставьте email — если вам придётся уйти, мы ответим туда.",
        "Сохранить",
        "Спасибо! Если вас не будет в чате, мы ответим на {email}.",
        "Прислать этот разговор на почту",
        "Отправляем на {email}.",
        "по почте",
        "{name} печатает…",
        "Прочитано",
        "Повторить",
        "Сегодня",
        "Вчера",
        "Новое сообщение",
        "Слишком быстро: подождите немного и попробуйте снова.",
        "Более ранние сообщения",
        "Сейчас никого нет в сети",
        "Начать новый разговор",
        "Проверьте {email}: подтвердите там адрес, и запись придёт следом.",
        "Вы оценили этот чат на {n} из 5",
        "Прикрепить файл",
        "Загрузка…",
        "Не удалось отправить этот файл.",
        "Удалить",
        "Как прошёл чат?",
        "Очень плохо",
        "Плохо",
        "Нормально",
        "Хорошо",
        "Отлично",
        "Хотите что-то добавить? (необязательно)",
        "Отправить оценку",
        "Спасибо за оценку!",
        "Помощь",
        "Поиск по статьям",
        "Статьи не найдены.",
        "Это может помочь",
        "Это ответ на мой вопрос",
        "Поговорить с человеком",
        "Назад",
        "Рады, что помогло!",
    ],
    launcher: "Чат",
    greeting: "Здравствуйте! Спрашивайте что угодно — обычно мы отвечаем за несколько минут.",
    greeting_known: "Здравствуйте, {first_name}! Чем можем помочь?",
    away: "Сейчас мы не на связи. Оставьте сообщение, и мы ответим по e-mail.",
    weekdays: [
        "в понедельник",
        "во вторник",
        "в среду",
        "в четверг",
        "в пятницу",
        "в субботу",
        "в воскресенье",
    ],
};

const BN: Language = Language {
    code: "bn",
    texts: [
        "চ্যাট",
        "অনলাইন",
        "সংযোগ হচ্ছে…",
        "চ্যাট বন্ধ করুন",
        "বিষয়টি কী?",
        "একজন এজেন্টের অপেক্ষায়… কেউ ফাঁকা হলেই আপনাকে যুক্ত করা হবে।",
        "এখন কোনো এজেন্ট অনলাইনে নেই। এখানে আপনার বার্তা রেখে যান, কেউ ফিরলেই আমরা উত্তর দেব।",
        "লাইনে আপনি {n} নম্বরে, প্রায় {m} মিনিট।",
        "লাইনে আপনি {n} নম্বরে। অপেক্ষার সময় এখনও বলা যাচ্ছে না।",
        "বার্তা",
        "আপনার বার্তা লিখুন…",
        "পাঠান",
        "{name} চ্যাটে যোগ দিয়েছেন",
        "এই চ্যাট শেষ হয়েছে",
        "আমরা ফিরব {time}।",
        "আপনার ইমেল, যাতে আমরা উত্তর দিতে পারি",
        "বার্তা রেখে যান",
        "ধন্যবাদ! আমরা ফিরে এসেই ইমেলে উত্তর দেব।",
        "আপনার ইমেল দিন, চলে যেতে হলে আমরা সেখানে উত্তর দেব।",
        "সংরক্ষণ করুন",
        "ধন্যবাদ! আপনি না থাকলে আমরা {email}-এ উত্তর দেব।",
        "এই কথোপকথন আমাকে ইমেল করুন",
        "{email}-এ পাঠানো হচ্ছে।",
        "ইমেলে",
        "{name} লিখছেন…",
        "দেখা হয়েছে",
        "আবার চেষ্টা করুন",
        "আজ",
        "গতকাল",
        "নতুন বার্তা",
        "একটু দ্রুত হয়ে গেল: অল্প অপেক্ষা করে আবার চেষ্টা করুন।",
        "আগের বার্তাগুলো",
        "এখন কেউ অনলাইনে নেই",
        "নতুন কথোপকথন শুরু করুন",
        "{email} দেখুন: সেখানে ঠিকানাটি নিশ্চিত করুন, তারপর প্রতিলিপি আসবে।",
        "আপনি এই চ্যাটকে ৫-এর মধ্যে {n} দিয়েছেন",
        "ফাইল যোগ করুন",
        "আপলোড হচ্ছে…",
        "এই ফাইলটি পাঠানো যায়নি।",
        "সরান",
        "চ্যাটটি কেমন ছিল?",
        "খুব খারাপ",
        "খারাপ",
        "চলনসই",
        "ভালো",
        "খুব ভালো",
        "আর কিছু বলবেন? (ঐচ্ছিক)",
        "রেটিং পাঠান",
        "রেটিং দেওয়ার জন্য ধন্যবাদ!",
        "সাহায্য",
        "সহায়তা নিবন্ধে খুঁজুন",
        "কোনো নিবন্ধ পাওয়া যায়নি।",
        "এটি কাজে লাগতে পারে",
        "এতে আমার প্রশ্নের উত্তর পেয়েছি",
        "একজন মানুষের সাথে কথা বলুন",
        "ফিরে যান",
        "সাহায্য করতে পেরে আমরা খুশি!",
    ],
    launcher: "চ্যাট",
    greeting: "নমস্কার! যেকোনো প্রশ্ন করুন। আমরা সাধারণত কয়েক মিনিটের মধ্যে উত্তর দিই।",
    greeting_known: "নমস্কার {first_name}! কীভাবে সাহায্য করতে পারি?",
    away: "আমরা এখন অনুপস্থিত। একটি বার্তা রেখে যান, আমরা ইমেলে উত্তর দেব।",
    weekdays: [
        "সোমবার",
        "মঙ্গলবার",
        "বুধবার",
        "বৃহস্পতিবার",
        "শুক্রবার",
        "শনিবার",
        "রবিবার",
    ],
};

const LANGUAGES: [&Language; 4] = [&EN, &NL, &RU, &BN];

/// The language the widget speaks: the site's fixed choice, else the first
/// of the shopper's browser languages (`Accept-Language` or the page's
/// `navigator.language`) that the widget knows, else English.
pub fn choose(settings: &SiteSettings, browser: &str) -> &'static Language {
    let fixed = settings.language.as_deref().and_then(find);
    fixed
        .or_else(|| {
            browser
                .split(',')
                .map(|part| part.split(';').next().unwrap_or_default())
                .find_map(|tag| find(&crate::domain::primary_subtag(tag)))
        })
        .unwrap_or(&EN)
}

fn find(code: &str) -> Option<&'static Language> {
    LANGUAGES.into_iter().find(|l| l.code == code)
}

/// What the owner wrote, or the language's default when they wrote nothing.
pub fn or_default(written: &str, default: &str) -> String {
    if written.trim().is_empty() {
        default.to_owned()
    } else {
        written.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::WIDGET_LANGUAGES;

    #[test]
    fn every_language_the_widget_offers_is_here_and_complete() {
        for code in WIDGET_LANGUAGES {
            let language = find(code).expect(code);
            for (index, text) in language.texts.iter().enumerate() {
                assert!(!text.trim().is_empty(), "{code} text {index} is empty");
            }
            // The placeholders the widget fills must survive translation.
            let t = |which: WidgetText| language.texts[which as usize];
            assert!(t(WidgetText::QueueWithEstimate).contains("{n}"), "{code}");
            assert!(t(WidgetText::QueueWithEstimate).contains("{m}"), "{code}");
            assert!(t(WidgetText::QueueNoEstimate).contains("{n}"), "{code}");
            assert!(t(WidgetText::AgentJoined).contains("{name}"), "{code}");
            assert!(t(WidgetText::BackAt).contains("{time}"), "{code}");
            assert!(t(WidgetText::EmailSaved).contains("{email}"), "{code}");
            assert!(t(WidgetText::TranscriptSent).contains("{email}"), "{code}");
            assert!(t(WidgetText::ConfirmSent).contains("{email}"), "{code}");
            assert!(t(WidgetText::Rated).contains("{n}"), "{code}");
            assert!(t(WidgetText::Typing).contains("{name}"), "{code}");
            assert!(language.greeting_known.contains("{first_name}"), "{code}");
        }
    }

    #[test]
    fn fixed_language_wins_then_the_browsers_first_known_one() {
        let mut settings = SiteSettings::default();
        assert_eq!(choose(&settings, "de-DE,nl;q=0.8,en;q=0.5").code, "nl");
        assert_eq!(choose(&settings, "bn-IN").code, "bn");
        assert_eq!(choose(&settings, "fr-FR").code, "en");
        assert_eq!(choose(&settings, "").code, "en");
        settings.language = Some("ru".to_owned());
        assert_eq!(choose(&settings, "nl-NL").code, "ru");
    }
}
