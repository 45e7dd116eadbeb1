//! The shopper's side of the conversation: what is shown, what is still
//! unsent, and how each server frame changes it. No UI code here.

use std::sync::Arc;

use protocol::{
    Author, Channel, ConversationState, ErrorCode, Event, EventBody, FileRef, Seq, WidgetFrame,
    WidgetRequest, WidgetText, fill_placeholders, text,
};

#[derive(Clone, Debug, PartialEq)]
pub enum Speaker {
    Me,
    Agent(String),
    System,
}

/// One line of the transcript as shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Stable key: the client id for the shopper's own lines, else the seq.
    pub key: String,
    pub speaker: Speaker,
    pub text: String,
    pub status: Delivery,
    /// The shopper sent it by email.
    pub by_email: bool,
    /// Its place in the log (0 until stored) and when it was written (Unix ms).
    pub seq: Seq,
    pub at_ms: i64,
    /// Files it carries (the text is then their caption).
    pub files: Vec<FileRef>,
}

/// A message sent and not yet acknowledged: (client_id, body, file ids).
pub type Unsent = (String, String, Vec<String>);

/// One row of the log as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub class: &'static str,
    pub text: String,
    /// The small print: time, channel, "Seen".
    pub meta: String,
    /// The client id to resend, under a message that failed.
    pub retry: Option<String>,
    pub files: Vec<FileRef>,
}

impl Row {
    /// The row's text as markup, with `http`/`https` links made links (a
    /// new tab, the linked page told nothing) and its files after it:
    /// pictures as thumbnails opening full size, other files as a named
    /// link with their size. Everything taken from the message is escaped,
    /// so nothing in it is ever markup; `base` is the server's address.
    pub fn html(&self, base: &str) -> String {
        let mut out = String::new();
        for segment in protocol::segments(&self.text) {
            match segment {
                protocol::Segment::Text(text) => escape(text, &mut out),
                protocol::Segment::Link(link) => {
                    out.push_str("<a href=\"");
                    escape(link, &mut out);
                    out.push_str("\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">");
                    escape(link, &mut out);
                    out.push_str("</a>");
                }
            }
        }
        for file in &self.files {
            out.push_str("<a class=\"rp-file\" href=\"");
            escape(base, &mut out);
            escape(&file.url, &mut out);
            out.push_str("\" target=\"_blank\" rel=\"noopener noreferrer\">");
            if file.is_image() {
                out.push_str("<img loading=\"lazy\" src=\"");
                escape(base, &mut out);
                escape(&file.url, &mut out);
                out.push_str("\" alt=\"");
                escape(&file.name, &mut out);
                out.push_str("\">");
            } else {
                escape(&file.name, &mut out);
                out.push_str(" (");
                out.push_str(&file.size_text());
                out.push(')');
            }
            out.push_str("</a>");
        }
        out
    }
}

/// `text` safe inside markup and inside a double-quoted attribute.
fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Delivery {
    Sending,
    Stored,
    Failed,
}

/// Everything the widget holds about the conversation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chat {
    pub token: Option<String>,
    /// The browser's language, told to the server so it can prefer an agent
    /// who speaks it.
    pub language: Option<String>,
    pub conversation_id: Option<String>,
    pub last_seq: Seq,
    pub state: Option<ConversationState>,
    pub lines: Vec<Line>,
    /// (client_id, body, file ids) sent but not yet acknowledged; resent
    /// on reconnect.
    pub unacked: Vec<Unsent>,
    pub notice: Option<String>,
    /// Where the shopper stands while waiting for an agent.
    pub queue: Option<Queue>,
    /// The verified shopper's name, to greet them.
    pub name: Option<String>,
    /// Whether the server knows an email for this shopper (not asked again).
    pub email_known: bool,
    /// The shopper asked for the transcript and no address is known yet.
    pub want_transcript: bool,
    /// The interface's words, in the shopper's language (from the config).
    pub texts: Arc<[String]>,
    /// A "continue in the chat" link's token, for the next hello only.
    pub resume: Option<String>,
    /// The last seq told to the server as read.
    pub read_sent: Seq,
    /// How far the agents have read ("Seen").
    pub agent_read_seq: Seq,
    /// The agent typing a reply now, as the site names them.
    pub typing: Option<String>,
    /// Counts typing signals, so that only the last one's lapse clears it.
    pub typing_signals: u32,
    /// The first seq of the conversation shown; above 1, earlier ones can
    /// be asked for.
    pub earliest: Seq,
}

