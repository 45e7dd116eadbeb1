//! What every handler shares.

use std::sync::Arc;

use tokio::sync::watch;

use crate::config::Config;
use std::time::Duration;

use crate::dispatch::{Deadlines, Dispatcher};
use crate::hub::Hub;
use crate::store::Store;

#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub hub: Arc<Hub>,
    pub dispatcher: Dispatcher,
    pub config: Arc<Config>,
    /// Flips to true when the server is shutting down; sockets close politely.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    /// Wires the parts together; `shutdown` tells open sockets to close.
    pub fn new(store: Store, config: Config, shutdown: watch::Receiver<bool>) -> AppState {
        let hub = Arc::new(Hub::new());
        let deadlines = Deadlines {
            reply: Duration::from_secs(config.reply_timeout_secs),
            offline_grace: Duration::from_secs(config.offline_grace_secs),
        };
        let dispatcher = Dispatcher::start(store.clone(), hub.clone(), deadlines);
        AppState {
            store,
            hub,
            dispatcher,
            config: Arc::new(config),
            shutdown,
        }
    }
}
