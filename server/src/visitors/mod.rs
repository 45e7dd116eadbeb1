//! The shopper's side as a service, beside `conversations`: a browser's
//! hello (its token, a new visitor, or a "continue in the chat" link from
//! an email), who it is (identify, forget), what it did (pages, tracked
//! events), its token's life, and blocks. The widget socket parses,
//! authorises by its connection's state, and calls this.
//!
//! It alone holds the store's [`VisitorBook`], the only way to write a
//! visitor's rows; what it refuses comes back as one [`Refusal`], which
//! the socket turns into an error frame (and, when it says so, a close).

mod activity;
mod blocks;
mod hello;
mod identity;

pub use activity::Activity;
pub use hello::{Arrival, Welcomed};
pub use identity::Identity;

use std::sync::Arc;

use protocol::ErrorCode;

use crate::conversations::Conversations;
use crate::dispatch::Dispatcher;
use crate::hub::Hub;
use crate::limits::Limits;
use crate::store::{StoreError, VisitorBook, now_ms};

/// Handle to the service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Visitors {
    book: VisitorBook,
    conversations: Conversations,
    dispatcher: Dispatcher,
    hub: Arc<Hub>,
    limits: Arc<Limits>,
    /// Days a token may go unused and still work (0: for ever).
    idle_days: u32,
}

impl Visitors {
    pub fn new(
        book: VisitorBook,
        conversations: Conversations,
        dispatcher: Dispatcher,
        hub: Arc<Hub>,
        limits: Arc<Limits>,
        idle_days: u32,
    ) -> Visitors {
        Visitors {
            book,
            conversations,
            dispatcher,
            hub,
            limits,
            idle_days,
        }
    }

    /// The oldest last use (Unix ms) a visitor token may have and still work.
    fn tokens_used_since(&self) -> i64 {
        match self.idle_days {
            0 => 0,
            days => now_ms() - i64::from(days) * 24 * 60 * 60 * 1000,
        }
    }
}

/// How a connection ends after it was told why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Blocked, or signed out: it must not reconnect as it was.
    SessionEnded,
    /// The browser now stands for another customer: reconnect with the
    /// new token.
    IdentityChanged,
    /// Over a limit; come back later.
    Policy,
    /// Too busy now; reconnect after a while.
    TryAgain,
}

/// A refused request: what the client is told (a stable code and words),
/// about which message if any, and whether the connection ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    /// The message refused (the widget marks it and offers Retry).
    pub client_id: Option<String>,
    pub ending: Option<Ending>,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
            client_id: None,
            ending: None,
        }
    }

    /// The same, about the message with this `client_id`.
    pub fn about(mut self, client_id: impl Into<String>) -> Refusal {
        self.client_id = Some(client_id.into());
        self
    }

    /// The same, and the connection ends.
    pub fn ending(mut self, ending: Ending) -> Refusal {
        self.ending = Some(ending);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::new(ErrorCode::BadRequest, message)
    }
}

/// What a blocked shopper is told (no more than that).
pub const BLOCKED: &str = "This shop no longer takes chats from you.";

pub(crate) fn blocked() -> Refusal {
    Refusal::new(ErrorCode::Blocked, BLOCKED).ending(Ending::SessionEnded)
}

/// Why a shopper's request came to nothing: refused (told to the client),
/// or the store failed (nothing was half-written).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("refused: {}", .0.message)]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Failure {
        Failure::Refused(refusal)
    }
}

impl From<crate::limits::Refused> for Refusal {
    fn from(refused: crate::limits::Refused) -> Refusal {
        Refusal::new(ErrorCode::RateLimited, refused.message())
    }
}

impl From<crate::limits::Refused> for Failure {
    fn from(refused: crate::limits::Refused) -> Failure {
        Failure::Refused(refused.into())
    }
}

impl From<crate::domain::Invalid> for Failure {
    fn from(invalid: crate::domain::Invalid) -> Failure {
        Failure::Refused(Refusal::bad_request(invalid.0))
    }
}

pub type VisitorResult<T> = Result<T, Failure>;
