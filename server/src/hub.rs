//! Real-time fan-out: connections subscribe to topics, and whoever stores an
//! event publishes the already-serialised frame to the topic once.
//!
//! Each connection has a bounded outbox. A connection that cannot keep up is
//! kicked rather than buffered without limit; nothing is lost, because the
//! client resumes from its last `seq` when it reconnects.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use tokio::sync::{Notify, mpsc};

use crate::cluster::{Link, Notice};

/// A serialised frame; cloning shares the bytes, so fan-out copies nothing.
pub type Frame = Utf8Bytes;

/// Serialises a frame. Our frame types always serialise; should one ever
/// fail, the client gets an internal error frame instead of silence.
pub fn encode<T: Serialize>(frame: &T) -> Frame {
    match serde_json::to_string(frame) {
        Ok(text) => Frame::from(text),
        Err(err) => {
            tracing::error!(%err, "frame failed to serialise");
            Frame::from(
                r#"{"type":"error","code":"internal","message":"The server could not encode a frame."}"#,
            )
        }
    }
}

/// Frames waiting for one connection, at most.
pub const OUTBOX_CAPACITY: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Shopper-visible events of one visitor's conversations (all their tabs).
    Visitor(String),
    /// Every event of one conversation, for the agents following it.
    Conversation(String),
    /// Conversation summaries of one account, for every inbox of it.
    Account(String),
    /// Frames for one agent only (presence), on all their tabs.
    Agent(String),
    /// The inbox sockets of one signed-in session (by its stored key), so
    /// that signing out ends them.
    Session(String),
    /// Every widget socket of one site, so that a change of the site's
    /// rules reaches the sockets already open.
    Site(String),
    /// Every widget socket of one account from one address
    /// (`ACCOUNT/ADDRESS`), so that blocking the address ends them.
    Address(String),
}

/// A connection's handle in the hub.
#[derive(Clone, Debug)]
pub struct Subscriber {
    id: u64,
    outbox: mpsc::Sender<Frame>,
    kicked: Arc<Notify>,
    /// Why it was kicked (a [`Farewell`] as a number), set before the kick.
    farewell: Arc<AtomicU8>,
    /// Set when kicked: from then on it gets nothing more, not even by a
    /// topic it follows afresh before its socket notices. A frame after one
    /// dropped would leave a gap below the seq its client resumes from.
    gone: Arc<AtomicBool>,
}

/// Why the hub dropped a connection, which decides what its client is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Farewell {
    /// It fell behind: reconnect and resume.
    Lagging = 0,
    /// Its session is over for good (signed out, deactivated, blocked).
    Ended = 1,
    /// The rules it was let in by changed (a site's origins or identity
    /// settings): reconnect, and be checked again.
    RulesChanged = 2,
}

impl Subscriber {
    /// This connection's id, unique within the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Resolves when the hub has dropped this connection for lagging.
    pub async fn kicked(&self) {
        self.kicked.notified().await;
    }

    /// Why the hub dropped it.
    pub fn farewell(&self) -> Farewell {
        match self.farewell.load(Ordering::Relaxed) {
            1 => Farewell::Ended,
            2 => Farewell::RulesChanged,
            _ => Farewell::Lagging,
        }
    }

    /// Queues a frame for this connection alone (acks, errors, replays).
    pub fn send(&self, frame: Frame) -> bool {
        !self.gone.load(Ordering::Relaxed) && self.outbox.try_send(frame).is_ok()
    }

    /// Drops it from the hub's point of view, telling its socket why.
    fn kick(&self, why: Farewell) {
        self.gone.store(true, Ordering::Relaxed);
        self.farewell.store(why as u8, Ordering::Relaxed);
        self.kicked.notify_one();
    }
}

#[derive(Debug, Default)]
struct Routes {
    by_topic: HashMap<Topic, HashMap<u64, Subscriber>>,
    by_connection: HashMap<u64, HashSet<Topic>>,
}

#[derive(Debug, Default)]
pub struct Hub {
    routes: Mutex<Routes>,
    next_id: AtomicU64,
    /// The other processes on the same database, when there are any.
    peers: Option<Link>,
}

impl Topic {
    /// `v:ID`, `c:ID`, `a:ID`, `g:ID`, `s:KEY`, `t:ID` or `i:KEY`: how a topic travels to other processes.
    pub fn to_wire(&self) -> String {
        match self {
            Topic::Visitor(id) => format!("v:{id}"),
            Topic::Conversation(id) => format!("c:{id}"),
            Topic::Account(id) => format!("a:{id}"),
            Topic::Agent(id) => format!("g:{id}"),
            Topic::Session(key) => format!("s:{key}"),
            Topic::Site(id) => format!("t:{id}"),
            Topic::Address(key) => format!("i:{key}"),
        }
    }

