//! Help articles on both backends: written by owners (and agents where the
//! site allows it) with their history; their Markdown served inert; drafts,
//! other sites' and other accounts' articles never found; search by stems,
//! by Bengali words and past an English typo, with a labelled query set per
//! language; suggestions from the question sent; readings and verdicts in
//! the agent's view and the counts; the public help center.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{SHOP_ORIGIN, TestApp};
use protocol::SiteSettings;
use reqwest::Method;
use serde_json::{Value, json};

/// Makes an article on the test site as `cookie`; its id.
async fn write(app: &TestApp, cookie: &str, language: &str, title: &str, body: &str) -> String {
    let (status, view) = app
        .call(
            Method::POST,
            "/api/articles",
            cookie,
            Some(
                &json!({"site_id": app.site.id, "language": language, "title": title,
                         "body": body, "published": true, "collection": "Shop"})
                .to_string(),
            ),
        )
        .await;
    assert_eq!(status, 201, "{view}");
    view["id"].as_str().unwrap().to_owned()
}

/// The widget's help door, as the help view calls it.
async fn help(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, app.url(path))
        .header("origin", SHOP_ORIGIN);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn titles(list: &Value) -> Vec<String> {
    list["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn get_text(app: &TestApp, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let response = reqwest::get(app.url(path)).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

on_both_backends!(
    owners_write_articles_with_history_and_agents_only_when_allowed,
    |app: TestApp| async move {
        app.store
            .create_agent(
                &app.agent.account_id,
                "helper@shop.test",
                "Helper",
                protocol::Role::Agent,
                common::test_password_hash(),
            )
            .await
            .unwrap();
        let agent = app.login("helper@shop.test").await;
        let article = json!({"site_id": app.site.id, "language": "en", "title": "Returns",
                             "body": "Send them back.", "published": true})
        .to_string();
        let (status, refused) = app
            .call(Method::POST, "/api/articles", &agent, Some(&article))
            .await;
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (403, Some("forbidden"))
        );

        let owner = app.owner_cookie().await;
        let id = write(
            &app,
            &owner,
            "en",
            "Returning shoes",
            "# Returns\n\nSend **shoes** back. <script>alert(1)</script>\
             <img src=x onerror=alert(2)> [pay here](javascript:alert(3))",
        )
        .await;
        let edits = "SELECT COUNT(*) FROM article_edits";
        // Every bad input refused, nothing stored.
        for (language, body, code) in [
            ("de", json!({"title": "Retour", "body": "x"}), 400),
            ("nl", json!({"title": " \n ", "body": "x"}), 400),
            ("nl", json!({"title": "T".repeat(201), "body": "x"}), 400),
            ("nl", json!({"title": "Retour", "body": "  "}), 400),
            (
                "nl",
                json!({"title": "Retour", "body": "x".repeat(100_001)}),
                400,
            ),
            (
                "nl",
                json!({"title": "Retour", "body": "x", "collection": "c".repeat(81)}),
                400,
            ),
            (
                "nl",
                json!({"title": "Retour", "body": "x", "description": "d".repeat(301)}),
                400,
            ),
        ] {
            let (status, error) = app
                .call(
                    Method::PUT,
                    &format!("/api/articles/{id}/{language}"),
                    &owner,
                    Some(&body.to_string()),
                )
                .await;
            assert_eq!(status, code, "{body}: {error}");
            assert!(!error["error"]["message"].as_str().unwrap().is_empty());
        }
        assert_eq!(app.count(edits).await, 1);
        let (status, _) = app
            .call(
                Method::PUT,
                &format!("/api/articles/{id}/nl"),
                &owner,
                Some("{not json"),
            )
            .await;
        assert_eq!(status, 400);

        // The agent may write once the owner allows it.
        let (status, _) = app
            .call(
                Method::PUT,
                &format!("/api/articles/{id}/nl"),
                &agent,
                Some(&json!({"title": "Schoenen retour", "body": "Stuur ze terug."}).to_string()),
            )
            .await;
        assert_eq!(status, 403);
        app.set_site_settings(&SiteSettings {
            agents_write_articles: true,
            ..SiteSettings::default()
        })
        .await;
        let (status, view) = app
            .call(
                Method::PUT,
                &format!("/api/articles/{id}/nl"),
                &agent,
                Some(
                    &json!({"title": "Schoenen retour", "body": "Stuur ze terug.",
                             "collection": "Winkel"})
                    .to_string(),
                ),
            )
            .await;
        assert_eq!(status, 200, "{view}");
        let languages: Vec<(&str, bool)> = view["texts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["language"].as_str().unwrap(),
                    t["published"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(languages, vec![("en", true), ("nl", false)]);
        assert_eq!(view["collection"], "Winkel");

        let (status, history) = app
            .call(
                Method::GET,
                &format!("/api/articles/{id}/history"),
                &owner,
                None,
            )
            .await;
        assert_eq!(status, 200);
        let saves: Vec<(&str, &str)> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["language"].as_str().unwrap(),
                    e["title"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            saves,
            vec![("nl", "Schoenen retour"), ("en", "Returning shoes")]
        );
        assert!(history[0]["agent_name"].as_str().unwrap() != "");
        assert!(
            history[1]["body"].as_str().unwrap().contains("<script>"),
            "the Markdown as written"
        );

        // The preview and every reader get the Markdown inert.
        let (_, preview) = app
            .call(
                Method::POST,
                "/api/articles/preview",
                &agent,
                Some(
                    &json!({"body": "<script>x()</script>\n\n[a](javascript:y()) **b**"})
                        .to_string(),
                ),
            )
            .await;
        let html = preview["html"].as_str().unwrap();
        assert!(
            !html.contains("<script") && !html.contains("javascript:"),
            "{html}"
        );
        assert!(
            html.contains("<strong>b</strong>") && html.contains(">a<"),
            "{html}"
        );
        let (_, shopper) = app.new_shopper().await;
        let (status, reading) = help(
            &app,
            Method::POST,
            &format!("/api/widget/help/read?site={}&lang=en", app.site.site_key),
            Some(&shopper),
            Some(json!({"article_id": id, "source": "help"})),
        )
        .await;
        assert_eq!(status, 200, "{reading}");
        let html = reading["html"].as_str().unwrap();
        assert!(html.contains("<strong>shoes</strong>"), "{html}");
        for hostile in ["<script", "onerror", "javascript:"] {
            assert!(!html.contains(hostile), "{hostile} in {html}");
        }

        // Another account sees none of it.
        let other = app.store.create_account("Other shop").await.unwrap();
        app.store
            .create_agent(
                &other,
                "owner@elsewhere.test",
                "Else",
                protocol::Role::Owner,
                common::test_password_hash(),
            )
            .await
            .unwrap();
        let stranger = app.login("owner@elsewhere.test").await;
        for (method, path) in [
            (Method::GET, format!("/api/articles/{id}")),
            (Method::GET, format!("/api/articles/{id}/history")),
            (Method::DELETE, format!("/api/articles/{id}")),
            (Method::GET, format!("/api/articles?site={}", app.site.id)),
        ] {
            let (status, _) = app.call(method, &path, &stranger, None).await;
            assert_eq!(status, 404, "{path}");
        }
        let (status, _) = app
            .call(Method::DELETE, &format!("/api/articles/{id}"), &owner, None)
            .await;
        assert_eq!(status, 204);
        assert_eq!(app.count("SELECT COUNT(*) FROM article_edits").await, 0);
    }
);

on_both_backends!(
    drafts_and_other_sites_articles_are_never_served,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let published = write(
            &app,
            &owner,
            "en",
            "Delivery times",
            "Parcels arrive in two days.",
        )
        .await;
        let (status, draft) = app
            .call(
                Method::POST,
                "/api/articles",
                &owner,
                Some(&json!({"site_id": app.site.id, "language": "en", "title": "Secret sale delivery",
                             "body": "Parcels for the secret sale.", "published": false}).to_string()),
            )
            .await;
        assert_eq!(status, 201);
        let draft = draft["id"].as_str().unwrap().to_owned();
        // Another account's site with the same words.
        let other = app.store.create_account("Other shop").await.unwrap();
        let other_site = app
            .store
            .create_site(&other, "Other", &[SHOP_ORIGIN.to_owned()])
            .await
            .unwrap();
        let foreign = app
            .store
            .create_article(&other, &other_site.id, "")
            .await
            .unwrap();
        let (_, other_owner) = (
            app.store
                .create_agent(
                    &other,
                    "o@other.test",
                    "O",
                    protocol::Role::Owner,
                    common::test_password_hash(),
                )
                .await
                .unwrap(),
            app.login("o@other.test").await,
        );
        let (status, _) = app
            .call(
                Method::PUT,
                &format!("/api/articles/{foreign}/en"),
                &other_owner,
                Some(&json!({"title": "Parcels delivery elsewhere", "body": "Parcels.", "published": true}).to_string()),
            )
            .await;
        assert_eq!(status, 200);

        let key = &app.site.site_key;
        for query in ["", "parcels", "secret", "delivery"] {
            let (status, found) = help(
                &app,
                Method::GET,
                &format!("/api/widget/help?site={key}&lang=en&q={query}"),
                None,
                None,
            )
            .await;
            assert_eq!(status, 200, "{found}");
            let ids: Vec<&str> = found["articles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap())
                .collect();
            assert!(ids.iter().all(|id| *id == published), "{query}: {found}");
        }
        let (_, shopper) = app.new_shopper().await;
        for id in [&draft, &foreign] {
            let (status, _) = help(
                &app,
                Method::POST,
                &format!("/api/widget/help/read?site={key}&lang=en"),
                Some(&shopper),
                Some(json!({"article_id": id, "source": "help"})),
            )
            .await;
            assert_eq!(status, 404);
            let (status, _, _) = get_text(&app, &format!("/help/{key}/en/{id}")).await;
            assert_eq!(status, 404);
        }
        let (_, sitemap, _) = get_text(&app, &format!("/help/{key}/sitemap.xml")).await;
        assert!(
            sitemap.contains(&published)
                && !sitemap.contains(&draft)
                && !sitemap.contains(&foreign),
            "{sitemap}"
        );
        // The composer's search: published only, this account's sites only.
        let (status, cards) = app
            .call(
                Method::GET,
                &format!("/api/articles/search?site={}&q=parcels", app.site.id),
                &owner,
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(cards.as_array().unwrap().len(), 1, "{cards}");
        assert_eq!(
            cards[0]["url"],
            app.url(&format!("/help/{key}/en/{published}"))
        );
        let (status, _) = app
            .call(
                Method::GET,
                &format!("/api/articles/search?site={}&q=parcels", other_site.id),
                &owner,
                None,
            )
            .await;
        assert_eq!(status, 404);
        // Without an allowed origin, the widget's door is shut.
        let refused = reqwest::Client::new()
            .get(app.url(&format!("/api/widget/help?site={key}&lang=en")))
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 403);
    }
);

/// Articles in four languages and questions each should find first.
/// (title, body) pairs, and (question, the title it should find first).
type Labelled = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<(&'static str, &'static str)>,
);

fn labelled() -> Vec<Labelled> {
    vec![
        (
            "en",
            vec![
                (
                    "Returning shoes",
                    "You can return shoes within 30 days if they are unworn and in their box. Print the return label from your account.",
                ),
                (
                    "Tracking your order",
                    "Every parcel has a tracking link in the shipping email. Deliveries take two to four working days.",
                ),
                (
                    "Shoe size guide",
                    "Measure your foot from heel to toe and compare it with our size chart. Between sizes, choose the larger one.",
                ),
                (
                    "Payment methods",
                    "We accept credit cards, PayPal and bank transfer. Your card is charged when the order ships.",
                ),
                (
                    "Changing your password",
                    "Open account settings and choose a new password. A reset link can be emailed if you forgot it.",
                ),
                (
                    "Gift cards",
                    "Gift cards never expire and can be spent on anything in the shop, online or in a store.",
                ),
            ],
            vec![
                ("how do I return shoes", "Returning shoes"),
                ("returning my boots that do not fit", "Returning shoes"),
                ("where is my parcel", "Tracking your order"),
                ("tracking number for shipping", "Tracking your order"),
                ("what size should I order", "Shoe size guide"),
                ("measuring feet", "Shoe size guide"),
                ("can I pay with paypal", "Payment methods"),
                ("forgot my password", "Changing your password"),
                ("do gift cards expire", "Gift cards"),
                ("retrun label", "Returning shoes"),
                ("trakcing link", "Tracking your order"),
                ("paymnet by credit card", "Payment methods"),
            ],
        ),
        (
            "nl",
            vec![
                (
                    "Schoenen retourneren",
                    "Je kunt schoenen binnen 30 dagen retourneren als ze ongedragen in de doos zitten. Print het retourlabel via je account.",
                ),
                (
                    "Je bestelling volgen",
                    "Elk pakket heeft een volglink in de verzendmail. Bezorging duurt twee tot vier werkdagen.",
                ),
                (
                    "Maattabel voor schoenen",
                    "Meet je voet van hiel tot teen en vergelijk met onze maattabel. Twijfel je, kies dan de grotere maat.",
                ),
                (
                    "Betaalmethoden",
                    "We accepteren creditcards, iDEAL en bankoverschrijving. Je betaling wordt afgeschreven bij verzending.",
                ),
                (
                    "Wachtwoord wijzigen",
                    "Open je accountinstellingen en kies een nieuw wachtwoord. Vergeten? We mailen je een herstellink.",
                ),
                (
                    "Cadeaubonnen",
                    "Cadeaubonnen verlopen nooit en zijn overal in de winkel te besteden.",
                ),
            ],
            vec![
                (
                    "hoe kan ik mijn schoenen retourneren",
                    "Schoenen retourneren",
                ),
                ("retourlabel printen", "Schoenen retourneren"),
                ("waar is mijn pakket", "Je bestelling volgen"),
                ("hoe lang duurt de bezorging", "Je bestelling volgen"),
                ("welke maat moet ik kiezen", "Maattabel voor schoenen"),
                ("voeten meten", "Maattabel voor schoenen"),
                ("kan ik met ideal betalen", "Betaalmethoden"),
                ("wachtwoord vergeten", "Wachtwoord wijzigen"),
                ("verloopt mijn cadeaubon", "Cadeaubonnen"),
                ("bestellingen volgen", "Je bestelling volgen"),
            ],
        ),
        (
            "ru",
            vec![
                (
                    "Возврат обуви",
                    "Обувь можно вернуть в течение 30 дней, если она не ношена и в коробке. Распечатайте ярлык возврата в личном кабинете.",
                ),
                (
                    "Отслеживание заказа",
                    "У каждой посылки есть ссылка для отслеживания в письме об отправке. Доставка занимает от двух до четырёх дней.",
                ),
                (
                    "Таблица размеров",
                    "Измерьте стопу от пятки до пальцев и сравните с таблицей размеров. Если сомневаетесь, выберите больший размер.",
                ),
                (
                    "Способы оплаты",
                    "Мы принимаем банковские карты и переводы. Деньги списываются при отправке заказа.",
                ),
                (
                    "Смена пароля",
                    "Откройте настройки кабинета и задайте новый пароль. Если забыли пароль, мы пришлём ссылку.",
                ),
                (
                    "Подарочные карты",
                    "Подарочные карты не сгорают, ими можно оплатить любые товары.",
                ),
            ],
            vec![
                ("как вернуть обувь", "Возврат обуви"),
                ("хочу вернуть ботинки", "Возврат обуви"),
                ("где моя посылка", "Отслеживание заказа"),
                ("сколько идёт доставка", "Отслеживание заказа"),
                ("какой размер выбрать", "Таблица размеров"),
                ("размеры обуви", "Таблица размеров"),
                ("оплата картой", "Способы оплаты"),
                ("забыл пароль", "Смена пароля"),
                ("подарочной картой", "Подарочные карты"),
                ("заказы отслеживать", "Отслеживание заказа"),
            ],
        ),
        (
            "bn",
            vec![
                (
                    "জুতা ফেরত",
                    "জুতা না পরে থাকলে ৩০ দিনের মধ্যে বাক্সসহ ফেরত দিতে পারেন। অ্যাকাউন্ট থেকে ফেরত লেবেল প্রিন্ট করুন।",
                ),
                (
                    "অর্ডার ট্র্যাক করা",
                    "প্রতিটি পার্সেলের ট্র্যাকিং লিঙ্ক পাঠানোর ইমেলে থাকে। ডেলিভারি দুই থেকে চার দিন লাগে।",
                ),
                (
                    "সাইজ চার্ট",
                    "গোড়ালি থেকে আঙুল পর্যন্ত পা মাপুন এবং সাইজ চার্টের সাথে মেলান।",
                ),
                ("পেমেন্ট পদ্ধতি", "আমরা কার্ড, বিকাশ এবং ব্যাংক ট্রান্সফার নিই।"),
                (
                    "পাসওয়ার্ড পরিবর্তন",
                    "অ্যাকাউন্ট সেটিংসে নতুন পাসওয়ার্ড দিন। ভুলে গেলে আমরা লিঙ্ক পাঠাব।",
                ),
                (
                    "গিফট কার্ড",
                    "গিফট কার্ডের মেয়াদ শেষ হয় না, দোকানের যেকোনো জিনিসে ব্যবহার করা যায়।",
                ),
            ],
            vec![
                ("জুতা ফেরত দিতে চাই", "জুতা ফেরত"),
                ("ফেরত লেবেল", "জুতা ফেরত"),
                ("আমার পার্সেল কোথায়", "অর্ডার ট্র্যাক করা"),
                ("ডেলিভারি কত দিন", "অর্ডার ট্র্যাক করা"),
                ("সাইজ কত", "সাইজ চার্ট"),
                ("পা মাপুন", "সাইজ চার্ট"),
                ("বিকাশ দিয়ে পেমেন্ট", "পেমেন্ট পদ্ধতি"),
                ("পাসওয়ার্ড ভুলে গেছি", "পাসওয়ার্ড পরিবর্তন"),
                ("গিফট কার্ড মেয়াদ", "গিফট কার্ড"),
                ("ট্র্যাকিং লিঙ্ক", "অর্ডার ট্র্যাক করা"),
            ],
        ),
    ]
}

on_both_backends!(
    labelled_questions_find_their_article_first_in_each_language,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let key = app.site.site_key.clone();
        let mut report = Vec::new();
        for (language, articles, questions) in labelled() {
            for (title, body) in &articles {
                write(&app, &owner, language, title, body).await;
            }
            let mut first = 0;
            let mut misses = Vec::new();
            for (question, expected) in &questions {
                let query: String =
                    url::form_urlencoded::byte_serialize(question.as_bytes()).collect();
                let (status, found) = help(
                    &app,
                    Method::GET,
                    &format!("/api/widget/help?site={key}&lang={language}&q={query}"),
                    None,
                    None,
                )
                .await;
                assert_eq!(status, 200, "{found}");
                assert_eq!(found["language"], language);
                let found = titles(&found);
                if found.first().map(String::as_str) == Some(*expected) {
                    first += 1;
                } else {
                    misses.push(format!("{question:?} → {found:?}"));
                }
            }
            let share = f64::from(first) / questions.len() as f64;
            report.push(format!(
                "{language}: {first}/{} found first{}",
                questions.len(),
                if misses.is_empty() {
                    String::new()
                } else {
                    format!(" (missed {})", misses.join(", "))
                }
            ));
            assert!(questions.len() >= 10);
            assert!(share >= 0.8, "{language}: {share:.2}; missed {misses:#?}");
        }
        // For the closing note: `cargo test … labelled -- --nocapture`.
        eprintln!("help search, labelled questions: {}", report.join("; "));
    }
);

on_both_backends!(
    stemmed_forms_bengali_words_and_an_english_typo_are_found,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        write(
            &app,
            &owner,
            "en",
            "Returning shoes",
            "Send the shoes back within 30 days.",
        )
        .await;
        write(
            &app,
            &owner,
            "nl",
            "Bestellingen annuleren",
            "Een bestelling annuleer je binnen een uur.",
        )
        .await;
        write(
            &app,
            &owner,
            "ru",
            "Доставка заказов",
            "Заказ приходит за два дня.",
        )
        .await;
        write(
            &app,
            &owner,
            "bn",
            "জুতা ফেরত",
            "ত্রিশ দিনের মধ্যে জুতা ফেরত দিন।",
        )
        .await;
        let key = &app.site.site_key;
        for (language, query, title) in [
            ("en", "returned", "Returning shoes"),
            ("en", "shoe", "Returning shoes"),
            ("en", "retunr", "Returning shoes"),
            ("nl", "bestelling", "Bestellingen annuleren"),
            ("ru", "заказа", "Доставка заказов"),
            ("ru", "доставку", "Доставка заказов"),
            ("bn", "জুতা", "জুতা ফেরত"),
            ("bn", "জুতার", "জুতা ফেরত"),
        ] {
            let query_text: String =
                url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
            let (_, found) = help(
                &app,
                Method::GET,
                &format!("/api/widget/help?site={key}&lang={language}&q={query_text}"),
                None,
                None,
            )
            .await;
            assert_eq!(titles(&found), vec![title.to_owned()], "{language} {query}");
        }
        // A typo is forgiven in English only, and a word unlike any finds nothing.
        let (_, found) = help(
            &app,
            Method::GET,
            &format!("/api/widget/help?site={key}&lang=en&q=xylophone"),
            None,
            None,
        )
        .await;
        assert!(titles(&found).is_empty());
        let (status, _) = help(
            &app,
            Method::GET,
            &format!("/api/widget/help?site={key}&lang=en&q={}", "a".repeat(201)),
            None,
            None,
        )
        .await;
        assert_eq!(status, 400);
    }
);

