//! Reading a mail that came in (MIME by `mail-parser`, never by hand): who
//! it is from and to, what the shopper wrote (history and signature cut),
//! what it carries, and whether a machine sent it (a bounce, an
//! out-of-office reply), which must never start a mail loop.

use mail_parser::{MessageParser, MimeHeaders};

use super::reply::fresh_text;

/// Largest mail taken in, in bytes; larger ones are refused whole.
pub const MAX_MAIL_BYTES: usize = 10 * 1024 * 1024;
/// Longest text kept from one email (a chat message's limit).
const MAX_TEXT_CHARS: usize = protocol::MAX_BODY_CHARS;

/// A machine wrote this mail, not a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Automatic {
    /// Delivery failed somewhere: a bounce (empty sender, a delivery report).
    Bounce,
    /// An out-of-office or other automatic answer.
    AutoReply,
}

/// A mail as Rapport uses it.
#[derive(Clone, Debug, PartialEq)]
pub struct Inbound {
    /// The `From` address, lower case.
    pub from: Option<String>,
    /// Addresses it was sent to (`To`, `Cc`, `Delivered-To`), lower case.
    pub recipients: Vec<String>,
    pub message_id: Option<String>,
    /// What the person wrote in this mail, history and signature cut.
    pub text: String,
    /// The files attached, as they came (checked where they are kept).
    pub attachments: Vec<MailAttachment>,
    pub automatic: Option<Automatic>,
}

/// A file attached to a mail.
#[derive(Clone, PartialEq, Eq)]
pub struct MailAttachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for MailAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MailAttachment({:?}, {} bytes)",
            self.name,
            self.bytes.len()
        )
    }
}

/// Why a mail could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("the mail is larger than {MAX_MAIL_BYTES} bytes")]
    TooLarge,
    #[error("the mail is not a MIME message")]
    Malformed,
}

/// Reads `raw`. `envelope_from` is the SMTP `MAIL FROM` (empty for a
/// bounce), when the mail came by SMTP.
pub fn read(raw: &[u8], envelope_from: Option<&str>) -> Result<Inbound, Unreadable> {
    if raw.len() > MAX_MAIL_BYTES {
        return Err(Unreadable::TooLarge);
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(Unreadable::Malformed)?;
    if message.headers().is_empty() || (message.from().is_none() && message.text_body_count() == 0)
    {
        return Err(Unreadable::Malformed);
    }
    let from = message
        .from()
        .and_then(|from| from.first())
        .and_then(|addr| addr.address())
        .map(str::to_lowercase);
    let mut recipients: Vec<String> = message
        .to()
        .into_iter()
        .chain(message.cc())
        .flat_map(|list| list.iter())
        .filter_map(|addr| addr.address())
        .map(str::to_lowercase)
        .collect();
    for name in ["Delivered-To", "X-Original-To"] {
        if let Some(value) = message.header_raw(name) {
            recipients.push(value.trim().trim_matches(['<', '>']).to_lowercase());
        }
    }
    let attachments: Vec<MailAttachment> = message
        .attachments()
        .map(|part| MailAttachment {
            name: part.attachment_name().unwrap_or("attachment").to_owned(),
            bytes: part.contents().to_vec(),
        })
        .collect();
    let body = message.body_text(0).unwrap_or_default();
    let mut text = fresh_text(&body);
    if text.chars().count() > MAX_TEXT_CHARS {
        text = text.chars().take(MAX_TEXT_CHARS - 1).collect::<String>() + "…";
    }
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|value| value.trim().to_lowercase())
    };
    let from_machine = from.as_deref().is_some_and(|from| {
        let local = from.split('@').next().unwrap_or_default();
        local == "mailer-daemon" || local == "postmaster"
    });
    let bounce = envelope_from.is_some_and(|from| from.trim().trim_matches(['<', '>']).is_empty())
        || message.is_content_type("multipart", "report")
        || from_machine;
    let auto_reply = header("Auto-Submitted").is_some_and(|v| !v.starts_with("no"))
        || header("Precedence")
            .is_some_and(|v| ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str()))
        || header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
        || message.header_raw("List-Id").is_some();
    Ok(Inbound {
        from,
        recipients,
        message_id: message.message_id().map(str::to_owned),
        text,
        attachments,
        automatic: if bounce {
            Some(Automatic::Bounce)
        } else if auto_reply {
            Some(Automatic::AutoReply)
        } else {
            None
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = "From: Grace <Grace@Example.com>\r\nTo: reply+abc@reply.shop.example\r\nSubject: Re: Your conversation\r\nMessage-ID: <r1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe blue one, please.\r\n\r\nOn Mon, Dec 1, 2026 at 2:02 PM Shop wrote:\r\n> It left today.\r\n";

    #[test]
    fn a_person_s_reply_is_read_without_its_history() {
        let mail = read(REPLY.as_bytes(), Some("grace@example.com")).expect("reads");
        assert_eq!(mail.from.as_deref(), Some("grace@example.com"));
        assert_eq!(mail.recipients, vec!["reply+abc@reply.shop.example"]);
        assert_eq!(mail.text, "The blue one, please.");
        assert_eq!(mail.message_id.as_deref(), Some("r1@example.com"));
        assert_eq!(mail.automatic, None);
    }

    #[test]
    fn machines_are_told_apart() {
        let auto = REPLY.replace("Subject:", "Auto-Submitted: auto-replied\r\nSubject:");
        assert_eq!(
            read(auto.as_bytes(), Some("g@example.com")).map(|m| m.automatic),
            Ok(Some(Automatic::AutoReply))
        );
        assert_eq!(
            read(REPLY.as_bytes(), Some("")).map(|m| m.automatic),
            Ok(Some(Automatic::Bounce)),
            "an empty envelope sender is a bounce"
        );
        let no = REPLY.replace("Subject:", "Auto-Submitted: no\r\nSubject:");
        assert_eq!(read(no.as_bytes(), None).map(|m| m.automatic), Ok(None));
    }

    #[test]
    fn attachments_are_listed_and_junk_refused() {
        let with_file = "From: g@example.com\r\nTo: reply+abc@r.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPhoto attached\r\n--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=receipt.png\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n";
        let mail = read(with_file.as_bytes(), None).expect("reads");
        assert_eq!(mail.text, "Photo attached");
        assert_eq!(
            mail.attachments,
            vec![MailAttachment {
                name: "receipt.png".to_owned(),
                bytes: b"hello".to_vec()
            }]
        );
        assert_eq!(read(b"", None), Err(Unreadable::Malformed));
        assert_eq!(read(&[0xff, 0xfe, 0x00], None), Err(Unreadable::Malformed));
        let huge = vec![b'a'; MAX_MAIL_BYTES + 1];
        assert_eq!(read(&huge, None), Err(Unreadable::TooLarge));
    }
}
