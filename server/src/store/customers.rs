//! The account's customer list: its verified contacts and the anonymous
//! visitors who left an email address (people the shop can answer), most
//! recently seen first, searched by name, email or the shop's id, a page at
//! a time by keyset (`at`, then `key`), so the thousandth page costs what
//! the first does.

use protocol::{CUSTOMER_PAGE, CustomerLine, CustomerList, StatedDetails};
use sqlx::Row;

use super::{Store, StoreResult};

/// Both kinds of customer as rows of one shape; `key` is unique across
/// both (`c:` or `v:` and the id) and breaks ties of `at`. Each kind is
/// read newest first along its own index, only past the cursor and only as
/// far as a page needs (`{filter}` and `{limit}` filled in), then the two
/// are merged.
const PEOPLE: &str = "SELECT * FROM (SELECT 'c:' || ct.id AS key, ct.id AS contact_id, \
     NULL AS visitor_id, ct.name, ct.email, ct.external_id, NULL AS unverified, ct.updated_at AS at \
     FROM contacts ct WHERE ct.account_id = $1 AND {filter_c} \
     AND (ct.updated_at < $5 OR (ct.updated_at = $5 AND 'c:' || ct.id > $6)) \
     ORDER BY ct.updated_at DESC, ct.id LIMIT {limit}) contacts_page \
     UNION ALL \
     SELECT * FROM (SELECT 'v:' || v.id AS key, NULL AS contact_id, v.id AS visitor_id, NULL AS name, \
     COALESCE(v.confirmed_email, v.stated_email) AS email, NULL AS external_id, v.unverified, \
     v.last_seen_at AS at FROM visitors v \
     WHERE v.site_id IN (SELECT id FROM sites WHERE account_id = $1) \
     AND v.contact_id IS NULL AND v.merged_into IS NULL \
     AND (v.confirmed_email IS NOT NULL OR v.stated_email IS NOT NULL) AND {filter_v} \
     AND (v.last_seen_at < $5 OR (v.last_seen_at = $5 AND 'v:' || v.id > $6)) \
     ORDER BY v.last_seen_at DESC, v.id LIMIT {limit}) visitors_page";

/// What a search matches: a name or email containing it, or the shop id.
const MATCH_CONTACT: &str = "($2 = '' OR LOWER(ct.name) LIKE $3 ESCAPE '\\' \
     OR LOWER(ct.email) LIKE $3 ESCAPE '\\' OR ct.external_id = $4)";
const MATCH_VISITOR: &str = "($2 = '' OR LOWER(COALESCE(v.confirmed_email, v.stated_email)) \
     LIKE $3 ESCAPE '\\')";

/// Where a page of the list ends: the last line's `at` and `key`.
fn cursor(at: i64, key: &str) -> String {
    format!("{at}:{key}")
}

fn parse_cursor(text: &str) -> Option<(i64, String)> {
    let (at, key) = text.split_once(':')?;
    Some((at.parse().ok()?, key.to_owned()))
}

impl Store {
    /// One page of the account's customers matching `query` (all when
    /// empty), after the cursor `after` (a page's `next`).
    pub async fn customers_of_account(
        &self,
        account_id: &str,
        query: &str,
        after: Option<&str>,
    ) -> StoreResult<CustomerList> {
        let needle = query.trim().to_lowercase();
        let pattern = format!(
            "%{}%",
            needle
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let (after_at, after_key) = after
            .and_then(parse_cursor)
            .unwrap_or((i64::MAX, String::new()));
        let people = PEOPLE
            .replace("{filter_c}", MATCH_CONTACT)
            .replace("{filter_v}", MATCH_VISITOR)
            .replace("{limit}", &(CUSTOMER_PAGE + 1).to_string());
        let rows = sqlx::query(&format!(
            "SELECT p.* FROM ({people}) p ORDER BY p.at DESC, p.key LIMIT $7"
        ))
        .bind(account_id)
        .bind(&needle)
        .bind(&pattern)
        .bind(query.trim())
        .bind(after_at)
        .bind(&after_key)
        .bind(CUSTOMER_PAGE + 1)
        .fetch_all(&self.read)
        .await?;
        let mut list = CustomerList::default();
        for row in rows.iter().take(CUSTOMER_PAGE as usize) {
            let contact_id: Option<String> = row.try_get("contact_id")?;
            let visitor_id: Option<String> = row.try_get("visitor_id")?;
            let unverified: Option<String> = row.try_get("unverified")?;
            let stated_name = unverified
                .and_then(|json| serde_json::from_str::<StatedDetails>(&json).ok())
                .and_then(|details| details.name);
            let (labels, (conversations, last_active_ms)) = match (&contact_id, &visitor_id) {
                (Some(contact), _) => (
                    self.contact_labels(contact).await?,
                    self.conversation_activity(
                        "SELECT id FROM visitors WHERE contact_id = $1",
                        contact,
                    )
                    .await?,
                ),
                (None, Some(visitor)) => (
                    Vec::new(),
                    self.conversation_activity(
                        "SELECT id FROM visitors WHERE id = $1 OR merged_into = $1",
                        visitor,
                    )
                    .await?,
                ),
                (None, None) => continue,
            };
            list.customers.push(CustomerLine {
                contact_id,
                visitor_id,
                name: row.try_get::<Option<String>, _>("name")?.or(stated_name),
                email: row.try_get("email")?,
                external_id: row.try_get("external_id")?,
                labels,
                last_active_ms,
                conversations,
            });
        }
        if rows.len() > CUSTOMER_PAGE as usize
            && let Some(last) = rows.get(CUSTOMER_PAGE as usize - 1)
        {
            list.next = Some(cursor(
                last.try_get("at")?,
                &last.try_get::<String, _>("key")?,
            ));
        }
        Ok(list)
    }

    /// How many conversations the visitors of `visitors` (a subquery of
    /// ids, `$1` the id) have, and when the latest last changed.
    async fn conversation_activity(
        &self,
        visitors: &str,
        id: &str,
    ) -> StoreResult<(i64, Option<i64>)> {
        let row = sqlx::query(&format!(
            "SELECT COUNT(*) AS count, MAX(updated_at) AS latest FROM conversations \
             WHERE visitor_id IN ({visitors})"
        ))
        .bind(id)
        .fetch_one(&self.read)
        .await?;
        Ok((row.try_get("count")?, row.try_get("latest")?))
    }

    /// The account of an anonymous visitor (one who is no contact, and no
    /// browser merged into another), if there is one.
    pub async fn anonymous_visitor_account(&self, visitor_id: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT s.account_id FROM visitors v JOIN sites s ON s.id = v.site_id \
             WHERE v.id = $1 AND v.contact_id IS NULL AND v.merged_into IS NULL",
        )
        .bind(visitor_id)
        .fetch_optional(&self.read)
        .await?)
    }
}
