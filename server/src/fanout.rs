//! After the store commits, tell everyone who should know: the shopper's
//! tabs (shopper-visible events only), the agents following the
//! conversation, and the inboxes that list it (the summary).

use protocol::{AgentFrame, Event, EventBody, WidgetFrame};
use serde::Serialize;

use crate::hub::{Frame, Hub, Topic};
use crate::store::Conversation;

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

/// Publishes stored events of `conversation` and its new summary.
pub fn publish(hub: &Hub, conversation: &Conversation, events: &[Event]) {
    let visitor = Topic::Visitor(conversation.visitor_id.clone());
    let followers = Topic::Conversation(conversation.id.clone());
    for event in events {
        hub.publish(
            &followers,
            encode(&AgentFrame::Event {
                event: event.clone(),
            }),
        );
        // The one place shopper sockets receive events: agent-only events stop here.
        if event.body.is_shopper_visible() {
            hub.publish(
                &visitor,
                encode(&WidgetFrame::Event {
                    event: event.clone(),
                }),
            );
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
    let changes_hands = events
        .iter()
        .any(|event| matches!(event.body, EventBody::Assigned { .. } | EventBody::Closed));
    let topic = match conversation.assigned_agent_id() {
        Some(holder) if !changes_hands => Topic::Agent(holder.to_owned()),
        _ => Topic::Account(conversation.account_id.clone()),
    };
    hub.publish(
        &topic,
        encode(&AgentFrame::Conversation {
            conversation: conversation.summary(),
        }),
    );
}
