//! Shopper visitors: anonymous browsers known by a bearer token kept in the
//! shop page's localStorage. Only the token's hash is stored.

use sqlx::Row;

use super::{Store, StoreResult, new_id, now_ms};

#[derive(Clone, Debug, PartialEq)]
pub struct Visitor {
    pub id: String,
    pub site_id: String,
    /// The verified contact this visitor is, if any.
    pub contact_id: Option<String>,
}

impl Store {
    pub async fn create_visitor(&self, site_id: &str, token_hash: &str) -> StoreResult<Visitor> {
        let visitor = Visitor {
            id: new_id(),
            site_id: site_id.to_owned(),
            contact_id: None,
        };
        let now = now_ms();
        sqlx::query(
            "INSERT INTO visitors (id, site_id, token_hash, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(&visitor.id)
        .bind(site_id)
        .bind(token_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(visitor)
    }

    /// The visitor this token stands for (the contact's primary visitor,
    /// once the browser identified), whatever site it belongs to; callers
    /// must check the site.
    pub async fn visitor_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Visitor>> {
        let row = sqlx::query(
            "SELECT p.id, p.site_id, p.contact_id FROM visitors v \
             JOIN visitors p ON p.id = COALESCE(v.merged_into, v.id) WHERE v.token_hash = $1",
        )
        .bind(token_hash)
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