on_both_backends!(
    a_sent_question_gets_suggestions_and_the_agent_sees_what_was_read,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let returns = write(
            &app,
            &owner,
            "en",
            "Returning shoes",
            "Send the shoes back within 30 days.",
        )
        .await;
        write(
            &app,
            &owner,
            "en",
            "Tracking your order",
            "Use the tracking link.",
        )
        .await;
        let key = app.site.site_key.clone();
        let (mut shopper, token) = app.new_shopper().await;
        let ack = shopper.say("q1", "how do I return shoes").await;
        let conversation = ack["conversation_id"].as_str().unwrap().to_owned();
        let (status, offered) = help(
            &app,
            Method::GET,
            &format!("/api/widget/help/suggest?site={key}&lang=en&conversation={conversation}"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, 200, "{offered}");
        assert_eq!(titles(&offered), vec!["Returning shoes".to_owned()]);
        // Nobody else's question, and none without a token.
        let (_, stranger) = app.new_shopper().await;
        let (status, _) = help(
            &app,
            Method::GET,
            &format!("/api/widget/help/suggest?site={key}&lang=en&conversation={conversation}"),
            Some(&stranger),
            None,
        )
        .await;
        assert_eq!(status, 404);
        let (status, _) = help(
            &app,
            Method::GET,
            &format!("/api/widget/help/suggest?site={key}&lang=en&conversation={conversation}"),
            None,
            None,
        )
        .await;
        assert_eq!(status, 401);

        let read = |token: String, source: &'static str, conversation: Option<String>| {
            let app = &app;
            let key = key.clone();
            let returns = returns.clone();
            async move {
                let (status, reading) = help(
                    app,
                    Method::POST,
                    &format!("/api/widget/help/read?site={key}&lang=en"),
                    Some(&token),
                    Some(json!({"article_id": returns, "source": source, "conversation_id": conversation})),
                )
                .await;
                assert_eq!(status, 200, "{reading}");
                reading["read_id"].as_str().unwrap().to_owned()
            }
        };
        let verdict = |token: String, read_id: String, verdict: &'static str| {
            let app = &app;
            let key = key.clone();
            async move {
                help(
                    app,
                    Method::POST,
                    &format!("/api/widget/help/verdict?site={key}"),
                    Some(&token),
                    Some(json!({"read_id": read_id, "verdict": verdict})),
                )
                .await
                .0
            }
        };
        let first = read(token.clone(), "suggested", Some(conversation.clone())).await;
        assert_eq!(verdict(token.clone(), first.clone(), "answered").await, 204);
        // A verdict on someone else's reading, or an unknown one, is refused.
        assert_eq!(verdict(stranger.clone(), first.clone(), "talk").await, 404);
        assert_eq!(verdict(token.clone(), "nope".into(), "talk").await, 404);
        let (status, _) = help(
            &app,
            Method::POST,
            &format!("/api/widget/help/verdict?site={key}"),
            Some(&token),
            Some(json!({"read_id": first, "verdict": "maybe"})),
        )
        .await;
        assert_eq!(status, 400);
        let (status, _) = help(
            &app,
            Method::POST,
            &format!("/api/widget/help/read?site={key}&lang=en"),
            Some(&token),
            Some(json!({"article_id": returns, "source": "somewhere"})),
        )
        .await;
        assert_eq!(status, 400);

        // The agent sees it in the customer's timeline.
        let (status, profile) = app
            .call(
                Method::GET,
                &format!("/api/conversations/{conversation}/profile"),
                &owner,
                None,
            )
            .await;
        assert_eq!(status, 200, "{profile}");
        assert_eq!(profile["articles"][0]["title"], "Returning shoes");
        assert_eq!(profile["articles"][0]["source"], "suggested");
        assert_eq!(profile["articles"][0]["verdict"], "answered");

        // Once an agent replied, or the question is old, nothing is offered.
        let (mut late, late_token) = app.new_shopper().await;
        let late_id = late.say("q3", "returning shoes please").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let offered_to = |token: String, id: String| {
            let app = &app;
            let key = key.clone();
            async move {
                let (status, offered) = help(
                    app,
                    Method::GET,
                    &format!("/api/widget/help/suggest?site={key}&lang=en&conversation={id}"),
                    Some(&token),
                    None,
                )
                .await;
                assert_eq!(status, 200, "{offered}");
                titles(&offered)
            }
        };
        assert_eq!(
            offered_to(late_token.clone(), late_id.clone()).await.len(),
            1
        );
        app.sql(
            &format!("UPDATE events SET created_at = created_at - 700000 WHERE conversation_id = '{late_id}'"),
            &format!("UPDATE events SET created_at = created_at - 700000 WHERE conversation_id = '{late_id}'"),
        )
        .await;
        assert!(offered_to(late_token, late_id).await.is_empty());
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut answered, answered_token) = app.new_shopper().await;
        let answered_id = answered.say("q4", "returning shoes").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        answered.until("event", common::is_assigned).await;
        agent
            .send(json!({"type": "open", "conversation_id": answered_id}))
            .await;
        agent
            .send(json!({"type": "send", "conversation_id": answered_id, "client_id": "a1", "body": "Hello!"}))
            .await;
        agent.until("ack", |f| f["client_id"] == "a1").await;
        assert!(offered_to(answered_token, answered_id).await.is_empty());

        // One who read it from the help view, said it answered and never
        // asked: self-served. One who did and then asked anyway: not.
        let (_, helped) = app.new_shopper().await;
        let reading = read(helped.clone(), "help", None).await;
        assert_eq!(verdict(helped, reading, "answered").await, 204);
        let (mut asked_anyway, still) = app.new_shopper().await;
        let reading = read(still.clone(), "help", None).await;
        assert_eq!(verdict(still.clone(), reading, "answered").await, 204);
        asked_anyway.say("q2", "it did not say about boots").await;
        let (_, talker) = app.new_shopper().await;
        let reading = read(talker.clone(), "help", None).await;
        assert_eq!(verdict(talker, reading, "talk").await, 204);

        let (_, list) = app
            .call(
                Method::GET,
                &format!("/api/articles?site={}", app.site.id),
                &owner,
                None,
            )
            .await;
        let stats = list
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == returns)
            .unwrap()["stats"]
            .clone();
        assert_eq!(
            stats,
            json!({"views": 4, "answered": 3, "talked": 1, "self_served": 1})
        );
        // The owner's reports count them for the period, per site.
        let (status, report) = app.call(Method::GET, "/api/reports", &owner, None).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["help"], stats);
        let other = app
            .store
            .create_site(&app.agent.account_id, "Second", &[])
            .await
            .unwrap();
        let (_, report) = app
            .call(
                Method::GET,
                &format!("/api/reports?site={}", other.id),
                &owner,
                None,
            )
            .await;
        assert_eq!(report["help"]["views"], 0);

        // Erasing a shopper erases what they read.
        let visitor = app
            .store
            .conversation(&conversation)
            .await
            .unwrap()
            .unwrap()
            .visitor_id
            .clone();
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/visitors/{visitor}"),
                &owner,
                None,
            )
            .await;
        assert!(status == 200 || status == 204, "{status}");
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM article_reads WHERE visitor_id = '{visitor}'"
            ))
            .await,
            0
        );
    }
);

