//! Signed tokens in mail: the reply address (`reply+TOKEN@…`), the link
//! that continues a conversation in the chat, the unsubscribe link, and the
//! link that proves an address is the shopper's.
//!
//! A token names one thing (a conversation, or an outbox mail), says what
//! it is for and until when, and carries a MAC over all of that with the
//! installation's key, so it cannot be guessed, altered or used for another
//! purpose. It is written in lower-case base32: mail servers may change the
//! case of an address's local part, and a reply address must survive that
//! (and stay within the local part's 64 characters).

use data_encoding::BASE32_DNSSEC;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// Bytes of MAC kept: 96 bits, far beyond guessing by mail.
const MAC_BYTES: usize = 12;
/// purpose + id + expiry.
const PAYLOAD_BYTES: usize = 1 + 16 + 4;

/// What a token may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    /// An email reply into a conversation.
    Reply = 1,
    /// A link from an email that reopens the chat on this conversation.
    Continue = 2,
    /// A link that stops a site's mail to one address.
    Unsubscribe = 3,
    /// A link that proves an address is the shopper's.
    Confirm = 4,
}

/// Why a token was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    #[error("not a token of ours")]
    Malformed,
    #[error("the token's signature does not match")]
    Forged,
    #[error("the token has expired")]
    Expired,
}

/// The installation's key for mail tokens.
#[derive(Clone)]
pub struct MailKey(Vec<u8>);

impl std::fmt::Debug for MailKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MailKey(…)")
    }
}

impl MailKey {
    /// A key from the secret text stored for the installation.
    pub fn new(secret: &str) -> MailKey {
        MailKey(secret.as_bytes().to_vec())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }

    /// A token for `id`, for `purpose`, valid until `expires_at` (Unix seconds).
    pub fn sign(&self, purpose: Purpose, id: Uuid, expires_at: u32) -> String {
        let mut bytes = Vec::with_capacity(PAYLOAD_BYTES + MAC_BYTES);
        bytes.push(purpose as u8);
        bytes.extend_from_slice(id.as_bytes());
        bytes.extend_from_slice(&expires_at.to_be_bytes());
        let mut mac = self.mac();
        mac.update(&bytes);
        bytes.extend_from_slice(&mac.finalize().into_bytes()[..MAC_BYTES]);
        BASE32_DNSSEC.encode(&bytes)
    }

    /// The id a token names, if it is ours, for `purpose`, and not expired
    /// at `now` (Unix seconds).
    pub fn verify(&self, purpose: Purpose, token: &str, now: i64) -> Result<Uuid, TokenRefused> {
        let bytes = BASE32_DNSSEC
            .decode(token.trim().to_ascii_lowercase().as_bytes())
            .map_err(|_| TokenRefused::Malformed)?;
        if bytes.len() != PAYLOAD_BYTES + MAC_BYTES {
            return Err(TokenRefused::Malformed);
        }
        let (payload, tag) = bytes.split_at(PAYLOAD_BYTES);
        let mut mac = self.mac();
        mac.update(payload);
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenRefused::Forged)?;
        if payload[0] != purpose as u8 {
            return Err(TokenRefused::Forged);
        }
        let id = Uuid::from_slice(&payload[1..17]).map_err(|_| TokenRefused::Malformed)?;
        let expiry: [u8; 4] = payload[17..21]
            .try_into()
            .map_err(|_| TokenRefused::Malformed)?;
        if i64::from(u32::from_be_bytes(expiry)) < now {
            return Err(TokenRefused::Expired);
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_600_000;

    #[test]
    fn a_token_names_its_thing_for_its_purpose_until_it_expires() {
        let key = MailKey::new("a long installation secret");
        let id = Uuid::new_v4();
        let until = u32::try_from(NOW + 60).unwrap_or(u32::MAX);
        let token = key.sign(Purpose::Reply, id, until);
        assert!(format!("reply+{token}").len() <= 64, "fits a local part");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(key.verify(Purpose::Reply, &token, NOW), Ok(id));
        assert_eq!(
            key.verify(Purpose::Reply, &token.to_ascii_uppercase(), NOW),
            Ok(id),
            "survives a mail server upper-casing it"
        );
        assert_eq!(
            key.verify(Purpose::Continue, &token, NOW),
            Err(TokenRefused::Forged),
            "not for another purpose"
        );
        assert_eq!(
            key.verify(Purpose::Reply, &token, NOW + 61),
            Err(TokenRefused::Expired)
        );
        let other = MailKey::new("another installation");
        assert_eq!(
            other.verify(Purpose::Reply, &token, NOW),
            Err(TokenRefused::Forged)
        );
        let mut tampered = token.clone().into_bytes();
        tampered[5] = if tampered[5] == b'a' { b'b' } else { b'a' };
        let tampered = String::from_utf8(tampered).unwrap_or_default();
        assert!(key.verify(Purpose::Reply, &tampered, NOW).is_err());
        for junk in ["", "hello", "reply", &"0".repeat(53)] {
            assert!(key.verify(Purpose::Reply, junk, NOW).is_err(), "{junk}");
        }
    }
}
