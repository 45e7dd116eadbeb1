//! What the inbox knows, and how each server frame changes it: a pure
//! reducer with no browser calls, so it runs (and is tested) on the host.

use protocol::{
    AgentFrame, AgentProfile, AgentRequest, Author, Availability, ConversationState,
    ConversationSummary, CustomerLabel, Event, EventBody, Reader, Status, TYPING_EXPIRES_SECS,
    Typist,
};

/// A reply or note typed here, until the server confirms it.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub client_id: String,
    pub conversation_id: String,
    pub body: String,
    pub note: bool,
    /// Files uploaded for it (a reply only).
    pub files: Vec<protocol::FileRef>,
}

impl Pending {
    pub fn request(self) -> AgentRequest {
        if self.note {
            AgentRequest::Note {
                conversation_id: self.conversation_id,
                client_id: self.client_id,
                body: self.body,
            }
        } else {
            AgentRequest::Send {
                conversation_id: self.conversation_id,
                client_id: self.client_id,
                body: self.body,
                files: self.files.into_iter().map(|f| f.id).collect(),
            }
        }
    }
}

/// Something the agent should be alerted to.
#[derive(Clone, Debug, PartialEq)]
pub enum Attention {
    /// A conversation just became theirs.
    NewChat(ConversationSummary),
    /// The shopper wrote in one of theirs.
    Message(ConversationSummary),
}

/// Someone typing in the open conversation: what to say, their draft
/// (where the site shows drafts), and until when (ms) it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Typing {
    pub label: String,
    pub draft: Option<String>,
    pub until_ms: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct InboxState {
    pub conversations: Vec<ConversationSummary>,
    pub status: Availability,
    pub open: Option<String>,
    pub events: Vec<Event>,
    pub pending: Vec<Pending>,
    pub notice: Option<String>,
    pub typing: Option<Typing>,
    /// How far the shopper has read the open conversation.
    pub shopper_read_seq: i64,
    /// How far this inbox told the server it has read the open conversation.
    pub read_sent: i64,
    /// The first seq of the open conversation shown; above 1, earlier pages
    /// can be asked for.
    pub earliest: i64,
    /// What the open conversation's shopper is called.
    pub open_shopper: String,
    /// The open conversation's labels.
    pub open_labels: Vec<String>,
    /// Grows with every change of a conversation heard of: what the views'
    /// counts and pages follow.
    pub changes: u64,
    /// The message a search opened the conversation at, and its words.
    pub focus: Option<Focus>,
}

/// A message to show marked, as a search found it.
#[derive(Clone, Debug, PartialEq)]
pub struct Focus {
    pub seq: i64,
    /// `[start, end)` byte ranges of its text.
    pub highlights: Vec<[usize; 2]>,
}

impl InboxState {
    fn visible_to(me: &AgentProfile, conversation: &ConversationSummary) -> bool {
        match &conversation.state {
            ConversationState::Waiting => true,
            ConversationState::Assigned { agent_id, .. } => *agent_id == me.id,
            ConversationState::Closed => false,
        }
    }

    /// Opens a conversation: what was shown of another goes. `listed`: its
    /// summary, when it came from a view rather than the live lists.
    pub fn open(&mut self, id: &str, listed: Option<&ConversationSummary>) {
        let listed = listed.or_else(|| self.conversations.iter().find(|c| c.id == id));
        *self = InboxState {
            shopper_read_seq: listed.map_or(0, |c| c.shopper_read_seq),
            open_shopper: listed.map_or_else(String::new, |c| shopper_name(&c.customer)),
            open_labels: listed.map(|c| c.labels.clone()).unwrap_or_default(),
            open: Some(id.to_owned()),
            conversations: std::mem::take(&mut self.conversations),
            status: self.status,
            pending: std::mem::take(&mut self.pending),
            changes: self.changes,
            ..InboxState::default()
        };
    }

    /// Where the open conversation stands, from its history: closed, or
    /// open with a status (its last change of status since it was opened
    /// or reopened).
    pub fn open_status(&self) -> Option<Status> {
        if self.open_is_closed() {
            return None;
        }
        Some(
            self.events
                .iter()
                .rev()
                .find_map(|e| match &e.body {
                    EventBody::Status { status, .. } => Some(status.clone()),
                    EventBody::Reopened { .. } | EventBody::Closed => Some(Status::Open),
                    _ => None,
                })
                .unwrap_or(Status::Open),
        )
    }

