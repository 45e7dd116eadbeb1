//! Writing the frames the widget sends as JSON text, by hand: serde_json's
//! serializer cost the widget more WASM than this small writer. A host test
//! reads every `WidgetRequest` example written here back with serde and
//! compares, so the two cannot drift apart.

use protocol::{StatedDetails, WidgetRequest};

/// A JSON object being written.
struct Object(String);

impl Object {
    fn new(tag: &str) -> Object {
        let mut object = Object(String::from("{\"type\":"));
        quote(tag, &mut object.0);
        object
    }

    fn key(&mut self, key: &str) {
        self.0.push(',');
        quote(key, &mut self.0);
        self.0.push(':');
    }

    fn text(mut self, key: &str, value: &str) -> Object {
        self.key(key);
        quote(value, &mut self.0);
        self
    }

    /// Leaves the field out when there is nothing (the server reads that as none).
    fn maybe(self, key: &str, value: Option<&str>) -> Object {
        match value {
            Some(value) => self.text(key, value),
            None => self,
        }
    }

    /// An array of strings; left out when empty.
    fn list(mut self, key: &str, values: &[String]) -> Object {
        if values.is_empty() {
            return self;
        }
        self.key(key);
        for (i, value) in values.iter().enumerate() {
            self.0.push(if i == 0 { '[' } else { ',' });
            quote(value, &mut self.0);
        }
        self.0.push(']');
        self
    }

    fn number(mut self, key: &str, value: i64) -> Object {
        self.key(key);
        self.0.push_str(&value.to_string());
        self
    }

    fn details(mut self, key: &str, details: Option<&StatedDetails>) -> Object {
        let Some(details) = details else {
            return self;
        };
        self.key(key);
        let mut inner = Object(String::from("{"));
        let mut first = true;
        for (name, value) in [
            ("name", &details.name),
            ("email", &details.email),
            ("phone", &details.phone),
        ] {
            if let Some(value) = value {
                if !first {
                    inner.0.push(',');
                }
                first = false;
                quote(name, &mut inner.0);
                inner.0.push(':');
                quote(value, &mut inner.0);
            }
        }
        self.0.push_str(&inner.0);
        self.0.push('}');
        self
    }

    fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// `text` as a JSON string.
fn quote(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let code = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[code >> 4]));
                out.push(char::from(HEX[code & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The frame as the server reads it.
pub(crate) fn encode(request: &WidgetRequest) -> String {
    // Exhaustive: a new request does not compile until it is written here.
    match request {
        WidgetRequest::Hello {
            token,
            conversation_id,
            after_seq,
            language,
            resume,
        } => Object::new("hello")
            .maybe("token", token.as_deref())
            .maybe("conversation_id", conversation_id.as_deref())
            .number("after_seq", *after_seq)
            .maybe("language", language.as_deref())
            .maybe("resume", resume.as_deref()),
        WidgetRequest::Send {
            client_id,
            body,
            topic,
            files,
        } => Object::new("send")
            .text("client_id", client_id)
            .text("body", body)
            .maybe("topic", topic.as_deref())
            .list("files", files),
        WidgetRequest::Page {
            url,
            title,
            time_zone,
        } => Object::new("page")
            .text("url", url)
            .maybe("title", title.as_deref())
            .maybe("time_zone", time_zone.as_deref()),
        WidgetRequest::Track { name, data } => Object::new("track")
            .text("name", name)
            .maybe("data", data.as_deref()),
        WidgetRequest::Identify { token, details } => Object::new("identify")
            .maybe("token", token.as_deref())
            .details("details", details.as_ref()),
        WidgetRequest::Read {
            conversation_id,
            seq,
        } => Object::new("read")
            .text("conversation_id", conversation_id)
            .number("seq", *seq),
        WidgetRequest::Earlier {
            conversation_id,
            before_seq,
        } => Object::new("earlier")
            .text("conversation_id", conversation_id)
            .number("before_seq", *before_seq),
        WidgetRequest::Email { address } => Object::new("email").text("address", address),
        WidgetRequest::Typing { draft } => Object::new("typing").maybe("draft", draft.as_deref()),
        WidgetRequest::Transcript { email } => {
            Object::new("transcript").maybe("email", email.as_deref())
        }
        WidgetRequest::Rate {
            conversation_id,
            score,
            comment,
        } => Object::new("rate")
            .text("conversation_id", conversation_id)
            .number("score", i64::from(*score))
            .maybe("comment", comment.as_deref()),
        WidgetRequest::Forget => Object::new("forget"),
        WidgetRequest::PanelClosed => Object::new("panel_closed"),
        WidgetRequest::Ping => Object::new("ping"),
    }
    .end()
}

#[cfg(test)]
mod tests {
    use protocol::FrameSet;

    use super::*;

    #[test]
    fn every_request_reads_back_as_itself() {
        let mut examples = WidgetRequest::examples();
        examples.push(WidgetRequest::Send {
            client_id: "c".into(),
            body: "quotes \" backslash \\ newline \n tab \t bell \u{7} unicode é 😀".into(),
            topic: None,
            files: vec!["a".into(), "b\"c".into()],
        });
        for request in examples {
            let text = encode(&request);
            let back: WidgetRequest = serde_json::from_str(&text).expect("valid JSON");
            assert_eq!(back, request, "{text}");
        }
    }
}