    pub fn from_wire(wire: &str) -> Option<Topic> {
        let (kind, id) = wire.split_once(':')?;
        let id = id.to_owned();
        Some(match kind {
            "v" => Topic::Visitor(id),
            "c" => Topic::Conversation(id),
            "a" => Topic::Account(id),
            "g" => Topic::Agent(id),
            "s" => Topic::Session(id),
            "t" => Topic::Site(id),
            "i" => Topic::Address(id),
            _ => return None,
        })
    }
}

impl Hub {
    /// A hub for this process alone, or (with `peers`) one whose frames
    /// also reach the other processes on the same database.
    pub fn new(peers: Option<Link>) -> Hub {
        Hub {
            peers,
            ..Hub::default()
        }
    }

    fn routes(&self) -> MutexGuard<'_, Routes> {
        // A panic while holding the lock cannot leave Routes half-updated in
        // a way that matters more than losing the hub, so keep serving.
        self.routes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a connection; returns its handle and the receiving end of its outbox.
    pub fn connect(&self) -> (Subscriber, mpsc::Receiver<Frame>) {
        let (outbox, inbox) = mpsc::channel(OUTBOX_CAPACITY);
        let subscriber = Subscriber {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            outbox,
            kicked: Arc::new(Notify::new()),
            farewell: Arc::default(),
            gone: Arc::default(),
        };
        (subscriber, inbox)
    }

    pub fn subscribe(&self, topic: Topic, subscriber: &Subscriber) {
        let mut routes = self.routes();
        if subscriber.gone.load(Ordering::Relaxed) {
            return;
        }
        routes
            .by_topic
            .entry(topic.clone())
            .or_default()
            .insert(subscriber.id, subscriber.clone());
        routes
            .by_connection
            .entry(subscriber.id)
            .or_default()
            .insert(topic);
    }

    /// Stops one connection following one topic.
    pub fn unsubscribe(&self, topic: &Topic, subscriber: &Subscriber) {
        let mut routes = self.routes();
        if let Some(subscribers) = routes.by_topic.get_mut(topic) {
            subscribers.remove(&subscriber.id);
            if subscribers.is_empty() {
                routes.by_topic.remove(topic);
            }
        }
        if let Some(topics) = routes.by_connection.get_mut(&subscriber.id) {
            topics.remove(topic);
        }
    }

    /// Removes a connection from every topic; call when it closes.
    pub fn disconnect(&self, subscriber: &Subscriber) {
        let mut routes = self.routes();
        remove_connection(&mut routes, subscriber.id);
    }

    /// Sends a frame to every subscriber of `topic`, in this process and,
    /// when clustered, in the others.
    pub fn publish(&self, topic: &Topic, frame: Frame) {
        if let Some(peers) = &self.peers {
            peers.tell(Notice::Frame {
                topic: topic.to_wire(),
                frame: frame.as_str().to_owned(),
            });
        }
        self.publish_local(topic, frame);
    }

    /// Sends a frame to the subscribers of `topic` in this process only.
    pub fn publish_local(&self, topic: &Topic, frame: Frame) {
        let mut routes = self.routes();
        let Some(subscribers) = routes.by_topic.get(topic) else {
            return;
        };
        let mut lagging = Vec::new();
        for subscriber in subscribers.values() {
            if subscriber.outbox.try_send(frame.clone()).is_err() {
                lagging.push(subscriber.clone());
            }
        }
        for subscriber in lagging {
            tracing::warn!(
                connection = subscriber.id,
                "connection lagging; dropping it so it resumes"
            );
            remove_connection(&mut routes, subscriber.id);
            subscriber.kick(Farewell::Lagging);
        }
    }

    /// Closes every connection of `topic` in this process for good (an agent
    /// was deactivated): they are told their session ended.
    pub fn end_sessions(&self, topic: &Topic) {
        self.drop_all(topic, Farewell::Ended);
    }

    /// Closes every connection of `topic` in this process, telling them to
    /// reconnect: they are checked again against rules that changed.
    pub fn recheck(&self, topic: &Topic) {
        self.drop_all(topic, Farewell::RulesChanged);
    }

    fn drop_all(&self, topic: &Topic, why: Farewell) {
        let mut routes = self.routes();
        let subscribers: Vec<Subscriber> = routes
            .by_topic
            .get(topic)
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default();
        for subscriber in subscribers {
            remove_connection(&mut routes, subscriber.id);
            subscriber.kick(why);
        }
    }

    /// Like [`Hub::end_sessions`], in every process of the cluster.
    pub fn end_sessions_everywhere(&self, topic: &Topic) {
        if let Some(peers) = &self.peers {
            peers.tell(Notice::EndSessions {
                topic: topic.to_wire(),
                recheck: false,
            });
        }
        self.end_sessions(topic);
    }