    /// Takes a summary; says what the agent should be alerted to: a
    /// conversation newly theirs, or a new message from the shopper in one
    /// of theirs. Waiting chats alert nobody (they are handed out at once to
    /// whoever has room, who is alerted then), so fifty agents are not.
    fn upsert(
        &mut self,
        me: &AgentProfile,
        conversation: ConversationSummary,
    ) -> Option<Attention> {
        let before = self.conversations.iter().find(|c| c.id == conversation.id);
        let mine = |c: &ConversationSummary| matches!(&c.state, ConversationState::Assigned { agent_id, .. } if *agent_id == me.id);
        let attention = if !mine(&conversation) {
            None
        } else if before.is_some_and(mine) {
            before
                .is_some_and(|before| conversation.unread > before.unread)
                .then(|| Attention::Message(conversation.clone()))
        } else {
            Some(Attention::NewChat(conversation.clone()))
        };
        self.changes = self.changes.wrapping_add(1);
        if self.open.as_deref() == Some(conversation.id.as_str()) {
            self.shopper_read_seq = self.shopper_read_seq.max(conversation.shopper_read_seq);
            self.open_shopper = shopper_name(&conversation.customer);
            self.open_labels.clone_from(&conversation.labels);
        }
        self.conversations.retain(|c| c.id != conversation.id);
        if Self::visible_to(me, &conversation) {
            self.conversations.push(conversation);
            self.conversations
                .sort_by_key(|c| std::cmp::Reverse(c.updated_at_ms));
        }
        attention
    }

    pub fn last_seq(&self) -> i64 {
        self.events.last().map_or(0, |e| e.seq)
    }

    /// Whether the open conversation has ended (its last change of hands
    /// is a close): it takes no more replies.
    pub fn open_is_closed(&self) -> bool {
        self.events
            .iter()
            .rev()
            .find_map(|e| match e.body {
                EventBody::Closed => Some(true),
                EventBody::Assigned { .. } | EventBody::Reopened { .. } => Some(false),
                _ => None,
            })
            .unwrap_or(false)
    }

    fn is_open(&self, conversation_id: &str) -> bool {
        self.open.as_deref() == Some(conversation_id)
    }

    /// Takes a frame that came at `now_ms`; what the agent should be
    /// alerted to, if anything.
    pub fn apply(
        &mut self,
        me: &AgentProfile,
        frame: AgentFrame,
        now_ms: f64,
    ) -> Option<Attention> {
        match frame {
            AgentFrame::Inbox {
                status,
                conversations,
                ..
            } => {
                self.status = status;
                self.conversations = conversations;
            }
            AgentFrame::Conversation { conversation } => return self.upsert(me, *conversation),
            AgentFrame::Status { status } => self.status = status,
            AgentFrame::Event { event } => {
                if self.is_open(&event.conversation_id) && event.seq > self.last_seq() {
                    if let Some(client_id) = &event.client_id {
                        self.pending.retain(|p| p.client_id != *client_id);
                    }
                    if event.author == Author::Visitor {
                        self.typing = None;
                    }
                    self.events.push(event);
                }
            }
            AgentFrame::Typing {
                conversation_id,
                typist,
            } if self.is_open(&conversation_id) => {
                let who = match typist {
                    Typist::Shopper { draft } => Some(("The shopper is typing…".to_owned(), draft)),
                    Typist::Agent { id, .. } if id == me.id => None,
                    Typist::Agent { name, private, .. } => Some((
                        if private {
                            format!("{name} is writing a note…")
                        } else {
                            format!("{name} is typing…")
                        },
                        None,
                    )),
                };
                let until_ms = now_ms + f64::from(TYPING_EXPIRES_SECS) * 1000.0;
                self.typing = who.map(|(label, draft)| Typing {
                    label,
                    draft,
                    until_ms,
                });
            }
            AgentFrame::Typing { .. } => {}
            AgentFrame::Seen {
                conversation_id,
                reader,
                seq,
            } => {
                if self.is_open(&conversation_id) {
                    match reader {
                        Reader::Shopper => self.shopper_read_seq = self.shopper_read_seq.max(seq),
                        Reader::Agents => self.read_sent = self.read_sent.max(seq),
                    }
                }
            }
            AgentFrame::Replay {
                conversation_id,
                from_seq,
            } if self.is_open(&conversation_id) => {
                if from_seq > self.last_seq() + 1 {
                    // More was missed than is replayed: the newest page replaces it.
                    self.events.clear();
                }
                if self.events.is_empty() {
                    self.earliest = from_seq;
                }
            }
            AgentFrame::Earlier {
                conversation_id,
                from_seq,
                events,
            } if self.is_open(&conversation_id) => {
                let first = self.events.first().map_or(i64::MAX, |e| e.seq);
                let mut page: Vec<Event> = events.into_iter().filter(|e| e.seq < first).collect();
                page.append(&mut self.events);
                self.events = page;
                self.earliest = self.earliest.min(from_seq);
            }
            AgentFrame::Replay { .. } | AgentFrame::Earlier { .. } => {}
            AgentFrame::Ack { client_id, .. } => self.pending.retain(|p| p.client_id != client_id),
            AgentFrame::Error {
                message, client_id, ..
            } => {
                if let Some(client_id) = client_id {
                    self.pending.retain(|p| p.client_id != client_id);
                }
                self.notice = Some(message);
            }
            AgentFrame::Pong => {}
        }
        None
    }

