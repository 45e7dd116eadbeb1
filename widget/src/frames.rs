//! Reading the server's frames with the browser's own `JSON.parse`. The
//! widget then carries no JSON parser of its own: serde_json's decoding
//! cost it several KB of WASM. The shapes are `protocol::WidgetFrame`'s,
//! and a host test reads every example of it through this very code.

use js_sys::JSON;
use protocol::{
    Author, Channel, ConversationState, ErrorCode, Event, EventBody, EventKind, FileRef,
    WidgetFrame,
};

use crate::js_object::{JsonView, flag, object, string};

fn whole<J: JsonView>(value: &J, key: &str) -> Option<i64> {
    let number = value.field(key).number()?;
    // Seqs, counts and times are whole numbers well inside f64's exact range.
    (number.fract() == 0.0).then_some(number as i64)
}

fn small<J: JsonView>(value: &J, key: &str) -> Option<u32> {
    whole(value, key).and_then(|n| u32::try_from(n).ok())
}

/// An externally tagged enum value: `"unit"` or `{"variant": {...}}`.
fn variant<J: JsonView>(value: &J, key: &str) -> Option<(String, J)> {
    let field = value.field(key);
    if let Some(unit) = field.text() {
        return Some((unit, field));
    }
    if !field.is_object() {
        return None;
    }
    let name = field.first_key()?;
    let inner = field.field(&name);
    Some((name, inner))
}

fn state<J: JsonView>(value: &J) -> Option<ConversationState> {
    let (name, inner) = variant(value, "state")?;
    Some(match name.as_str() {
        "waiting" => ConversationState::Waiting,
        "closed" => ConversationState::Closed,
        "assigned" => ConversationState::Assigned {
            agent_id: string(&inner, "agent_id")?,
            agent_name: string(&inner, "agent_name")?,
        },
        _ => return None,
    })
}

fn body<J: JsonView>(value: &J) -> Option<EventBody> {
    let (name, inner) = variant(value, "body")?;
    // An exhaustive match on the protocol's kinds: a new kind fails to
    // compile here until the widget decides how to read it.
    Some(match name.parse::<EventKind>().ok()? {
        EventKind::Message => EventBody::Message {
            text: string(&inner, "text")?,
            files: inner
                .field("files")
                .list()
                .iter()
                .filter_map(file)
                .collect(),
        },
        EventKind::Assigned => EventBody::Assigned {
            agent_id: string(&inner, "agent_id")?,
            agent_name: string(&inner, "agent_name")?,
        },
        EventKind::Closed => EventBody::Closed,
        EventKind::Rated => EventBody::Rated {
            score: u8::try_from(whole(&inner, "score")?).ok()?,
            comment: string(&inner, "comment"),
        },
        // Agents only: never sent to a shopper.
        EventKind::Note | EventKind::Status | EventKind::Reopened => return None,
    })
}

/// A file as a message or an upload's answer describes it.
pub(crate) fn file<J: JsonView>(value: &J) -> Option<FileRef> {
    Some(FileRef {
        id: string(value, "id")?,
        name: string(value, "name")?,
        content_type: string(value, "content_type")?,
        size: u64::try_from(whole(value, "size")?).ok()?,
        url: string(value, "url").unwrap_or_default(),
    })
}

fn event<J: JsonView>(value: &J) -> Option<Event> {
    let (author, who) = variant(value, "author")?;
    Some(Event {
        conversation_id: string(value, "conversation_id")?,
        seq: whole(value, "seq")?,
        author: match author.as_str() {
            "visitor" => Author::Visitor,
            "system" => Author::System,
            "agent" => Author::Agent {
                id: string(&who, "id")?,
                name: string(&who, "name")?,
            },
            _ => return None,
        },
        body: body(value)?,
        client_id: string(value, "client_id"),
        created_at_ms: whole(value, "created_at_ms")?,
        via: match string(value, "via").as_deref() {
            Some("email") => Channel::Email,
            _ => Channel::Chat,
        },
    })
}

