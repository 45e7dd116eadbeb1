//! Shopper visitors: anonymous browsers known by a bearer token kept in the
//! shop page's localStorage. Only the token's hash is stored.

use sqlx::Row;

use super::{Store, StoreResult, VisitorBook, new_id, now_ms};

/// A token's last use is written at most this often.
const TOUCH_EVERY_MS: i64 = 60 * 60 * 1000;

/// Who a token stands for, and what a hello may have to update.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenHolder {
    pub visitor: Visitor,
    /// When the token was last used (Unix ms; written at most hourly).
    pub token_used_at: i64,
    /// The address the visitor last came from.
    pub last_address: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Visitor {
    pub id: String,
    pub site_id: String,
    /// The verified contact this visitor is, if any.
    pub contact_id: Option<String>,
}

impl Store {
    /// The visitor this token stands for (the contact's primary visitor,
    /// once the browser identified), whatever site it belongs to; callers
    /// must check the site. A token unused since `used_since` (Unix ms) no
    /// longer stands for anyone.
    pub async fn visitor_by_token_hash(
        &self,
        token_hash: &str,
        used_since: i64,
    ) -> StoreResult<Option<Visitor>> {
        Ok(self
            .token_holder(token_hash, used_since)
            .await?
            .map(|holder| holder.visitor))
    }

    /// Like [`Store::visitor_by_token_hash`], with what a hello may have to
    /// update: when the token was last used, and the visitor's last address.
    pub async fn token_holder(
        &self,
        token_hash: &str,
        used_since: i64,
    ) -> StoreResult<Option<TokenHolder>> {
        // The token is a visitor's own, or one added for them (a link from
        // an email); its last use is that row's.
        let row = sqlx::query(
            "SELECT p.id, p.site_id, p.contact_id, p.last_address, \
             COALESCE((SELECT COALESCE(t.last_used_at, t.created_at) FROM visitor_tokens t \
                       WHERE t.token_hash = $1), COALESCE(v.token_used_at, v.last_seen_at)) AS used_at \
             FROM visitors v JOIN visitors p ON p.id = COALESCE(v.merged_into, v.id) \
             WHERE v.token_hash = $1 \
             OR v.id = (SELECT visitor_id FROM visitor_tokens WHERE token_hash = $1)",
        )
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let holder = TokenHolder {
            visitor: Visitor {
                id: row.try_get("id")?,
                site_id: row.try_get("site_id")?,
                contact_id: row.try_get("contact_id")?,
            },
            token_used_at: row.try_get("used_at")?,
            last_address: row.try_get("last_address")?,
        };
        Ok((holder.token_used_at >= used_since).then_some(holder))
    }

    pub async fn visitor_by_id(&self, id: &str) -> StoreResult<Option<Visitor>> {
        let row = sqlx::query("SELECT id, site_id, contact_id FROM visitors WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|row| {
            Ok(Visitor {
                id: row.try_get("id")?,
                site_id: row.try_get("site_id")?,
                contact_id: row.try_get("contact_id")?,
            })
        })
        .transpose()
    }

    /// The address mail to this shopper goes to: the verified contact's, else
    /// one they gave. Lower case.
    pub async fn shopper_email(&self, visitor_id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "SELECT c.email, v.stated_email FROM visitors v \
             LEFT JOIN contacts c ON c.id = v.contact_id WHERE v.id = $1",
        )
        .bind(visitor_id)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let verified: Option<String> = row.try_get("email")?;
        let stated: Option<String> = row.try_get("stated_email")?;
        Ok(verified
            .filter(|e| !e.trim().is_empty())
            .or(stated)
            .map(|e| e.trim().to_lowercase()))
    }

    /// Where the shopper was last (the page's URL) and their time zone, to
    /// bring them back there from an email and tell them times on their clock.
    pub async fn last_page(
        &self,
        visitor_id: &str,
    ) -> StoreResult<(Option<String>, Option<String>)> {
        let url: Option<String> = sqlx::query_scalar(
            "SELECT url FROM page_views WHERE visitor_id = $1 \
             OR visitor_id IN (SELECT id FROM visitors WHERE merged_into = $1) \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(visitor_id)
        .fetch_optional(&self.read)
        .await?;
        let zone: Option<String> =
            sqlx::query_scalar::<_, Option<String>>("SELECT time_zone FROM visitors WHERE id = $1")
                .bind(visitor_id)
                .fetch_optional(&self.read)
                .await?
                .flatten();
        Ok((url, zone))
    }

    /// What an unsigned identify left on this visitor, as JSON.
    pub async fn unverified_details(&self, visitor_id: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT unverified FROM visitors WHERE id = $1",
            )
            .bind(visitor_id)
            .fetch_optional(&self.read)
            .await?
            .flatten(),
        )
    }

    pub async fn count_visitors(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM visitors")
            .fetch_one(&self.read)
            .await?)
    }
}

