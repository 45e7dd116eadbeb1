//! The owner console's wire types: sites with their look, words, language
//! and business hours; people and invitations; canned replies.

use serde::{Deserialize, Serialize};

use crate::Role;

/// Languages the widget speaks, as primary subtags.
pub const WIDGET_LANGUAGES: [&str; 4] = ["en", "nl", "ru", "bn"];

/// A widget language's name in itself ("Nederlands"); English otherwise.
pub fn language_name(code: &str) -> &'static str {
    match code {
        "nl" => "Nederlands",
        "ru" => "Русский",
        "bn" => "বাংলা",
        _ => "English",
    }
}
/// Longest site name, launcher label or shortcut, in characters.
pub const MAX_LABEL_CHARS: usize = 80;
/// Longest greeting, away message or canned reply, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// Which side of the page the launcher sits on.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WidgetPosition {
    Left,
    #[default]
    Right,
}

/// How the widget names the agent a shopper talks to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AgentDisplay {
    /// "Ada Lovelace".
    #[default]
    FullName,
    /// "Ada".
    FirstName,
    /// "AL".
    Initials,
    /// The team's name (or the site's), never a person's.
    TeamOnly,
    /// "Ada Lovelace" with her picture (her initials in a circle without one).
    Avatar,
}

/// A site's look and words, language and hours. Empty texts mean "the
/// widget language's default".
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct SiteSettings {
    /// `#rrggbb`.
    pub accent: String,
    pub position: WidgetPosition,
    pub launcher_label: String,
    pub agent_display: AgentDisplay,
    /// For a shopper the shop has not identified.
    pub greeting: String,
    /// For a known shopper; `{first_name}` is replaced by their first name.
    pub greeting_known: String,
    /// Shown outside business hours, above "leave a message".
    pub away_message: String,
    /// One of [`WIDGET_LANGUAGES`]; `None` follows the shopper's browser.
    pub language: Option<String>,
    /// `None`: always open.
    pub hours: Option<BusinessHours>,
    /// Agents see what a shopper types before they send it. Off by default:
    /// shoppers do not expect their unsent words to be read.
    #[serde(default)]
    pub typing_preview: bool,
    /// What shoppers may attach; empty: no files from shoppers.
    #[serde(default = "default_file_kinds")]
    pub file_kinds: Vec<crate::FileKind>,
    /// Pixels between the launcher and the bottom of the page, to clear a
    /// bar of the shop's own (a cookie banner, a sticky basket).
    #[serde(default)]
    pub launcher_offset: u16,
    /// Days after a close in which the customer's next message (by chat or
    /// email) opens the same conversation again; after them it starts a
    /// new one, linked to it. 0: never reopen.
    #[serde(default = "default_reopen_days")]
    pub reopen_days: u16,
    /// How a shopper rates a chat that ended, or not at all.
    #[serde(default)]
    pub rating: RatingScale,
    /// Agents may write and publish this site's help articles (owners
    /// always may).
    #[serde(default)]
    pub agents_write_articles: bool,
}

/// How the widget asks "How was your chat?" after a chat ended: five
/// faces, five stars, or not at all. Either way a rating is 1 to 5.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RatingScale {
    #[default]
    Faces,
    Stars,
    /// The site does not ask for ratings.
    Off,
}

/// A closed conversation reopens on the customer's word for at most this
/// many days.
pub const MAX_REOPEN_DAYS: u16 = 90;

fn default_reopen_days() -> u16 {
    7
}

/// The launcher is lifted at most this far (pixels) above the page's bottom.
pub const MAX_LAUNCHER_OFFSET: u16 = 400;

fn default_file_kinds() -> Vec<crate::FileKind> {
    crate::FileKind::DEFAULT.to_vec()
}

impl Default for SiteSettings {
    fn default() -> Self {
        SiteSettings {
            accent: "#2563eb".to_owned(),
            position: WidgetPosition::Right,
            launcher_label: String::new(),
            agent_display: AgentDisplay::FullName,
            greeting: String::new(),
            greeting_known: String::new(),
            away_message: String::new(),
            language: None,
            hours: None,
            typing_preview: false,
            file_kinds: default_file_kinds(),
            launcher_offset: 0,
            reopen_days: default_reopen_days(),
            rating: RatingScale::Faces,
            agents_write_articles: false,
        }
    }
}

/// When a site's team answers, in its own time zone.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BusinessHours {
    /// IANA name, e.g. "Europe/Amsterdam".
    pub time_zone: String,
    /// Open spans; a day may have several, none means closed all day.
    pub weekly: Vec<OpeningSpan>,
    /// Closed all day, as `YYYY-MM-DD` in the site's time zone.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Open from `opens` to `closes` ("HH:MM", 24-hour) on `day` (0 = Monday).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct OpeningSpan {
    pub day: u8,
    pub opens: String,
    pub closes: String,
}

