//! What the shopper did, for the agents' view of them: the pages the widget
//! loaded on (with the browser's time zone) and what the page tracked with
//! `Rapport('track', …)`. Bounded per visitor by the store.

use super::{Refusal, VisitorResult, Visitors};
use crate::store::Visitor;

/// Longest page URL kept.
const MAX_URL_BYTES: usize = 2048;
/// Longest page title kept (longer ones are cut).
const MAX_TITLE_CHARS: usize = 300;
/// Longest tracked event name.
const MAX_TRACK_NAME_CHARS: usize = 100;
/// Largest tracked event data (JSON text).
const MAX_TRACK_DATA_BYTES: usize = 4096;

/// Something the shopper did.
#[derive(Clone, Debug)]
pub enum Activity {
    Page {
        url: String,
        title: Option<String>,
        time_zone: Option<String>,
    },
    Track {
        name: String,
        /// JSON text, as the page gave it.
        data: Option<String>,
    },
}

impl Visitors {
    /// Keeps what `visitor` did, if it is within bounds.
    pub async fn record(&self, visitor: &Visitor, activity: Activity) -> VisitorResult<()> {
        match activity {
            Activity::Page {
                url,
                title,
                time_zone,
            } => {
                if url.is_empty() || url.len() > MAX_URL_BYTES {
                    return Err(Refusal::bad_request(format!(
                        "A page URL is 1 to {MAX_URL_BYTES} bytes."
                    ))
                    .into());
                }
                let title: Option<String> =
                    title.map(|t| t.chars().take(MAX_TITLE_CHARS).collect());
                // Only a zone the tz database knows: agents' browsers format times with it.
                let time_zone =
                    time_zone.filter(|tz| tz.len() <= 64 && jiff::tz::TimeZone::get(tz).is_ok());
                self.book
                    .record_page(&visitor.id, &url, title.as_deref(), time_zone.as_deref())
                    .await?;
            }
            Activity::Track { name, data } => {
                let name = name.trim();
                if name.is_empty() || name.chars().count() > MAX_TRACK_NAME_CHARS {
                    return Err(Refusal::bad_request(format!(
                        "An event name is 1 to {MAX_TRACK_NAME_CHARS} characters."
                    ))
                    .into());
                }
                if let Some(data) = &data
                    && (data.len() > MAX_TRACK_DATA_BYTES
                        || serde_json::from_str::<serde::de::IgnoredAny>(data).is_err())
                {
                    return Err(Refusal::bad_request(format!(
                        "Event data is JSON of at most {MAX_TRACK_DATA_BYTES} bytes."
                    ))
                    .into());
                }
                self.book
                    .record_track(&visitor.id, name, data.as_deref())
                    .await?;
            }
        }
        Ok(())
    }
}
