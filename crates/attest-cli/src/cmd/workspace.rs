//! Opening the workspace: where its database is, which ATT&CK it is built on, who is acting.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use attest_store::Store;

use crate::global::Context;
use crate::kb_source::{self, LoadedKb};

/// Workspace metadata key holding the ATT&CK bundle paths recorded by `attest init`, one per line.
pub const META_ATTACK_BUNDLES: &str = attest_store::META_ATTACK_BUNDLES;

/// The database URL: `--database`/`ATTEST_DATABASE`, else SQLite in the workspace directory.
pub fn database_url(ctx: &Context) -> String {
    match &ctx.database {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", ctx.workspace.join("attest.db").display()),
    }
}

/// Opens an existing workspace.
pub async fn open(ctx: &Context) -> Result<Store> {
    let url = database_url(ctx);
    Store::open(&url)
        .await
        .with_context(|| format!("opening the workspace at {url}"))
}

/// The ATT&CK bundles the workspace recorded at `attest init`.
pub async fn recorded_bundles(store: &Store) -> Result<Vec<PathBuf>> {
    let value = store.meta(META_ATTACK_BUNDLES).await?;
    Ok(value
        .map(|v| {
            v.lines()
                .filter(|l| !l.trim().is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default())
}

/// Loads the knowledge base for a command run inside a workspace: explicit bundles win, then the
/// workspace's recorded release, then the cached download.
pub async fn load_kb(ctx: &Context, store: &Store) -> Result<LoadedKb> {
    let recorded = recorded_bundles(store).await?;
    let ctx = ctx.clone();
    tokio::task::spawn_blocking(move || kb_source::load(&ctx, &recorded)).await?
}

/// Who is acting: `ATTEST_USER`, else the login name, else "unknown".
pub fn who() -> String {
    std::env::var("ATTEST_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The current instant (the only place the CLI reads the clock for journal entries).
pub fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// Parses a time given on the command line: RFC 3339, a date (midnight UTC), or `now`.
pub fn parse_time(s: &str) -> Result<jiff::Timestamp> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("now") {
        return Ok(now());
    }
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(ts);
    }
    if let Ok(date) = s.parse::<jiff::civil::Date>() {
        return Ok(date.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp());
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return Ok(dt.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp());
    }
    anyhow::bail!(
        "{s:?} is not a time: use RFC 3339 (2026-01-31T12:00:00Z), a date (2026-01-31) or `now`"
    )
}

/// Parses a duration such as `24h`, `7d`, `90m`, `2w` (or an ISO 8601 / friendly jiff span).
pub fn parse_duration(s: &str) -> Result<jiff::SignedDuration> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    if let Ok(n) = num.parse::<i64>() {
        let secs = match unit.trim() {
            "s" => Some(1),
            "m" | "min" => Some(60),
            "h" => Some(3600),
            "d" => Some(86_400),
            "w" => Some(7 * 86_400),
            _ => None,
        };
        if let Some(secs) = secs {
            return Ok(jiff::SignedDuration::from_secs(n.saturating_mul(secs)));
        }
    }
    t.parse::<jiff::SignedDuration>()
        .map_err(|_| anyhow::anyhow!("{s:?} is not a duration: use e.g. 30m, 24h, 7d, 2w"))
}

/// Renders a duration the way it is typed (`24h`, `7d`).
pub fn format_duration(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs();
    if secs % 86_400 == 0 {
        format!("{}d", secs / 86_400)
    } else if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times_parse() {
        assert_eq!(parse_duration("24h").unwrap().as_secs(), 86_400);
        assert_eq!(parse_duration("7d").unwrap().as_secs(), 7 * 86_400);
        assert!(parse_duration("soon").is_err());
        assert_eq!(format_duration(parse_duration("48h").unwrap()), "2d");
        assert_eq!(
            parse_time("2026-01-31").unwrap().to_string(),
            "2026-01-31T00:00:00Z"
        );
        assert!(parse_time("yesterday").is_err());
    }
}
