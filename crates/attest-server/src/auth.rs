//! API tokens and roles: random bearer tokens, stored only as SHA-256 hashes in the store's
//! metadata table (`api-token:<hex hash>` → a small JSON record: role, name, when created and,
//! once revoked, when and by whom; tokens of older workspaces are stored as `<role>:<name>`).
//!
//! A lookup is by hash, so the comparison never touches the secret itself; a hash of 256 random
//! bits needs no slow KDF (argon2 is for human passwords). Listings name a token by an `id`
//! derived from its hash by hashing again, so neither the secret nor its stored hash is shown.
//!
//! A revoked token keeps its record (so listings show who revoked it and when) and stops
//! verifying at once on the server that revoked it; every other server re-reads a cached token
//! from the store at least every [`RECHECK`], so a revocation reaches them within that bound
//! (the store is the one truth all servers share).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use attest_core::journal::Event;
use attest_store::{NewEntry, Store};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

/// Metadata key prefix of stored token hashes.
const META_PREFIX: &str = "api-token:";
/// Prefix of every token, so leaked tokens are easy to grep for.
const TOKEN_PREFIX: &str = "attest_";
/// How long a server trusts a token it verified before reading it from the store again: the
/// longest a revocation made through another server (or the CLI) takes to reach this one.
pub const RECHECK: Duration = Duration::from_secs(1);

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

/// The public id of a token: 12 hex digits of the hash of its stored hash.
fn public_id(stored_hash: &str) -> String {
    let mut id = hex::encode(Sha256::digest(
        format!("attest-token-id:{stored_hash}").as_bytes(),
    ));
    id.truncate(12);
    id
}

/// A token's stored record (the metadata value), in its JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    role: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked_by: Option<String>,
}

impl Record {
    /// Parses a stored value: the JSON record, or the older `<role>:<name>`.
    fn parse(value: &str) -> Option<Record> {
        if value.trim_start().starts_with('{') {
            let r: Record = serde_json::from_str(value).ok()?;
            Role::parse(&r.role)?;
            return Some(r);
        }
        let (role, name) = value.split_once(':')?;
        Role::parse(role)?;
        Some(Record {
            role: role.to_string(),
            name: name.to_string(),
            created: None,
            revoked: None,
            revoked_by: None,
        })
    }

    fn role(&self) -> Option<Role> {
        Role::parse(&self.role)
    }
}

/// A token as listed: never its secret nor its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// A public id (derived from the hash by hashing again), to revoke one of several tokens
    /// sharing a name.
    pub id: String,
    /// Its name: journaled as the author of its writes.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// When it was created (unknown for tokens created before this was recorded).
    pub created: Option<Timestamp>,
    /// When it was revoked, and by whom.
    pub revoked: Option<(Timestamp, String)>,
}

impl TokenInfo {
    fn of(key: &str, r: &Record) -> Option<TokenInfo> {
        let stored_hash = key.strip_prefix(META_PREFIX)?;
        Some(TokenInfo {
            id: public_id(stored_hash),
            name: r.name.clone(),
            role: r.role()?,
            created: r.created,
            revoked: r
                .revoked
                .map(|t| (t, r.revoked_by.clone().unwrap_or_default())),
        })
    }
}

fn store_error(operation: &'static str) -> impl FnOnce(attest_store::Error) -> Error {
    move |source| Error::Store { operation, source }
}

/// Creates a token named `name` with `role`, stores its hash, and returns the secret (shown
/// once: it cannot be recovered from the store). No journal record: this is for set-up code and
/// tests; the CLI and the API issue tokens through [`create_token_by`], which names who did.
pub async fn create_token(store: &Store, name: &str, role: Role) -> Result<String, Error> {
    let issued = new_token(name, role)?;
    store
        .set_meta(&[(issued.key.as_str(), issued.record.as_str())])
        .await
        .map_err(store_error("store an API token"))?;
    Ok(issued.secret)
}

/// Creates a token as [`create_token`] does and journals that `by` issued it (never the
/// secret).
pub async fn create_token_by(
    store: &Store,
    name: &str,
    role: Role,
    by: &str,
) -> Result<String, Error> {
    let issued = new_token(name, role)?;
    // The token and its journal record in one transaction: never a token the journal does not
    // name, nor a record of a token nobody holds.
    store
        .append_with_meta(
            vec![NewEntry::new(
                by,
                Timestamp::now(),
                Event::TokenIssued {
                    name: name.trim().to_string(),
                    role: role.as_str().to_string(),
                    id: issued.id,
                },
            )],
            &[(issued.key.as_str(), issued.record.as_str())],
        )
        .await
        .map_err(store_error("store and journal an API token"))?;
    Ok(issued.secret)
}

/// A new token: the secret (shown once), its metadata key and record, and its public id.
struct NewToken {
    secret: String,
    key: String,
    record: String,
    id: String,
}

/// Makes a new token's secret and record (nothing stored yet).
fn new_token(name: &str, role: Role) -> Result<NewToken, Error> {
    let name = name.trim();
    if name.is_empty() || name.contains(':') {
        return Err(Error::InvalidTokenName {
            name: name.to_string(),
        });
    }
    let bytes: [u8; 32] = rand::random();
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let stored_hash = hash(&token);
    let key = format!("{META_PREFIX}{stored_hash}");
    let record = Record {
        role: role.as_str().to_string(),
        name: name.to_string(),
        created: Some(Timestamp::now()),
        revoked: None,
        revoked_by: None,
    };
    let value = serde_json::to_string(&record).unwrap_or_default();
    Ok(NewToken {
        secret: token,
        key,
        record: value,
        id: public_id(&stored_hash),
    })
}