impl Chat {
    /// One of the interface's words.
    pub fn text(&self, which: WidgetText) -> &str {
        text(&self.texts, which)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Queue {
    pub position: u32,
    pub estimate_secs: Option<u32>,
    pub agents_online: bool,
}

impl Queue {
    /// What to tell the shopper, honestly, in their language.
    pub fn describe(&self, texts: &[String]) -> String {
        if !self.agents_online {
            return text(texts, WidgetText::NoAgentOnline).to_owned();
        }
        let (template, minutes) = match self.estimate_secs {
            Some(secs) => (WidgetText::QueueWithEstimate, secs.div_ceil(60)),
            None => (WidgetText::QueueNoEstimate, 0),
        };
        fill_placeholders(text(texts, template), &|key| match key {
            "n" => Some(self.position.to_string()),
            "m" => Some(minutes.to_string()),
            _ => None,
        })
    }
}

/// What the caller should do after a frame.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    None,
    /// Persist the new visitor token and resend what is unacknowledged.
    Welcomed,
    /// The stored token is no good: forget it and say hello again.
    ForgetToken(Option<String>),
    /// An agent's message the shopper has not seen came in (for the page).
    AgentMessage(String),
    /// An agent is typing: clear it after a while unless another comes.
    Typing(u32),
}

impl Chat {
    /// The hello to send on every (re)connect.
    pub fn hello(&self) -> WidgetRequest {
        WidgetRequest::Hello {
            token: self.token.clone(),
            conversation_id: self.conversation_id.clone(),
            after_seq: self.last_seq,
            language: self.language.clone(),
            resume: self.resume.clone(),
        }
    }

    /// What the shopper has now seen, if the server was not told yet: sent
    /// while the panel is open and the page visible.
    pub fn read(&self) -> Option<WidgetRequest> {
        let conversation_id = self.conversation_id.clone()?;
        (self.last_seq > self.read_sent).then_some(WidgetRequest::Read {
            conversation_id,
            seq: self.last_seq,
        })
    }

    /// After a chat ended, on the shopper's word: an empty panel whose
    /// next message opens a new conversation.
    pub fn start_afresh(&mut self) {
        *self = Chat {
            token: self.token.take(),
            language: self.language.take(),
            texts: self.texts.clone(),
            name: self.name.take(),
            email_known: self.email_known,
            unacked: std::mem::take(&mut self.unacked),
            ..Chat::default()
        };
    }

    /// The request for the page before what is shown, if there is one.
    pub fn earlier(&self) -> Option<WidgetRequest> {
        Some(WidgetRequest::Earlier {
            conversation_id: self.conversation_id.clone()?,
            before_seq: self.earliest,
        })
        .filter(|_| self.earliest > 1)
    }

    /// Queues a message typed by the shopper; returns the frame to send.
    /// `topic` routes a conversation this message opens to a team.
    pub fn compose(
        &mut self,
        client_id: String,
        body: String,
        files: Vec<FileRef>,
        topic: Option<String>,
        now_ms: i64,
    ) -> WidgetRequest {
        let ids: Vec<String> = files.iter().map(|f| f.id.clone()).collect();
        self.lines.push(Line {
            key: client_id.clone(),
            speaker: Speaker::Me,
            text: body.clone(),
            status: Delivery::Sending,
            by_email: false,
            seq: 0,
            at_ms: now_ms,
            files,
        });
        self.unacked
            .push((client_id.clone(), body.clone(), ids.clone()));
        WidgetRequest::Send {
            client_id,
            body,
            topic,
            files: ids,
        }
    }

    /// Sends a failed message again, with its `client_id` (so the server
    /// stores it once however many times it is sent).
    pub fn retry(&mut self, client_id: &str, topic: Option<String>) -> Option<WidgetRequest> {
        let line = self
            .lines
            .iter_mut()
            .find(|line| line.key == client_id && line.status == Delivery::Failed)?;
        line.status = Delivery::Sending;
        let body = line.text.clone();
        let files: Vec<String> = line.files.iter().map(|f| f.id.clone()).collect();
        self.unacked
            .push((client_id.to_owned(), body.clone(), files.clone()));
        self.notice = None;
        Some(WidgetRequest::Send {
            client_id: client_id.to_owned(),
            body,
            topic,
            files,
        })
    }

    /// The agents' messages the shopper has not seen.
    pub fn unread(&self) -> usize {
        self.lines
            .iter()
            .filter(|line| matches!(line.speaker, Speaker::Agent(_)) && line.seq > self.read_sent)
            .count()
    }

    /// The shopper's last message the agents have read: "Seen" goes under it.
    pub fn seen_key(&self) -> Option<&str> {
        self.lines
            .iter()
            .rev()
            .find(|line| {
                line.speaker == Speaker::Me && line.seq > 0 && line.seq <= self.agent_read_seq
            })
            .map(|line| line.key.as_str())
    }

    /// The log as drawn: the day above the first message of each day, then
    /// each message with its time (`day` names a moment's calendar day,
    /// `day_label` says it, `time` gives its clock time, all in the
    /// shopper's zone), how it came, whether it was seen, and "Retry" under
    /// one that failed.
    pub fn rows(
        &self,
        day: impl Fn(i64) -> String,
        day_label: impl Fn(i64) -> String,
        time: impl Fn(i64) -> String,
    ) -> Vec<Row> {
        let seen = self.seen_key();
        let mut rows = Vec::with_capacity(self.lines.len() + 2);
        let mut last_day = String::new();
        for line in &self.lines {
            let this_day = day(line.at_ms);
            if this_day != last_day {
                rows.push(Row {
                    class: "rp-day",
                    text: day_label(line.at_ms),
                    meta: String::new(),
                    retry: None,
                    files: Vec::new(),
                });
                last_day = this_day;
            }
            let mut meta = time(line.at_ms);
            if line.by_email {
                meta = format!("{} · {meta}", self.text(WidgetText::ViaEmail));
            }
            if seen == Some(line.key.as_str()) {
                meta = format!("{meta} · {}", self.text(WidgetText::Seen));
            }
            rows.push(Row {
                class: match (&line.speaker, line.status) {
                    (_, Delivery::Failed) => "rp-line rp-me rp-failed",
                    (Speaker::Me, Delivery::Sending) => "rp-line rp-me rp-sending",
                    (Speaker::Me, _) => "rp-line rp-me",
                    (Speaker::Agent(_), _) => "rp-line rp-agent",
                    (Speaker::System, _) => "rp-line rp-system",
                },
                text: line.text.clone(),
                meta,
                retry: (line.status == Delivery::Failed).then(|| line.key.clone()),
                files: line.files.clone(),
            });
        }
        rows
    }

