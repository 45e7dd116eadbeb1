//! Verifying the identity token a shop's own backend signs for a logged-in
//! customer (`Rapport('identify', token)`): a JWT, HS256, signed with one of
//! the site's secrets, addressed to the site (`aud` = site key), naming the
//! customer (`sub`) and expiring soon (`exp`). Anything else is refused with
//! a reason, and a refused token never touches a contact.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// The longest a token may live: a leaked one stops working soon.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 24 * 3600;
/// Clock difference tolerated between the shop's server and ours.
const LEEWAY_SECS: u64 = 60;
/// A token longer than this is not an identity token.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What the shop vouches for.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Claims {
    /// The shop's stable id for the customer (never empty once verified).
    #[serde(default)]
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    /// Free-form: loyalty tier, last order number and date, lifetime value…
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// Why a token was refused; the message is for the shop's developer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the identity token is not a JWT signed with HS256")]
    Malformed,
    #[error("the identity token's signature does not match any of this site's secrets")]
    BadSignature,
    #[error("the identity token has expired; sign a fresh one for each page")]
    Expired,
    #[error("the identity token is not valid yet (its nbf is in the future)")]
    NotYetValid,
    #[error("the identity token is for another site (its aud is not this site's key)")]
    OtherSite,
    #[error("the identity token names no customer (sub is missing or empty)")]
    MissingId,
    #[error("the identity token lives too long; let it expire within 24 hours")]
    TooLongLived,
    #[error(
        "this site has no identity secret yet; create one in the console or with `rapport site-secret`"
    )]
    NoSecret,
}

/// Checks `token` against the site's usable secrets (current and rotated
/// ones still in their grace period); `now` is Unix seconds.
pub fn verify(
    token: &str,
    site_key: &str,
    secrets: &[String],
    now: i64,
) -> Result<Claims, Refusal> {
    if secrets.is_empty() {
        return Err(Refusal::NoSecret);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refusal::Malformed);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[site_key]);
    validation.set_required_spec_claims(&["exp", "sub", "aud"]);
    validation.leeway = LEEWAY_SECS;
    // A token the shop dated to start later is not good before then.
    validation.validate_nbf = true;
    let mut refusal = Refusal::BadSignature;
    for secret in secrets {
        let key = DecodingKey::from_secret(secret.as_bytes());
        match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
            Ok(data) => {
                let claims = data.claims;
                if claims.sub.trim().is_empty() {
                    return Err(Refusal::MissingId);
                }
                if claims.exp > now + MAX_TOKEN_LIFETIME_SECS {
                    return Err(Refusal::TooLongLived);
                }
                return Ok(claims);
            }
            Err(err) => {
                refusal = match err.kind() {
                    // Another secret may have signed it.
                    ErrorKind::InvalidSignature => continue,
                    ErrorKind::ExpiredSignature => Refusal::Expired,
                    ErrorKind::ImmatureSignature => Refusal::NotYetValid,
                    ErrorKind::InvalidAudience => Refusal::OtherSite,
                    ErrorKind::MissingRequiredClaim(claim) if claim == "sub" => Refusal::MissingId,
                    ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => Refusal::OtherSite,
                    ErrorKind::MissingRequiredClaim(_) => Refusal::Expired,
                    _ => Refusal::Malformed,
                };
                // Signature checked out (or the token is unreadable): the
                // next secret would say the same.
                break;
            }
        }
    }
    Err(refusal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    /// jsonwebtoken checks `exp` against the real clock.
    fn now() -> i64 {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
    }

    fn sign(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap_or_default()
    }

    fn good() -> serde_json::Value {
        json!({"sub": "cust-1", "aud": "site-a", "exp": now() + 600, "name": "Ada", "attributes": {"tier": "gold"}})
    }

    fn check(token: &str) -> Result<Claims, Refusal> {
        verify(
            token,
            "site-a",
            &["old".to_owned(), "current".to_owned()],
            now(),
        )
    }

    #[test]
    fn a_token_already_valid_is_accepted() {
        let mut started = good();
        started["nbf"] = json!(now() - 60);
        assert!(check(&sign(started, "current")).is_ok());
    }

    #[test]
    fn a_good_token_from_any_usable_secret_is_accepted() {
        for secret in ["old", "current"] {
            let claims = check(&sign(good(), secret)).expect("accepted");
            assert_eq!(claims.sub, "cust-1");
            assert_eq!(claims.name.as_deref(), Some("Ada"));
            assert_eq!(claims.attributes["tier"], "gold");
        }
    }

    #[test]
    fn every_bad_token_is_refused_with_its_reason() {
        let mut expired = good();
        expired["exp"] = json!(now() - 3600);
        let mut other_site = good();
        other_site["aud"] = json!("site-b");
        let mut no_aud = good();
        no_aud.as_object_mut().map(|o| o.remove("aud"));
        let mut no_sub = good();
        no_sub.as_object_mut().map(|o| o.remove("sub"));
        let mut empty_sub = good();
        empty_sub["sub"] = json!(" ");
        let mut forever = good();
        forever["exp"] = json!(now() + 30 * 24 * 3600);
        let mut later = good();
        later["nbf"] = json!(now() + 3600);
        let unsigned = format!(
            "{}.{}.",
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0",
            "eyJzdWIiOiJjdXN0LTEiLCJhdWQiOiJzaXRlLWEiLCJleHAiOjE4MDAwMDA2MDB9"
        );
        let cases = [
            (sign(good(), "forged"), Refusal::BadSignature),
            (sign(expired, "current"), Refusal::Expired),
            (sign(other_site, "current"), Refusal::OtherSite),
            (sign(no_aud, "current"), Refusal::OtherSite),
            (sign(no_sub, "current"), Refusal::MissingId),
            (sign(empty_sub, "current"), Refusal::MissingId),
            (sign(forever, "current"), Refusal::TooLongLived),
            (sign(later, "current"), Refusal::NotYetValid),
            ("not a token".to_owned(), Refusal::Malformed),
            (unsigned, Refusal::Malformed),
            (String::new(), Refusal::Malformed),
        ];
        for (token, refusal) in cases {
            assert_eq!(check(&token), Err(refusal), "{token}");
        }
        assert_eq!(
            verify(&sign(good(), "current"), "site-a", &[], now()),
            Err(Refusal::NoSecret)
        );
    }
}
