//! Erasing a person for good, as an owner asks: a verified contact, or an
//! anonymous visitor (one who left an email address, say). Everything of
//! theirs goes in one transaction: conversations with their events and
//! search entries, files (their bytes queued for erasure), pages, tracked
//! events, browsers, and their email addresses wherever the account's
//! sites kept them (mail queued or sent to them, refusals, opt-outs,
//! confirmations). The rows are gone, not hidden.

use sqlx::{Any, Row, Transaction};

use super::contacts::VISITORS_OF_CONTACT;
use super::{ConversationBook, StoreResult};

/// The browsers of an anonymous visitor: itself and those merged into it.
const VISITOR_VISITORS: &str =
    "SELECT id FROM visitors WHERE (id = $1 OR merged_into = $1) AND contact_id IS NULL";

impl ConversationBook {
    /// Deletes the contact with everything of theirs (see the module doc).
    pub async fn delete_contact(&self, contact_id: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query("SELECT account_id, email FROM contacts WHERE id = $1")
            .bind(contact_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(found) = found else {
            tx.rollback().await?;
            return Ok(false);
        };
        let visitors = ids(&mut tx, VISITORS_OF_CONTACT, contact_id).await?;
        let mut addresses = addresses_of(&mut tx, &visitors).await?;
        addresses.extend(found.try_get::<Option<String>, _>("email")?);
        erase_browsers(&mut tx, &visitors).await?;
        forget_addresses(
            &mut tx,
            &found.try_get::<String, _>("account_id")?,
            addresses,
        )
        .await?;
        sqlx::query("DELETE FROM contacts WHERE id = $1")
            .bind(contact_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes an anonymous visitor with everything of theirs; `false` if
    /// there is none (a contact's browser is erased with the contact).
    pub async fn delete_visitor(&self, visitor_id: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let account_id: Option<String> = sqlx::query_scalar(
            "SELECT s.account_id FROM visitors v JOIN sites s ON s.id = v.site_id \
             WHERE v.id = $1 AND v.contact_id IS NULL AND v.merged_into IS NULL",
        )
        .bind(visitor_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(account_id) = account_id else {
            tx.rollback().await?;
            return Ok(false);
        };
        let visitors = ids(&mut tx, VISITOR_VISITORS, visitor_id).await?;
        let addresses = addresses_of(&mut tx, &visitors).await?;
        erase_browsers(&mut tx, &visitors).await?;
        forget_addresses(&mut tx, &account_id, addresses).await?;
        tx.commit().await?;
        Ok(true)
    }
}

async fn ids(
    tx: &mut Transaction<'static, Any>,
    query: &str,
    id: &str,
) -> StoreResult<Vec<String>> {
    Ok(
        sqlx::query_scalar(&format!("{query} ORDER BY created_at, id"))
            .bind(id)
            .fetch_all(&mut **tx)
            .await?,
    )
}

/// Every address these browsers gave, proved or stated, lower-cased.
async fn addresses_of(
    tx: &mut Transaction<'static, Any>,
    visitors: &[String],
) -> StoreResult<Vec<String>> {
    let mut addresses = Vec::new();
    for visitor in visitors {
        let row = sqlx::query(
            "SELECT stated_email, confirmed_email, unverified FROM visitors WHERE id = $1",
        )
        .bind(visitor)
        .fetch_one(&mut **tx)
        .await?;
        addresses.extend(row.try_get::<Option<String>, _>("stated_email")?);
        addresses.extend(row.try_get::<Option<String>, _>("confirmed_email")?);
        addresses.extend(
            row.try_get::<Option<String>, _>("unverified")?
                .and_then(|json| serde_json::from_str::<protocol::StatedDetails>(&json).ok())
                .and_then(|details| details.email),
        );
        let asked: Vec<String> =
            sqlx::query_scalar("SELECT email FROM email_confirmations WHERE visitor_id = $1")
                .bind(visitor)
                .fetch_all(&mut **tx)
                .await?;
        addresses.extend(asked);
    }
    Ok(addresses)
}

/// Deletes the browsers and everything under them, merged ones first
/// (they point at their primary).
async fn erase_browsers(
    tx: &mut Transaction<'static, Any>,
    visitors: &[String],
) -> StoreResult<()> {
    for visitor in visitors {
        super::files::forget_files_where(
            tx,
            "visitor_id = $1 OR conversation_id IN (SELECT id FROM conversations WHERE visitor_id = $1)",
            super::files::Param::Id(visitor),
        )
        .await?;
        super::search::forget_where(tx, "visitor_id = $1", visitor).await?;
        sqlx::query(
            "DELETE FROM events WHERE conversation_id IN (SELECT id FROM conversations WHERE visitor_id = $1)",
        )
        .bind(visitor)
        .execute(&mut **tx)
        .await?;
        for table in ["conversations", "page_views", "tracked_events"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE visitor_id = $1"))
                .bind(visitor)
                .execute(&mut **tx)
                .await?;
        }
    }
    for visitor in visitors {
        sqlx::query("DELETE FROM visitors WHERE merged_into = $1")
            .bind(visitor)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM visitors WHERE id = $1")
            .bind(visitor)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Forgets these addresses in the mail records of the account's sites.
async fn forget_addresses(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    addresses: Vec<String>,
) -> StoreResult<()> {
    let mut addresses: Vec<String> = addresses
        .into_iter()
        .map(|address| address.trim().to_lowercase())
        .filter(|address| !address.is_empty())
        .collect();
    addresses.sort();
    addresses.dedup();
    let of_account = "site_id IN (SELECT id FROM sites WHERE account_id = $1)";
    for address in &addresses {
        for (table, column) in [
            ("mail_outbox", "recipient"),
            ("mail_refusals", "recipient"),
            ("mail_optouts", "email"),
            ("email_confirmations", "email"),
        ] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE {of_account} AND LOWER({column}) = $2"
            ))
            .bind(account_id)
            .bind(address)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