    pub fn apply(&mut self, frame: WidgetFrame) -> Outcome {
        match frame {
            WidgetFrame::Welcome {
                visitor_token,
                conversation_id,
                state,
                name,
                email_known,
                read_seq,
                agent_read_seq,
                replay_from,
            } => {
                self.token = Some(visitor_token);
                self.resume = None;
                self.name = name;
                self.email_known = email_known;
                if conversation_id != self.conversation_id {
                    // Another conversation than the one shown: the server
                    // replays it whole; keep only our unsent lines.
                    self.lines.retain(|line| line.status == Delivery::Sending);
                    self.last_seq = 0;
                    self.read_sent = 0;
                    self.conversation_id = conversation_id;
                }
                if replay_from > self.last_seq + 1 {
                    // More was missed than is replayed: the replay (the
                    // newest page) replaces what is shown.
                    self.lines.retain(|line| line.status == Delivery::Sending);
                    self.last_seq = replay_from - 1;
                }
                if self.lines.iter().all(|line| line.seq == 0) {
                    self.earliest = replay_from.max(1);
                }
                self.read_sent = self.read_sent.max(read_seq);
                self.agent_read_seq = agent_read_seq;
                if state != Some(ConversationState::Waiting) {
                    self.queue = None;
                }
                self.state = state;
                self.notice = None;
                Outcome::Welcomed
            }
            WidgetFrame::Event { event } => self.apply_event(event),
            WidgetFrame::Ack {
                client_id,
                conversation_id,
                seq,
            } => {
                self.unacked.retain(|(id, ..)| *id != client_id);
                self.set_status(&client_id, Delivery::Stored);
                if let Some(line) = self.lines.iter_mut().find(|line| line.key == client_id) {
                    line.seq = seq;
                }
                if self.conversation_id.as_deref() != Some(conversation_id.as_str()) {
                    // A new conversation, or a closed one this message
                    // reopened: what came before it is an earlier page.
                    self.conversation_id = Some(conversation_id);
                    self.last_seq = 0;
                    self.earliest = seq.max(1);
                    self.state = Some(ConversationState::Waiting);
                }
                Outcome::None
            }
            WidgetFrame::Error {
                code: ErrorCode::InvalidVisitorToken,
                ..
            } => {
                self.conversation_id = None;
                self.last_seq = 0;
                Outcome::ForgetToken(self.token.take())
            }
            WidgetFrame::Error {
                code: ErrorCode::IdentityRefused,
                ..
            } => {
                // For the shop's developer, not the shopper: the server logs
                // the reason, and the chat goes on anonymously.
                Outcome::None
            }
            WidgetFrame::Error {
                code,
                message,
                client_id,
            } => {
                if let Some(client_id) = client_id {
                    // Refused for what it is (or for now): not resent by
                    // itself; the shopper may retry.
                    self.unacked.retain(|(id, ..)| *id != client_id);
                    self.set_status(&client_id, Delivery::Failed);
                }
                self.notice = Some(if code == ErrorCode::RateLimited {
                    self.text(WidgetText::SlowDown).to_owned()
                } else {
                    message
                });
                Outcome::None
            }
            WidgetFrame::Queue {
                position,
                estimate_secs,
                agents_online,
            } => {
                // Also after an agent let the chat lapse: waiting again.
                self.state = Some(ConversationState::Waiting);
                self.queue = Some(Queue {
                    position,
                    estimate_secs,
                    agents_online,
                });
                Outcome::None
            }
            WidgetFrame::TranscriptQueued {
                email,
                confirm_first,
            } => {
                self.email_known = true;
                self.notice = Some(fill_placeholders(
                    self.text(if confirm_first {
                        WidgetText::ConfirmSent
                    } else {
                        WidgetText::TranscriptSent
                    }),
                    &|key| (key == "email").then(|| email.clone()),
                ));
                Outcome::None
            }
            WidgetFrame::Typing {
                conversation_id,
                name,
            } => {
                if self.conversation_id.as_deref() != Some(conversation_id.as_str())
                    || matches!(self.state, Some(ConversationState::Closed))
                {
                    return Outcome::None;
                }
                self.typing = Some(name);
                self.typing_signals = self.typing_signals.wrapping_add(1);
                Outcome::Typing(self.typing_signals)
            }
            WidgetFrame::Seen {
                conversation_id,
                seq,
            } => {
                if self.conversation_id.as_deref() == Some(conversation_id.as_str()) {
                    self.agent_read_seq = self.agent_read_seq.max(seq);
                }
                Outcome::None
            }
            WidgetFrame::Earlier {
                conversation_id,
                from_seq,
                event,
            } => {
                if self.conversation_id.as_deref() != Some(conversation_id.as_str()) {
                    return Outcome::None;
                }
                let shown = |seq| self.lines.iter().any(|line| line.seq == seq);
                if let Some(event) = event.filter(|e| !shown(e.seq)) {
                    let at = self
                        .lines
                        .iter()
                        .position(|line| line.seq == 0 || line.seq > event.seq)
                        .unwrap_or(self.lines.len());
                    if let Some(line) = self.line_of(event) {
                        self.lines.insert(at, line);
                    }
                }
                self.earliest = self.earliest.min(from_seq.max(1));
                Outcome::None
            }
            WidgetFrame::Pong => Outcome::None,
        }
    }

