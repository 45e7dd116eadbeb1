//! After the store commits, tell everyone who should know: the shopper's
//! tabs (shopper-visible events only, agents named as the site chose), the
//! agents following the conversation, and the inboxes that list it. The
//! replay of history on (re)connect uses the same shopper view.

use protocol::{
    AgentDisplay, AgentFrame, Author, ConversationState, Event, EventBody, WidgetFrame,
};
use serde::Serialize;

use super::InOrder;
use crate::hub::{Frame, Hub, Topic};
use crate::store::Conversation;

/// Who hears of a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Audience {
    /// The shopper's tabs, the agents following it and the inboxes.
    Everyone,
    /// Agents only: the shopper's browser already stands for another
    /// conversation (folded on sign-in) and must not switch to this one.
    Agents,
}

/// Serialises a frame. Our frame types always serialise; should one ever
/// fail, the client gets an internal error frame instead of silence.
pub(crate) fn encode<T: Serialize>(frame: &T) -> Frame {
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

/// "Ada Lovelace" → "AL".
pub(crate) fn initials(name: &str) -> String {
    name.split_whitespace()
        .take(2)
        .filter_map(|word| word.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

/// An agent's name as shoppers of this conversation's site see it. A
/// person who has not chosen a name yet is their team, or the shop: never
/// a placeholder.
pub(super) fn shown_name(name: &str, conversation: &Conversation) -> String {
    let display = if name.trim().is_empty() {
        AgentDisplay::TeamOnly
    } else {
        conversation.agent_display
    };
    match display {
        AgentDisplay::FullName | AgentDisplay::Avatar => name.to_owned(),
        AgentDisplay::FirstName => name.split_whitespace().next().unwrap_or(name).to_owned(),
        AgentDisplay::Initials => initials(name),
        AgentDisplay::TeamOnly => conversation
            .team_name
            .clone()
            .unwrap_or_else(|| conversation.site_name.clone()),
    }
}

/// The event as a shopper may see it, or `None` if agents only may.
pub(crate) fn for_shopper(event: &Event, conversation: &Conversation) -> Option<Event> {
    if !event.body.is_shopper_visible() {
        return None;
    }
    let mut event = event.clone();
    if let Author::Agent { name, .. } = &mut event.author {
        *name = shown_name(name, conversation);
    }
    if let EventBody::Assigned { agent_name, .. } = &mut event.body {
        *agent_name = shown_name(agent_name, conversation);
    }
    Some(event)
}

/// The conversation's state as a shopper may see it.
pub(crate) fn state_for_shopper(conversation: &Conversation) -> ConversationState {
    match &conversation.state {
        ConversationState::Assigned {
            agent_id,
            agent_name,
        } => ConversationState::Assigned {
            agent_id: agent_id.clone(),
            agent_name: shown_name(agent_name, conversation),
        },
        other => other.clone(),
    }
}

/// Publishes stored events of `conversation` and its new summary, in the
/// turn taken before they were committed (`InOrder`): so within a process
/// a conversation's events reach its sockets in seq order, everywhere.
pub(super) fn publish(
    hub: &Hub,
    conversation: &Conversation,
    events: &[Event],
    audience: Audience,
    _turn: &InOrder<'_>,
) {
    let visitor = Topic::Visitor(conversation.visitor_id.clone());
    let followers = Topic::Conversation(conversation.id.clone());
    for event in events {
        hub.publish(
            &followers,
            encode(&AgentFrame::Event {
                event: event.clone(),
            }),
        );
        // Live, shopper sockets receive events only here (and replays use
        // `for_shopper` too): agent-only events stop here.
        if audience == Audience::Everyone
            && let Some(event) = for_shopper(event, conversation)
        {
            hub.publish(&visitor, encode(&WidgetFrame::Event { event }));
        }
    }
    publish_summary(hub, conversation, events);
}

/// Every inbox of the account lists waiting conversations and learns when
/// one changes hands or ends; a new message in a conversation someone holds
/// only concerns the holder. (Sending every message's summary to every
/// inbox made 50 inboxes lag behind at 1,000 messages a second; see
/// BENCHMARKS.md.)
fn publish_summary(hub: &Hub, conversation: &Conversation, events: &[Event]) {
    let changes_hands = events.iter().any(|event| event.body.changes_hands());
    let topic = match conversation.assigned_agent_id() {
        Some(holder) if !changes_hands => Topic::Agent(holder.to_owned()),
        _ => Topic::Account(conversation.account_id.clone()),
    };
    hub.publish(
        &topic,
        encode(&AgentFrame::Conversation {
            conversation: Box::new(conversation.summary()),
        }),
    );
}
