//! Who is who: agent password hashes (argon2id), random bearer tokens for
//! visitors and site keys, and the agent's id inside their session.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Session key under which the signed-in agent's id is kept.
pub const SESSION_AGENT_ID: &str = "agent_id";

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("a password must be at least {MIN_PASSWORD_LEN} characters")]
    WeakPassword,
}

pub const MIN_PASSWORD_LEN: usize = 10;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, IdentityError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(IdentityError::WeakPassword);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| IdentityError::Hash(e.to_string()))
}

/// Checks a password against a stored PHC hash; a malformed hash never matches.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid hash of a random password, verified against when an email is
/// unknown so that sign-in takes as long either way.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token(24)).unwrap_or_default())
}

/// A URL-safe random token of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A new site key: 144 bits of randomness that never starts with `-`, so
/// that `--site KEY` on a command line is never taken for a flag.
pub fn new_site_key() -> String {
    loop {
        let key = random_token(18);
        if !key.starts_with('-') {
            return key;
        }
    }
}

/// A new visitor token: 256 bits of randomness.
pub fn new_visitor_token() -> String {
    random_token(32)
}

/// What the store keeps of a bearer token: its SHA-256, hex. The token has
/// full entropy, so a fast hash is enough to make a leaked table useless.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A readable random password for a first-run owner.
pub fn generate_password() -> String {
    random_token(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(
            hash_password("short"),
            Err(IdentityError::WeakPassword)
        ));
    }

    #[test]
    fn site_keys_never_look_like_flags() {
        for _ in 0..2000 {
            assert!(!new_site_key().starts_with('-'));
        }
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_visitor_token();
        let b = new_visitor_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}

/// The key a browser's device cookie is signed with: proof that this
/// browser signed in to an account before, so that strangers' wrong
/// guesses never lock it out (see `signin`).
#[derive(Clone)]
pub struct DeviceKey(Vec<u8>);

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey(…)")
    }
}

impl DeviceKey {
    pub fn new(secret: &str) -> DeviceKey {
        DeviceKey(secret.as_bytes().to_vec())
    }

    fn mac(&self, device: &str, agent_id: &str) -> String {
        use hmac::Mac;
        // HMAC takes a key of any length.
        let mut mac =
            <hmac::Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(device.as_bytes());
        mac.update(b"\0");
        mac.update(agent_id.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A cookie value for a browser (`device`, random) that signed in as
    /// `agent_id`.
    pub fn cookie(&self, device: &str, agent_id: &str) -> String {
        format!("{device}.{}", self.mac(device, agent_id))
    }

    /// The browser's device id, if `cookie` proves it signed in as `agent_id`.
    pub fn verify(&self, cookie: &str, agent_id: &str) -> Option<String> {
        let (device, mac) = cookie.split_once('.')?;
        let expected = self.mac(device, agent_id);
        // Comparing digests: the time taken says nothing about the MAC.
        (!device.is_empty() && Sha256::digest(mac) == Sha256::digest(&expected))
            .then(|| device.to_owned())
    }
}
