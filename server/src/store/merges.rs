//! Two contacts of one account made one: by an owner's hand, or at start
//! for contacts that shared a shop id across the account's sites (from when
//! contacts belonged to a site). The kept contact takes the other's
//! browsers, conversations, notes, attribute edits, labels and blocks; its
//! own details win and the other's fill the gaps. Each merge leaves an
//! audit entry (`contact_merges`), and the merged shop id then names the
//! kept contact. Only verified contacts merge: anonymous visitors never do.

use sqlx::{Any, Row, Transaction};

use super::conversations::{fold_in, open_conversation_of};
use super::{ConversationBook, Folded, Store, StoreResult, new_id, now_ms};

/// Why two contacts became one (the audit entry's `reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeReason {
    /// An owner merged them by hand.
    ByHand,
    /// The same shop id on two sites of the account.
    SameShopId,
}

impl MergeReason {
    fn as_str(self) -> &'static str {
        match self {
            MergeReason::ByHand => "by_hand",
            MergeReason::SameShopId => "same_shop_id",
        }
    }
}

/// Why a merge was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeRefused {
    /// One of them is not a contact of the account.
    NoSuchContact,
    /// A contact cannot be merged into itself.
    SameContact,
}

/// Moves every row of `merged` to `kept` (see the module doc). Returns the
/// conversations folded where both had an open one on the same site.
async fn merge_in(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    kept: &str,
    merged: &str,
    by: Option<&str>,
    reason: MergeReason,
) -> StoreResult<Vec<Folded>> {
    let row = sqlx::query(
        "SELECT external_id, name, email, phone, language, attributes FROM contacts WHERE id = $1",
    )
    .bind(merged)
    .fetch_one(&mut **tx)
    .await?;
    let merged_external: String = row.try_get("external_id")?;
    let merged_name: Option<String> = row.try_get("name")?;
    let merged_email: Option<String> = row.try_get("email")?;
    let merged_attributes: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&row.try_get::<String, _>("attributes")?).unwrap_or_default();
    let kept_attributes: String =
        sqlx::query_scalar("SELECT attributes FROM contacts WHERE id = $1")
            .bind(kept)
            .fetch_one(&mut **tx)
            .await?;
    let mut attributes = merged_attributes;
    attributes.extend(
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&kept_attributes)
            .unwrap_or_default(),
    );
    sqlx::query(
        "UPDATE contacts SET name = COALESCE(name, $2), email = COALESCE(email, $3), \
         phone = COALESCE(phone, $4), language = COALESCE(language, $5), attributes = $6, \
         created_at = CASE WHEN created_at < $7 THEN created_at ELSE $7 END, updated_at = $8 \
         WHERE id = $1",
    )
    .bind(kept)
    .bind(&merged_name)
    .bind(&merged_email)
    .bind(row.try_get::<Option<String>, _>("phone")?)
    .bind(row.try_get::<Option<String>, _>("language")?)
    .bind(serde_json::Value::Object(attributes).to_string())
    .bind(
        sqlx::query_scalar::<_, i64>("SELECT created_at FROM contacts WHERE id = $1")
            .bind(merged)
            .fetch_one(&mut **tx)
            .await?,
    )
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;

    // Browsers: one primary per contact and site. Where both have one on
    // the same site, the merged one's folds into the kept one's.
    let mut folds = Vec::new();
    let primaries = sqlx::query(
        "SELECT m.id AS merged_primary, k.id AS kept_primary FROM visitors m \
         JOIN visitors k ON k.site_id = m.site_id AND k.contact_id = $1 AND k.merged_into IS NULL \
         WHERE m.contact_id = $2 AND m.merged_into IS NULL",
    )
    .bind(kept)
    .bind(merged)
    .fetch_all(&mut **tx)
    .await?;
    for pair in primaries {
        let from: String = pair.try_get("merged_primary")?;
        let into: String = pair.try_get("kept_primary")?;
        let continuing = open_conversation_of(tx, &into).await?;
        let leaving = open_conversation_of(tx, &from).await?;
        if let (Some(continuing), Some(leaving)) = (continuing, leaving) {
            folds.push(fold_in(tx, &leaving, &continuing, &into).await?);
        }
        sqlx::query("UPDATE conversations SET visitor_id = $2 WHERE visitor_id = $1")
            .bind(&from)
            .bind(&into)
            .execute(&mut **tx)
            .await?;
        // Every browser that stood for `from` stands for `into` directly: a
        // token is followed one step.
        sqlx::query("UPDATE visitors SET merged_into = $2 WHERE id = $1 OR merged_into = $1")
            .bind(&from)
            .bind(&into)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("UPDATE visitors SET contact_id = $1 WHERE contact_id = $2")
        .bind(kept)
        .bind(merged)
        .execute(&mut **tx)
        .await?;
    for table in ["contact_notes", "attribute_changes", "blocks"] {
        sqlx::query(&format!(
            "UPDATE {table} SET contact_id = $1 WHERE contact_id = $2"
        ))
        .bind(kept)
        .bind(merged)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO contact_labels (contact_id, label_id, added_by, added_at) \
         SELECT $1, label_id, added_by, added_at FROM contact_labels m WHERE m.contact_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM contact_labels k WHERE k.contact_id = $1 AND k.label_id = m.label_id)",
    )
    .bind(kept)
    .bind(merged)
    .execute(&mut **tx)
    .await?;
    // Earlier merges into the merged one now answer for the kept one.
    sqlx::query("UPDATE contact_merges SET kept_contact_id = $1 WHERE kept_contact_id = $2")
        .bind(kept)
        .bind(merged)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO contact_merges (id, account_id, kept_contact_id, merged_contact_id, \
         merged_external_id, merged_name, merged_email, agent_id, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new_id())
    .bind(account_id)
    .bind(kept)
    .bind(merged)
    .bind(&merged_external)
    .bind(&merged_name)
    .bind(&merged_email)
    .bind(by)
    .bind(reason.as_str())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM contacts WHERE id = $1")
        .bind(merged)
        .execute(&mut **tx)
        .await?;
    Ok(folds)
}

