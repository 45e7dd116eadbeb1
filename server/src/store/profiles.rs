//! The agent's one view of a customer: what the shop vouched for, what the
//! page merely stated, the browser, every conversation, and the notes and
//! attribute edits agents made (with who made them). Agent-only.

use std::collections::BTreeMap;

use protocol::{
    AttributeChange, ContactNote, ContactView, CustomerProfile, PageVisit, StatedDetails,
    TrackedEvent,
};
use sqlx::Row;

use super::{
    Agent, Conversation, Store, StoreError, StoreResult, VisitorBook, new_id, new_ordered_id,
    now_ms,
};

/// Attribute values as agents read them: strings as they are, anything else as JSON.
fn as_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// What the shopper stated, with the address they gave to be answered at
/// (also unverified) when they stated none with their details.
fn stated(details: Option<StatedDetails>, email: Option<String>) -> Option<StatedDetails> {
    match (details, email) {
        (Some(mut details), Some(email)) if details.email.is_none() => {
            details.email = Some(email);
            Some(details)
        }
        (None, Some(email)) => Some(StatedDetails {
            email: Some(email),
            ..StatedDetails::default()
        }),
        (details, _) => details,
    }
}

/// Pages kept per visitor: the newest; older ones are dropped.
pub const MAX_PAGES_PER_VISITOR: i64 = 100;
/// Tracked events kept per visitor: the newest; older ones are dropped.
pub const MAX_TRACKS_PER_VISITOR: i64 = 200;

/// Drops a visitor's rows of `table` (pages or tracked events) beyond the
/// newest `keep`: a page that reports without end fills no disk.
async fn keep_newest(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &'static str,
    visitor_id: &str,
    keep: i64,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "DELETE FROM {table} WHERE visitor_id = $1 AND id NOT IN \
         (SELECT id FROM {table} WHERE visitor_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)"
    ))
    .bind(visitor_id)
    .bind(keep)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whose history a profile gathers, as a subquery of visitor ids (`$1`
/// the id): one browser with those merged into it, or every browser of a
/// contact on every site of the account.
#[derive(Clone, Copy)]
enum Whose<'a> {
    Visitor(&'a str),
    Contact(&'a str),
}

impl Whose<'_> {
    fn id(&self) -> &str {
        match self {
            Whose::Visitor(id) | Whose::Contact(id) => id,
        }
    }

    fn visitors(&self) -> &'static str {
        match self {
            Whose::Visitor(_) => "SELECT id FROM visitors WHERE id = $1 OR merged_into = $1",
            Whose::Contact(_) => super::contacts::VISITORS_OF_CONTACT,
        }
    }
}

/// Conversations a profile lists at most, newest first.
const PROFILE_CONVERSATIONS: i64 = 200;

impl Store {
    /// Everything an agent of the account may know about this
    /// conversation's shopper: the contact's whole history if the shop
    /// vouched for them, else this browser's.
    pub async fn customer_profile(
        &self,
        conversation: &Conversation,
    ) -> StoreResult<CustomerProfile> {
        let (mut profile, contact_id) = self.browser_details(&conversation.visitor_id).await?;
        match contact_id {
            Some(contact_id) => {
                self.gather(&mut profile, Whose::Contact(&contact_id))
                    .await?
            }
            None => {
                self.gather(&mut profile, Whose::Visitor(&conversation.visitor_id))
                    .await?
            }
        }
        Ok(profile)
    }

    /// A contact's page, without a conversation: their profile, every
    /// conversation on every site, notes, labels and merges.
    pub async fn contact_profile(&self, contact_id: &str) -> StoreResult<CustomerProfile> {
        // The browser they were last seen on tells their language and zone.
        let latest: Option<String> = sqlx::query_scalar(
            "SELECT id FROM visitors WHERE contact_id = $1 AND merged_into IS NULL \
             ORDER BY last_seen_at DESC, id LIMIT 1",
        )
        .bind(contact_id)
        .fetch_optional(&self.read)
        .await?;
        let mut profile = match latest {
            Some(visitor_id) => self.browser_details(&visitor_id).await?.0,
            None => CustomerProfile::default(),
        };
        self.gather(&mut profile, Whose::Contact(contact_id))
            .await?;
        Ok(profile)
    }

