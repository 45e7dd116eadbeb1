//! Every integration test of the server, in one binary: one link instead
//! of one per file, and the tests of every file run side by side (each
//! starts its own server on port 0 and its own database), so `cargo test`
//! takes about as long as the slowest of them rather than their sum.
//! Each module is one subject; `common` is what they share.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

mod architecture;
mod articles;
mod bad_input;
mod blocks;
mod chat;
mod cluster;
mod cluster_notices;
mod console;
mod customers;
mod deadlines;
mod docs_commands;
mod email;
mod files;
mod first_run;
mod group_commit;
mod handover;
mod identity;
mod limits;
mod mail_doors;
mod matching;
mod origins;
mod paging;
mod ratings;
mod report_signals;
mod reports;
mod search;
mod setup_and_assets;
mod signin;
mod signs_of_life;
mod statuses;
mod tenants;
mod views;
