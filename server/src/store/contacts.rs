//! Contacts: a shop's own customers, as their signed identity tokens
//! describe them, and the site secrets those tokens are checked with.
//!
//! A contact is the account's: the same shop id on any of its sites is one
//! person. On each site they have one primary visitor that holds that site's
//! conversations; a browser that identifies as them there is merged into it
//! (its token then stands for it), and an anonymous browser brings its
//! conversations along. Two different contacts merge only by an owner's hand
//! (`merges`), and unsigned details stay on the visitor that gave them.

use sqlx::Row;

use super::conversations::{fold_in, open_conversation_of};
use super::{ConversationBook, Folded, Store, StoreResult, Visitor, VisitorBook, new_id, now_ms};
use crate::contact_token::Claims;
use crate::identity;

/// The outcome of a verified identify.
#[derive(Clone, Debug, PartialEq)]
pub struct Identified {
    /// The visitor this browser now stands for (the contact's primary).
    pub visitor: Visitor,
    /// A new visitor token for this browser, when it must stop standing for
    /// the visitor it was (it was another contact's).
    pub new_token: Option<String>,
    /// The browser's open conversation, closed into the customer's open one.
    pub folded: Option<Folded>,
}

impl Store {
    /// The secrets tokens for this site may be signed with now: the current
    /// one and rotated ones still in their grace period, newest first.
    pub async fn usable_site_secrets(&self, site_id: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT secret FROM site_secrets WHERE site_id = $1 \
             AND (retires_at IS NULL OR retires_at > $2) ORDER BY created_at DESC, id",
        )
        .bind(site_id)
        .bind(now_ms())
        .fetch_all(&self.read)
        .await?)
    }

    /// Makes a new current secret; the previous ones keep working for
    /// `grace_ms` more. Returns the new secret.
    pub async fn rotate_site_secret(&self, site_id: &str, grace_ms: i64) -> StoreResult<String> {
        let secret = identity::random_token(32);
        let now = now_ms();
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "UPDATE site_secrets SET retires_at = $2 WHERE site_id = $1 \
             AND (retires_at IS NULL OR retires_at > $2)",
        )
        .bind(site_id)
        .bind(now.saturating_add(grace_ms.max(0)))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO site_secrets (id, site_id, secret, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new_id())
        .bind(site_id)
        .bind(&secret)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Whether `identify` on this site must carry a valid signed token.
    pub async fn set_enforce_identity(&self, site_id: &str, enforce: bool) -> StoreResult<()> {
        sqlx::query("UPDATE sites SET enforce_identity = $2 WHERE id = $1")
            .bind(site_id)
            .bind(i64::from(enforce))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// What the widget may use of what is known about a visitor: the
    /// verified contact's name (to greet them; never an unverified one), and
    /// whether any email is known (so nobody asks for it again).
    pub async fn known_to_widget(&self, visitor_id: &str) -> StoreResult<(Option<String>, bool)> {
        let row = sqlx::query(
            "SELECT c.name, c.email, v.unverified, v.stated_email FROM visitors v \
             LEFT JOIN contacts c ON c.id = v.contact_id WHERE v.id = $1",
        )
        .bind(visitor_id)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else {
            return Ok((None, false));
        };
        let name: Option<String> = row.try_get("name")?;
        let verified_email: Option<String> = row.try_get("email")?;
        let stated_email = row
            .try_get::<Option<String>, _>("unverified")?
            .and_then(|json| serde_json::from_str::<protocol::StatedDetails>(&json).ok())
            .and_then(|details| details.email);
        let given: Option<String> = row.try_get("stated_email")?;
        let email_known = verified_email
            .or(stated_email)
            .or(given)
            .is_some_and(|email| !email.trim().is_empty());
        Ok((name, email_known))
    }

    pub async fn count_contacts(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM contacts")
            .fetch_one(&self.read)
            .await?)
    }
}

/// Ids of every browser of the contact `$1`: its primaries on each site and
/// those merged into them.
pub(super) const VISITORS_OF_CONTACT: &str = "SELECT id FROM visitors WHERE contact_id = $1 \
     OR merged_into IN (SELECT id FROM visitors WHERE contact_id = $1)";

/// The id of the account's (`$1`) contact with the shop id `$2`: its own, or
/// one an owner merged into it.
pub(super) const CONTACT_OF_SHOP_ID: &str = "SELECT COALESCE(\
     (SELECT id FROM contacts WHERE account_id = $1 AND external_id = $2), \
     (SELECT kept_contact_id FROM contact_merges WHERE account_id = $1 \
      AND merged_external_id = $2 ORDER BY created_at DESC LIMIT 1))";

/// A contact as the owner's console and exports show it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ContactRecord {
    pub id: String,
    pub site_id: String,
    pub account_id: String,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    pub attributes: serde_json::Value,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

const CONTACT_SELECT: &str = "SELECT c.id, c.site_id, c.account_id, c.external_id, c.name, \
     c.email, c.phone, c.language, c.attributes, c.created_at, c.updated_at FROM contacts c";