    /// An anonymous visitor's page (one who is not a verified contact).
    pub async fn visitor_profile(&self, visitor_id: &str) -> StoreResult<CustomerProfile> {
        let (mut profile, _) = self.browser_details(visitor_id).await?;
        profile.visitor_id = Some(visitor_id.to_owned());
        self.gather(&mut profile, Whose::Visitor(visitor_id))
            .await?;
        Ok(profile)
    }

    /// What one browser told and stated, and the contact it is.
    async fn browser_details(
        &self,
        visitor_id: &str,
    ) -> StoreResult<(CustomerProfile, Option<String>)> {
        let visitor = sqlx::query(
            "SELECT contact_id, unverified, stated_email, user_agent, language, time_zone, number \
             FROM visitors WHERE id = $1",
        )
        .bind(visitor_id)
        .fetch_optional(&self.read)
        .await?
        .ok_or_else(|| StoreError::Corrupt("conversation without visitor".into()))?;
        let unverified: Option<String> = visitor.try_get("unverified")?;
        let profile = CustomerProfile {
            unverified: stated(
                unverified.and_then(|u| serde_json::from_str::<StatedDetails>(&u).ok()),
                visitor.try_get("stated_email")?,
            ),
            browser: visitor.try_get("user_agent")?,
            language: visitor.try_get("language")?,
            time_zone: visitor.try_get("time_zone")?,
            number: visitor.try_get("number")?,
            ..CustomerProfile::default()
        };
        Ok((profile, visitor.try_get("contact_id")?))
    }

    /// Pages, tracked events and conversations of `whose`, and for a
    /// contact what the shop and the agents know of them.
    async fn gather(&self, profile: &mut CustomerProfile, whose: Whose<'_>) -> StoreResult<()> {
        let visitors = whose.visitors();
        let pages = sqlx::query(&format!(
            "SELECT url, title, created_at FROM page_views WHERE created_at > $2 AND visitor_id IN \
             ({visitors}) ORDER BY created_at DESC, id DESC LIMIT 20"
        ))
        .bind(whose.id())
        .bind(now_ms() - 24 * 3600 * 1000)
        .fetch_all(&self.read)
        .await?;
        for row in pages {
            profile.pages.push(PageVisit {
                url: row.try_get("url")?,
                title: row.try_get("title")?,
                at_ms: row.try_get("created_at")?,
            });
        }
        let tracked = sqlx::query(&format!(
            "SELECT name, data, created_at FROM tracked_events WHERE visitor_id IN ({visitors}) \
             ORDER BY created_at DESC, id DESC LIMIT 50"
        ))
        .bind(whose.id())
        .fetch_all(&self.read)
        .await?;
        for row in tracked {
            profile.timeline.push(TrackedEvent {
                name: row.try_get("name")?,
                data: row.try_get("data")?,
                at_ms: row.try_get("created_at")?,
            });
        }
        profile.articles = self.readings_of(visitors, whose.id()).await?;
        let ids: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM conversations WHERE visitor_id IN ({visitors}) \
             ORDER BY created_at DESC, id LIMIT $2"
        ))
        .bind(whose.id())
        .bind(PROFILE_CONVERSATIONS)
        .fetch_all(&self.read)
        .await?;
        for id in ids {
            if let Some(past) = self.conversation(&id).await? {
                profile.conversations.push(past.summary());
            }
        }
        let Whose::Contact(contact_id) = whose else {
            return Ok(());
        };
        if let Some(contact) = self.contact(contact_id).await? {
            profile.contact = Some(ContactView {
                id: contact.id,
                external_id: contact.external_id,
                name: contact.name,
                email: contact.email,
                phone: contact.phone,
                language: contact.language,
                attributes: contact
                    .attributes
                    .as_object()
                    .map(|map| map.iter().map(|(k, v)| (k.clone(), as_text(v))).collect())
                    .unwrap_or_default(),
            });
        }
        let notes = sqlx::query(
            "SELECT n.id, a.name AS author_name, n.body, n.created_at FROM contact_notes n \
             LEFT JOIN agents a ON a.id = n.agent_id WHERE n.contact_id = $1 \
             ORDER BY n.created_at DESC, n.id LIMIT 200",
        )
        .bind(contact_id)
        .fetch_all(&self.read)
        .await?;
        for row in notes {
            profile.notes.push(ContactNote {
                id: row.try_get("id")?,
                author_name: row.try_get("author_name")?,
                body: row.try_get("body")?,
                created_at_ms: row.try_get("created_at")?,
            });
        }
        let changes = sqlx::query(
            "SELECT c.name, c.old_value, c.new_value, a.name AS agent_name, c.created_at \
             FROM attribute_changes c LEFT JOIN agents a ON a.id = c.agent_id \
             WHERE c.contact_id = $1 ORDER BY c.created_at DESC, c.id LIMIT 200",
        )
        .bind(contact_id)
        .fetch_all(&self.read)
        .await?;
        for row in changes {
            profile.changes.push(AttributeChange {
                name: row.try_get("name")?,
                old_value: row.try_get("old_value")?,
                new_value: row.try_get("new_value")?,
                agent_name: row.try_get("agent_name")?,
                created_at_ms: row.try_get("created_at")?,
            });
        }
        profile.labels = self.contact_labels(contact_id).await?;
        profile.merges = self.merges_into(contact_id).await?;
        Ok(())
    }

    pub async fn add_contact_note(
        &self,
        contact_id: &str,
        by: &Agent,
        body: &str,
    ) -> StoreResult<ContactNote> {
        let note = ContactNote {
            id: new_id(),
            author_name: Some(by.name.clone()),
            body: body.trim().to_owned(),
            created_at_ms: now_ms(),
        };
        sqlx::query(
            "INSERT INTO contact_notes (id, contact_id, agent_id, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&note.id)
        .bind(contact_id)
        .bind(&by.id)
        .bind(&note.body)
        .bind(note.created_at_ms)
        .execute(&self.write)
        .await?;
        Ok(note)
    }

    /// Sets (or, with `None`, removes) one attribute and records who changed
    /// it from what to what, in one transaction. Returns the attributes after.
    pub async fn edit_contact_attribute(
        &self,
        contact_id: &str,
        by: &Agent,
        name: &str,
        value: Option<&str>,
    ) -> StoreResult<BTreeMap<String, String>> {
        let mut tx = self.write.begin().await?;
        let current: String = sqlx::query_scalar("SELECT attributes FROM contacts WHERE id = $1")
            .bind(contact_id)
            .fetch_one(&mut *tx)
            .await?;
        let mut attributes: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&current).unwrap_or_default();
        let old = match value {
            Some(value) => {
                attributes.insert(name.to_owned(), serde_json::Value::String(value.to_owned()))
            }
            None => attributes.remove(name),
        };
        sqlx::query("UPDATE contacts SET attributes = $2, updated_at = $3 WHERE id = $1")
            .bind(contact_id)
            .bind(serde_json::Value::Object(attributes.clone()).to_string())
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO attribute_changes (id, contact_id, agent_id, name, old_value, new_value, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(contact_id)
        .bind(&by.id)
        .bind(name)
        .bind(old.as_ref().map(as_text))
        .bind(value)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(attributes
            .iter()
            .map(|(k, v)| (k.clone(), as_text(v)))
            .collect())
    }
}

