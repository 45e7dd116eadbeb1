//! Who the shopper is, from the page's `Rapport('identify', …)`: a token
//! the shop's backend signed joins this browser to that customer (a fresh
//! browser token, the old one ended); details the page only states stay on
//! this visitor, unverified. A blocked customer stays blocked on any
//! browser.

use protocol::{ErrorCode, StatedDetails, WidgetFrame};

use super::hello::{Arrival, Welcomed};
use super::{Ending, Refusal, VisitorResult, Visitors, blocked};
use crate::contact_token;
use crate::domain::Email;
use crate::hub::{Frame, Subscriber, Topic, encode};
use crate::identity;
use crate::store::{Visitor, now_ms};

/// Longest stated name, email or phone kept.
const MAX_STATED_CHARS: usize = 200;

/// What an identify came to.
#[derive(Debug)]
pub enum Identity {
    /// The same browser, now standing for the verified customer: a fresh
    /// token and their conversation, on this connection.
    Verified(Box<Welcomed>),
    /// The browser now stands for another customer than it did: the frame
    /// hands over the new token, and the connection ends (what is queued
    /// for the customer it stood for must not follow).
    Another(Frame),
    /// Details the page stated, kept on this visitor as unverified.
    Stated,
}

fn refused(reason: &str) -> Refusal {
    Refusal::new(
        ErrorCode::IdentityRefused,
        format!("Identify refused: {reason}."),
    )
}

fn stated_details_are_sane(details: &StatedDetails) -> bool {
    let fields = [&details.name, &details.email, &details.phone];
    fields.iter().any(|f| f.is_some())
        && fields.iter().all(|f| {
            f.as_ref()
                .is_none_or(|v| v.chars().count() <= MAX_STATED_CHARS)
        })
}

impl Visitors {
    /// `Rapport('identify', …)` on a browser standing for `visitor` with
    /// `current_token`.
    #[tracing::instrument(name = "identify", skip_all, fields(site = %arrival.site.id))]
    pub async fn identify(
        &self,
        arrival: &Arrival<'_>,
        visitor: &Visitor,
        current_token: &str,
        token: Option<String>,
        details: Option<StatedDetails>,
        subscriber: &Subscriber,
    ) -> VisitorResult<Identity> {
        let site = arrival.site;
        let Some(token) = token.filter(|t| !t.trim().is_empty()) else {
            if site.enforce_identity {
                return Err(
                    refused("this site accepts only a token signed by the shop's server").into(),
                );
            }
            let details = details.filter(stated_details_are_sane).ok_or_else(|| {
                refused("give a signed token, or details (name, email, phone) of at most 200 characters each")
            })?;
            let email = details.email.as_deref().and_then(|e| Email::parse(e).ok());
            let details = serde_json::to_value(&details).unwrap_or_default();
            self.book
                .set_unverified_details(&visitor.id, &details)
                .await?;
            if let Some(email) = email {
                self.conversations.give_email(&visitor.id, &email).await?;
            }
            return Ok(Identity::Stated);
        };
        let secrets = self.book.usable_site_secrets(&site.id).await?;
        let claims = contact_token::verify(&token, &site.site_key, &secrets, now_ms() / 1000)
            .map_err(|refusal| {
                tracing::info!(site = %site.id, %refusal, "identify refused");
                refused(&refusal.to_string())
            })?;
        // A blocked customer stays blocked on any browser: this one
        // identifying as them changes nothing, and ends.
        if self
            .book
            .is_blocked_customer(&site.account_id, &claims.sub)
            .await?
        {
            return Err(blocked().into());
        }
        let identified = self.conversations.identify(visitor, &claims).await?;
        if let Some(new_token) = identified.new_token {
            // Another customer on this browser: the token this browser had
            // for the other one ends, and so does this connection.
            self.hub
                .unsubscribe(&Topic::Visitor(visitor.id.clone()), subscriber);
            self.book
                .revoke_visitor_token(&identity::token_hash(current_token))
                .await?;
            return Ok(Identity::Another(encode(&WidgetFrame::Welcome {
                visitor_token: new_token,
                conversation_id: None,
                state: None,
                email_known: claims
                    .email
                    .as_deref()
                    .is_some_and(|e| !e.trim().is_empty()),
                name: claims.name,
                read_seq: 0,
                agent_read_seq: 0,
                replay_from: 1,
            })));
        }
        if identified.visitor.id != visitor.id {
            // The anonymous chat moved to the customer; follow the customer.
            self.hub
                .unsubscribe(&Topic::Visitor(visitor.id.clone()), subscriber);
        }
        // Proven who they are: a fresh token (in the welcome), and the one
        // the browser had as an anonymous visitor stops working.
        let fresh = identity::new_visitor_token();
        self.book
            .rotate_visitor_token(
                &identity::token_hash(current_token),
                &identity::token_hash(&fresh),
            )
            .await?;
        let welcomed = self
            .welcome(identified.visitor, fresh, None, 0, subscriber)
            .await?;
        Ok(Identity::Verified(Box::new(welcomed)))
    }
}

impl Identity {
    /// Whether the connection ends once its frames are sent.
    pub fn ending(&self) -> Option<Ending> {
        matches!(self, Identity::Another(_)).then_some(Ending::IdentityChanged)
    }
}