impl ConversationBook {
    /// Merges contact `merged` into `kept`, both of `account_id`, by the
    /// owner `by`; returns the conversations folded (see the module doc).
    pub async fn merge_contacts(
        &self,
        account_id: &str,
        kept: &str,
        merged: &str,
        by: &str,
    ) -> StoreResult<Result<Vec<Folded>, MergeRefused>> {
        if kept == merged {
            return Ok(Err(MergeRefused::SameContact));
        }
        let mut tx = self.begin_write().await?;
        let found: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM contacts WHERE account_id = $1 AND id IN ($2, $3)",
        )
        .bind(account_id)
        .bind(kept)
        .bind(merged)
        .fetch_one(&mut *tx)
        .await?;
        if found != 2 {
            tx.rollback().await?;
            return Ok(Err(MergeRefused::NoSuchContact));
        }
        let folds = merge_in(
            &mut tx,
            account_id,
            kept,
            merged,
            Some(by),
            MergeReason::ByHand,
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(folds))
    }
}

impl Store {
    /// Runs the data migrations not yet done (see `data_migrations`).
    pub(super) async fn run_data_migrations(&self) -> StoreResult<()> {
        let pending: Vec<String> =
            sqlx::query_scalar("SELECT name FROM data_migrations WHERE done_at IS NULL")
                .fetch_all(&self.write)
                .await?;
        for name in pending {
            match name.as_str() {
                "contacts_per_account" => {
                    self.merge_contacts_sharing_a_shop_id().await?;
                }
                "ratings_from_log" => self.ratings_from_log().await?,
                _ => {}
            }
            sqlx::query("UPDATE data_migrations SET done_at = $2 WHERE name = $1")
                .bind(&name)
                .bind(now_ms())
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    /// Contacts of one account with the same shop id become the oldest of
    /// them, in one transaction; then no two can share one again.
    pub async fn merge_contacts_sharing_a_shop_id(&self) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let groups = sqlx::query(
            "SELECT account_id, external_id FROM contacts GROUP BY account_id, external_id \
             HAVING COUNT(*) > 1",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut merged = 0;
        for group in groups {
            let account_id: String = group.try_get("account_id")?;
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM contacts WHERE account_id = $1 AND external_id = $2 \
                 ORDER BY created_at, id",
            )
            .bind(&account_id)
            .bind(group.try_get::<String, _>("external_id")?)
            .fetch_all(&mut *tx)
            .await?;
            let Some((kept, others)) = ids.split_first() else {
                continue;
            };
            for other in others {
                merge_in(
                    &mut tx,
                    &account_id,
                    kept,
                    other,
                    None,
                    MergeReason::SameShopId,
                )
                .await?;
                merged += 1;
            }
        }
        sqlx::query(
            "CREATE UNIQUE INDEX IF NOT EXISTS contacts_account_external \
             ON contacts(account_id, external_id)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if merged > 0 {
            tracing::info!(merged, "contacts sharing a shop id in an account merged");
        }
        Ok(merged)
    }

    /// The merges into a contact, newest first.
    pub async fn merges_into(&self, contact_id: &str) -> StoreResult<Vec<protocol::ContactMerge>> {
        let rows = sqlx::query(
            "SELECT m.merged_contact_id, m.merged_external_id, m.merged_name, m.merged_email, \
             a.name AS agent_name, m.reason, m.created_at FROM contact_merges m \
             LEFT JOIN agents a ON a.id = m.agent_id WHERE m.kept_contact_id = $1 \
             ORDER BY m.created_at DESC, m.id",
        )
        .bind(contact_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(protocol::ContactMerge {
                    merged_contact_id: row.try_get("merged_contact_id")?,
                    merged_external_id: row.try_get("merged_external_id")?,
                    merged_name: row.try_get("merged_name")?,
                    merged_email: row.try_get("merged_email")?,
                    agent_name: row.try_get("agent_name")?,
                    reason: row.try_get("reason")?,
                    at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}