    /// A typing signal lapses by itself unless another comes.
    pub fn typing_lapsed(&mut self, now_ms: f64) {
        if self.typing.as_ref().is_some_and(|t| t.until_ms <= now_ms) {
            self.typing = None;
        }
    }

    /// Unread messages over the conversations this inbox lists.
    pub fn unread(&self) -> i64 {
        self.conversations.iter().map(|c| c.unread).sum()
    }

    /// What to tell the server was read, if anything new is on screen.
    pub fn to_mark_read(&self) -> Option<(String, i64)> {
        let last = self.last_seq();
        self.open
            .clone()
            .filter(|_| last > self.read_sent)
            .map(|id| (id, last))
    }

    /// The waiting conversations by team name ("Anyone" for unrouted),
    /// teams by name, each line oldest first (as they will be handed out).
    pub fn waiting_lines(&self) -> Vec<(String, Vec<ConversationSummary>)> {
        let mut lines: std::collections::BTreeMap<String, Vec<ConversationSummary>> =
            std::collections::BTreeMap::new();
        for c in self
            .conversations
            .iter()
            .filter(|c| matches!(c.state, ConversationState::Waiting))
        {
            let team = c
                .team
                .as_ref()
                .map_or_else(|| "Anyone".to_owned(), |t| t.name.clone());
            lines.entry(team).or_default().push(c.clone());
        }
        let mut lines: Vec<_> = lines.into_iter().collect();
        for (_, line) in &mut lines {
            line.sort_by_key(|c| c.created_at_ms);
        }
        lines
    }
}

/// What the inbox calls a shopper in a word: their verified name, else
/// the name they stated (marked), else their number in the site
/// ("Visitor 1042": distinct and stable).
pub fn shopper_name(customer: &CustomerLabel) -> String {
    match (&customer.name, customer.number) {
        (Some(name), _) if customer.verified => name.clone(),
        (Some(name), _) => format!("{name} (unverified)"),
        (None, Some(number)) => format!("Visitor {number}"),
        (None, None) => "Visitor".to_owned(),
    }
}

