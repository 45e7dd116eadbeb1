//! What every handler shares.

use std::sync::Arc;

use tokio::sync::watch;

use crate::cluster::{Cluster, ClusterError};
use crate::config::Config;
use std::time::Duration;

use crate::dispatch::{Deadlines, Dispatcher};
use crate::hub::Hub;
use crate::mail::{MailError, Mailer};
use crate::store::{Backend, Store};

/// Why the application's parts could not be wired together.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub hub: Arc<Hub>,
    pub dispatcher: Dispatcher,
    pub config: Arc<Config>,
    pub mailer: Mailer,
    /// Flips to true when the server is shutting down; sockets close politely.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    /// Wires the parts together; `shutdown` tells open sockets to close.
    /// On PostgreSQL the process joins the others on the same database, so
    /// that any of them can serve any shopper and agent.
    pub async fn new(
        store: Store,
        config: Config,
        shutdown: watch::Receiver<bool>,
    ) -> Result<AppState, StateError> {
        let mailer = Mailer::from_config(&config)?;
        let hub = Arc::new(Hub::new());
        let deadlines = Deadlines {
            reply: Duration::from_secs(config.reply_timeout_secs),
            offline_grace: Duration::from_secs(config.offline_grace_secs),
        };
        let dispatcher = Dispatcher::start(store.clone(), hub.clone(), deadlines);
        if store.backend() == Backend::Postgres {
            let cluster =
                Cluster::join(&config.database_url, hub.clone(), dispatcher.clone()).await?;
            hub.join(cluster.clone());
            dispatcher.join(cluster);
        }
        Ok(AppState {
            store,
            hub,
            dispatcher,
            config: Arc::new(config),
            mailer,
            shutdown,
        })
    }
}
