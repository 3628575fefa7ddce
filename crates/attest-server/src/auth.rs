//! API tokens and roles: random bearer tokens, stored only as SHA-256 hashes in the store's
//! metadata table (`api-token:<hex hash>` → `<role>:<name>`).
//!
//! A lookup is by hash, so the comparison never touches the secret itself; a hash of 256 random
//! bits needs no slow KDF (argon2 is for human passwords).

use std::collections::HashMap;
use std::sync::RwLock;

use attest_store::Store;
use sha2::{Digest, Sha256};

use crate::Error;

/// Metadata key prefix of stored token hashes.
const META_PREFIX: &str = "api-token:";
/// Prefix of every token, so leaked tokens are easy to grep for.
const TOKEN_PREFIX: &str = "attest_";

/// What a token may do. Ordered: each role can do what the ones before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also writes rules, sources, results.
    Engineer,
    /// Also manages tokens and profiles.
    Admin,
}

impl Role {
    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Engineer => "engineer",
            Role::Admin => "admin",
        }
    }

    /// Parses the lower-case word.
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "engineer" => Some(Role::Engineer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Who made a request: a token's name and role (or the anonymous admin of an unauthenticated
/// server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name: journaled as the author of writes.
    pub name: String,
    /// Its role.
    pub role: Role,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token named `name` with `role`, stores its hash, and returns the secret (shown
/// once: it cannot be recovered from the store).
pub async fn create_token(store: &Store, name: &str, role: Role) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.contains(':') {
        return Err(Error::InvalidTokenName {
            name: name.to_string(),
        });
    }
    let bytes: [u8; 32] = rand::random();
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let key = format!("{META_PREFIX}{}", hash(&token));
    let value = format!("{}:{name}", role.as_str());
    store
        .set_meta(&[(key.as_str(), value.as_str())])
        .await
        .map_err(|source| Error::Store {
            operation: "store an API token",
            source,
        })?;
    Ok(token)
}

/// Number of API tokens stored.
pub async fn token_count(store: &Store) -> Result<usize, Error> {
    let meta = store.all_meta().await.map_err(|source| Error::Store {
        operation: "count API tokens",
        source,
    })?;
    Ok(meta.keys().filter(|k| k.starts_with(META_PREFIX)).count())
}

/// Verifies bearer tokens against the store, caching the ones found so that a request costs no
/// database round trip after the first.
#[derive(Debug, Default)]
pub struct TokenCache {
    known: RwLock<HashMap<String, Principal>>,
}

impl TokenCache {
    /// The principal of a token, or `None` when the token is unknown.
    pub async fn verify(&self, store: &Store, token: &str) -> Result<Option<Principal>, Error> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let key = format!("{META_PREFIX}{}", hash(token));
        if let Some(p) = self.known.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(Some(p));
        }
        let value = store.meta(&key).await.map_err(|source| Error::Store {
            operation: "look up an API token",
            source,
        })?;
        let Some(principal) = value.as_deref().and_then(parse_value) else {
            return Ok(None);
        };
        if let Ok(mut m) = self.known.write() {
            m.insert(key, principal.clone());
        }
        Ok(Some(principal))
    }
}

fn parse_value(value: &str) -> Option<Principal> {
    let (role, name) = value.split_once(':')?;
    Some(Principal {
        name: name.to_string(),
        role: Role::parse(role)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_round_trip() {
        assert!(Role::Viewer < Role::Engineer && Role::Engineer < Role::Admin);
        for r in [Role::Viewer, Role::Engineer, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn stored_values_parse() {
        assert_eq!(
            parse_value("engineer:ci pipeline"),
            Some(Principal {
                name: "ci pipeline".into(),
                role: Role::Engineer
            })
        );
        assert_eq!(parse_value("nobody"), None);
        assert_eq!(parse_value("god:x"), None);
        assert_eq!(hash("a").len(), 64);
    }
}
