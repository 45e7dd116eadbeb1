//! Wire types shared by the server, the shopper widget and the agent inbox.
//!
//! Every WebSocket frame is a JSON object tagged by `type`. This crate holds
//! only the shapes and the limits; it does no IO, so the widget can carry it
//! without pulling in server code. It is split by audience and re-exported
//! flat, so users write `protocol::WidgetFrame` whatever file it lives in.

mod agent;
mod articles;
mod console;
mod errors;
mod events;
mod files;
mod http;
mod limits;
mod reports;
mod views;
mod widget;
mod widget_text;

pub use agent::*;
pub use articles::*;
pub use console::*;
pub use errors::*;
pub use events::*;
pub use files::*;
pub use http::*;
pub use limits::*;
pub use reports::*;
pub use views::*;
pub use widget::*;
pub use widget_text::{WidgetText, text};

/// A set of frames tagged by `type`: the one source of what a socket
/// accepts and of what a client must be able to read.
pub trait FrameSet: Sized {
    /// Every `type` tag, in declaration order, derived from the enum itself
    /// (so it cannot fall out of date).
    const TYPES: &'static [&'static str];

    /// At least one value of every variant, built by an exhaustive match
    /// over the variants: a new variant without an example does not compile.
    fn examples() -> Vec<Self>;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `type` tag a frame travels with.
    fn tag_of<T: serde::Serialize>(frame: &T) -> String {
        serde_json::to_value(frame).expect("serialises")["type"]
            .as_str()
            .expect("a string type")
            .to_owned()
    }

    /// Every tag has an example, every example's tag is a known one, and
    /// every example survives the trip through JSON.
    fn check_frame_set<T>()
    where
        T: FrameSet + serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let examples = T::examples();
        let tags: std::collections::BTreeSet<String> = examples.iter().map(tag_of).collect();
        let declared: std::collections::BTreeSet<String> =
            T::TYPES.iter().map(|t| (*t).to_owned()).collect();
        assert_eq!(tags, declared, "examples and type tags disagree");
        assert_eq!(declared.len(), T::TYPES.len(), "a tag is listed twice");
        for example in examples {
            let json = serde_json::to_string(&example).expect("serialises");
            assert!(json.starts_with(r#"{"type":"#), "{json}");
            let back: T = serde_json::from_str(&json).expect("decodes");
            assert_eq!(back, example);
        }
    }

    #[test]
    fn every_frame_set_has_an_example_of_each_tag_that_round_trips() {
        check_frame_set::<WidgetRequest>();
        check_frame_set::<WidgetFrame>();
        check_frame_set::<AgentRequest>();
        check_frame_set::<AgentFrame>();
    }

    #[test]
    fn a_tag_missing_from_the_examples_is_caught() {
        let mut examples = WidgetRequest::examples();
        examples.retain(|e| !matches!(e, WidgetRequest::Track { .. }));
        let tags: std::collections::BTreeSet<String> = examples.iter().map(tag_of).collect();
        assert!(WidgetRequest::TYPES.contains(&"track"));
        assert!(!tags.contains("track"));
    }

    #[test]
    fn event_kinds_are_named_as_they_travel() {
        for body in EventBody::examples() {
            let value = serde_json::to_value(&body).expect("serialises");
            let travelled = match &value {
                serde_json::Value::String(unit) => unit.clone(),
                serde_json::Value::Object(map) => map.keys().next().expect("a key").clone(),
                other => panic!("unexpected {other}"),
            };
            assert_eq!(body.kind_name(), travelled);
            let parsed: EventKind = travelled.parse().expect("a known kind");
            assert_eq!(parsed, EventKind::from(&body));
        }
    }

    #[test]
    fn frames_are_tagged_by_type() {
        let json = serde_json::to_string(&WidgetRequest::Send {
            client_id: "c1".into(),
            body: "hi".into(),
            topic: None,
            files: Vec::new(),
        })
        .expect("serialize");
        assert_eq!(json, r#"{"type":"send","client_id":"c1","body":"hi"}"#);
        let hello: WidgetRequest = serde_json::from_str(r#"{"type":"hello"}"#).expect("parse");
        assert_eq!(
            hello,
            WidgetRequest::Hello {
                token: None,
                conversation_id: None,
                after_seq: 0,
                language: None,
                resume: None,
            }
        );
    }

    #[test]
    fn event_nests_its_body() {
        let event = Event {
            conversation_id: "c".into(),
            seq: 3,
            author: Author::Visitor,
            body: EventBody::message("hello"),
            client_id: None,
            created_at_ms: 1,
            via: Channel::Chat,
        };
        let value = serde_json::to_value(&event).expect("serialize");
        assert_eq!(value["body"]["message"]["text"], "hello");
        assert_eq!(value["author"], "visitor");
        let back: Event = serde_json::from_value(value).expect("parse");
        assert_eq!(back, event);
    }

    #[test]
    fn error_codes_read_without_serde_match_the_wire() {
        for &code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_string(&code).expect("serialises"),
                format!("\"{}\"", code.as_str())
            );
        }
    }

    #[test]
    fn widget_frames_round_trip() {
        let frames = vec![
            WidgetFrame::Welcome {
                visitor_token: "t".into(),
                conversation_id: Some("c".into()),
                state: Some(ConversationState::Assigned {
                    agent_id: "a".into(),
                    agent_name: "Ada".into(),
                }),
                name: Some("Grace".into()),
                email_known: true,
                read_seq: 0,
                agent_read_seq: 0,
                replay_from: 1,
            },
            WidgetFrame::Welcome {
                visitor_token: "t".into(),
                conversation_id: None,
                state: None,
                name: None,
                email_known: false,
                read_seq: 0,
                agent_read_seq: 0,
                replay_from: 1,
            },
            WidgetFrame::Event {
                event: Event {
                    conversation_id: "c".into(),
                    seq: 2,
                    author: Author::Agent {
                        id: "a".into(),
                        name: "Ada".into(),
                    },
                    body: EventBody::message("hi"),
                    client_id: Some("k".into()),
                    created_at_ms: 5,
                    via: Channel::Email,
                },
            },
            WidgetFrame::Ack {
                client_id: "k".into(),
                conversation_id: "c".into(),
                seq: 1,
            },
            WidgetFrame::Error {
                code: ErrorCode::BodyTooLong,
                message: "too long".into(),
                client_id: Some("k".into()),
            },
            WidgetFrame::Error {
                code: ErrorCode::BadFrame,
                message: "bad".into(),
                client_id: None,
            },
            WidgetFrame::Queue {
                position: 2,
                estimate_secs: None,
                agents_online: true,
            },
            WidgetFrame::Pong,
        ];
        for frame in frames {
            let json = serde_json::to_string(&frame).expect("serialize");
            assert!(json.starts_with(r#"{"type":"#), "{json}");
            let back: WidgetFrame = serde_json::from_str(&json).expect("decode");
            assert_eq!(back, frame);
        }
    }

    #[test]
    fn widget_frames_need_their_type_first_and_known() {
        assert!(serde_json::from_str::<WidgetFrame>(r#"{"seq":1,"type":"ack"}"#).is_err());
        assert!(serde_json::from_str::<WidgetFrame>(r#"{"type":"dance"}"#).is_err());
        assert!(serde_json::from_str::<WidgetFrame>(r#"{"type":"ack","client_id":"k"}"#).is_err());
    }

    #[test]
    fn notes_are_not_shopper_visible() {
        assert!(!EventBody::Note { text: "x".into() }.is_shopper_visible());
        assert!(EventBody::message("x").is_shopper_visible());
        assert!(EventBody::Closed.is_shopper_visible());
    }

    #[test]
    fn client_ids_are_bounded() {
        assert!(is_valid_client_id("a-B_9"));
        assert!(!is_valid_client_id(""));
        assert!(!is_valid_client_id("has space"));
        assert!(!is_valid_client_id(&"x".repeat(MAX_CLIENT_ID_LEN + 1)));
    }

    #[test]
    fn bodies_are_bounded_in_characters() {
        assert_eq!(
            check_body("  \n").map_err(|e| e.0),
            Err(ErrorCode::EmptyBody)
        );
        assert!(check_body(&"é".repeat(MAX_BODY_CHARS)).is_ok());
        assert_eq!(
            check_body(&"é".repeat(MAX_BODY_CHARS + 1)).map_err(|e| e.0),
            Err(ErrorCode::BodyTooLong)
        );
    }
}