on_both_backends!(
    the_public_help_center_is_plain_html_with_canonical_links,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let id = write(
            &app,
            &owner,
            "en",
            "Returning shoes",
            "Send **shoes** back. <script>alert(1)</script>",
        )
        .await;
        let (status, _) = app
            .call(
                Method::PUT,
                &format!("/api/articles/{id}/nl"),
                &owner,
                Some(&json!({"title": "Schoenen retour", "body": "Stuur ze terug.", "published": true,
                             "description": "Binnen 30 dagen"}).to_string()),
            )
            .await;
        assert_eq!(status, 200);
        let key = &app.site.site_key;
        let (status, page, headers) = get_text(&app, &format!("/help/{key}/en/{id}")).await;
        assert_eq!(status, 200);
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("<title>Returning shoes · "), "{page}");
        assert!(
            page.contains(&format!(
                "<link rel=\"canonical\" href=\"{}\">",
                app.url(&format!("/help/{key}/en/{id}"))
            )),
            "{page}"
        );
        assert!(
            page.contains(&format!(
                "hreflang=\"nl\" href=\"{}\"",
                app.url(&format!("/help/{key}/nl/{id}"))
            )),
            "{page}"
        );
        assert!(page.contains("<strong>shoes</strong>"));
        let (_, dutch, _) = get_text(&app, &format!("/help/{key}/nl/{id}")).await;
        assert!(
            dutch.contains("<meta name=\"description\" content=\"Binnen 30 dagen\">"),
            "{dutch}"
        );
        assert!(dutch.contains("<html lang=\"nl\">"));
        let (status, index, _) = get_text(&app, &format!("/help/{key}/en")).await;
        assert_eq!(status, 200);
        assert!(
            index.contains("Returning shoes") && index.contains("<form role=\"search\""),
            "{index}"
        );
        let (status, found, _) = get_text(&app, &format!("/help/{key}/en/search?q=shoe")).await;
        assert_eq!(status, 200);
        assert!(found.contains(&format!("/help/{key}/en/{id}")), "{found}");
        assert!(!found.contains("<script"));
        let (_, hostile, _) = get_text(
            &app,
            &format!("/help/{key}/en/search?q=%3Cscript%3Ex%3C/script%3E"),
        )
        .await;
        assert!(!hostile.contains("<script>x"), "the query is escaped");
        let (status, sitemap, headers) = get_text(&app, &format!("/help/{key}/sitemap.xml")).await;
        assert_eq!(status, 200);
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/xml")
        );
        assert!(
            sitemap.contains(&format!(
                "<loc>{}</loc>",
                app.url(&format!("/help/{key}/nl/{id}"))
            )),
            "{sitemap}"
        );
        for missing in [
            format!("/help/{key}/de"),
            format!("/help/{key}/en/nope"),
            "/help/no-such-site/en".into(),
        ] {
            let (status, _, _) = get_text(&app, &missing).await;
            assert_eq!(status, 404, "{missing}");
        }
        // The start page follows the browser's language.
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(app.url(&format!("/help/{key}")))
            .header("accept-language", "nl-BE,nl;q=0.9,en;q=0.8")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 303);
        assert!(
            response.headers()["location"]
                .to_str()
                .unwrap()
                .ends_with(&format!("/help/{key}/nl"))
        );
    }
);

