//! Rapport's server: an axum service that connects shoppers on shops' pages
//! with agents in the inbox. `main.rs` only parses flags and calls [`run`].
//!
//! The modules form a graph without cycles (`tests/architecture.rs` prints
//! it and fails on a cycle): `http` → `conversations` (the only code that
//! changes a conversation) → `store`, `hub`; the dispatcher's actor →
//! `conversations`, `matcher`, `hub`; `hub` and `dispatch` → `cluster` (a
//! transport only). `app` wires them together.
#![warn(unreachable_pub)]

mod app;
pub mod articles;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod contact_token;
pub mod conversations;
pub mod dispatch;
pub mod domain;
pub mod files;
// Fuzz targets' bodies: built for the tests and the fuzzers only.
#[cfg(any(test, fuzzing))]
pub mod fuzzing;
pub mod hours;
pub mod http;
pub mod hub;
pub mod identity;
pub mod limits;
pub mod mail;
pub mod mailroom;
pub mod matcher;
pub mod reports;
pub mod signin;
pub mod store;
pub mod text_search;
pub mod visitors;
pub mod widget_texts;

pub use app::serve;
pub use http::{AppState, router};

use config::{Cli, Command};
use store::StoreError;
use tokio::net::TcpListener;

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
    Mail(#[from] mail::MailError),
    #[error(transparent)]
    Invalid(#[from] domain::Invalid),
    #[error(transparent)]
    Files(#[from] files::BlobError),
    #[error("{0}")]
    Input(String),
}

/// Runs the command line: serve (default) or an admin subcommand.
pub async fn run(cli: Cli) -> Result<(), StartError> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            app::raise_open_file_limit();
            let listener = TcpListener::bind(cli.config.addr).await?;
            serve(listener, cli.config, app::shutdown_signal()).await
        }
        Command::AddUser(args) => cli::add_user(&cli.config, args).await,
        Command::AddSite(args) => cli::add_site(&cli.config, args).await,
        Command::AddTeam(args) => cli::add_team(&cli.config, args).await,
        Command::AddTopic(args) => cli::add_topic(&cli.config, args).await,
        Command::SiteSecret(args) => cli::site_secret(&cli.config, args).await,
        Command::SetPassword(args) => cli::set_password(&cli.config, args).await,
        Command::UpdateUser(args) => cli::update_user(&cli.config, args).await,
    }
}