/// The frame in `text`, or `None` for anything that is not one.
pub(crate) fn decode(text: &str) -> Option<WidgetFrame> {
    read(&JSON::parse(text).ok()?)
}

/// The frame `value` holds, or `None` for anything that is not one.
fn read<J: JsonView>(value: &J) -> Option<WidgetFrame> {
    Some(match string(value, "type")?.as_str() {
        "welcome" => WidgetFrame::Welcome {
            visitor_token: string(value, "visitor_token")?,
            conversation_id: string(value, "conversation_id"),
            state: state(value),
            name: string(value, "name"),
            email_known: flag(value, "email_known"),
            read_seq: whole(value, "read_seq").unwrap_or(0),
            agent_read_seq: whole(value, "agent_read_seq").unwrap_or(0),
            replay_from: whole(value, "replay_from").unwrap_or(0),
        },
        "event" => WidgetFrame::Event {
            event: event(&object(value, "event")?)?,
        },
        "earlier" => WidgetFrame::Earlier {
            conversation_id: string(value, "conversation_id")?,
            from_seq: whole(value, "from_seq")?,
            event: match object(value, "event") {
                Some(inner) => Some(event(&inner)?),
                None => None,
            },
        },
        "ack" => WidgetFrame::Ack {
            client_id: string(value, "client_id")?,
            conversation_id: string(value, "conversation_id")?,
            seq: whole(value, "seq")?,
        },
        "error" => {
            let code = string(value, "code")?;
            WidgetFrame::Error {
                // A code newer than this widget reads as ours having failed.
                code: ErrorCode::ALL
                    .iter()
                    .copied()
                    .find(|known| known.as_str() == code)
                    .unwrap_or(ErrorCode::Internal),
                message: string(value, "message").unwrap_or_default(),
                client_id: string(value, "client_id"),
            }
        }
        "queue" => WidgetFrame::Queue {
            position: small(value, "position")?,
            estimate_secs: small(value, "estimate_secs"),
            agents_online: flag(value, "agents_online"),
        },
        "typing" => WidgetFrame::Typing {
            conversation_id: string(value, "conversation_id")?,
            name: string(value, "name")?,
        },
        "seen" => WidgetFrame::Seen {
            conversation_id: string(value, "conversation_id")?,
            seq: whole(value, "seq")?,
        },
        "transcript_queued" => WidgetFrame::TranscriptQueued {
            email: string(value, "email")?,
            confirm_first: flag(value, "confirm_first"),
        },
        "pong" => WidgetFrame::Pong,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use protocol::FrameSet;

    use super::*;

    /// Everything the server may send reads back as what it sent.
    #[test]
    fn reads_every_frame_the_server_can_send() {
        let examples = WidgetFrame::examples();
        let mut types_seen = std::collections::BTreeSet::new();
        for frame in examples {
            let value = serde_json::to_value(&frame).expect("serialises");
            types_seen.insert(value["type"].as_str().expect("tagged").to_owned());
            assert_eq!(read(&value), Some(frame.clone()), "{value}");
        }
        let all: std::collections::BTreeSet<String> =
            WidgetFrame::TYPES.iter().map(|t| (*t).to_owned()).collect();
        assert_eq!(types_seen, all, "every frame type was tried");
    }

    #[test]
    fn anything_else_is_not_a_frame() {
        for text in [
            r#"{"type":"dance"}"#,
            r#"{"type":"ack","client_id":"k"}"#,
            r#"{"type":"event","event":{"seq":1}}"#,
            r#"{"type":"event","event":{"conversation_id":"c","seq":1.5,"author":"visitor","body":"closed","created_at_ms":1}}"#,
            r#"{"type":"event","event":{"conversation_id":"c","seq":1,"author":"visitor","body":"exploded","created_at_ms":1}}"#,
            r#"[1,2]"#,
        ] {
            let value: serde_json::Value = serde_json::from_str(text).expect("json");
            assert_eq!(read(&value), None, "{text}");
        }
    }
}
