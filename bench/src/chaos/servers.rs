//! Server processes a run starts, kills (`SIGKILL`: no goodbye, no flush)
//! and starts again on the same port and database.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::BenchError;

/// How to start a server: its binary, arguments and environment (the
/// address and public URL are the node's own).
#[derive(Clone, Debug)]
pub struct ServerCommand {
    pub bin: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// One server process on a fixed loopback port.
pub struct Node {
    pub port: u16,
    command: ServerCommand,
    child: Option<Child>,
}

impl Node {
    pub fn new(port: u16, command: ServerCommand) -> Node {
        Node {
            port,
            command,
            child: None,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits until it answers its health check.
    pub async fn start(&mut self) -> Result<Duration, BenchError> {
        let started = Instant::now();
        let child = Command::new(&self.command.bin)
            .args(&self.command.args)
            .envs(self.command.env.iter().map(|(k, v)| (k, v)))
            .env("RAPPORT_ADDR", format!("127.0.0.1:{}", self.port))
            .env("RAPPORT_PUBLIC_URL", self.url())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        self.child = Some(child);
        let health = format!("{}/healthz", self.url());
        let client = reqwest::Client::new();
        while started.elapsed() < Duration::from_secs(30) {
            let answer = client
                .get(&health)
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return Ok(started.elapsed());
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(BenchError::Setup(format!("the server exited: {status}")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(BenchError::Timeout(format!(
            "the server on port {} did not answer within 30 s",
            self.port
        )))
    }

    /// `kill -9`, and waits for the process to be gone.
    pub async fn kill(&mut self) -> Result<(), BenchError> {
        if let Some(mut child) = self.child.take() {
            child.start_kill()?;
            child.wait().await?;
        }
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }
}