fn contact_from_row(row: &sqlx::any::AnyRow) -> StoreResult<ContactRecord> {
    Ok(ContactRecord {
        id: row.try_get("id")?,
        site_id: row.try_get("site_id")?,
        account_id: row.try_get("account_id")?,
        external_id: row.try_get("external_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        language: row.try_get("language")?,
        attributes: serde_json::from_str(&row.try_get::<String, _>("attributes")?)
            .unwrap_or_default(),
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
    })
}

impl Store {
    pub async fn contact(&self, id: &str) -> StoreResult<Option<ContactRecord>> {
        let row = sqlx::query(&format!("{CONTACT_SELECT} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(contact_from_row).transpose()
    }

    /// The account's contact with this shop-side id (or one merged into
    /// it), as a list: none or one.
    pub async fn contacts_by_external_id(
        &self,
        account_id: &str,
        external_id: &str,
    ) -> StoreResult<Vec<ContactRecord>> {
        let rows = sqlx::query(&format!(
            "{CONTACT_SELECT} WHERE c.id = ({CONTACT_OF_SHOP_ID})"
        ))
        .bind(account_id)
        .bind(external_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(contact_from_row).collect()
    }

    /// Ids of every visitor that is or was merged into the contact.
    async fn visitors_of_contact(&self, contact_id: &str) -> StoreResult<Vec<String>> {
        Ok(
            sqlx::query_scalar(&format!("{VISITORS_OF_CONTACT} ORDER BY created_at, id"))
                .bind(contact_id)
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Everything stored about a contact, for the owner to hand over: the
    /// contact, the browsers that were them, and every conversation with
    /// every event (agents' notes included).
    pub async fn export_contact(&self, contact: &ContactRecord) -> StoreResult<serde_json::Value> {
        let mut visitors = Vec::new();
        let mut conversations = Vec::new();
        for visitor_id in self.visitors_of_contact(&contact.id).await? {
            let row = sqlx::query(
                "SELECT created_at, last_seen_at, unverified FROM visitors WHERE id = $1",
            )
            .bind(&visitor_id)
            .fetch_one(&self.read)
            .await?;
            let unverified: Option<String> = row.try_get("unverified")?;
            visitors.push(serde_json::json!({
                "id": visitor_id,
                "created_at_ms": row.try_get::<i64, _>("created_at")?,
                "last_seen_at_ms": row.try_get::<i64, _>("last_seen_at")?,
                "unverified_details": unverified.and_then(|u| serde_json::from_str::<serde_json::Value>(&u).ok()),
            }));
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM conversations WHERE visitor_id = $1 ORDER BY created_at, id",
            )
            .bind(&visitor_id)
            .fetch_all(&self.read)
            .await?;
            for id in ids {
                let Some(conversation) = self.conversation(&id).await? else {
                    continue;
                };
                let events = self.events_after(&id, 0, i64::MAX).await?;
                conversations.push(serde_json::json!({
                    "conversation": conversation.summary(),
                    "events": events,
                }));
            }
        }
        let mut pages = Vec::new();
        let mut tracked = Vec::new();
        for row in sqlx::query(&format!(
            "SELECT visitor_id, url, title, created_at FROM page_views WHERE visitor_id IN \
             ({VISITORS_OF_CONTACT}) ORDER BY created_at, id"
        ))
        .bind(&contact.id)
        .fetch_all(&self.read)
        .await?
        {
            pages.push(serde_json::json!({
                "url": row.try_get::<String, _>("url")?,
                "title": row.try_get::<Option<String>, _>("title")?,
                "at_ms": row.try_get::<i64, _>("created_at")?,
            }));
        }
        for row in sqlx::query(&format!(
            "SELECT name, data, created_at FROM tracked_events WHERE visitor_id IN \
             ({VISITORS_OF_CONTACT}) ORDER BY created_at, id"
        ))
        .bind(&contact.id)
        .fetch_all(&self.read)
        .await?
        {
            tracked.push(serde_json::json!({
                "name": row.try_get::<String, _>("name")?,
                "data": row.try_get::<Option<String>, _>("data")?,
                "at_ms": row.try_get::<i64, _>("created_at")?,
            }));
        }
        Ok(serde_json::json!({
            "contact": contact,
            "visitors": visitors,
            "conversations": conversations,
            "pages": pages,
            "tracked": tracked,
        }))
    }
}

/// What a page stated (see [`VisitorBook`]).
impl VisitorBook {
    /// Keeps what an unsigned identify said on this visitor only.
    pub async fn set_unverified_details(
        &self,
        visitor_id: &str,
        details: &serde_json::Value,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE visitors SET unverified = $2 WHERE id = $1")
            .bind(visitor_id)
            .bind(details.to_string())
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

/// Folding a browser into a customer, and erasing one (see [`ConversationBook`]).
impl ConversationBook {
    /// Records what a verified token says and joins `visitor` to the contact
    /// it names (see the module doc).
    pub async fn identify_visitor(
        &self,
        visitor: &Visitor,
        claims: &Claims,
    ) -> StoreResult<Identified> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        // Contacts are the account's: the same shop id on another of its
        // sites is this person.
        let account_id: String = sqlx::query_scalar("SELECT account_id FROM sites WHERE id = $1")
            .bind(&visitor.site_id)
            .fetch_one(&mut *tx)
            .await?;
        let existing = sqlx::query(&format!(
            "SELECT id, attributes FROM contacts WHERE id = ({CONTACT_OF_SHOP_ID})"
        ))
        .bind(&account_id)
        .bind(claims.sub.trim())
        .fetch_optional(&mut *tx)
        .await?;
        let contact_id = match existing {
            None => {
                // Another site's sign-in may make them at the same moment:
                // whichever is first, both go on with that one.
                sqlx::query(
                    "INSERT INTO contacts (id, site_id, account_id, external_id, name, email, phone, \
                     language, attributes, created_at, updated_at) \
                     VALUES ($1, $2, $10, $3, $4, $5, $6, $7, $8, $9, $9) \
                     ON CONFLICT (account_id, external_id) DO NOTHING",
                )
                .bind(new_id())
                .bind(&visitor.site_id)
                .bind(claims.sub.trim())
                .bind(claims.name.as_deref())
                .bind(claims.email.as_deref())
                .bind(claims.phone.as_deref())
                .bind(claims.language.as_deref())
                .bind(serde_json::Value::Object(claims.attributes.clone()).to_string())
                .bind(now)
                .bind(&account_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query_scalar(
                    "SELECT id FROM contacts WHERE account_id = $1 AND external_id = $2",
                )
                .bind(&account_id)
                .bind(claims.sub.trim())
                .fetch_one(&mut *tx)
                .await?
            }
            Some(row) => {
                let id: String = row.try_get("id")?;
                // The shop's latest word wins, key by key; what it did not
                // mention this time stays.
                let mut attributes: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&row.try_get::<String, _>("attributes")?)
                        .unwrap_or_default();
                attributes.extend(claims.attributes.clone());
                sqlx::query(
                    "UPDATE contacts SET name = COALESCE($2, name), email = COALESCE($3, email), \
                     phone = COALESCE($4, phone), language = COALESCE($5, language), attributes = $6, \
                     updated_at = $7 WHERE id = $1",
                )
                .bind(&id)
                .bind(claims.name.as_deref())
                .bind(claims.email.as_deref())
                .bind(claims.phone.as_deref())
                .bind(claims.language.as_deref())
                .bind(serde_json::Value::Object(attributes).to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let primary: Option<String> = sqlx::query_scalar(
            "SELECT id FROM visitors WHERE contact_id = $1 AND site_id = $2 AND merged_into IS NULL \
             ORDER BY created_at, id LIMIT 1",
        )
        .bind(&contact_id)
        .bind(&visitor.site_id)
        .fetch_optional(&mut *tx)
        .await?;
        let anonymous = visitor.contact_id.is_none();
        let mut new_token = None;
        let mut folded = None;
        let primary = match primary {
            Some(primary) if primary == visitor.id => primary,
            Some(primary) if anonymous => {
                // This browser's chats move to the contact. One open
                // conversation per visitor: the contact's open one, which
                // their other devices and its agent know, goes on; this
                // browser's closes (in its log) and hands over what the
                // shopper asked in it.
                let contact_open = open_conversation_of(&mut tx, &primary).await?;
                let browser_open = open_conversation_of(&mut tx, &visitor.id).await?;
                if let (Some(continuing), Some(browser_open)) = (contact_open, browser_open) {
                    folded = Some(fold_in(&mut tx, &browser_open, &continuing, &primary).await?);
                }
                sqlx::query("UPDATE conversations SET visitor_id = $2 WHERE visitor_id = $1")
                    .bind(&visitor.id)
                    .bind(&primary)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE visitors SET merged_into = $2 WHERE id = $1")
                    .bind(&visitor.id)
                    .bind(&primary)
                    .execute(&mut *tx)
                    .await?;
                primary
            }
            None if anonymous => {
                sqlx::query("UPDATE visitors SET contact_id = $2 WHERE id = $1")
                    .bind(&visitor.id)
                    .bind(&contact_id)
                    .execute(&mut *tx)
                    .await?;
                visitor.id.clone()
            }
            other => {
                // This browser stands for another contact (a shared computer
                // without a logout): it starts afresh for this one.
                let token = identity::new_visitor_token();
                let id = new_id();
                sqlx::query(
                    "INSERT INTO visitors (id, site_id, token_hash, created_at, last_seen_at, contact_id, merged_into) \
                     VALUES ($1, $2, $3, $4, $4, $5, $6)",
                )
                .bind(&id)
                .bind(&visitor.site_id)
                .bind(identity::token_hash(&token))
                .bind(now)
                .bind(other.is_none().then_some(contact_id.as_str()))
                .bind(other.as_deref())
                .execute(&mut *tx)
                .await?;
                new_token = Some(token);
                other.unwrap_or(id)
            }
        };
        tx.commit().await?;
        Ok(Identified {
            visitor: Visitor {
                id: primary,
                site_id: visitor.site_id.clone(),
                contact_id: Some(contact_id),
            },
            new_token,
            folded,
        })
    }
}