    fn apply_event(&mut self, event: Event) -> Outcome {
        if self.conversation_id.as_deref() != Some(event.conversation_id.as_str()) {
            // A new conversation after a closed one: its seqs start afresh.
            // Earlier lines stay on screen as history.
            self.conversation_id = Some(event.conversation_id.clone());
            self.last_seq = 0;
            self.read_sent = 0;
            self.agent_read_seq = 0;
            self.earliest = 1;
            self.state = Some(ConversationState::Waiting);
        }
        if event.seq <= self.last_seq {
            return Outcome::None; // already shown (replay overlapping live delivery)
        }
        self.last_seq = event.seq;
        let mut unseen = None;
        match &event.body {
            EventBody::Message { text, files } => {
                // A closed conversation takes a message only once the
                // shopper's word reopened it.
                if matches!(self.state, Some(ConversationState::Closed)) {
                    self.state = Some(ConversationState::Waiting);
                }
                if event.author == Author::Visitor
                    && let Some(client_id) = event.client_id.as_deref()
                    && let Some(line) = self.lines.iter_mut().find(|line| line.key == client_id)
                {
                    // Our own message, shown since it was typed: now stored
                    // (its files with the links they are read by).
                    line.seq = event.seq;
                    line.at_ms = event.created_at_ms;
                    line.status = Delivery::Stored;
                    line.files.clone_from(files);
                    return Outcome::None;
                }
                if matches!(event.author, Author::Agent { .. }) {
                    self.typing = None;
                    if event.seq > self.read_sent {
                        unseen = Some(
                            files
                                .first()
                                .map_or_else(|| text.clone(), |f| f.name.clone()),
                        );
                    }
                }
            }
            EventBody::Assigned {
                agent_id,
                agent_name,
            } => {
                self.queue = None;
                self.state = Some(ConversationState::Assigned {
                    agent_id: agent_id.clone(),
                    agent_name: agent_name.clone(),
                });
            }
            EventBody::Closed => {
                self.queue = None;
                self.typing = None;
                self.state = Some(ConversationState::Closed);
            }
            // Shown as a line; changes nothing else.
            EventBody::Rated { .. } => {}
            // Never sent to shoppers; ignore if it ever were.
            EventBody::Note { .. } | EventBody::Status { .. } | EventBody::Reopened { .. } => {}
        }
        if let Some(line) = self.line_of(event) {
            self.lines.push(line);
        }
        unseen.map_or(Outcome::None, Outcome::AgentMessage)
    }

    /// How an event shows in the log (a note never does).
    fn line_of(&self, event: Event) -> Option<Line> {
        let key = event
            .client_id
            .unwrap_or_else(|| format!("seq-{}", event.seq));
        let mut files = Vec::new();
        let (speaker, text) = match event.body {
            EventBody::Message {
                text,
                files: carried,
            } => {
                files = carried;
                (
                    match event.author {
                        Author::Visitor => Speaker::Me,
                        Author::Agent { name, .. } => Speaker::Agent(name),
                        Author::System => Speaker::System,
                    },
                    text,
                )
            }
            EventBody::Assigned { agent_name, .. } => (
                Speaker::System,
                fill_placeholders(self.text(WidgetText::AgentJoined), &|key| {
                    (key == "name").then(|| agent_name.clone())
                }),
            ),
            EventBody::Closed => (Speaker::System, self.text(WidgetText::ChatEnded).to_owned()),
            EventBody::Rated { score, .. } => (
                Speaker::System,
                fill_placeholders(self.text(WidgetText::Rated), &|key| {
                    (key == "n").then(|| score.to_string())
                }),
            ),
            EventBody::Note { .. } | EventBody::Status { .. } | EventBody::Reopened { .. } => {
                return None;
            }
        };
        Some(Line {
            key,
            speaker,
            text,
            status: Delivery::Stored,
            by_email: event.via == Channel::Email,
            seq: event.seq,
            at_ms: event.created_at_ms,
            files,
        })
    }

