//! What the owner console changes about sites: names, allowed origins,
//! settings, deletion; and where each site's widget was last seen.

use protocol::{Sighting, SiteSecretView, SiteSettings};
use sqlx::Row;

use super::tenancy::SITE_COLUMNS;
use super::{ConversationBook, Site, Store, StoreError, StoreResult, now_ms};

/// A sighting is rewritten at most this often per site: every page view
/// fetches the config, and the console only needs "recently".
const SIGHTING_EVERY_MS: i64 = 30_000;

/// A change to a site; `None` leaves a part as it is.
#[derive(Clone, Debug, Default)]
pub struct SiteUpdate<'a> {
    pub name: Option<&'a str>,
    pub allowed_origins: Option<&'a [String]>,
    pub settings: Option<&'a SiteSettings>,
    /// `Some(None)`: never email unseen replies.
    pub email_delay_secs: Option<Option<i64>>,
}

impl Store {
    /// The account's sites, oldest first.
    pub async fn sites_of_account(&self, account_id: &str) -> StoreResult<Vec<Site>> {
        let rows = sqlx::query(&format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE account_id = $1 ORDER BY created_at, id"
        ))
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        let mut sites = Vec::with_capacity(rows.len());
        for row in &rows {
            sites.push(self.site_from_row(row).await?);
        }
        Ok(sites)
    }

    pub async fn site_by_id(&self, id: &str) -> StoreResult<Option<Site>> {
        let row = sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        match row {
            Some(row) => Ok(Some(self.site_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    /// Applies a change in one transaction (origins are replaced as a whole).
    pub async fn update_site(&self, id: &str, update: SiteUpdate<'_>) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        if let Some(name) = update.name {
            sqlx::query("UPDATE sites SET name = $2 WHERE id = $1")
                .bind(id)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(settings) = update.settings {
            let json = serde_json::to_string(settings)
                .map_err(|e| StoreError::Corrupt(format!("site settings: {e}")))?;
            sqlx::query("UPDATE sites SET settings = $2 WHERE id = $1")
                .bind(id)
                .bind(json)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(delay) = update.email_delay_secs {
            sqlx::query("UPDATE sites SET email_delay_secs = $2 WHERE id = $1")
                .bind(id)
                .bind(delay)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(origins) = update.allowed_origins {
            sqlx::query("DELETE FROM site_origins WHERE site_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for origin in origins {
                sqlx::query(
                    "INSERT INTO site_origins (site_id, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(origin)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Notes that the widget loaded on `page` of `origin`, unless it was
    /// noted on the same page within the last half minute.
    pub async fn record_sighting(
        &self,
        site_id: &str,
        origin: &str,
        page: Option<&str>,
    ) -> StoreResult<()> {
        let now = now_ms();
        sqlx::query(
            "UPDATE sites SET seen_origin = $2, seen_page = $3, seen_at = $4 WHERE id = $1 \
             AND (seen_at IS NULL OR seen_at < $5 OR seen_origin <> $2 \
                  OR COALESCE(seen_page, '') <> COALESCE($3, ''))",
        )
        .bind(site_id)
        .bind(origin)
        .bind(page)
        .bind(now)
        .bind(now - SIGHTING_EVERY_MS)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn sighting(&self, site_id: &str) -> StoreResult<Option<Sighting>> {
        let row = sqlx::query(
            "SELECT seen_origin, seen_page, seen_at FROM sites WHERE id = $1 AND seen_at IS NOT NULL",
        )
        .bind(site_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            Ok(Sighting {
                origin: row.try_get("seen_origin")?,
                page: row.try_get("seen_page")?,
                at_ms: row.try_get("seen_at")?,
            })
        })
        .transpose()
    }

    /// Every secret of the site, newest first, with when it stops working.
    pub async fn site_secrets(&self, site_id: &str) -> StoreResult<Vec<SiteSecretView>> {
        let rows = sqlx::query(
            "SELECT secret, retires_at FROM site_secrets WHERE site_id = $1 \
             AND (retires_at IS NULL OR retires_at > $2) ORDER BY created_at DESC, id",
        )
        .bind(site_id)
        .bind(now_ms())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SiteSecretView {
                    secret: row.try_get("secret")?,
                    expires_at_ms: row.try_get("retires_at")?,
                })
            })
            .collect()
    }
}

/// Erasing a site with its conversations (see [`ConversationBook`]).
impl ConversationBook {
    /// Deletes a site with everything under it (visitors, contacts,
    /// conversations, topics, secrets): the schema cascades.
    pub async fn delete_site(&self, id: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        // Files have no cascade (their bytes must be erased too).
        super::files::forget_files_where(
            &mut tx,
            "site_id = $1 OR conversation_id IN (SELECT id FROM conversations WHERE site_id = $1)",
            super::files::Param::Id(id),
        )
        .await?;
        super::search::forget_where(&mut tx, "site_id = $1", id).await?;
        // A contact is the account's: one first seen here who also came to
        // another of its sites stays, as that site's (the cascade takes
        // only those known here alone).
        sqlx::query(
            "UPDATE contacts SET site_id = (SELECT MIN(v.site_id) FROM visitors v \
             WHERE v.contact_id = contacts.id AND v.site_id <> $1) \
             WHERE site_id = $1 AND EXISTS (SELECT 1 FROM visitors v \
             WHERE v.contact_id = contacts.id AND v.site_id <> $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sites WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