/// What a shopper's browser told (see [`VisitorBook`]).
impl VisitorBook {
    /// Remembers the shopper's browser and language on their visitor.
    pub async fn record_browser(
        &self,
        visitor_id: &str,
        user_agent: Option<&str>,
        language: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE visitors SET user_agent = COALESCE($2, user_agent), language = COALESCE($3, language), \
             last_seen_at = $4 WHERE id = $1",
        )
        .bind(visitor_id)
        .bind(user_agent)
        .bind(language)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The widget loaded on `url`; `time_zone` is the browser's.
    pub async fn record_page(
        &self,
        visitor_id: &str,
        url: &str,
        title: Option<&str>,
        time_zone: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO page_views (id, visitor_id, url, title, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_ordered_id())
        .bind(visitor_id)
        .bind(url)
        .bind(title)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        keep_newest(&mut tx, "page_views", visitor_id, MAX_PAGES_PER_VISITOR).await?;
        sqlx::query(
            "UPDATE visitors SET last_page = $2, time_zone = COALESCE($3, time_zone) WHERE id = $1",
        )
        .bind(visitor_id)
        .bind(url)
        .bind(time_zone)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `Rapport('track', name, data)` from the shopper's page.
    pub async fn record_track(
        &self,
        visitor_id: &str,
        name: &str,
        data: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO tracked_events (id, visitor_id, name, data, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_ordered_id())
        .bind(visitor_id)
        .bind(name)
        .bind(data)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        keep_newest(
            &mut tx,
            "tracked_events",
            visitor_id,
            MAX_TRACKS_PER_VISITOR,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
