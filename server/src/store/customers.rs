//! The account's customer list: its verified contacts and the anonymous
//! visitors who left an email address (people the shop can answer), most
//! recently seen first, searched by name, email or the shop's id, a page at
//! a time by keyset (`at`, then `key`), so the thousandth page costs what
//! the first does.

use std::collections::HashMap;

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

/// A page's `next`, read back; `None` if it is not one.
pub fn parse_cursor(text: &str) -> Option<(i64, String)> {
    let (at, key) = text.split_once(':')?;
    let well_formed = (key.starts_with("c:") || key.starts_with("v:")) && key.len() <= 100;
    well_formed.then_some((at.parse().ok()?, key.to_owned()))
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
        let pattern = super::contains_pattern(query);
        let (after_at, after_key) = after
            .and_then(parse_cursor)
            .unwrap_or((i64::MAX, String::new()));
        let people = PEOPLE
            .replace("{filter_c}", MATCH_CONTACT)
            .replace("{filter_v}", MATCH_VISITOR)
            .replace("{limit}", &(CUSTOMER_PAGE + 1).to_string());
        // Conversations were moved to the primary browser when others
        // merged into it, so a contact's are its browsers', a visitor's its own.
        let rows = sqlx::query(&format!(
            "SELECT p.*, CASE WHEN p.contact_id IS NOT NULL THEN \
             (SELECT COUNT(*) FROM conversations cv WHERE cv.visitor_id IN \
              (SELECT id FROM visitors WHERE contact_id = p.contact_id)) \
             ELSE (SELECT COUNT(*) FROM conversations cv WHERE cv.visitor_id = p.visitor_id) \
             END AS conversations, CASE WHEN p.contact_id IS NOT NULL THEN \
             (SELECT MAX(cv.updated_at) FROM conversations cv WHERE cv.visitor_id IN \
              (SELECT id FROM visitors WHERE contact_id = p.contact_id)) \
             ELSE (SELECT MAX(cv.updated_at) FROM conversations cv WHERE cv.visitor_id = p.visitor_id) \
             END AS last_active FROM ({people}) p ORDER BY p.at DESC, p.key LIMIT $7"
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
        let page = &rows[..rows.len().min(CUSTOMER_PAGE as usize)];
        let contacts: Vec<String> = page
            .iter()
            .filter_map(|row| {
                row.try_get::<Option<String>, _>("contact_id")
                    .ok()
                    .flatten()
            })
            .collect();
        let mut labels = self.labels_of_contacts(&contacts).await?;
        let mut list = CustomerList::default();
        for row in page {
            let contact_id: Option<String> = row.try_get("contact_id")?;
            let unverified: Option<String> = row.try_get("unverified")?;
            let stated_name = unverified
                .and_then(|json| serde_json::from_str::<StatedDetails>(&json).ok())
                .and_then(|details| details.name);
            list.customers.push(CustomerLine {
                labels: contact_id
                    .as_ref()
                    .and_then(|id| labels.remove(id))
                    .unwrap_or_default(),
                contact_id,
                visitor_id: row.try_get("visitor_id")?,
                name: row.try_get::<Option<String>, _>("name")?.or(stated_name),
                email: row.try_get("email")?,
                external_id: row.try_get("external_id")?,
                last_active_ms: row.try_get("last_active")?,
                conversations: row.try_get("conversations")?,
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

    /// The labels of these contacts, by contact, each sorted.
    async fn labels_of_contacts(
        &self,
        contacts: &[String],
    ) -> StoreResult<HashMap<String, Vec<String>>> {
        let mut labels: HashMap<String, Vec<String>> = HashMap::new();
        if contacts.is_empty() {
            return Ok(labels);
        }
        let placeholders: Vec<String> = (1..=contacts.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT cl.contact_id, l.name FROM contact_labels cl JOIN labels l ON l.id = cl.label_id \
             WHERE cl.contact_id IN ({}) ORDER BY l.name",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for contact in contacts {
            query = query.bind(contact);
        }
        for row in query.fetch_all(&self.read).await? {
            labels
                .entry(row.try_get("contact_id")?)
                .or_default()
                .push(row.try_get("name")?);
        }
        Ok(labels)
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