pub fn minutes_since(then_ms: i64, now_ms: f64) -> i64 {
    ((now_ms as i64 - then_ms) / 60_000).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Channel, ErrorCode, Role};

    fn me() -> AgentProfile {
        AgentProfile {
            id: "ada".into(),
            account_id: "acc".into(),
            email: "ada@shop.test".into(),
            name: "Ada".into(),
            role: Role::Agent,
            failed_sign_ins: 0,
        }
    }

    fn summary(
        id: &str,
        state: ConversationState,
        unread: i64,
        updated: i64,
    ) -> ConversationSummary {
        ConversationSummary {
            id: id.into(),
            site_id: "site".into(),
            site_name: "Shop".into(),
            visitor_id: format!("visitor-{id}"),
            state,
            team: None,
            last_seq: 1,
            last_message: Some("hi".into()),
            created_at_ms: updated,
            updated_at_ms: updated,
            unread,
            shopper_read_seq: 0,
            agent_read_seq: 0,
            customer: CustomerLabel {
                number: Some(7),
                ..CustomerLabel::default()
            },
            status: protocol::Status::Open,
            previous_id: None,
            labels: Vec::new(),
        }
    }

    fn held_by(agent: &str) -> ConversationState {
        ConversationState::Assigned {
            agent_id: agent.into(),
            agent_name: agent.into(),
        }
    }

    fn changed(conversation: ConversationSummary) -> AgentFrame {
        AgentFrame::Conversation {
            conversation: Box::new(conversation),
        }
    }

    fn event(conversation: &str, seq: i64, author: Author, body: EventBody) -> AgentFrame {
        AgentFrame::Event {
            event: Event {
                conversation_id: conversation.into(),
                seq,
                author,
                body,
                client_id: None,
                created_at_ms: seq * 1000,
                via: Channel::Chat,
            },
        }
    }

    fn message(text: &str) -> EventBody {
        EventBody::message(text)
    }

    #[test]
    fn the_list_holds_what_waits_and_what_is_mine_newest_first() {
        let mut inbox = InboxState::default();
        let me = me();
        inbox.apply(
            &me,
            changed(summary("w", ConversationState::Waiting, 1, 10)),
            0.0,
        );
        inbox.apply(&me, changed(summary("mine", held_by("ada"), 0, 20)), 0.0);
        inbox.apply(&me, changed(summary("bobs", held_by("bob"), 0, 30)), 0.0);
        let ids: Vec<&str> = inbox.conversations.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["mine", "w"], "a colleague's chat is not listed");

        // Taken by a colleague, then closed: gone from the list.
        inbox.apply(&me, changed(summary("w", held_by("bob"), 0, 40)), 0.0);
        inbox.apply(
            &me,
            changed(summary("mine", ConversationState::Closed, 0, 50)),
            0.0,
        );
        assert!(inbox.conversations.is_empty());
    }

    #[test]
    fn an_agent_is_alerted_to_a_chat_becoming_theirs_and_to_new_messages_in_it_only() {
        let mut inbox = InboxState::default();
        let me = me();
        let waiting = summary("c", ConversationState::Waiting, 1, 10);
        assert_eq!(
            inbox.apply(&me, changed(waiting), 0.0),
            None,
            "waiting alerts nobody"
        );
        let mine = summary("c", held_by("ada"), 1, 20);
        assert_eq!(
            inbox.apply(&me, changed(mine.clone()), 0.0),
            Some(Attention::NewChat(mine.clone()))
        );
        assert_eq!(inbox.apply(&me, changed(mine), 0.0), None, "nothing new");
        let wrote = summary("c", held_by("ada"), 2, 30);
        assert_eq!(
            inbox.apply(&me, changed(wrote.clone()), 0.0),
            Some(Attention::Message(wrote))
        );
        assert_eq!(inbox.unread(), 2);
    }

    #[test]
    fn only_the_open_conversation_s_events_are_kept_once_each_in_order() {
        let mut inbox = InboxState::default();
        let me = me();
        inbox.open("c", None);
        inbox.apply(&me, event("c", 1, Author::Visitor, message("one")), 0.0);
        inbox.apply(
            &me,
            event("other", 2, Author::Visitor, message("elsewhere")),
            0.0,
        );
        inbox.apply(&me, event("c", 2, Author::Visitor, message("two")), 0.0);
        inbox.apply(
            &me,
            event("c", 2, Author::Visitor, message("two again")),
            0.0,
        );
        let seqs: Vec<i64> = inbox.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2]);
        assert_eq!(inbox.to_mark_read(), Some(("c".to_owned(), 2)));
        inbox.read_sent = 2;
        assert_eq!(inbox.to_mark_read(), None, "told once");
    }

    #[test]
    fn a_reply_is_pending_until_acknowledged_or_refused() {
        let mut inbox = InboxState::default();
        let me = me();
        inbox.open("c", None);
        for id in ["k1", "k2"] {
            inbox.pending.push(Pending {
                client_id: id.into(),
                conversation_id: "c".into(),
                body: "hello".into(),
                note: false,
                files: Vec::new(),
            });
        }
        inbox.apply(
            &me,
            AgentFrame::Ack {
                client_id: "k1".into(),
                conversation_id: "c".into(),
                seq: 3,
            },
            0.0,
        );
        inbox.apply(
            &me,
            AgentFrame::Error {
                code: ErrorCode::RateLimited,
                message: "Slow down".into(),
                client_id: Some("k2".into()),
            },
            0.0,
        );
        assert!(inbox.pending.is_empty());
        assert_eq!(inbox.notice.as_deref(), Some("Slow down"));
        // Opening another conversation clears what was said about this one.
        inbox.open("d", None);
        assert_eq!(inbox.notice, None);
    }

    #[test]
    fn a_replay_past_a_gap_replaces_the_events_and_earlier_pages_go_before_them() {
        let mut inbox = InboxState::default();
        let me = me();
        inbox.open("c", None);
        inbox.apply(&me, event("c", 1, Author::Visitor, message("old")), 0.0);
        inbox.apply(
            &me,
            AgentFrame::Replay {
                conversation_id: "c".into(),
                from_seq: 301,
            },
            0.0,
        );
        assert!(inbox.events.is_empty(), "more was missed than replayed");
        assert_eq!(inbox.earliest, 301);
        inbox.apply(&me, event("c", 301, Author::Visitor, message("new")), 0.0);
        let earlier = |seq| Event {
            conversation_id: "c".into(),
            seq,
            author: Author::Visitor,
            body: message("earlier"),
            client_id: None,
            created_at_ms: 0,
            via: Channel::Chat,
        };
        inbox.apply(
            &me,
            AgentFrame::Earlier {
                conversation_id: "c".into(),
                from_seq: 101,
                events: vec![earlier(101), earlier(300), earlier(301)],
            },
            0.0,
        );
        let seqs: Vec<i64> = inbox.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [101, 300, 301], "no event twice");
        assert_eq!(inbox.earliest, 101);
    }

    #[test]
    fn typing_shows_others_not_me_and_lapses() {
        let mut inbox = InboxState::default();
        let me = me();
        inbox.open("c", None);
        let typing = |typist| AgentFrame::Typing {
            conversation_id: "c".into(),
            typist,
        };
        inbox.apply(
            &me,
            typing(Typist::Agent {
                id: "ada".into(),
                name: "Ada".into(),
                private: false,
            }),
            0.0,
        );
        assert_eq!(inbox.typing, None, "not told of my own typing");
        inbox.apply(
            &me,
            typing(Typist::Shopper {
                draft: Some("where is".into()),
            }),
            1000.0,
        );
        let shown = inbox.typing.clone().expect("the shopper types");
        assert_eq!(shown.draft.as_deref(), Some("where is"));
        inbox.typing_lapsed(shown.until_ms - 1.0);
        assert!(inbox.typing.is_some());
        inbox.typing_lapsed(shown.until_ms);
        assert_eq!(inbox.typing, None);
        // A message from the shopper ends their typing at once.
        inbox.apply(&me, typing(Typist::Shopper { draft: None }), 0.0);
        inbox.apply(&me, event("c", 1, Author::Visitor, message("here")), 0.0);
        assert_eq!(inbox.typing, None);
    }

    #[test]
    fn a_conversation_is_closed_when_its_last_change_of_hands_is_a_close() {
        let mut inbox = InboxState::default();
        let me = me();
        inbox.open("c", None);
        let assigned = EventBody::Assigned {
            agent_id: "ada".into(),
            agent_name: "Ada".into(),
        };
        inbox.apply(&me, event("c", 1, Author::System, assigned.clone()), 0.0);
        assert!(!inbox.open_is_closed());
        inbox.apply(&me, event("c", 2, Author::System, EventBody::Closed), 0.0);
        inbox.apply(
            &me,
            event("c", 3, Author::System, message("by email later")),
            0.0,
        );
        assert!(inbox.open_is_closed());
        inbox.apply(&me, event("c", 4, Author::System, assigned), 0.0);
        assert!(!inbox.open_is_closed());
    }

    #[test]
    fn waiting_lines_group_by_team_oldest_first() {
        let mut inbox = InboxState::default();
        let me = me();
        let mut billing = summary("b2", ConversationState::Waiting, 0, 20);
        billing.team = Some(protocol::TeamRef {
            id: "t".into(),
            name: "Billing".into(),
        });
        let mut older = billing.clone();
        older.id = "b1".into();
        older.created_at_ms = 5;
        older.updated_at_ms = 50;
        for c in [
            summary("a", ConversationState::Waiting, 0, 10),
            billing,
            older,
        ] {
            inbox.apply(&me, changed(c), 0.0);
        }
        let lines: Vec<(String, Vec<String>)> = inbox
            .waiting_lines()
            .into_iter()
            .map(|(team, line)| (team, line.into_iter().map(|c| c.id).collect()))
            .collect();
        assert_eq!(
            lines,
            [
                ("Anyone".to_owned(), vec!["a".to_owned()]),
                ("Billing".to_owned(), vec!["b1".to_owned(), "b2".to_owned()])
            ]
        );
    }

    #[test]
    fn a_shopper_is_named_by_what_is_known_of_them() {
        let mut customer = CustomerLabel::default();
        assert_eq!(shopper_name(&customer), "Visitor");
        customer.number = Some(1042);
        assert_eq!(shopper_name(&customer), "Visitor 1042");
        customer.name = Some("Grace".into());
        assert_eq!(shopper_name(&customer), "Grace (unverified)");
        customer.verified = true;
        assert_eq!(shopper_name(&customer), "Grace");
    }
}
