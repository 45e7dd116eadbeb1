//! Reading the server's frames with the browser's own `JSON.parse`. The
//! widget then carries no JSON parser of its own: serde_json's decoding
//! cost it several KB of WASM. The shapes are `protocol::WidgetFrame`'s.

use js_sys::JSON;
use protocol::{Author, ConversationState, ErrorCode, Event, EventBody, WidgetFrame};
use wasm_bindgen::JsValue;

use wasm_bindgen::JsCast;

use crate::js_object::{flag, object, string};

fn whole(value: &JsValue, key: &str) -> Option<i64> {
    let number = js_sys::Reflect::get(value, &JsValue::from_str(key))
        .ok()?
        .as_f64()?;
    // Seqs, counts and times are whole numbers well inside f64's exact range.
    (number.fract() == 0.0).then_some(number as i64)
}

fn small(value: &JsValue, key: &str) -> Option<u32> {
    whole(value, key).and_then(|n| u32::try_from(n).ok())
}

/// An externally tagged enum value: `"unit"` or `{"variant": {...}}`.
fn variant(value: &JsValue, key: &str) -> Option<(String, JsValue)> {
    let field = js_sys::Reflect::get(value, &JsValue::from_str(key)).ok()?;
    if let Some(unit) = field.as_string() {
        return Some((unit, JsValue::UNDEFINED));
    }
    let name = js_sys::Object::keys(field.dyn_ref::<js_sys::Object>()?)
        .get(0)
        .as_string()?;
    let inner = js_sys::Reflect::get(&field, &JsValue::from_str(&name)).ok()?;
    Some((name, inner))
}

fn state(value: &JsValue) -> Option<ConversationState> {
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

fn event(value: &JsValue) -> Option<Event> {
    let (author, who) = variant(value, "author")?;
    let (body, inner) = variant(value, "body")?;
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
        body: match body.as_str() {
            "message" => EventBody::Message {
                text: string(&inner, "text")?,
            },
            "note" => EventBody::Note {
                text: string(&inner, "text")?,
            },
            "assigned" => EventBody::Assigned {
                agent_id: string(&inner, "agent_id")?,
                agent_name: string(&inner, "agent_name")?,
            },
            "closed" => EventBody::Closed,
            _ => return None,
        },
        client_id: string(value, "client_id"),
        created_at_ms: whole(value, "created_at_ms")?,
    })
}

/// The frame in `text`, or `None` for anything that is not one.
pub fn decode(text: &str) -> Option<WidgetFrame> {
    let value = JSON::parse(text).ok()?;
    Some(match string(&value, "type")?.as_str() {
        "welcome" => WidgetFrame::Welcome {
            visitor_token: string(&value, "visitor_token")?,
            conversation_id: string(&value, "conversation_id"),
            state: state(&value),
            name: string(&value, "name"),
            email_known: flag(&value, "email_known"),
        },
        "event" => WidgetFrame::Event {
            event: event(&object(&value, "event")?)?,
        },
        "ack" => WidgetFrame::Ack {
            client_id: string(&value, "client_id")?,
            conversation_id: string(&value, "conversation_id")?,
            seq: whole(&value, "seq")?,
        },
        "error" => {
            let code = string(&value, "code")?;
            WidgetFrame::Error {
                // A code newer than this widget reads as ours having failed.
                code: ErrorCode::ALL
                    .into_iter()
                    .find(|known| known.as_str() == code)
                    .unwrap_or(ErrorCode::Internal),
                message: string(&value, "message").unwrap_or_default(),
                client_id: string(&value, "client_id"),
            }
        }
        "queue" => WidgetFrame::Queue {
            position: small(&value, "position")?,
            estimate_secs: small(&value, "estimate_secs"),
            agents_online: flag(&value, "agents_online"),
        },
        "pong" => WidgetFrame::Pong,
        _ => return None,
    })
}
