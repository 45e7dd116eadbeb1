//! The owner console: sites with their embed snippet and "installed?"
//! indicator, allowed origins, the widget's look and words with a live
//! preview, business hours, and the identity secret.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{
    AgentDisplay, BusinessHours, EnforceIdentity, IdentitySettings, MAX_EMAIL_DELAY_MINUTES,
    MailSetup, NewSite, OpeningSpan, RatingScale, SecretRotation, SiteChange, SiteSettings,
    SiteView, WidgetPosition,
};

use crate::api::{NONE, call, call_empty};

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const LANGUAGES: [(&str, &str); 5] = [
    ("", "Follow the shopper's browser"),
    ("en", "English"),
    ("nl", "Nederlands"),
    ("ru", "Русский"),
    ("bn", "বাংলা"),
];

/// The kinds of file a site may take, as the console names them.
const FILE_KINDS: [(protocol::FileKind, &str); 4] = [
    (
        protocol::FileKind::Images,
        "Pictures and photos (JPEG, PNG, GIF, WebP, iPhone HEIC)",
    ),
    (protocol::FileKind::Pdf, "PDF documents"),
    (protocol::FileKind::Text, "Plain text (.txt, .csv, logs)"),
    (
        protocol::FileKind::Office,
        "Office documents (Word, Excel, PowerPoint, OpenDocument)",
    ),
];

