//! Each conversation's rating as it stands (see
//! `migrations/0028_ratings.sql`): written with the `rated` event, read by
//! the widget's rating prompt and by the reports.

use protocol::EventBody;
use sqlx::{Any, Row, Transaction};

use super::{Store, StoreError, StoreResult};

/// A conversation's rating and whether its shopper was asked for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatingRecord {
    /// Whether the last close asked the shopper to rate (an agent may
    /// close without asking).
    pub asked: bool,
    /// The rating as it stands: score, comment, first given at (ms).
    pub given: Option<(u8, Option<String>, i64)>,
}

impl Store {
    /// `None`: no such conversation.
    pub async fn rating_record(&self, conversation_id: &str) -> StoreResult<Option<RatingRecord>> {
        let row = sqlx::query(
            "SELECT CASE WHEN c.rating_asked THEN 1 ELSE 0 END AS asked, \
             CAST(r.score AS BIGINT) AS score, r.comment, r.first_at FROM conversations c \
             LEFT JOIN ratings r ON r.conversation_id = c.id WHERE c.id = $1",
        )
        .bind(conversation_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            let score: Option<i64> = row.try_get("score")?;
            let given = match score {
                Some(score) => Some((
                    u8::try_from(score).map_err(|_| StoreError::Corrupt("rating score".into()))?,
                    row.try_get("comment")?,
                    row.try_get("first_at")?,
                )),
                None => None,
            };
            Ok(RatingRecord {
                asked: row.try_get::<i64, _>("asked")? != 0,
                given,
            })
        })
        .transpose()
    }

    /// Reads the ratings given before the `ratings` table from the log
    /// (a data migration, run once).
    pub(super) async fn ratings_from_log(&self) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT conversation_id, payload, created_at FROM events \
             WHERE kind = 'rated' ORDER BY created_at, seq",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let payload: Option<String> = row.try_get("payload")?;
            let Ok(EventBody::Rated { score, comment }) =
                serde_json::from_str(payload.as_deref().unwrap_or_default())
            else {
                continue;
            };
            keep_rating(
                &mut tx,
                &row.try_get::<String, _>("conversation_id")?,
                score,
                comment.as_deref(),
                row.try_get("created_at")?,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Keeps `score` as the conversation's rating, in the transaction that
/// logs it; the first time it was given stays.
pub(super) async fn keep_rating(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
    score: u8,
    comment: Option<&str>,
    at: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO ratings (conversation_id, account_id, score, comment, first_at, rated_at) \
         SELECT id, account_id, $2, $3, $4, $4 FROM conversations WHERE id = $1 \
         ON CONFLICT (conversation_id) DO UPDATE SET score = excluded.score, \
         comment = excluded.comment, rated_at = excluded.rated_at",
    )
    .bind(conversation_id)
    .bind(i64::from(score))
    .bind(comment)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