on_both_backends!(
    article_pictures_come_from_the_attachment_store_and_show_once_published,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let photo = include_bytes!("../fixtures/gps-photo.jpg");
        let upload = |bytes: Vec<u8>| {
            let app = &app;
            let owner = owner.clone();
            async move {
                let response = reqwest::Client::new()
                    .post(app.url("/api/files?name=box.jpg"))
                    .header("cookie", owner)
                    .body(bytes)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 200);
                let file: Value = response.json().await.unwrap();
                file["id"].as_str().unwrap().to_owned()
            }
        };
        let picture = upload(photo.to_vec()).await;
        let (_, sites) = app
            .call(Method::GET, "/api/articles/sites", &owner, None)
            .await;
        let help_url = sites[0]["help_url"].as_str().unwrap().to_owned();
        let address = format!("{help_url}/images/{picture}");
        let body = format!(
            "Pack them like this:\n\n![The box]({address})\n\n![elsewhere](http://evil.example/x.png)"
        );
        let (status, view) = app
            .call(
                Method::POST,
                "/api/articles",
                &owner,
                Some(
                    &json!({"site_id": app.site.id, "language": "en", "title": "Packing a return",
                             "body": body, "published": false})
                    .to_string(),
                ),
            )
            .await;
        assert_eq!(status, 201, "{view}");
        let id = view["id"].as_str().unwrap().to_owned();
        let image_path = address.trim_start_matches(&app.url(""));
        // A draft's picture is nobody's to see.
        assert_eq!(
            reqwest::get(&address).await.unwrap().status().as_u16(),
            404,
            "{image_path}"
        );
        let (status, _) = app
            .call(
                Method::PUT,
                &format!("/api/articles/{id}/en"),
                &owner,
                Some(
                    &json!({"title": "Packing a return", "body": body, "published": true})
                        .to_string(),
                ),
            )
            .await;
        assert_eq!(status, 200);
        let shown = reqwest::get(&address).await.unwrap();
        assert_eq!(shown.status().as_u16(), 200);
        assert_eq!(shown.headers()["content-type"], "image/jpeg");
        assert!(!shown.bytes().await.unwrap().is_empty());
        // In the article as shoppers get it: ours shown, a plain-http stranger's not.
        let (_, shopper) = app.new_shopper().await;
        let (_, reading) = help(
            &app,
            Method::POST,
            &format!("/api/widget/help/read?site={}&lang=en", app.site.site_key),
            Some(&shopper),
            Some(json!({"article_id": id, "source": "help"})),
        )
        .await;
        let html = reading["html"].as_str().unwrap();
        assert!(
            html.contains(&format!("<img src=\"{address}\" alt=\"The box\">")),
            "{html}"
        );
        assert!(!html.contains("evil.example"), "{html}");
        // Kept by the sweep of uploads no message took.
        app.store.sweep_files(0).await.unwrap();
        assert_eq!(reqwest::get(&address).await.unwrap().status().as_u16(), 200);
        // Not through another site, and not an upload the article does not show.
        let other = app
            .store
            .create_site(&app.agent.account_id, "Second", &[])
            .await
            .unwrap();
        let elsewhere = address.replace(&app.site.site_key, &other.site_key);
        assert_eq!(
            reqwest::get(&elsewhere).await.unwrap().status().as_u16(),
            404
        );
        let unused = upload(photo.to_vec()).await;
        assert_eq!(
            reqwest::get(format!("{help_url}/images/{unused}"))
                .await
                .unwrap()
                .status()
                .as_u16(),
            404
        );
    }
);
