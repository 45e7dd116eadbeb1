//! What every handler shares. Built by `app`, the one place that wires.

use std::sync::Arc;

use tokio::sync::watch;

use crate::config::Config;
use crate::conversations::Conversations;
use crate::dispatch::Dispatcher;
use crate::hub::Hub;
use crate::limits::Limits;
use crate::mail::Mailer;
use crate::signin::SignInGuard;
use crate::store::Store;
use crate::visitors::Visitors;

#[derive(Clone, Debug)]
pub struct AppState {
    /// Reads, and changes that are not a conversation's.
    pub store: Store,
    /// Subscriptions of this process's sockets.
    pub hub: Arc<Hub>,
    /// Every change of a conversation goes through here.
    pub conversations: Conversations,
    /// The shopper's side: hellos, identity, tokens, pages, blocks.
    pub visitors: Visitors,
    /// Presence, and who gets which chat.
    pub dispatcher: Dispatcher,
    pub config: Arc<Config>,
    /// Limits at the public doors, shared by every request of this process.
    pub limits: Arc<Limits>,
    /// Wrong-password lockouts and the password-hashing pool.
    pub signin: Arc<SignInGuard>,
    /// Signs the cookie of browsers that signed in before.
    pub devices: crate::identity::DeviceKey,
    pub mailer: Mailer,
    /// Help articles: written, found, read.
    pub articles: crate::articles::Articles,
    /// Attached files: uploads, links, the file store.
    pub files: crate::files::Files,
    /// Flips to true when the server is shutting down; sockets close politely.
    pub shutdown: watch::Receiver<bool>,
}
