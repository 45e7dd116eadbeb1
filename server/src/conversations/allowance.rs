//! One allowance per person, whatever the channel: a shopper's message by
//! chat or by email counts against the same limits. A message into an open
//! conversation counts against that conversation; one that opens a new
//! conversation counts against the address and the site, against the seats
//! one address may hold at once (so ten spam chats from one network cannot
//! take every agent), and waits a while after an agent closed the shopper's
//! last one.

use std::net::IpAddr;
use std::time::Duration;

use super::Conversations;
use crate::limits::{ClientKey, Door, Refused};
use crate::store::{Site, StoreError, now_ms};

/// Why a shopper's message was not taken now. Nothing was stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotNow {
    /// Over a rate limit, or soon after an agent closed the last chat.
    #[error(transparent)]
    Limited(Refused),
    /// Shoppers of this address hold as many chats as they may at once.
    #[error("{0}")]
    Seats(String),
}

impl NotNow {
    /// What the shopper (or, by email, their mail server) is told.
    pub fn message(&self) -> String {
        match self {
            NotNow::Limited(refused) => refused.message(),
            NotNow::Seats(message) => message.clone(),
        }
    }
}

/// Where a shopper's message comes from, as allowances count it.
#[derive(Clone, Copy, Debug)]
pub enum PostedFrom<'a> {
    /// A widget socket at this address.
    Chat(IpAddr),
    /// An email reply: the address the shopper last chatted from, if any.
    Email(Option<&'a str>),
}

impl Conversations {
    /// Whether a shopper of `site` may post now: into `open` (their open
    /// conversation), or into a new one when it is `None`.
    pub async fn shopper_may_post(
        &self,
        site: &Site,
        visitor_id: &str,
        open: Option<&str>,
        from: PostedFrom<'_>,
    ) -> Result<Result<(), NotNow>, StoreError> {
        let limits = &self.limits;
        if let Some(conversation_id) = open {
            return Ok(limits.message(conversation_id).map_err(NotNow::Limited));
        }
        let address = match from {
            PostedFrom::Chat(ip) => {
                if let Err(refused) = limits.new_conversation(ip, &site.id) {
                    return Ok(Err(NotNow::Limited(refused)));
                }
                Some(ClientKey::from(ip).to_string())
            }
            PostedFrom::Email(address) => {
                if let Err(refused) = limits.new_conversation_for_site(&site.id) {
                    return Ok(Err(NotNow::Limited(refused)));
                }
                address.map(str::to_owned)
            }
        };
        let settings = limits.settings();
        if let Some(address) = address.as_deref()
            && settings.open_conversations_per_ip > 0
        {
            let open = self
                .store
                .open_conversations_from(&site.account_id, address)
                .await?;
            if open >= i64::from(settings.open_conversations_per_ip) {
                return Ok(Err(NotNow::Seats(format!(
                    "Chats from your network are already open here ({open}); please continue in one of them, or try again once it has ended."
                ))));
            }
        }
        if settings.after_close_secs > 0 {
            let wait_ms = i64::from(settings.after_close_secs) * 1000;
            let now = now_ms();
            // The shopper's own last chat, not their network's: on a shared
            // address, another shopper's closed chat must not hold them up.
            let closed = self
                .store
                .last_closed_by_agent(visitor_id, now - wait_ms)
                .await?;
            if let Some(closed) = closed {
                let left = u64::try_from(closed + wait_ms - now).unwrap_or(0).max(1);
                return Ok(Err(NotNow::Limited(Refused {
                    door: Door::AfterClose,
                    retry_after: Duration::from_millis(left),
                })));
            }
        }
        Ok(Ok(()))
    }
}