#[component]
pub fn Console() -> impl IntoView {
    let sites = RwSignal::new(Vec::<SiteView>::new());
    let chosen = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    let new_name = RwSignal::new(String::new());
    let reload = move |select: Option<String>| {
        spawn_local(async move {
            match call::<Vec<SiteView>>("GET", "/api/admin/sites", NONE).await {
                Ok(list) => {
                    let keep = select
                        .or_else(|| chosen.get_untracked())
                        .filter(|id| list.iter().any(|s| &s.id == id))
                        .or_else(|| list.first().map(|s| s.id.clone()));
                    sites.set(list);
                    // The same site stays as it is: re-drawing its editor
                    // would drop what the owner is typing.
                    if chosen.get_untracked() != keep {
                        chosen.set(keep);
                    }
                }
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    reload(None);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let site = NewSite {
            name: new_name.get_untracked(),
            allowed_origins: Vec::new(),
        };
        spawn_local(async move {
            match call::<SiteView>("POST", "/api/admin/sites", Some(&site)).await {
                Ok(site) => {
                    new_name.set(String::new());
                    problem.set(None);
                    reload(Some(site.id));
                }
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    // Drawn again only when another site is chosen, not when the list reloads.
    let current = move || {
        let id = chosen.get()?;
        sites.with_untracked(|s| s.iter().find(|site| site.id == id).cloned())
    };
    view! {
        <div class="console">
            <nav class="site-list" aria-label="Sites">
                <h2>"Sites"</h2>
                <ul>
                    {move || sites.get().into_iter().map(|site| {
                        let id = site.id.clone();
                        let selected = chosen.get().as_deref() == Some(site.id.as_str());
                        view! {
                            <li><button class="site" class:selected=selected
                                on:click=move |_| chosen.set(Some(id.clone()))>{site.name}</button></li>
                        }
                    }).collect_view()}
                </ul>
                <form class="new-site" on:submit=create>
                    <label>"New site"
                        <input name="site-name" placeholder="My shop" required
                            prop:value=move || new_name.get()
                            on:input=move |ev| new_name.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit">"Create site"</button>
                </form>
                <p class="error" role="alert">{move || problem.get()}</p>
            </nav>
            {move || current().map(|site| view! { <SiteEditor site on_saved=reload /> })}
        </div>
    }
}

/// How often the "installed?" line asks the server again.
const SEEN_REFRESH_MS: u32 = 5_000;

/// Whether the widget has loaded on a page lately, kept fresh while shown.
#[component]
fn Installed(site: SiteView) -> impl IntoView {
    let id = site.id.clone();
    let seen = RwSignal::new(installed(&site, js_sys::Date::now()));
    let refresh = move || {
        let id = id.clone();
        spawn_local(async move {
            if let Ok(site) = call::<SiteView>("GET", &format!("/api/admin/sites/{id}"), NONE).await
            {
                seen.set(installed(&site, js_sys::Date::now()));
            }
        });
    };
    let ticker = StoredValue::new_local(Some(gloo_timers::callback::Interval::new(
        SEEN_REFRESH_MS,
        refresh,
    )));
    on_cleanup(move || ticker.set_value(None));
    view! { <p class="installed" role="status">{move || seen.get()}</p> }
}

/// "Installed on https://shop/page, 3 min ago" or why not yet.
fn installed(site: &SiteView, now_ms: f64) -> String {
    match &site.seen {
        Some(seen) => {
            let minutes = ((now_ms as i64 - seen.at_ms) / 60_000).max(0);
            format!(
                "Installed: the widget loaded on {} {minutes} min ago.",
                seen.page.as_deref().unwrap_or(&seen.origin)
            )
        }
        None => {
            "Not installed yet: paste the snippet into your shop's pages, then load one.".to_owned()
        }
    }
}

#[component]
fn SiteEditor(
    site: SiteView,
    on_saved: impl Fn(Option<String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = StoredValue::new(site.id.clone());
    let name = RwSignal::new(site.name.clone());
    let origins = RwSignal::new(site.allowed_origins.join("\n"));
    let settings = RwSignal::new(site.settings.clone());
    let hours_on = RwSignal::new(site.settings.hours.is_some());
    let hours = RwSignal::new(site.settings.hours.clone().unwrap_or_else(|| {
        BusinessHours {
            time_zone: "Europe/Amsterdam".to_owned(),
            weekly: (0..5)
                .map(|day| OpeningSpan {
                    day,
                    opens: "09:00".to_owned(),
                    closes: "17:00".to_owned(),
                })
                .collect(),
            holidays: Vec::new(),
        }
    }));
    let status = RwSignal::new(None::<String>);
    // Empty: never email unseen replies.
    let email_delay = RwSignal::new(
        site.email_delay_minutes
            .map(|m| m.to_string())
            .unwrap_or_default(),
    );
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut chosen = settings.get_untracked();
        chosen.hours = hours_on.get_untracked().then(|| hours.get_untracked());
        let change = SiteChange {
            name: Some(name.get_untracked()),
            allowed_origins: Some(
                origins
                    .get_untracked()
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            settings: Some(chosen),
            email_delay_minutes: Some(email_delay.with_untracked(|d| d.trim().parse::<u32>().ok())),
        };
        spawn_local(async move {
            let path = format!("/api/admin/sites/{}", id.get_value());
            match call::<SiteView>("PATCH", &path, Some(&change)).await {
                Ok(_) => {
                    status.set(Some(
                        "Saved. Shops' pages show it on their next load.".to_owned(),
                    ));
                    on_saved(None);
                }
                Err(message) => status.set(Some(message)),
            }
        });
    };
    let delete = move |_| {
        let sure = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message("Delete this site, its conversations and contacts?")
                    .ok()
            })
            .unwrap_or(false);
        if !sure {
            return;
        }
        spawn_local(async move {
            let path = format!("/api/admin/sites/{}", id.get_value());
            match call_empty("DELETE", &path, NONE).await {
                Ok(()) => on_saved(None),
                Err(message) => status.set(Some(message)),
            }
        });
    };
    let snippet = site.snippet.clone();
    let copy_snippet = site.snippet.clone();
    let copied = RwSignal::new(false);
    let copy = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&copy_snippet);
            copied.set(true);
        }
    };
    let text = move |get: fn(&SiteSettings) -> &String, set: fn(&mut SiteSettings, String)| {
        (
            move || settings.with(|s| get(s).clone()),
            move |ev: leptos::ev::Event| settings.update(|s| set(s, event_target_value(&ev))),
        )
    };
    let (greeting, on_greeting) = text(|s| &s.greeting, |s, v| s.greeting = v);
    let (known, on_known) = text(|s| &s.greeting_known, |s, v| s.greeting_known = v);
    let (away, on_away) = text(|s| &s.away_message, |s, v| s.away_message = v);
    let (label, on_label) = text(|s| &s.launcher_label, |s, v| s.launcher_label = v);
    let (accent, on_accent) = text(|s| &s.accent, |s, v| s.accent = v);
    view! {
        <form class="site-editor" on:submit=save aria-label="Site settings">
            <h2>{move || name.get()}</h2>
            <section class="install">
                <h3>"Embed snippet"</h3>
                <p>"Paste this line into every page of your shop, just before " <code>"</body>"</code> "."</p>
                <textarea class="snippet" readonly rows="2" aria-label="Embed snippet">{snippet}</textarea>
                <button type="button" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy snippet" }}</button>
                <Installed site=site.clone() />
            </section>
            <label>"Name"
                <input name="name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label>"Allowed origins (one per line, like https://shop.example)"
                <textarea name="origins" rows="3" prop:value=move || origins.get()
                    on:input=move |ev| origins.set(event_target_value(&ev))></textarea>
            </label>
            {move || origins.with(|o| o.trim().is_empty()).then(|| view! {
                <p class="warning">"No origins listed: only pages on this computer (localhost) and the demo page may use this site. That is for trying Rapport out; add your shop's origin before going live."</p>
            })}
            <fieldset class="look">
                <legend>"Look and words"</legend>
                <label>"Accent colour" <input type="color" name="accent" prop:value=accent on:input=on_accent /></label>
                <label>"Position"
                    <select name="position" on:change=move |ev| settings.update(|s| s.position =
                        if event_target_value(&ev) == "left" { WidgetPosition::Left } else { WidgetPosition::Right })
                        prop:value=move || settings.with(|s| if s.position == WidgetPosition::Left { "left" } else { "right" })>
                        <option value="right">"Bottom right"</option>
                        <option value="left">"Bottom left"</option>
                    </select>
                </label>
                <label>"Launcher label" <input name="launcher-label" placeholder="Chat" prop:value=label on:input=on_label /></label>
                <label>"Launcher height above the page's bottom (px, to clear a bar of your own, like a cookie banner)"
                    <input type="number" name="launcher-offset" min="0" max=protocol::MAX_LAUNCHER_OFFSET.to_string()
                        prop:value=move || settings.with(|s| s.launcher_offset.to_string())
                        on:input=move |ev| settings.update(|s| s.launcher_offset = event_target_value(&ev).parse().unwrap_or(0)) />
                </label>
                <label>"Reopen window: days after a close in which the customer's next word opens the same conversation again (0: always a new one)"
                    <input type="number" name="reopen-days" min="0" max=protocol::MAX_REOPEN_DAYS.to_string()
                        prop:value=move || settings.with(|s| s.reopen_days.to_string())
                        on:input=move |ev| settings.update(|s| s.reopen_days = event_target_value(&ev).parse().unwrap_or(0)) />
                </label>
                <label>"After a chat, ask the shopper how it was"
                    <select name="rating" on:change=move |ev| settings.update(|s| s.rating = match event_target_value(&ev).as_str() {
                            "stars" => RatingScale::Stars,
                            "off" => RatingScale::Off,
                            _ => RatingScale::Faces,
                        })
                        prop:value=move || settings.with(|s| match s.rating {
                            RatingScale::Faces => "faces",
                            RatingScale::Stars => "stars",
                            RatingScale::Off => "off",
                        })>
                        <option value="faces">"With five faces"</option>
                        <option value="stars">"With five stars"</option>
                        <option value="off">"Do not ask"</option>
                    </select>
                </label>
                <label>
                    <input type="checkbox" name="agents-write-articles"
                        prop:checked=move || settings.with(|s| s.agents_write_articles)
                        on:change=move |ev| settings.update(|s| s.agents_write_articles = event_target_checked(&ev)) />
                    " Agents may write and publish help articles (owners always may)"
                </label>
                <label>"Show agents as"
                    <select name="agent-display" on:change=move |ev| settings.update(|s| s.agent_display = match event_target_value(&ev).as_str() {
                            "first_name" => AgentDisplay::FirstName,
                            "initials" => AgentDisplay::Initials,
                            "team_only" => AgentDisplay::TeamOnly,
                            "avatar" => AgentDisplay::Avatar,
                            _ => AgentDisplay::FullName,
                        })
                        prop:value=move || settings.with(|s| match s.agent_display {
                            AgentDisplay::FullName => "full_name",
                            AgentDisplay::FirstName => "first_name",
                            AgentDisplay::Initials => "initials",
                            AgentDisplay::TeamOnly => "team_only",
                            AgentDisplay::Avatar => "avatar",
                        })>
                        <option value="full_name">"Full name"</option>
                        <option value="first_name">"First name"</option>
                        <option value="initials">"Initials"</option>
                        <option value="team_only">"The site's name only"</option>
                        <option value="avatar">"Picture and full name"</option>
                    </select>
                </label>
                <label>"Greeting" <textarea name="greeting" rows="2" placeholder="The language's default"
                    prop:value=greeting on:input=on_greeting></textarea></label>
                <label>"Greeting for known shoppers ({first_name} is theirs)" <textarea name="greeting-known" rows="2"
                    placeholder="Hi {first_name}! How can we help?" prop:value=known on:input=on_known></textarea></label>
                <label>"Away message" <textarea name="away" rows="2" placeholder="The language's default"
                    prop:value=away on:input=on_away></textarea></label>
                <label>"Language"
                    <select name="language" on:change=move |ev| settings.update(|s| {
                            let code = event_target_value(&ev);
                            s.language = (!code.is_empty()).then_some(code);
                        })
                        prop:value=move || settings.with(|s| s.language.clone().unwrap_or_default())>
                        {LANGUAGES.iter().map(|(code, label)| view! { <option value=*code>{*label}</option> }).collect_view()}
                    </select>
                </label>
            </fieldset>
            <Preview settings site_name=site.name.clone() />
            <fieldset class="privacy">
                <legend>"Privacy"</legend>
                <label><input type="checkbox" name="typing-preview"
                    prop:checked=move || settings.with(|s| s.typing_preview)
                    on:change=move |ev| settings.update(|s| s.typing_preview = event_target_checked(&ev)) />
                    " Agents see what shoppers type before they send it"</label>
                <p class="hint">"Off by default: shoppers do not expect their unsent words to be read. Agents always see that someone is typing; with this on, they also see the draft."</p>
            </fieldset>
            <fieldset class="file-kinds">
                <legend>"Files shoppers may send"</legend>
                {FILE_KINDS.iter().map(|&(kind, label)| view! {
                    <label><input type="checkbox"
                        prop:checked=move || settings.with(|s| s.file_kinds.contains(&kind))
                        on:change=move |ev| settings.update(|s| {
                            s.file_kinds.retain(|k| *k != kind);
                            if event_target_checked(&ev) {
                                s.file_kinds.push(kind);
                            }
                        }) />
                        " " {label}</label>
                }).collect_view()}
                <p class="hint">"Each file's kind is decided from its content, whatever its name says. Photos lose their location and other hidden details before they are kept. None ticked: the chat takes no files."</p>
            </fieldset>
            <Mail mail=site.mail.clone() email_delay />
            <Hours hours_on hours />
            <button type="submit" class="save">"Save"</button>
            <p class="status" role="status">{move || status.get()}</p>
            <Identity site_id=site.id.clone() />
            <button type="button" class="danger" on:click=delete>"Delete site"</button>
        </form>
    }
}

/// Mail for the site: when unseen replies go out, where email replies come
/// back, what to set up for that, and how sending is going.
#[component]
fn Mail(mail: MailSetup, email_delay: RwSignal<String>) -> impl IntoView {
    let outbound = if mail.outbound {
        "Mail goes out through the server's SMTP relay."
    } else {
        "No mail goes out: the server has no RAPPORT_SMTP_URL."
    };
    let inbound = match (mail.inbound_smtp, mail.inbound_webhook) {
        (true, true) => "Email replies come back by SMTP and by the mail provider's webhook.",
        (true, false) => "Email replies come back by SMTP.",
        (false, true) => "Email replies come back by the mail provider's webhook.",
        (false, false) => {
            "Email replies do not come back: mail says to continue in the chat (set RAPPORT_INBOUND_SMTP_ADDR or RAPPORT_INBOUND_WEBHOOK_SECRET)."
        }
    };
    let status = &mail.status;
    let summary = format!(
        "{} waiting, {} sent, {} given up.",
        status.waiting, status.sent, status.failed
    );
    let today = format!(
        "Last 24 hours: {} queued ({} asked for by shoppers), {} refused.",
        status.queued_today, status.asked_by_shoppers_today, status.refused_today
    );
    let refusals = status
        .refusals
        .iter()
        .map(|r| {
            let at = crate::clock::date_and_time(r.at_ms);
            view! { <li>{format!("{at}: {} mail to {} not sent: {}", r.kind, r.recipient, r.reason)}</li> }
        })
        .collect_view();
    let problems = mail
        .status
        .problems
        .iter()
        .map(|p| {
            let when = if p.given_up { "given up" } else { "will retry" };
            let at = crate::clock::date_and_time(p.at_ms);
            view! { <li>{format!("{} mail of {at} to {}: {} ({} attempts, {when})", p.kind, p.recipient, p.error, p.attempts)}</li> }
        })
        .collect_view();
    view! {
        <fieldset class="mail">
            <legend>"Email"</legend>
            <label>"Email replies the shopper has not seen after (minutes; empty: never)"
                <input name="email-delay" type="number" min="1" max=MAX_EMAIL_DELAY_MINUTES.to_string()
                    prop:value=move || email_delay.get()
                    on:input=move |ev| email_delay.set(event_target_value(&ev)) />
            </label>
            <p>{outbound} " " {inbound}</p>
            <p>"Reply addresses: " <code>{format!("reply+…@{}", mail.reply_domain)}</code></p>
            {(!mail.records.is_empty()).then(|| view! {
                <p>"To set up at your mail provider:"</p>
                <ul class="records">{mail.records.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul>
            })}
            <p class="mail-status">{summary}</p>
            <ul class="mail-problems">{problems}</ul>
            <p class="mail-today">{today}</p>
            <ul class="mail-refusals" aria-label="Mail refused">{refusals}</ul>
        </fieldset>
    }
}

/// The widget as shoppers will see it, drawn from the unsaved settings.
#[component]
fn Preview(settings: RwSignal<SiteSettings>, site_name: String) -> impl IntoView {
    let style = move || settings.with(|s| format!("--preview-accent: {}", s.accent));
    let greeting = move || {
        settings.with(|s| {
            if s.greeting.trim().is_empty() {
                "(the language's default greeting)".to_owned()
            } else {
                s.greeting.clone()
            }
        })
    };
    let label = move || {
        settings.with(|s| {
            if s.launcher_label.trim().is_empty() {
                "Chat".to_owned()
            } else {
                s.launcher_label.clone()
            }
        })
    };
    let left = move || settings.with(|s| s.position == WidgetPosition::Left);
    view! {
        <figure class="preview" style=style class:left=left aria-label="Preview">
            <div class="preview-panel">
                <div class="preview-header">{site_name}</div>
                <p class="preview-greeting">{greeting}</p>
            </div>
            <span class="preview-launcher">{label}</span>
            <figcaption>"Preview"</figcaption>
        </figure>
    }
}

#[component]
fn Hours(hours_on: RwSignal<bool>, hours: RwSignal<BusinessHours>) -> impl IntoView {
    let span_of = move |day: u8| {
        hours.with(|h| {
            h.weekly
                .iter()
                .find(|s| s.day == day)
                .map(|s| (s.opens.clone(), s.closes.clone()))
        })
    };
    let set_day = move |day: u8, opens: Option<String>, closes: Option<String>| {
        hours.update(|h| {
            let (old_opens, old_closes) = h
                .weekly
                .iter()
                .find(|s| s.day == day)
                .map(|s| (s.opens.clone(), s.closes.clone()))
                .unwrap_or_else(|| ("09:00".to_owned(), "17:00".to_owned()));
            h.weekly.retain(|s| s.day != day);
            let opens = opens.unwrap_or(old_opens);
            let closes = closes.unwrap_or(old_closes);
            if !opens.is_empty() && !closes.is_empty() {
                h.weekly.push(OpeningSpan { day, opens, closes });
            }
        })
    };
    view! {
        <fieldset class="hours">
            <legend>"Business hours"</legend>
            <label><input type="checkbox" name="hours-on" prop:checked=move || hours_on.get()
                on:change=move |ev| hours_on.set(event_target_checked(&ev)) />
                " Only at these times (outside them shoppers leave a message)"</label>
            <label>"Time zone" <input name="time-zone" placeholder="Europe/Amsterdam"
                prop:value=move || hours.with(|h| h.time_zone.clone())
                on:input=move |ev| hours.update(|h| h.time_zone = event_target_value(&ev)) /></label>
            <table>
                <tbody>
                    {DAYS.iter().enumerate().map(|(index, day)| {
                        let day_number = u8::try_from(index).unwrap_or(0);
                        view! {
                            <tr>
                                <th scope="row">{*day}</th>
                                <td><input type="time" aria-label=format!("{day} opens")
                                    prop:value=move || span_of(day_number).map(|s| s.0).unwrap_or_default()
                                    on:change=move |ev| set_day(day_number, Some(event_target_value(&ev)), None) /></td>
                                <td><input type="time" aria-label=format!("{day} closes")
                                    prop:value=move || span_of(day_number).map(|s| s.1).unwrap_or_default()
                                    on:change=move |ev| set_day(day_number, None, Some(event_target_value(&ev))) /></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <label>"Holidays (one date per line, like 2026-12-25)"
                <textarea name="holidays" rows="3"
                    prop:value=move || hours.with(|h| h.holidays.join("\n"))
                    on:change=move |ev| hours.update(|h| h.holidays = event_target_value(&ev)
                        .lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())></textarea>
            </label>
        </fieldset>
    }
}

/// The secret the shop's backend signs identity tokens with, its rotation,
/// and the switch that makes verified identity required.
#[component]
fn Identity(site_id: String) -> impl IntoView {
    let identity = RwSignal::new(None::<IdentitySettings>);
    let grace = RwSignal::new("60".to_owned());
    let problem = RwSignal::new(None::<String>);
    let base = StoredValue::new(format!("/api/admin/sites/{site_id}/identity"));
    spawn_local(async move {
        match call::<IdentitySettings>("GET", &base.get_value(), NONE).await {
            Ok(loaded) => identity.set(Some(loaded)),
            Err(message) => problem.set(Some(message)),
        }
    });
    let rotate = move |_| {
        let Ok(grace_minutes) = grace.get_untracked().trim().parse::<i64>() else {
            problem.set(Some("The grace period is a number of minutes.".to_owned()));
            return;
        };
        spawn_local(async move {
            let path = format!("{}/rotate", base.get_value());
            match call::<IdentitySettings>("POST", &path, Some(&SecretRotation { grace_minutes }))
                .await
            {
                Ok(loaded) => {
                    problem.set(None);
                    identity.set(Some(loaded));
                }
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    let enforce = move |ev: leptos::ev::Event| {
        let enforce = event_target_checked(&ev);
        spawn_local(async move {
            let path = format!("{}/enforce", base.get_value());
            match call::<IdentitySettings>("PUT", &path, Some(&EnforceIdentity { enforce })).await {
                Ok(loaded) => identity.set(Some(loaded)),
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    view! {
        <fieldset class="identity">
            <legend>"Verified identity"</legend>
            <p>"Your shop's server signs a token (HS256) with this secret for a signed-in customer; see the README."</p>
            <ul class="secrets">
                {move || identity.get().map(|i| i.secrets.into_iter().map(|s| {
                    let when = match s.expires_at_ms {
                        None => "current".to_owned(),
                        Some(ms) => format!("stops working in {} min", ((ms as f64 - js_sys::Date::now()) / 60_000.0).ceil().max(0.0)),
                    };
                    view! { <li><code class="secret">{s.secret}</code> " " <span>{when}</span></li> }
                }).collect_view())}
            </ul>
            <label>"Old secret keeps working for (minutes)"
                <input type="number" min="0" max="10080" name="grace" prop:value=move || grace.get()
                    on:input=move |ev| grace.set(event_target_value(&ev)) /></label>
            <button type="button" on:click=rotate>"Rotate secret"</button>
            <label><input type="checkbox" name="enforce"
                prop:checked=move || identity.with(|i| i.as_ref().is_some_and(|i| i.enforce))
                on:change=enforce />
                " Require verified identity (refuse unsigned identify calls)"</label>
            <p class="error" role="alert">{move || problem.get()}</p>
        </fieldset>
    }
}