/// Every token stored, revoked ones included, by name then creation.
pub async fn list_tokens(store: &Store) -> Result<Vec<TokenInfo>, Error> {
    let meta = store
        .all_meta()
        .await
        .map_err(store_error("list API tokens"))?;
    let mut out: Vec<TokenInfo> = meta
        .iter()
        .filter(|(k, _)| k.starts_with(META_PREFIX))
        .filter_map(|(k, v)| TokenInfo::of(k, &Record::parse(v)?))
        .collect();
    out.sort_by(|a, b| (&a.name, a.created, &a.id).cmp(&(&b.name, b.created, &b.id)));
    Ok(out)
}

/// Revokes every live token named `which` or whose id is `which`, recording when and by whom
/// (the records and their journal entries in one transaction), and returns them. [`Error::TokenNotFound`] when no live token has
/// that name or id.
pub async fn revoke_token(
    store: &Store,
    which: &str,
    by: &str,
    now: Timestamp,
) -> Result<Vec<TokenInfo>, Error> {
    let which = which.trim();
    let meta = store
        .all_meta()
        .await
        .map_err(store_error("read API tokens"))?;
    let mut writes = Vec::new();
    let mut revoked = Vec::new();
    for (key, value) in meta.iter().filter(|(k, _)| k.starts_with(META_PREFIX)) {
        let Some(mut record) = Record::parse(value) else {
            continue;
        };
        let Some(info) = TokenInfo::of(key, &record) else {
            continue;
        };
        if record.revoked.is_some() || (info.name != which && info.id != which) {
            continue;
        }
        record.revoked = Some(now);
        record.revoked_by = Some(by.to_string());
        let info = TokenInfo::of(key, &record).unwrap_or(info);
        writes.push((
            key.clone(),
            serde_json::to_string(&record).unwrap_or_default(),
        ));
        revoked.push(info);
    }
    if revoked.is_empty() {
        return Err(Error::TokenNotFound {
            which: which.to_string(),
        });
    }
    let pairs: Vec<(&str, &str)> = writes
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let entries = revoked
        .iter()
        .map(|t| {
            NewEntry::new(
                by,
                now,
                Event::TokenRevoked {
                    name: t.name.clone(),
                    id: t.id.clone(),
                },
            )
        })
        .collect();
    store
        .append_with_meta(entries, &pairs)
        .await
        .map_err(store_error("revoke API tokens"))?;
    Ok(revoked)
}

/// Number of live (not revoked) API tokens stored.
pub async fn token_count(store: &Store) -> Result<usize, Error> {
    Ok(list_tokens(store)
        .await?
        .iter()
        .filter(|t| t.revoked.is_none())
        .count())
}

/// Verifies bearer tokens against the store, caching the ones found so that a request costs no
/// database round trip after the first — for at most [`RECHECK`], so that a token revoked
/// elsewhere stops working within that bound.
#[derive(Debug, Default)]
pub struct TokenCache {
    known: RwLock<HashMap<String, (Principal, Instant)>>,
}

impl TokenCache {
    /// The principal of a token, or `None` when the token is unknown or revoked.
    pub async fn verify(&self, store: &Store, token: &str) -> Result<Option<Principal>, Error> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let key = format!("{META_PREFIX}{}", hash(token));
        let cached = self
            .known
            .read()
            .ok()
            .and_then(|m| m.get(&key).cloned())
            .filter(|(_, at)| at.elapsed() < RECHECK);
        if let Some((p, _)) = cached {
            return Ok(Some(p));
        }
        let value = store
            .meta(&key)
            .await
            .map_err(store_error("look up an API token"))?;
        let principal = value
            .as_deref()
            .and_then(Record::parse)
            .filter(|r| r.revoked.is_none())
            .and_then(|r| {
                Some(Principal {
                    role: r.role()?,
                    name: r.name,
                })
            });
        if let Ok(mut m) = self.known.write() {
            match &principal {
                Some(p) => {
                    m.insert(key, (p.clone(), Instant::now()));
                }
                None => {
                    m.remove(&key);
                }
            }
        }
        Ok(principal)
    }

    /// Forgets every cached token (after a revocation through this server, so that it takes
    /// effect on the very next request).
    pub fn forget_all(&self) {
        if let Ok(mut m) = self.known.write() {
            m.clear();
        }
    }
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
    fn stored_values_parse_in_both_forms() {
        let legacy = Record::parse("engineer:ci pipeline");
        assert_eq!(
            legacy.as_ref().map(|r| (r.role(), r.name.as_str())),
            Some((Some(Role::Engineer), "ci pipeline"))
        );
        assert_eq!(Record::parse("nobody"), None);
        assert_eq!(Record::parse("god:x"), None);
        let json = r#"{"role":"admin","name":"lead","created":"2026-12-05T10:00:00Z",
                       "revoked":"2026-12-05T11:00:00Z","revoked_by":"root"}"#;
        let r = Record::parse(json);
        assert_eq!(r.as_ref().and_then(Record::role), Some(Role::Admin));
        assert!(r.is_some_and(|r| r.revoked.is_some()));
        assert_eq!(Record::parse(r#"{"role":"god","name":"x"}"#), None);
        // The public id is not a piece of the stored hash.
        let h = hash("a");
        assert_eq!(h.len(), 64);
        assert_eq!(public_id(&h).len(), 12);
        assert!(!h.contains(&public_id(&h)));
    }
}
