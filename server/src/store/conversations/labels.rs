//! Labels on conversations and contacts ("refund", "vip"): one list per
//! account, made by the first use of a name. A conversation's names are
//! also kept on its row (sorted JSON), written in the same transaction.

use sqlx::{Any, Row, Transaction};

use protocol::MAX_LABEL_NAME_CHARS;

use super::Conversation;
use crate::store::{ConversationBook, Store, StoreResult, new_id, now_ms};

/// A label's name: trimmed, lower-case, 1 to 40 characters, one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelName(String);

impl LabelName {
    pub fn parse(text: &str) -> Result<LabelName, String> {
        let name = text.trim().to_lowercase();
        if name.is_empty() || name.chars().count() > MAX_LABEL_NAME_CHARS {
            return Err(format!(
                "A label is 1 to {MAX_LABEL_NAME_CHARS} characters long."
            ));
        }
        if name.chars().any(char::is_control) {
            return Err("A label is one line of text.".to_owned());
        }
        Ok(LabelName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a label was not put on or taken off. Nothing was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LabelRefused {
    #[error("no such conversation")]
    NoSuchConversation,
    #[error("no such contact")]
    NoSuchContact,
}

/// The account's label of that name, made if it is new.
async fn label_id(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    name: &LabelName,
) -> StoreResult<String> {
    sqlx::query(
        "INSERT INTO labels (id, account_id, name, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(account_id)
    .bind(name.as_str())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM labels WHERE account_id = $1 AND name = $2")
            .bind(account_id)
            .bind(name.as_str())
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// What carries a label.
#[derive(Clone, Copy)]
enum Tagged {
    Conversation,
    Contact,
}

/// Puts `label` on the conversation or contact `id` (`on`), or takes it off.
async fn tag(
    tx: &mut Transaction<'static, Any>,
    tagged: Tagged,
    id: &str,
    label: &str,
    by: &str,
    on: bool,
) -> StoreResult<()> {
    let (table, column) = match tagged {
        Tagged::Conversation => ("conversation_labels", "conversation_id"),
        Tagged::Contact => ("contact_labels", "contact_id"),
    };
    if on {
        sqlx::query(&format!(
            "INSERT INTO {table} ({column}, label_id, added_by, added_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        ))
        .bind(id)
        .bind(label)
        .bind(by)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    } else {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE {column} = $1 AND label_id = $2"
        ))
        .bind(id)
        .bind(label)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Labels (see [`ConversationBook`]).
impl ConversationBook {
    /// Puts the label on a conversation of the account (`on`) or takes it
    /// off; the conversation as it now stands.
    pub async fn label_conversation(
        &self,
        account_id: &str,
        conversation_id: &str,
        name: &LabelName,
        by: &str,
        on: bool,
    ) -> StoreResult<Result<Conversation, LabelRefused>> {
        let mut tx = self.write.begin().await?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM conversations WHERE id = $1 AND account_id = $2")
                .bind(conversation_id)
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            tx.rollback().await?;
            return Ok(Err(LabelRefused::NoSuchConversation));
        }
        let label = label_id(&mut tx, account_id, name).await?;
        tag(
            &mut tx,
            Tagged::Conversation,
            conversation_id,
            &label,
            by,
            on,
        )
        .await?;
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT l.name FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id \
             WHERE cl.conversation_id = $1 ORDER BY l.name",
        )
        .bind(conversation_id)
        .fetch_all(&mut *tx)
        .await?;
        let names = (!names.is_empty()).then(|| serde_json::to_string(&names).unwrap_or_default());
        sqlx::query("UPDATE conversations SET labels = $2 WHERE id = $1")
            .bind(conversation_id)
            .bind(names)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.reload(conversation_id).await.map(Ok)
    }
}

impl Store {
    /// The account's labels, by name, with how many conversations and
    /// contacts carry each.
    pub async fn labels_of_account(&self, account_id: &str) -> StoreResult<Vec<protocol::Label>> {
        let rows = sqlx::query(
            "SELECT l.name, \
             (SELECT COUNT(*) FROM conversation_labels cl WHERE cl.label_id = l.id) AS conversations, \
             (SELECT COUNT(*) FROM contact_labels kl WHERE kl.label_id = l.id) AS contacts \
             FROM labels l WHERE l.account_id = $1 ORDER BY l.name",
        )
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(protocol::Label {
                    name: row.try_get("name")?,
                    conversations: row.try_get("conversations")?,
                    contacts: row.try_get("contacts")?,
                })
            })
            .collect()
    }

    /// Puts the label on a contact of the account (`on`) or takes it off;
    /// the contact's labels as they now stand.
    pub async fn label_contact(
        &self,
        account_id: &str,
        contact_id: &str,
        name: &LabelName,
        by: &str,
        on: bool,
    ) -> StoreResult<Result<Vec<String>, LabelRefused>> {
        let mut tx = self.write.begin().await?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM contacts WHERE id = $1 AND account_id = $2")
                .bind(contact_id)
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            tx.rollback().await?;
            return Ok(Err(LabelRefused::NoSuchContact));
        }
        let label = label_id(&mut tx, account_id, name).await?;
        tag(&mut tx, Tagged::Contact, contact_id, &label, by, on).await?;
        tx.commit().await?;
        self.contact_labels(contact_id).await.map(Ok)
    }

    /// A contact's labels, sorted.
    pub async fn contact_labels(&self, contact_id: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT l.name FROM contact_labels kl JOIN labels l ON l.id = kl.label_id \
             WHERE kl.contact_id = $1 ORDER BY l.name",
        )
        .bind(contact_id)
        .fetch_all(&self.read)
        .await?)
    }
}
