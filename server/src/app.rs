//! Wiring: the one place that knows every part. It builds them in order
//! (store, the link to other processes, hub, conversation service,
//! dispatcher), routes what other processes say to the hub and the
//! dispatcher, and serves the router on a listener it is given.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::cluster::{self, Incoming, Notice};
use crate::config::Config;
use crate::conversations::{Conversations, MailSettings};
use crate::dispatch::{Deadlines, Dispatcher, Parts};
use crate::files::Files;
use crate::http::{AppState, connections, router};
use crate::hub::{Frame, Hub, Topic};
use crate::limits::Limits;
use crate::mail::Mailer;
use crate::mail::tokens::MailKey;
use crate::signin::SignInGuard;
use crate::store::{Backend, SessionRecords, Store};
use crate::visitors::Visitors;
use crate::{StartError, cli, mailroom};

/// How often files nobody can reach are forgotten and erased bytes go.
const FILE_SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Opens the database, creates the first-run account if there is none, and
/// serves on `listener` until `shutdown` resolves; then open sockets are
/// told to reconnect elsewhere and the server drains.
pub async fn serve(
    listener: TcpListener,
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    // What is listened on decides local mode, whatever the flag said.
    config.addr = listener.local_addr()?;
    if config.exposes_plain_http() {
        tracing::error!(
            addr = %config.addr,
            public_url = %config.public_url(),
            "INSECURE: listening on every interface with an http:// public URL; sign-in cookies would cross the network unencrypted. Put Rapport behind TLS and set RAPPORT_PUBLIC_URL=https://…, or listen on 127.0.0.1 behind your proxy."
        );
    }
    let store = Store::connect_with(&config.database_url, config.sqlite_synchronous).await?;
    cli::first_run(&store, &config).await?;
    let public_url = config.public_url();
    let local = config.is_local();
    let (stop, stopped) = watch::channel(false);
    let state = start(store.clone(), config, stopped).await?;
    tokio::spawn(expire_sessions(SessionRecords::new(store.clone())));
    if local {
        tracing::info!(
            addr = %listener.local_addr()?,
            backend = ?store.backend(),
            "Rapport is running (local mode): demo shop at {public_url}/ , inbox at {public_url}/app"
        );
    } else {
        tracing::info!(
            addr = %listener.local_addr()?,
            backend = ?store.backend(),
            "Rapport is running: inbox at {public_url}/app"
        );
    }
    let transport = connections::Transport {
        // Behind a proxy the proxy holds the connections: no cap per address.
        connections_per_ip: if state.config.client_ip_header.is_some() {
            0
        } else {
            state.config.limits.connections_per_ip
        },
        header_timeout: Duration::from_secs(state.config.header_timeout_secs),
    };
    tokio::spawn(forget_quiet_keys(
        state.limits.clone(),
        state.signin.clone(),
    ));
    connections::serve(listener, router(state), transport, async move {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    })
    .await?;
    store.close().await;
    Ok(())
}

