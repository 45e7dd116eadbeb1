//! Bodies of the inbox's HTTP API (profiles, contacts, teams, sign-in).

use serde::{Deserialize, Serialize};

use crate::{ConversationSummary, StatedDetails};

/// A team and who is in it: `GET /api/teams`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub member_ids: Vec<String>,
}

/// `PUT /api/agents/{id}/capacity`: how many conversations the agent holds
/// at once; `null` means the site's default.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityUpdate {
    pub capacity: Option<i64>,
}

/// What an agent sees about the shopper of a conversation the moment it is
/// offered: `GET /api/conversations/{id}/profile`. Agent-only.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct CustomerProfile {
    /// What the shop's signed token said; `None` for an anonymous shopper.
    pub contact: Option<ContactView>,
    /// What the page stated without a signature: shown as unverified.
    pub unverified: Option<StatedDetails>,
    /// The shopper's browser (User-Agent) and language, as last seen.
    pub browser: Option<String>,
    pub language: Option<String>,
    /// Every conversation of this shopper, newest first, with its outcome.
    pub conversations: Vec<ConversationSummary>,
    /// Notes any agent left on the contact, newest first.
    pub notes: Vec<ContactNote>,
    /// Who changed which attribute, newest first.
    pub changes: Vec<AttributeChange>,
    /// Pages the widget loaded on in the last day, newest (where the
    /// shopper is now) first.
    #[serde(default)]
    pub pages: Vec<PageVisit>,
    /// The shopper's IANA time zone, for their local time.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// What the page recorded with `Rapport('track', …)`, newest first.
    #[serde(default)]
    pub timeline: Vec<TrackedEvent>,
    /// The shopper's number in the site ("Visitor 1042"), for one with no name.
    #[serde(default)]
    pub number: Option<i64>,
    /// The contact's labels (`vip`), sorted.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Contacts merged into this one, newest first: the audit of merges.
    #[serde(default)]
    pub merges: Vec<ContactMerge>,
    /// The anonymous visitor this page is about (`None` for a contact):
    /// their page is `GET /api/visitors/{id}`.
    #[serde(default)]
    pub visitor_id: Option<String>,
    /// Help articles the shopper opened in the widget, newest first.
    #[serde(default)]
    pub articles: Vec<crate::ArticleRead>,
}

/// A contact merged into another: who, by whom, when and why
/// (`by_hand`: an owner merged them; `same_shop_id`: one shop id on two of
/// the account's sites).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ContactMerge {
    pub merged_contact_id: String,
    pub merged_external_id: String,
    pub merged_name: Option<String>,
    pub merged_email: Option<String>,
    pub agent_name: Option<String>,
    pub reason: String,
    pub at_ms: i64,
}

/// `POST /api/contacts/{id}/merge`: the contact to merge into this one.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MergeRequest {
    pub merged_contact_id: String,
}

/// One line of the account's customer list, `GET /api/customers`: a
/// verified contact, or an anonymous visitor who left an email address.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CustomerLine {
    /// Set for a verified contact (page: `GET /api/contacts/{id}`).
    pub contact_id: Option<String>,
    /// Set for an anonymous visitor (page: `GET /api/visitors/{id}`).
    pub visitor_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The shop's id, for a contact.
    pub external_id: Option<String>,
    pub labels: Vec<String>,
    /// When they last wrote or were written to (Unix ms), if ever.
    pub last_active_ms: Option<i64>,
    pub conversations: i64,
}

/// A page of the customer list; `next` continues it (`?after=`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerList {
    pub customers: Vec<CustomerLine>,
    pub next: Option<String>,
}

/// Customers a page of the list holds at most.
pub const CUSTOMER_PAGE: i64 = 50;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PageVisit {
    pub url: String,
    pub title: Option<String>,
    pub at_ms: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TrackedEvent {
    pub name: String,
    /// JSON as the page gave it.
    pub data: Option<String>,
    pub at_ms: i64,
}

/// A verified contact as agents see them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ContactView {
    pub id: String,
    /// The shop's own id for the customer.
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    /// Loyalty tier, last order, lifetime value…, as text.
    pub attributes: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ContactNote {
    pub id: String,
    pub author_name: Option<String>,
    pub body: String,
    pub created_at_ms: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AttributeChange {
    pub name: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub agent_name: Option<String>,
    pub created_at_ms: i64,
}

/// `POST /api/contacts/{id}/notes`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct NewContactNote {
    pub body: String,
}

/// `PUT /api/contacts/{id}/attributes`: set `name` to `value`, or remove it
/// when `value` is null.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AttributeEdit {
    pub name: String,
    pub value: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /api/auth/password`: a signed-in person changes their password;
/// their other sessions end.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /api/auth/reset`: mail a link to choose a new password (answered
/// the same whether or not the address has an account).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ResetRequest {
    pub email: String,
}

/// `POST /api/auth/reset/confirm`: the link's token and the new password;
/// the link works once, every other session of that person ends, and the
/// browser that used it is signed in. A person who has not chosen their
/// name yet (the first run's owner) gives it here, and may give their own
/// address instead of the one they were created with.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ResetConfirm {
    pub token: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `POST /api/auth/reset/info` (the token in an [`crate::InviteToken`]
/// body): whose password the link chooses. `name` is empty while the
/// person has not chosen one (the first run's owner).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ResetInfo {
    pub email: String,
    pub name: String,
    pub account_name: String,
}

/// `GET /api/auth/session`: who this browser is signed in as, if anyone
/// (200 either way, unlike `/api/me`, so a signed-out visit logs no error).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SessionInfo {
    pub agent: Option<crate::AgentProfile>,
}

/// `PATCH /api/me`: the signed-in person's own name and sign-in address.
/// A new address needs the current password (a borrowed session must not
/// be able to take the account by moving its resets elsewhere).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ProfileChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_password: Option<String>,
}