/// Writes to visitors' tokens (see [`VisitorBook`]).
impl VisitorBook {
    pub async fn create_visitor(&self, site_id: &str, token_hash: &str) -> StoreResult<Visitor> {
        let visitor = Visitor {
            id: new_id(),
            site_id: site_id.to_owned(),
            contact_id: None,
        };
        let now = now_ms();
        let mut tx = self.write.begin().await?;
        // The site's next visitor number ("Visitor 1042").
        let number: i64 = sqlx::query_scalar(
            "UPDATE sites SET visitors_numbered = visitors_numbered + 1 WHERE id = $1 \
             RETURNING visitors_numbered",
        )
        .bind(site_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO visitors (id, site_id, token_hash, created_at, last_seen_at, number) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(&visitor.id)
        .bind(site_id)
        .bind(token_hash)
        .bind(now)
        .bind(number)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(visitor)
    }

    /// What a hello with a known token records: the token's use (at most
    /// once an hour: a reconnect storm is not a storm of writes) and the
    /// address it came from (when it changed). Nothing is written otherwise.
    pub async fn note_hello(
        &self,
        holder: &TokenHolder,
        token_hash: &str,
        address: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        if holder.token_used_at < now - TOUCH_EVERY_MS {
            sqlx::query("UPDATE visitors SET token_used_at = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(now)
                .execute(&self.write)
                .await?;
            sqlx::query("UPDATE visitor_tokens SET last_used_at = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(now)
                .execute(&self.write)
                .await?;
        }
        if holder.last_address.as_deref() != Some(address) {
            self.note_visitor_address(&holder.visitor.id, address)
                .await?;
        }
        Ok(())
    }

    /// Replaces a token with a fresh one (a browser that just proved who
    /// it is): the old one stops working. `false` if it was not in use.
    pub async fn rotate_visitor_token(&self, old_hash: &str, new_hash: &str) -> StoreResult<bool> {
        let now = now_ms();
        let mut tx = self.write.begin().await?;
        let own = sqlx::query(
            "UPDATE visitors SET token_hash = $2, token_used_at = $3 WHERE token_hash = $1",
        )
        .bind(old_hash)
        .bind(new_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let added = sqlx::query(
            "UPDATE visitor_tokens SET token_hash = $2, last_used_at = $3 WHERE token_hash = $1",
        )
        .bind(old_hash)
        .bind(new_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(own.rows_affected() + added.rows_affected() > 0)
    }

    /// Ends a token for good (`Rapport('logout')`). The visitor and their
    /// history stay (the shop's agents still see them); no browser stands
    /// for them through this token again.
    pub async fn revoke_visitor_token(&self, token_hash: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        // The column is required and unique: an unguessable value that no
        // token hashes to (hashes are hex).
        sqlx::query("UPDATE visitors SET token_hash = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(format!("revoked:{}", new_id()))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM visitor_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lets another browser stand for `visitor_id` (a link from an email
    /// signed it in); the visitor's other tokens keep working.
    pub async fn add_visitor_token(&self, visitor_id: &str, token_hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO visitor_tokens (token_hash, visitor_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(visitor_id)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