/// Builds the parts. On PostgreSQL the process joins the others on the same
/// database, so that any of them can serve any shopper and agent.
async fn start(
    store: Store,
    config: Config,
    shutdown: watch::Receiver<bool>,
) -> Result<AppState, StartError> {
    let mailer = Mailer::from_config(&config)?;
    let (peers, notices) = match store.backend() {
        Backend::Postgres => {
            let secret = match &config.cluster_key {
                Some(secret) => secret.clone(),
                None => store.server_key("cluster").await?,
            };
            let (link, notices) =
                cluster::join(&config.database_url, cluster::ClusterKey::new(&secret)).await?;
            (Some(link), Some(notices))
        }
        Backend::Sqlite => (None, None),
    };
    let hub = Arc::new(Hub::new(peers.clone()));
    let mail = MailSettings {
        key: MailKey::new(&store.server_key("mail").await?),
        from: mailer.from().clone(),
        outbound: mailer.is_configured(),
        inbound: config.inbound_mail(),
        reply_domain: config.reply_domain(),
        public_url: config.public_url(),
    };
    let limits = Arc::new(Limits::new(config.limits.clone()));
    let files = Files::new(
        store.clone(),
        config.files.blobs(&store, &config.database_url)?,
        config.files.settings(),
    );
    tracing::info!(store = %files.blobs().describe(), "attached files are kept in");
    files.clone().keep_swept(FILE_SWEEP_EVERY);
    let (conversations, nudges) = Conversations::new(
        store.conversation_book(),
        hub.clone(),
        mail,
        limits.clone(),
        files.clone(),
    );
    let dispatcher = Dispatcher::start(Parts {
        store: store.clone(),
        conversations: conversations.clone(),
        nudges,
        hub: hub.clone(),
        peers,
        deadlines: Deadlines {
            reply: Duration::from_secs(config.reply_timeout_secs),
            offline_grace: Duration::from_secs(config.offline_grace_secs),
            clock: config.clock.clone(),
        },
    });
    if let Some(notices) = notices {
        tokio::spawn(route_notices(notices, hub.clone(), dispatcher.clone()));
    }
    if mailer.is_configured() {
        mailroom::start(
            store.clone(),
            conversations.clone(),
            mailer.clone(),
            Duration::from_secs(config.mail_retry_secs),
            Duration::from_millis(config.mail_tick_ms.max(10)),
            shutdown.clone(),
        );
    }
    if let Some(addr) = config.inbound_smtp_addr {
        let listener = TcpListener::bind(addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "receiving email replies by SMTP");
        tokio::spawn(mailroom::listen_smtp(
            listener,
            conversations.clone(),
            config.limits.smtp_connections_per_ip,
            shutdown.clone(),
        ));
    }
    let devices = crate::identity::DeviceKey::new(&store.server_key("devices").await?);
    // The visitors service holds the only writer of visitors' rows.
    let visitors = Visitors::new(
        store.visitor_book(),
        conversations.clone(),
        dispatcher.clone(),
        hub.clone(),
        limits.clone(),
        config.visitor_idle_days,
    );
    Ok(AppState {
        articles: crate::articles::Articles::new(store.clone(), config.public_url()),
        files,
        devices,
        visitors,
        store,
        hub,
        conversations,
        dispatcher,
        limits,
        // As many passwords hashed at once as there are cores, unless told.
        signin: Arc::new(SignInGuard::new(
            config.hashing_slots.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
            }),
            Duration::from_millis(config.hashing_wait_ms),
        )),
        config: Arc::new(config),
        mailer,
        shutdown,
    })
}

/// What other processes say goes where it belongs: frames and ended
/// sessions to this process's hub, presence to its dispatcher.
async fn route_notices(
    mut notices: mpsc::UnboundedReceiver<Incoming>,
    hub: Arc<Hub>,
    dispatcher: Dispatcher,
) {
    while let Some(Incoming { from, notice }) = notices.recv().await {
        match notice {
            Notice::Frame { topic, frame } => match Topic::from_wire(&topic) {
                Some(topic) => hub.publish_local(&topic, Frame::from(frame)),
                None => tracing::warn!(topic, "cluster frame for an unknown topic"),
            },
            Notice::EndSessions { topic, recheck } => match Topic::from_wire(&topic) {
                Some(topic) if recheck => hub.recheck(&topic),
                Some(topic) => hub.end_sessions(&topic),
                None => tracing::warn!(topic, "cluster end for an unknown topic"),
            },
            Notice::Presence { agents } => dispatcher.remote_presence(from, agents),
            Notice::AgentChanged { agent_id } => dispatcher.remote_agent_changed(agent_id),
        }
    }
}

/// Every socket is an open file: the usual soft limit (1,024) would stop a
/// server at about a thousand shoppers. Raised to what the system allows
/// this process (its hard limit), and said in the log.
pub(crate) fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(limit, "open files (sockets included) allowed"),
        Err(err) => tracing::warn!(%err, "cannot raise the limit of open files"),
    }
}

/// Keys quiet long enough to have their whole allowance back are
/// forgotten, so that a flood of addresses does not stay in memory.
async fn forget_quiet_keys(limits: Arc<Limits>, signin: Arc<SignInGuard>) {
    let mut every_minute = tokio::time::interval(Duration::from_secs(60));
    loop {
        every_minute.tick().await;
        limits.forget_quiet_keys();
        signin.forget_quiet();
    }
}

async fn expire_sessions(sessions: SessionRecords) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        if let Err(err) = sessions.delete_expired().await {
            tracing::warn!(%err, "could not delete expired sessions");
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