    fn set_status(&mut self, client_id: &str, status: Delivery) {
        if let Some(line) = self.lines.iter_mut().find(|line| line.key == client_id) {
            line.status = status;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: Seq, author: Author, body: &str, client_id: Option<&str>) -> WidgetFrame {
        WidgetFrame::Event {
            event: Event {
                conversation_id: "c".into(),
                seq,
                author,
                body: EventBody::message(body),
                client_id: client_id.map(Into::into),
                created_at_ms: 0,
                via: protocol::Channel::Chat,
            },
        }
    }

    #[test]
    fn own_message_is_shown_once_whatever_arrives_first() {
        let mut chat = Chat::default();
        chat.compose("k1".into(), "hi".into(), Vec::new(), None, 0);
        chat.apply(message(1, Author::Visitor, "hi", Some("k1")));
        chat.apply(WidgetFrame::Ack {
            client_id: "k1".into(),
            conversation_id: "c".into(),
            seq: 1,
        });
        assert_eq!(chat.lines.len(), 1);
        assert_eq!(chat.lines[0].status, Delivery::Stored);
        assert!(chat.unacked.is_empty());
    }

    #[test]
    fn a_message_with_files_is_shown_with_them_and_resent_with_them() {
        let photo = FileRef {
            id: "f1".into(),
            name: "parcel.jpg".into(),
            content_type: "image/jpeg".into(),
            size: 2_000,
            url: "/files/f1?e=1&s=preview".into(),
        };
        let mut chat = Chat::default();
        let sent = chat.compose("k1".into(), String::new(), vec![photo.clone()], None, 0);
        assert!(matches!(&sent, WidgetRequest::Send { files, .. } if files == &["f1".to_owned()]));
        assert_eq!(chat.unacked[0].2, vec!["f1".to_owned()]);
        chat.apply(WidgetFrame::Error {
            code: ErrorCode::Internal,
            message: "x".into(),
            client_id: Some("k1".into()),
        });
        let again = chat.retry("k1", None);
        assert!(
            matches!(again, Some(WidgetRequest::Send { files, .. }) if files == ["f1".to_owned()])
        );
        // Stored: the line takes the links the server signed for readers.
        let stored = FileRef {
            url: "/files/f1?e=2&s=fresh".into(),
            ..photo
        };
        chat.apply(WidgetFrame::Event {
            event: Event {
                conversation_id: "c".into(),
                seq: 1,
                author: Author::Visitor,
                body: EventBody::Message {
                    text: String::new(),
                    files: vec![stored.clone()],
                },
                client_id: Some("k1".into()),
                created_at_ms: 0,
                via: Channel::Chat,
            },
        });
        assert_eq!(chat.lines.len(), 1);
        assert_eq!(chat.lines[0].files, vec![stored]);
        let rows = chat.rows(|_| "d".into(), |_| "Today".into(), |_| "10:00".into());
        assert_eq!(rows[1].files.len(), 1);
    }

    #[test]
    fn a_message_is_markup_only_where_the_widget_wrote_it() {
        let row = Row {
            class: "rp-line rp-agent",
            text: "<script>alert(1)</script> see https://shop.example/a?b=1&c=\"x\" or javascript:alert(2) <img src=x onerror=alert(3)>".into(),
            meta: String::new(),
            retry: None,
            files: vec![
                FileRef {
                    id: "f1".into(),
                    name: "a\"><script>.jpg".into(),
                    content_type: "image/jpeg".into(),
                    size: 10,
                    url: "/files/f1?e=1&s=x".into(),
                },
                FileRef {
                    id: "f2".into(),
                    name: "Invoice <1042>.pdf".into(),
                    content_type: "application/pdf".into(),
                    size: 2_450_000,
                    url: "/files/f2?e=1&s=y".into(),
                },
            ],
        };
        let html = row.html("https://chat.example");
        assert_eq!(
            html,
            "&lt;script&gt;alert(1)&lt;/script&gt; see \
             <a href=\"https://shop.example/a?b=1&amp;c=\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">https://shop.example/a?b=1&amp;c=</a>&quot;x&quot; \
             or javascript:alert(2) &lt;img src=x onerror=alert(3)&gt;\
             <a class=\"rp-file\" href=\"https://chat.example/files/f1?e=1&amp;s=x\" target=\"_blank\" rel=\"noopener noreferrer\">\
             <img loading=\"lazy\" src=\"https://chat.example/files/f1?e=1&amp;s=x\" alt=\"a&quot;&gt;&lt;script&gt;.jpg\"></a>\
             <a class=\"rp-file\" href=\"https://chat.example/files/f2?e=1&amp;s=y\" target=\"_blank\" rel=\"noopener noreferrer\">\
             Invoice &lt;1042&gt;.pdf (2.4 MB)</a>"
        );
        // Only the widget's own tags are tags.
        let tags: Vec<&str> = html
            .split('<')
            .skip(1)
            .map(|t| t.split([' ', '>']).next().unwrap_or(""))
            .collect();
        assert!(
            tags.iter().all(|t| ["a", "/a", "img"].contains(t)),
            "{tags:?}"
        );
    }

    #[test]
    fn replayed_events_are_not_shown_twice() {
        let mut chat = Chat::default();
        let agent = Author::Agent {
            id: "a".into(),
            name: "Ada".into(),
        };
        chat.apply(message(1, agent.clone(), "hello", None));
        chat.apply(message(1, agent, "hello", None));
        assert_eq!(chat.lines.len(), 1);
        assert_eq!(chat.lines[0].speaker, Speaker::Agent("Ada".into()));
    }

    #[test]
    fn unacknowledged_messages_survive_a_reconnect() {
        let mut chat = Chat::default();
        chat.compose("k1".into(), "are you there?".into(), Vec::new(), None, 0);
        let effect = chat.apply(WidgetFrame::Welcome {
            visitor_token: "t".into(),
            conversation_id: Some("c".into()),
            state: Some(ConversationState::Waiting),
            name: None,
            email_known: false,
            read_seq: 0,
            agent_read_seq: 0,
            replay_from: 1,
        });
        assert_eq!(effect, Outcome::Welcomed);
        assert_eq!(
            chat.unacked,
            vec![("k1".to_owned(), "are you there?".to_owned(), Vec::new())]
        );
        assert_eq!(chat.lines.len(), 1);
    }

    #[test]
    fn a_new_conversation_after_a_closed_one_starts_its_seqs_afresh() {
        let mut chat = Chat::default();
        let agent = Author::Agent {
            id: "a".into(),
            name: "Ada".into(),
        };
        chat.apply(message(1, agent.clone(), "old", None));
        chat.apply(message(2, agent.clone(), "bye", None));
        let mut next = message(1, agent, "hello again", None);
        if let WidgetFrame::Event { event } = &mut next {
            event.conversation_id = "c2".into();
        }
        chat.apply(next);
        assert_eq!(chat.conversation_id.as_deref(), Some("c2"));
        assert_eq!(
            chat.lines.len(),
            3,
            "the new conversation's first event is shown"
        );
        assert_eq!(chat.last_seq, 1);
    }

    /// The texts the queue uses, as a server would send them.
    fn texts() -> Vec<String> {
        let mut texts = vec![String::new(); WidgetText::COUNT];
        texts[WidgetText::NoAgentOnline as usize] = "No agent is online".into();
        texts[WidgetText::QueueWithEstimate as usize] = "Number {n} in line, about {m} min.".into();
        texts[WidgetText::QueueNoEstimate as usize] = "Number {n} in line.".into();
        texts[WidgetText::AgentJoined as usize] = "{name} joined".into();
        texts
    }

    #[test]
    fn the_queue_is_described_honestly_in_the_words_sent() {
        let queue = |estimate_secs, agents_online| Queue {
            position: 2,
            estimate_secs,
            agents_online,
        };
        let texts = texts();
        assert_eq!(
            queue(Some(150), true).describe(&texts),
            "Number 2 in line, about 3 min."
        );
        assert_eq!(
            queue(Some(30), true).describe(&texts),
            "Number 2 in line, about 1 min."
        );
        assert_eq!(queue(None, true).describe(&texts), "Number 2 in line.");
        assert_eq!(queue(None, false).describe(&texts), "No agent is online");
        assert_eq!(
            queue(None, false).describe(&[]),
            "",
            "an older server's config"
        );
    }

    #[test]
    fn an_agent_joining_is_told_in_the_words_sent() {
        let mut chat = Chat {
            texts: texts().into(),
            ..Chat::default()
        };
        chat.apply(WidgetFrame::Event {
            event: Event {
                conversation_id: "c".into(),
                seq: 1,
                author: Author::System,
                body: EventBody::Assigned {
                    agent_id: "a".into(),
                    agent_name: "Ada".into(),
                },
                client_id: None,
                created_at_ms: 0,
                via: protocol::Channel::Chat,
            },
        });
        assert_eq!(chat.lines[0].text, "Ada joined");
    }

    #[test]
    fn a_bad_token_is_forgotten() {
        let mut chat = Chat {
            token: Some("stale".into()),
            ..Chat::default()
        };
        let effect = chat.apply(WidgetFrame::Error {
            code: ErrorCode::InvalidVisitorToken,
            message: String::new(),
            client_id: None,
        });
        assert_eq!(effect, Outcome::ForgetToken(Some("stale".into())));
        assert_eq!(
            chat.hello(),
            WidgetRequest::Hello {
                token: None,
                conversation_id: None,
                after_seq: 0,
                resume: None,
                language: None
            }
        );
    }

    fn agent() -> Author {
        Author::Agent {
            id: "a".into(),
            name: "Ada".into(),
        }
    }

    #[test]
    fn typing_shows_until_the_message_and_only_the_last_signal_clears_it() {
        let mut chat = Chat::default();
        chat.apply(message(1, Author::Visitor, "hello", None));
        let typing = |conversation_id: &str| WidgetFrame::Typing {
            conversation_id: conversation_id.into(),
            name: "Ada".into(),
        };
        assert_eq!(
            chat.apply(typing("other")),
            Outcome::None,
            "another conversation's"
        );
        assert_eq!(chat.typing, None);
        let first = chat.apply(typing("c"));
        let second = chat.apply(typing("c"));
        assert_ne!(
            first, second,
            "each signal is told apart, so an old lapse keeps a fresh one"
        );
        assert_eq!(second, Outcome::Typing(chat.typing_signals));
        assert_eq!(chat.typing.as_deref(), Some("Ada"));
        let outcome = chat.apply(message(2, agent(), "Here you go", None));
        assert_eq!(outcome, Outcome::AgentMessage("Here you go".into()));
        assert_eq!(chat.typing, None, "the message replaces the indicator");
    }

    #[test]
    fn a_closed_chat_shows_nobody_typing_and_starts_afresh_on_the_shoppers_word() {
        let mut chat = Chat {
            token: Some("t".into()),
            ..Chat::default()
        };
        chat.apply(message(1, Author::Visitor, "hello", None));
        chat.apply(WidgetFrame::Event {
            event: Event {
                conversation_id: "c".into(),
                seq: 2,
                author: Author::System,
                body: EventBody::Closed,
                client_id: None,
                created_at_ms: 0,
                via: Channel::Chat,
            },
        });
        assert_eq!(chat.state, Some(ConversationState::Closed));
        let typing = WidgetFrame::Typing {
            conversation_id: "c".into(),
            name: "Ada".into(),
        };
        assert_eq!(chat.apply(typing), Outcome::None);
        assert_eq!(chat.typing, None, "nobody types into an ended chat");
        chat.start_afresh();
        assert_eq!(chat.state, None);
        assert!(chat.lines.is_empty());
        assert_eq!(chat.conversation_id, None);
        assert_eq!(chat.token.as_deref(), Some("t"), "the same shopper");
        // The next message opens a new conversation, shown from its seq 1.
        chat.compose("k1".into(), "one more thing".into(), Vec::new(), None, 0);
        chat.apply(WidgetFrame::Ack {
            client_id: "k1".into(),
            conversation_id: "c2".into(),
            seq: 1,
        });
        assert_eq!(chat.conversation_id.as_deref(), Some("c2"));
        assert_eq!(chat.state, Some(ConversationState::Waiting));
    }

    #[test]
    fn a_message_after_the_close_is_a_reopened_chat_with_its_history_a_page_away() {
        let mut chat = Chat::default();
        chat.apply(message(1, Author::Visitor, "hello", None));
        chat.apply(WidgetFrame::Event {
            event: Event {
                conversation_id: "c".into(),
                seq: 2,
                author: Author::System,
                body: EventBody::Closed,
                client_id: None,
                created_at_ms: 0,
                via: Channel::Chat,
            },
        });
        assert_eq!(chat.state, Some(ConversationState::Closed));
        // Replayed after a reload: the shopper wrote again, so it is open.
        chat.apply(message(4, Author::Visitor, "one more thing", None));
        assert_eq!(chat.state, Some(ConversationState::Waiting));
        // Started afresh, the shopper's word reopens the same conversation:
        // what came before is an earlier page.
        chat.start_afresh();
        chat.compose("k9".into(), "and another".into(), Vec::new(), None, 0);
        chat.apply(WidgetFrame::Ack {
            client_id: "k9".into(),
            conversation_id: "c".into(),
            seq: 7,
        });
        assert_eq!(chat.state, Some(ConversationState::Waiting));
        assert_eq!(chat.earliest, 7);
    }

    #[test]
    fn unread_counts_agent_messages_past_the_read_position() {
        let mut chat = Chat::default();
        chat.apply(message(1, Author::Visitor, "hello", None));
        chat.apply(message(2, agent(), "one", None));
        chat.apply(message(3, agent(), "two", None));
        assert_eq!(chat.unread(), 2);
        let Some(WidgetRequest::Read {
            conversation_id,
            seq,
        }) = chat.read()
        else {
            panic!("something to mark read");
        };
        assert_eq!((conversation_id.as_str(), seq), ("c", 3));
        chat.read_sent = seq;
        assert_eq!(chat.unread(), 0);
        assert_eq!(chat.read(), None, "told once");
        // After a reload the server's stored position says what was seen.
        let mut reloaded = Chat {
            conversation_id: Some("c".into()),
            ..Chat::default()
        };
        reloaded.apply(WidgetFrame::Welcome {
            visitor_token: "t".into(),
            conversation_id: Some("c".into()),
            state: None,
            name: None,
            email_known: false,
            read_seq: 2,
            agent_read_seq: 0,
            replay_from: 1,
        });
        for seq in 1..=3 {
            let author = if seq == 1 { Author::Visitor } else { agent() };
            reloaded.apply(message(seq, author, "x", None));
        }
        assert_eq!(
            reloaded.unread(),
            1,
            "only the one after the stored position"
        );
    }

    #[test]
    fn seen_goes_under_the_last_message_the_agent_read_and_never_back() {
        let mut chat = Chat::default();
        chat.compose("k1".into(), "first".into(), Vec::new(), None, 0);
        chat.compose("k2".into(), "second".into(), Vec::new(), None, 0);
        chat.apply(message(1, Author::Visitor, "first", Some("k1")));
        chat.apply(message(2, Author::Visitor, "second", Some("k2")));
        assert_eq!(chat.seen_key(), None);
        let seen = |seq| WidgetFrame::Seen {
            conversation_id: "c".into(),
            seq,
        };
        chat.apply(seen(1));
        assert_eq!(chat.seen_key(), Some("k1"));
        chat.apply(seen(2));
        chat.apply(seen(1));
        assert_eq!(
            chat.seen_key(),
            Some("k2"),
            "a late, older receipt does not move it back"
        );
    }

    #[test]
    fn a_refused_message_can_be_retried_with_its_client_id() {
        let mut chat = Chat::default();
        chat.compose("k1".into(), "hi".into(), Vec::new(), None, 0);
        chat.apply(WidgetFrame::Error {
            code: ErrorCode::Internal,
            message: "Slow down".into(),
            client_id: Some("k1".into()),
        });
        assert_eq!(chat.lines[0].status, Delivery::Failed);
        assert_eq!(chat.notice.as_deref(), Some("Slow down"), "it says why");
        assert!(chat.unacked.is_empty());
        let again = chat.retry("k1", None);
        assert_eq!(
            again,
            Some(WidgetRequest::Send {
                client_id: "k1".into(),
                body: "hi".into(),
                topic: None,
                files: Vec::new(),
            })
        );
        assert_eq!(chat.lines[0].status, Delivery::Sending);
        assert_eq!(chat.retry("k1", None), None, "not while it is being sent");
    }

    #[test]
    fn rows_put_the_day_above_its_first_message_and_small_print_under_each() {
        let mut texts = texts();
        texts[WidgetText::Seen as usize] = "Seen".into();
        texts[WidgetText::ViaEmail as usize] = "by email".into();
        let mut chat = Chat {
            texts: texts.into(),
            ..Chat::default()
        };
        let day_ms = 86_400_000;
        let at = |seq, ms, author, via| WidgetFrame::Event {
            event: Event {
                conversation_id: "c".into(),
                seq,
                author,
                body: EventBody::message(format!("m{seq}")),
                client_id: None,
                created_at_ms: ms,
                via,
            },
        };
        chat.apply(at(1, 1_000, Author::Visitor, Channel::Chat));
        chat.apply(at(2, 2_000, agent(), Channel::Chat));
        chat.apply(at(3, day_ms + 5, Author::Visitor, Channel::Email));
        chat.apply(WidgetFrame::Seen {
            conversation_id: "c".into(),
            seq: 3,
        });
        chat.compose("k9".into(), "later".into(), Vec::new(), None, day_ms + 9);
        chat.apply(WidgetFrame::Error {
            code: ErrorCode::Internal,
            message: String::new(),
            client_id: Some("k9".into()),
        });
        let rows = chat.rows(
            |ms| (ms / day_ms).to_string(),
            |ms| format!("day {}", ms / day_ms),
            |ms| format!("t{ms}"),
        );
        let drawn: Vec<_> = rows
            .iter()
            .map(|row| {
                (
                    row.class,
                    row.text.as_str(),
                    row.meta.as_str(),
                    row.retry.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            drawn,
            [
                ("rp-day", "day 0", "", None),
                ("rp-line rp-me", "m1", "t1000", None),
                ("rp-line rp-agent", "m2", "t2000", None),
                ("rp-day", "day 1", "", None),
                ("rp-line rp-me", "m3", "by email · t86400005 · Seen", None),
                ("rp-line rp-me rp-failed", "later", "t86400009", Some("k9")),
            ]
        );
    }

    #[test]
    fn a_message_over_a_limit_is_told_politely_in_the_shoppers_words_and_can_be_retried() {
        let mut texts = texts();
        texts[WidgetText::SlowDown as usize] = "Please wait a moment".into();
        let mut chat = Chat {
            texts: texts.into(),
            ..Chat::default()
        };
        chat.compose("k1".into(), "hi".into(), Vec::new(), None, 0);
        chat.apply(WidgetFrame::Error {
            code: ErrorCode::RateLimited,
            message: "Too many messages in this conversation just now".into(),
            client_id: Some("k1".into()),
        });
        assert_eq!(chat.notice.as_deref(), Some("Please wait a moment"));
        assert_eq!(chat.lines[0].status, Delivery::Failed);
        assert!(chat.retry("k1", None).is_some());
    }

    #[test]
    fn after_a_long_absence_the_newest_page_replaces_the_log_and_earlier_pages_come_on_demand() {
        let mut chat = Chat::default();
        for seq in 1..=3 {
            chat.apply(message(seq, Author::Visitor, "old", None));
        }
        chat.compose("k9".into(), "typed offline".into(), Vec::new(), None, 0);
        // 500 events later, only the newest page is replayed (from 301).
        chat.apply(WidgetFrame::Welcome {
            visitor_token: "t".into(),
            conversation_id: Some("c".into()),
            state: None,
            name: None,
            email_known: false,
            read_seq: 0,
            agent_read_seq: 0,
            replay_from: 301,
        });
        assert_eq!(chat.lines.len(), 1, "only the unsent line stays");
        assert_eq!(chat.earliest, 301);
        chat.apply(message(301, agent(), "newest page", None));
        assert_eq!(
            chat.lines.last().map(|l| l.text.as_str()),
            Some("newest page")
        );
        // The shopper asks for earlier ones: they go before, in order.
        for seq in [150, 299] {
            chat.apply(WidgetFrame::Earlier {
                conversation_id: "c".into(),
                from_seq: 101,
                event: Some(match message(seq, agent(), &format!("m{seq}"), None) {
                    WidgetFrame::Event { event } => event,
                    _ => unreachable!(),
                }),
            });
        }
        let texts: Vec<_> = chat.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["m150", "m299", "typed offline", "newest page"]);
        assert_eq!(chat.earliest, 101);
        // A page with nothing the shopper may see still moves the start.
        chat.apply(WidgetFrame::Earlier {
            conversation_id: "c".into(),
            from_seq: 1,
            event: None,
        });
        assert_eq!(chat.earliest, 1, "nothing earlier to ask for");
        assert_eq!(
            chat.unread(),
            3,
            "earlier replies past the read position count too"
        );
    }
}
