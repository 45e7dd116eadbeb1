//! Rapport's server: an axum service that connects shoppers on shops' pages
//! with agents in the inbox. `main.rs` only parses flags and calls [`run`].

pub mod cli;
pub mod cluster;
pub mod config;
pub mod contact_token;
pub mod dispatch;
pub mod fanout;
pub mod hours;
pub mod http;
pub mod hub;
pub mod identity;
pub mod mail;
pub mod matcher;
pub mod store;
pub mod widget_texts;

use std::time::Duration;

pub use http::{AppState, router};

use axum::serve::ListenerExt;
use config::{Cli, Command, Config};
use store::{SessionRecords, Store, StoreError};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Why the process could not start or finish cleanly.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Identity(#[from] identity::IdentityError),
    #[error(transparent)]
    Cluster(#[from] cluster::ClusterError),
    #[error(transparent)]
    State(#[from] http::StateError),
    #[error("{0}")]
    Input(String),
}

/// Runs the command line: serve (default) or an admin subcommand.
pub async fn run(cli: Cli) -> Result<(), StartError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::AddUser(args) => cli::add_user(&cli.config, args).await,
        Command::AddSite(args) => cli::add_site(&cli.config, args).await,
        Command::AddTeam(args) => cli::add_team(&cli.config, args).await,
        Command::AddTopic(args) => cli::add_topic(&cli.config, args).await,
        Command::SiteSecret(args) => cli::site_secret(&cli.config, args).await,
    }
}

/// Opens the database, creates the first-run account if there is none,
/// and serves until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<(), StartError> {
    let store = Store::connect(&config.database_url).await?;
    cli::first_run(&store, &config).await?;
    let listener = TcpListener::bind(config.addr).await?;
    let public_url = config.public_url.trim_end_matches('/').to_owned();
    let (stop, stopped) = watch::channel(false);
    let state = AppState::new(store.clone(), config, stopped).await?;
    tokio::spawn(expire_sessions(SessionRecords::new(store.clone())));
    tracing::info!(
        addr = %listener.local_addr()?,
        backend = ?store.backend(),
        "Rapport is running: demo shop at {public_url}/ , inbox at {public_url}/app"
    );
    // Frames are small and latency matters: no Nagle delay on any socket.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!(%err, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            let _ = stop.send(true);
        })
        .await?;
    store.close().await;
    Ok(())
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

async fn shutdown_signal() {
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
