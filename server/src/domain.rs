//! Values that travel, parsed once at the edge (HTTP, sockets, the command
//! line) into types that cannot hold a bad one: an email, a page origin, a
//! language tag, an agent's capacity, and the ids clients name things by.
//! Past the edge, code takes these types and checks nothing again.

use std::fmt;

use protocol::{CAPACITY_RANGE, MAX_CLIENT_ID_LEN};

/// Why a value was refused, in words the person who gave it understands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Longest email address (RFC 5321's path limit).
const MAX_EMAIL_LEN: usize = 254;

/// An email address, trimmed and lower-cased: `ada@shop.example`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Plausible, not proven: an address the mailer can write (its own
    /// rule, `lettre::Address`, so that nothing stored here is refused when
    /// a mail is built), with a dot in its domain and no spaces. Only a
    /// mail that arrives proves an address.
    pub fn parse(raw: &str) -> Result<Email, Invalid> {
        let email = raw.trim().to_lowercase();
        let plausible = email.len() <= MAX_EMAIL_LEN
            && !email.contains(char::is_whitespace)
            && !email.contains(['<', '>', ',', ';', '"'])
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && email.parse::<lettre::Address>().is_ok();
        if plausible {
            Ok(Email(email))
        } else {
            Err(Invalid(format!(
                "\"{}\" is not an email address.",
                raw.trim()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name as colleagues and shoppers read it (an agent's, a
/// contact's): trimmed, 1 to 80 characters, no line breaks or other control
/// characters, so it can stand in a mail header or a log line as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<PersonName, Invalid> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > protocol::MAX_LABEL_CHARS {
            return Err(Invalid(format!(
                "A name is 1 to {} characters.",
                protocol::MAX_LABEL_CHARS
            )));
        }
        if name.chars().any(is_unwritable) {
            return Err(Invalid(
                "A name cannot hold line breaks or other control characters.".to_owned(),
            ));
        }
        Ok(PersonName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters that have no place in a one-line label: control characters
/// (line breaks among them), and the separators and direction overrides
/// that make a line look like something else.
pub fn is_unwritable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// A page origin as browsers send it: `https://shop.example[:port]`, lower
/// case, no path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

impl Origin {
    pub fn parse(raw: &str) -> Result<Origin, Invalid> {
        let origin = raw.trim().trim_end_matches('/').to_ascii_lowercase();
        let valid = origin.split_once("://").is_some_and(|(scheme, rest)| {
            (scheme == "http" || scheme == "https")
                && !rest.is_empty()
                && !rest.contains(['/', '?', '#', '@', ' ', '\\'])
        });
        if valid {
            Ok(Origin(origin))
        } else {
            Err(Invalid(format!(
                "\"{}\" is not an origin: write it like https://shop.example (scheme and host, no path).",
                raw.trim()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// `http://localhost:8080`, `http://127.0.0.1`, `http://[::1]:3000`: a page
/// served from the machine the browser runs on.
pub fn is_local_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")),
        None => rest.split(':').next().map(str::to_owned),
    };
    matches!(host.as_deref(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// Longest language tag kept (BCP 47 tags in practice are far shorter).
const MAX_LANGUAGE_TAG: usize = 35;

/// A BCP 47 language tag as browsers give it: `nl-BE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn parse(raw: &str) -> Result<LanguageTag, Invalid> {
        let tag = raw.trim();
        let primary = primary_subtag(tag);
        let valid = tag.len() <= MAX_LANGUAGE_TAG
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && (2..=3).contains(&primary.len())
            && primary.bytes().all(|b| b.is_ascii_lowercase());
        if valid {
            Ok(LanguageTag(tag.to_owned()))
        } else {
            Err(Invalid(format!(
                "\"{tag}\" is not a language code like en or nl."
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// "nl-BE" → "nl": the part that matters for matching.
    pub fn primary(&self) -> String {
        primary_subtag(&self.0)
    }
}

/// "nl-BE" → "nl"; also takes `_` (`nl_BE`), as some systems write it.
pub fn primary_subtag(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// How many conversations an agent holds at once, within [`CAPACITY_RANGE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity(i64);

impl Capacity {
    pub fn parse(value: i64) -> Result<Capacity, Invalid> {
        if CAPACITY_RANGE.contains(&value) {
            Ok(Capacity(value))
        } else {
            Err(Invalid(format!(
                "Capacity must be from {} to {} conversations at once, or null for the site's default; got {value}.",
                CAPACITY_RANGE.start(),
                CAPACITY_RANGE.end()
            )))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// The shape every id Rapport hands out has (UUIDs) and a client's own
/// idempotency keys: 1 to 64 of `A-Z a-z 0-9 - _`. Anything else names
/// nothing, and is refused before it reaches a query.
fn is_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= MAX_CLIENT_ID_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<$name, Invalid> {
                if is_id(raw) {
                    Ok($name(raw.to_owned()))
                } else {
                    Err(Invalid(format!("No such {}.", $what)))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A conversation's id, as a client names it.
    ConversationId,
    "conversation"
);
id_type!(
    /// An agent's id, as a client names them.
    AgentId,
    "agent"
);
id_type!(
    /// A team's id, as a client names it.
    TeamId,
    "team"
);

/// A client's idempotency key for one message: retries carry the same one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<ClientId, Invalid> {
        if is_id(raw) {
            Ok(ClientId(raw.to_owned()))
        } else {
            Err(Invalid(format!(
                "client_id must be 1 to {MAX_CLIENT_ID_LEN} characters of A-Z, a-z, 0-9, '-' or '_'."
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_plausible_and_normalised() {
        assert_eq!(
            Email::parse("  Ada@Shop.Example ").map(|e| e.as_str().to_owned()),
            Ok("ada@shop.example".to_owned())
        );
        for bad in [
            "",
            "ada",
            "@shop.example",
            "ada@shop",
            "ada@.example",
            "ada@shop.example.",
            "a da@shop.example",
            "ada@x@shop.example",
            "Ada <ada@shop.example>",
            &format!("{}@shop.example", "a".repeat(250)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_are_normalised() {
        let ok = |raw| Origin::parse(raw).map(Origin::into_string);
        assert_eq!(
            ok("https://Shop.Example/"),
            Ok("https://shop.example".into())
        );
        assert_eq!(
            ok("http://127.0.0.1:3000"),
            Ok("http://127.0.0.1:3000".into())
        );
        for bad in [
            "https://shop.example/path",
            "ftp://shop.example",
            "shop.example",
            "https://",
            "https://user@shop.example",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn language_tags_keep_their_primary_subtag() {
        let tag = LanguageTag::parse("nl-BE").expect("valid");
        assert_eq!(tag.primary(), "nl");
        assert_eq!(primary_subtag("pt_BR"), "pt");
        assert_eq!(
            LanguageTag::parse("EN").map(|t| t.primary()),
            Ok("en".to_owned())
        );
        for bad in ["", "x", "e n", "n1", "toolongprimary", &"a".repeat(40)] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_email_is_one_the_mailer_can_write() {
        for bad in [
            "ada..b@shop.example",
            ".ada@shop.example",
            "ada.@shop.example",
            "ada@shop..example",
            "a\r\nbcc: x@y.example",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Email::parse(" Ada.B+shop@Shop.Example ").map(|e| e.as_str().to_owned()),
            Ok("ada.b+shop@shop.example".to_owned())
        );
    }

    #[test]
    fn a_name_is_one_line() {
        assert_eq!(
            PersonName::parse("  Ada Lovelace ").map(|n| n.as_str().to_owned()),
            Ok("Ada Lovelace".to_owned())
        );
        assert!(PersonName::parse("Ada").is_ok());
        assert!(PersonName::parse("Ада Лавлейс").is_ok());
        for bad in [
            "",
            "   ",
            "Ada\nBcc: evil@x.example",
            "Ada\rLovelace",
            "Ada\u{2028}Lovelace",
            "Ada\u{202E}ecalevol",
            "tab\there",
            &"a".repeat(81),
        ] {
            assert!(PersonName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn capacity_stays_in_range() {
        assert_eq!(Capacity::parse(3).map(Capacity::get), Ok(3));
        assert!(Capacity::parse(0).is_err());
        assert!(Capacity::parse(51).is_err());
    }

    #[test]
    fn ids_have_one_shape() {
        assert!(ConversationId::parse("0193f2a4-5b6c-7d8e-9f00-112233445566").is_ok());
        assert!(ClientId::parse("a-B_9").is_ok());
        for bad in ["", "has space", "x'; DROP TABLE", &"x".repeat(65)] {
            assert!(ConversationId::parse(bad).is_err(), "{bad}");
            assert!(ClientId::parse(bad).is_err(), "{bad}");
        }
    }
}
