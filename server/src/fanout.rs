//! After the store commits, tell everyone who should know: the shopper's
//! tabs (shopper-visible events only), the agents following the
//! conversation, and every inbox of the account (the summary).

use protocol::{AgentFrame, Event, WidgetFrame};
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
    publish_summary(hub, conversation);
}

pub fn publish_summary(hub: &Hub, conversation: &Conversation) {
    hub.publish(
        &Topic::Account(conversation.account_id.clone()),
        encode(&AgentFrame::Conversation {
            conversation: conversation.summary(),
        }),
    );
}