/// Where the widget was last seen loading from an allowed origin.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Sighting {
    pub origin: String,
    pub page: Option<String>,
    pub at_ms: i64,
}

/// A site as its owner sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SiteView {
    pub id: String,
    pub name: String,
    pub site_key: String,
    /// The `<script async …>` line to paste into the shop's pages.
    pub snippet: String,
    /// Empty: only local pages (localhost) and the demo page may use it.
    pub allowed_origins: Vec<String>,
    pub settings: SiteSettings,
    /// The last time the widget loaded on a page, if ever.
    pub seen: Option<Sighting>,
    pub enforce_identity: bool,
    /// Minutes an agent's reply may wait unseen before it is emailed to
    /// the shopper; `None`: never.
    #[serde(default)]
    pub email_delay_minutes: Option<u32>,
    /// How mail is set up and how it is going.
    #[serde(default)]
    pub mail: MailSetup,
}

/// Mail for one site, as its owner sees it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct MailSetup {
    /// Whether the server can send mail at all (`RAPPORT_SMTP_URL`).
    pub outbound: bool,
    /// Replies go to `reply+…@` this domain.
    pub reply_domain: String,
    /// Whether email replies come back in, and how.
    pub inbound_smtp: bool,
    pub inbound_webhook: bool,
    /// What to add at the domain's DNS or mail provider, in words.
    pub records: Vec<String>,
    pub status: MailStatus,
}

/// The site's mail queue.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct MailStatus {
    /// Queued or being sent.
    pub waiting: i64,
    pub sent: i64,
    /// Given up on.
    pub failed: i64,
    /// The latest mails that failed at least once and are not sent yet.
    pub problems: Vec<FailedMail>,
    /// Mail queued in the last 24 hours, and how much of it shoppers asked for.
    #[serde(default)]
    pub queued_today: i64,
    #[serde(default)]
    pub asked_by_shoppers_today: i64,
    /// Mail refused in the last 24 hours (over an allowance, an address
    /// that opted out, one not proved), and the latest refusals.
    #[serde(default)]
    pub refused_today: i64,
    #[serde(default)]
    pub refusals: Vec<RefusedMail>,
}

/// A mail that was not sent, and why.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RefusedMail {
    pub recipient: String,
    /// `unseen`, `transcript` or `confirm`.
    pub kind: String,
    pub reason: String,
    pub at_ms: i64,
}

/// A mail that could not be sent (yet).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FailedMail {
    pub recipient: String,
    /// `unseen`, `transcript` or `confirm`.
    pub kind: String,
    /// No more attempts will be made.
    pub given_up: bool,
    pub attempts: i64,
    pub error: String,
    pub at_ms: i64,
}

/// `POST /api/admin/sites`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct NewSite {
    pub name: String,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// `PATCH /api/admin/sites/{id}`: what is given changes, the rest stays.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct SiteChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<SiteSettings>,
    /// Minutes, 1 to 1440; `null`: never email unseen replies; absent: unchanged.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub email_delay_minutes: Option<Option<u32>>,
}

/// Longest an unseen reply may wait for its email, in minutes (a day).
pub const MAX_EMAIL_DELAY_MINUTES: u32 = 24 * 60;

/// A site's identity-verification secrets, newest first, and its switch.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct IdentitySettings {
    pub secrets: Vec<SiteSecretView>,
    pub enforce: bool,
}

/// One signing secret; `expires_at_ms` is set once it was rotated away.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SiteSecretView {
    pub secret: String,
    pub expires_at_ms: Option<i64>,
}

/// `POST /api/admin/sites/{id}/identity/rotate`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SecretRotation {
    /// How long the old secret keeps working, 0 to 10,080 (a week).
    pub grace_minutes: i64,
}

/// `PUT /api/admin/sites/{id}/identity/enforce`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct EnforceIdentity {
    pub enforce: bool,
}

/// Someone in the account, as the owner manages them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Person {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub capacity: Option<i64>,
    pub languages: Vec<String>,
    /// Team ids.
    pub teams: Vec<String>,
    /// The picture shoppers see on sites that show agents' pictures.
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// `GET /api/admin/people`: everyone, and invitations still open.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct People {
    pub people: Vec<Person>,
    pub invites: Vec<InviteView>,
}

