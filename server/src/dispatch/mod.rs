//! Who gets which chat. One task (the actor, `actor.rs`) owns live agent
//! presence and hands out waiting conversations; every decision goes
//! through its queue, so decisions never race inside a process, and the
//! store's guarded updates keep them correct across processes too.
//!
//! Its parts: presence (`presence.rs`), assignment (`assignment.rs`), the
//! line and its wait estimate (`queue.rs`) and deadlines (`deadlines.rs`).
//! It changes conversations only through the conversation service, and
//! hears from it through [`Nudge`]s.

mod actor;
mod assignment;
mod deadlines;
mod presence;
mod presence_log;
mod queue;

pub use deadlines::Deadlines;
pub use queue::estimate_wait_secs;

use std::collections::HashMap;

use protocol::Availability;
use tokio::sync::{mpsc, oneshot};

use crate::cluster::Link;
use crate::conversations::{Conversations, Nudge};
use crate::hub::Hub;
use crate::store::{Agent, Store};

/// What the actor is asked to do.
#[derive(Debug)]
enum Command {
    Connected {
        agent: Agent,
        connection: u64,
        reply: oneshot::Sender<Availability>,
    },
    Disconnected {
        agent: Agent,
        connection: u64,
    },
    SetStatus {
        agent: Agent,
        status: Availability,
    },
    /// Serve the account's line.
    Serve {
        account_id: String,
    },
    /// The agent's stored details (capacity, languages…) changed.
    AgentChanged {
        agent: Agent,
    },
    Statuses {
        account_id: String,
        reply: oneshot::Sender<HashMap<String, Availability>>,
    },
    /// Another process's agents who are not offline.
    RemotePresence {
        node: String,
        agents: Vec<(String, String, Availability)>,
    },
    /// The agent was deactivated: gone from matching, sockets closed,
    /// conversations back to the line.
    Deactivated {
        agent: Agent,
    },
    /// Another process changed an agent's stored details.
    RemoteAgentChanged {
        agent_id: String,
    },
}

/// Handle to the dispatcher task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    commands: mpsc::UnboundedSender<Command>,
    /// Waiting shoppers who came back, as (account, conversation): taken
    /// after everything else, in batches, so that a crowd reconnecting to
    /// one account never holds up an agent's inbox or another account.
    returns: mpsc::UnboundedSender<(String, String)>,
}

/// What the dispatcher works with.
#[derive(Debug)]
pub struct Parts {
    pub store: Store,
    pub conversations: Conversations,
    /// The service's nudges.
    pub nudges: mpsc::UnboundedReceiver<Nudge>,
    pub hub: std::sync::Arc<Hub>,
    /// The other processes on the same database, when there are any.
    pub peers: Option<Link>,
    pub deadlines: Deadlines,
}

impl Dispatcher {
    /// Starts the task; it ends when every handle is dropped.
    pub fn start(parts: Parts) -> Dispatcher {
        let (commands, queue) = mpsc::unbounded_channel();
        let (returns, returned) = mpsc::unbounded_channel();
        tokio::spawn(actor::run(parts, queue, returned));
        Dispatcher { commands, returns }
    }

    fn tell(&self, command: Command) {
        // Only fails once the actor is gone, i.e. the server is stopping.
        let _ = self.commands.send(command);
    }

    /// An inbox connected; returns the agent's status.
    pub async fn connected(&self, agent: &Agent, connection: u64) -> Availability {
        let (reply, answer) = oneshot::channel();
        self.tell(Command::Connected {
            agent: agent.clone(),
            connection,
            reply,
        });
        answer.await.unwrap_or_default()
    }

    pub fn disconnected(&self, agent: &Agent, connection: u64) {
        self.tell(Command::Disconnected {
            agent: agent.clone(),
            connection,
        });
    }

    pub fn set_status(&self, agent: &Agent, status: Availability) {
        self.tell(Command::SetStatus {
            agent: agent.clone(),
            status,
        });
    }

    /// The status of each of the account's agents this process knows of.
    pub async fn statuses(&self, account_id: &str) -> HashMap<String, Availability> {
        let (reply, answer) = oneshot::channel();
        self.tell(Command::Statuses {
            account_id: account_id.to_owned(),
            reply,
        });
        answer.await.unwrap_or_default()
    }

    /// An agent's stored details changed, e.g. a raised capacity: use them
    /// from now on and serve whoever waits if there is new room.
    pub fn agent_changed(&self, agent: &Agent) {
        self.tell(Command::AgentChanged {
            agent: agent.clone(),
        });
    }

    /// The agent was deactivated: close their inboxes everywhere and give
    /// their conversations to others.
    pub fn deactivated(&self, agent: &Agent) {
        self.tell(Command::Deactivated {
            agent: agent.clone(),
        });
    }

    /// What another process said about its agents.
    pub fn remote_presence(&self, node: String, agents: Vec<(String, String, Availability)>) {
        self.tell(Command::RemotePresence { node, agents });
    }

    pub fn remote_agent_changed(&self, agent_id: String) {
        self.tell(Command::RemoteAgentChanged { agent_id });
    }

    /// Hands out whatever waits in the account that can be handed out now,
    /// and tells the line where it stands (e.g. after a restart).
    pub fn serve(&self, account_id: &str) {
        self.tell(Command::Serve {
            account_id: account_id.to_owned(),
        });
    }

    /// A waiting shopper came back: serve them, or tell them (only them)
    /// where they stand.
    pub fn waiting(&self, account_id: &str, conversation_id: &str) {
        let _ = self
            .returns
            .send((account_id.to_owned(), conversation_id.to_owned()));
    }
}