    /// Like [`Hub::recheck`], in every process of the cluster.
    pub fn recheck_everywhere(&self, topic: &Topic) {
        if let Some(peers) = &self.peers {
            peers.tell(Notice::EndSessions {
                topic: topic.to_wire(),
                recheck: true,
            });
        }
        self.recheck(topic);
    }

    /// How many connections follow a topic (for tests and metrics).
    pub fn subscriber_count(&self, topic: &Topic) -> usize {
        self.routes().by_topic.get(topic).map_or(0, HashMap::len)
    }
}

fn remove_connection(routes: &mut Routes, id: u64) {
    for topic in routes.by_connection.remove(&id).unwrap_or_default() {
        if let Some(subscribers) = routes.by_topic.get_mut(&topic) {
            subscribers.remove(&id);
            if subscribers.is_empty() {
                routes.by_topic.remove(&topic);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn publishes_to_subscribers_of_the_topic_only() {
        let hub = Hub::new(None);
        let (a, mut a_rx) = hub.connect();
        let (b, mut b_rx) = hub.connect();
        hub.subscribe(Topic::Conversation("c1".into()), &a);
        hub.subscribe(Topic::Conversation("c2".into()), &b);
        hub.publish(&Topic::Conversation("c1".into()), Frame::from("one"));
        assert_eq!(a_rx.recv().await.as_deref(), Some("one"));
        assert!(b_rx.try_recv().is_err());
    }

    #[test]
    fn topics_travel_as_text() {
        for topic in [
            Topic::Visitor("v1".into()),
            Topic::Conversation("c1".into()),
            Topic::Account("a1".into()),
            Topic::Agent("g1".into()),
            Topic::Session("s1".into()),
        ] {
            assert_eq!(Topic::from_wire(&topic.to_wire()), Some(topic));
        }
        assert_eq!(Topic::from_wire("x:1"), None);
        assert_eq!(Topic::from_wire("nocolon"), None);
    }

    #[tokio::test]
    async fn unsubscribe_stops_one_topic_only() {
        let hub = Hub::new(None);
        let (a, mut a_rx) = hub.connect();
        hub.subscribe(Topic::Visitor("old".into()), &a);
        hub.subscribe(Topic::Visitor("new".into()), &a);
        hub.unsubscribe(&Topic::Visitor("old".into()), &a);
        hub.publish(&Topic::Visitor("old".into()), Frame::from("stale"));
        hub.publish(&Topic::Visitor("new".into()), Frame::from("fresh"));
        assert_eq!(a_rx.recv().await.as_deref(), Some("fresh"));
        assert_eq!(hub.subscriber_count(&Topic::Visitor("old".into())), 0);
    }

    #[tokio::test]
    async fn disconnect_forgets_every_topic() {
        let hub = Hub::new(None);
        let (a, _rx) = hub.connect();
        hub.subscribe(Topic::Visitor("v".into()), &a);
        hub.subscribe(Topic::Account("x".into()), &a);
        hub.disconnect(&a);
        assert_eq!(hub.subscriber_count(&Topic::Visitor("v".into())), 0);
        assert_eq!(hub.subscriber_count(&Topic::Account("x".into())), 0);
    }

    #[tokio::test]
    async fn a_lagging_connection_is_kicked_not_buffered() {
        let hub = Hub::new(None);
        let (slow, _rx) = hub.connect();
        let topic = Topic::Conversation("c".into());
        hub.subscribe(topic.clone(), &slow);
        for _ in 0..=OUTBOX_CAPACITY {
            hub.publish(&topic, Frame::from("x"));
        }
        tokio::time::timeout(std::time::Duration::from_secs(1), slow.kicked())
            .await
            .expect("kicked");
        assert_eq!(hub.subscriber_count(&topic), 0);
    }

    #[tokio::test]
    async fn a_kicked_connection_gets_nothing_more_even_by_a_topic_it_follows_afresh() {
        let hub = Hub::new(None);
        let (slow, mut rx) = hub.connect();
        let topic = Topic::Conversation("c".into());
        hub.subscribe(topic.clone(), &slow);
        for _ in 0..=OUTBOX_CAPACITY {
            hub.publish(&topic, Frame::from("x"));
        }
        // Its socket takes a while to notice: meanwhile it reads its outbox
        // and opens a conversation again.
        while rx.try_recv().is_ok() {}
        hub.subscribe(topic.clone(), &slow);
        hub.publish(&topic, Frame::from("after the gap"));
        assert!(!slow.send(Frame::from("direct")));
        assert!(rx.try_recv().is_err(), "nothing after the dropped frame");
        assert_eq!(hub.subscriber_count(&topic), 0);
        assert_eq!(slow.farewell(), Farewell::Lagging);
    }
}