/// `PATCH /api/admin/people/{id}`: what is given changes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct PersonChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    /// `Some(None)` (JSON `null`) resets to the site default; absent leaves it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub capacity: Option<Option<i64>>,
    /// An `https://` picture; `null` removes it (shoppers see initials).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub avatar_url: Option<Option<String>>,
    /// `false` deactivates: sessions end at once and their chats go back to the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// A field that is present, even as `null`, is `Some`: tells "set to
/// nothing" apart from "leave as it is".
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `POST /api/admin/invites`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct NewInvite {
    pub email: String,
    pub role: Role,
}

/// An invitation as its sender sees it; `link` only right after creating it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct InviteView {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub expires_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Whether the email went out (no SMTP configured: share the link yourself).
    pub emailed: bool,
}

/// `POST /api/invites/info`: whom it is for, before accepting.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct InviteInfo {
    pub email: String,
    pub account_name: String,
}

/// `POST /api/invites/info`: whom an invitation link is for. The token
/// travels in the body (never in a URL, where logs and proxies keep it).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct InviteToken {
    pub token: String,
}

/// `POST /api/invites/accept`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AcceptInvite {
    pub token: String,
    pub name: String,
    pub password: String,
}

/// A short reply an agent inserts by its shortcut ("/refund").
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CannedReply {
    pub id: String,
    /// Without the slash: "refund".
    pub shortcut: String,
    /// May hold `{first_name}`, `{name}`, `{email}` or `{attribute}` for any
    /// of the contact's attributes, filled from the known profile.
    pub body: String,
    /// Shared with the whole account (owners only), or the agent's own.
    pub shared: bool,
}

/// `POST /api/replies` and `PUT /api/replies/{id}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CannedReplyDraft {
    pub shortcut: String,
    pub body: String,
    #[serde(default)]
    pub shared: bool,
}

/// `{first_name}` etc. replaced from `lookup`; unknown placeholders stay as
/// they are so the agent sees what is missing before sending. (`&dyn`: one
/// copy of this code in the widget, whatever the lookups.)
pub fn fill_placeholders(body: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if !after[..end].contains('{') => {
                let key = &after[..end];
                match lookup(key.trim()) {
                    Some(value) => out.push_str(&value),
                    None => {
                        out.push('{');
                        out.push_str(key);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_from_the_profile_and_unknown_ones_stay() {
        let lookup = |key: &str| match key {
            "first_name" => Some("Ada".to_owned()),
            "order_number" => Some("#1042".to_owned()),
            _ => None,
        };
        assert_eq!(
            fill_placeholders(
                "Hi {first_name}, order {order_number} is on its way",
                &lookup
            ),
            "Hi Ada, order #1042 is on its way"
        );
        assert_eq!(fill_placeholders("{tier} {", &lookup), "{tier} {");
        assert_eq!(
            fill_placeholders("a {{first_name}} b", &lookup),
            "a {Ada} b"
        );
        assert_eq!(fill_placeholders("no braces", &lookup), "no braces");
    }

    #[test]
    fn a_null_capacity_resets_and_an_absent_one_stays() {
        let reset: PersonChange = serde_json::from_str(r#"{"capacity":null}"#).expect("valid JSON");
        assert_eq!(reset.capacity, Some(None));
        let untouched: PersonChange = serde_json::from_str("{}").expect("valid JSON");
        assert_eq!(untouched.capacity, None);
        let set: PersonChange = serde_json::from_str(r#"{"capacity":3}"#).expect("valid JSON");
        assert_eq!(set.capacity, Some(Some(3)));
    }

    #[test]
    fn settings_missing_fields_take_defaults() {
        let settings: SiteSettings =
            serde_json::from_str(r##"{"accent":"#000000"}"##).expect("valid JSON");
        assert_eq!(settings.accent, "#000000");
        assert_eq!(settings.position, WidgetPosition::Right);
        assert!(settings.hours.is_none());
    }
}

/// `POST /api/conversations/{id}/block`: this conversation's shopper may
/// no longer chat with the account (their open sockets end, and new ones
/// and new conversations are refused with `blocked`); with `address`, nor
/// may anyone from the address they last came from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BlockRequest {
    pub reason: String,
    #[serde(default)]
    pub address: bool,
}

/// `GET /api/admin/blocks`: one block, as the owner sees it (lifted with
/// `DELETE /api/admin/blocks/{id}`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BlockView {
    pub id: String,
    pub visitor_id: Option<String>,
    /// The blocked address (an IPv6 address stands for its /64).
    pub address: Option<String>,
    pub reason: String,
    /// Who blocked, if they still exist.
    pub blocked_by: Option<String>,
    pub created_at_ms: i64,
}
