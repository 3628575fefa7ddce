//! The bundle cache: where attest keeps the ATT&CK releases it downloaded or was sent, how a
//! journaled release is found again, and (with the `download` feature) the download itself.
//!
//! The CLI (`attest init`, `attest attack …`) and the server (`POST /api/v1/attack/update`, and
//! every instance loading a release another instance moved the workspace to) share this code,
//! so a release is looked for in the same places by both: the recorded location, then the
//! cache by file name, then the cache by `<domain>-<version>.json`, and only then the network.
//! Files are written to a temporary name and renamed, so an interrupted write never leaves a
//! truncated bundle that a later load would trust.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Where MITRE publishes the STIX 2.1 bundles (`attack-stix-data`).
const MITRE_BASE: &str = "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master";

/// The cache directory: `$ATTEST_CACHE_DIR`, else `$XDG_CACHE_HOME/attest`, else
/// `~/.cache/attest`; `None` when none of them is set.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ATTEST_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("attest"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache").join("attest"))
}

/// The file name MITRE gives a domain's bundle at a release, e.g. `enterprise-attack-18.1.json`.
pub fn release_file_name(domain: &str, version: &str) -> String {
    format!("{domain}-{version}.json")
}

/// MITRE's URL of a domain's bundle at a release (`attack-stix-data`, STIX 2.1).
pub fn release_url(domain: &str, version: &str) -> String {
    format!(
        "{MITRE_BASE}/{domain}/{}",
        release_file_name(domain, version)
    )
}

/// The last path segment of a URL or path (`attack-bundle.json` when there is none).
pub fn file_name_of(location: &str) -> &str {
    location
        .rsplit(['/', '\\'])
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("attack-bundle.json")
}

/// Whether `location` is a URL to download rather than a path.
pub fn is_url(location: &str) -> bool {
    location.starts_with("http://") || location.starts_with("https://")
}

/// Where a bundle of a journaled release is, without touching the network: its recorded
/// location when that file exists here, else the cache under the location's file name, else
/// the cache under MITRE's name for the domain and version (`.json` or `.json.gz`).
/// `None` when it must be downloaded.
pub fn find_local(
    cache: Option<&Path>,
    domain: &str,
    version: &str,
    location: &str,
) -> Option<PathBuf> {
    if !is_url(location) && !location.is_empty() {
        let p = PathBuf::from(location);
        if p.is_file() {
            return Some(p);
        }
    }
    let cache = cache?;
    let mut names = Vec::new();
    if !location.is_empty() {
        names.push(file_name_of(location).to_string());
    }
    let mitre = release_file_name(domain, version);
    names.push(format!("{mitre}.gz"));
    names.push(mitre);
    names
        .into_iter()
        .map(|n| cache.join(n))
        .find(|p| p.is_file())
}

/// What to download for a release that is not here: its location when that is a URL, else
/// MITRE's bundle of the domain at the version.
pub fn download_url(domain: &str, version: &str, location: &str) -> String {
    if is_url(location) {
        location.to_string()
    } else {
        release_url(domain, version)
    }
}

/// Writes `bytes` to `dest` through a temporary file in the same directory and a rename, so
/// readers see the whole file or none. Creates the directory.
pub fn write_atomically(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let tmp = dest.with_extension(format!("part-{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, dest).map_err(io(dest))
}

/// A download that failed.
#[cfg(feature = "download")]
#[derive(Debug, thiserror::Error)]
#[error("could not download ATT&CK from {url}: {source}")]
pub struct DownloadError {
    /// What was asked for.
    pub url: String,
    /// The client's error.
    #[source]
    pub source: reqwest::Error,
}

/// Downloads `url` into memory, calling `progress(done, total)` as bytes arrive (total when
/// the server said). Connect timeout 10 s, whole download 300 s. Needs a Tokio runtime.
#[cfg(feature = "download")]
pub async fn fetch(
    url: &str,
    progress: &mut (dyn FnMut(u64, Option<u64>) + Send),
) -> Result<Vec<u8>, DownloadError> {
    let wrap = |source| DownloadError {
        url: url.to_string(),
        source,
    };
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .map_err(wrap)?;
    let mut response = client
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(wrap)?;
    let total = response.content_length();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(wrap)? {
        bytes.extend_from_slice(&chunk);
        progress(bytes.len() as u64, total);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls() {
        assert_eq!(
            release_file_name("enterprise-attack", "18.1"),
            "enterprise-attack-18.1.json"
        );
        assert_eq!(
            release_url("ics-attack", "18.1"),
            "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/ics-attack/ics-attack-18.1.json"
        );
        assert_eq!(
            crate::load::ENTERPRISE_URL,
            release_url("enterprise-attack", "18.1")
        );
        assert_eq!(file_name_of("https://x/y/z.json"), "z.json");
        assert_eq!(file_name_of("/a/b.json.gz"), "b.json.gz");
        assert_eq!(
            download_url("enterprise-attack", "17.1", "/gone/x.json"),
            release_url("enterprise-attack", "17.1")
        );
        assert_eq!(
            download_url("e", "1", "https://h/f.json"),
            "https://h/f.json"
        );
    }

    #[test]
    fn finds_the_recorded_file_then_the_cache() {
        let dir = std::env::temp_dir().join(format!("attest-cache-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let recorded = dir.join("elsewhere").join("bundle.json");
        // Nothing anywhere: it must be downloaded.
        assert_eq!(
            find_local(
                Some(&dir),
                "enterprise-attack",
                "17.1",
                &recorded.display().to_string()
            ),
            None
        );
        // In the cache under MITRE's name (gzip kept as .json.gz).
        write_atomically(&dir.join("enterprise-attack-17.1.json.gz"), b"x").unwrap();
        assert_eq!(
            find_local(
                Some(&dir),
                "enterprise-attack",
                "17.1",
                &recorded.display().to_string()
            ),
            Some(dir.join("enterprise-attack-17.1.json.gz"))
        );
        // In the cache under the recorded file name.
        write_atomically(&dir.join("bundle.json"), b"y").unwrap();
        assert_eq!(
            find_local(
                Some(&dir),
                "enterprise-attack",
                "17.1",
                &recorded.display().to_string()
            ),
            Some(dir.join("bundle.json"))
        );
        // The recorded file itself wins.
        write_atomically(&recorded, b"z").unwrap();
        assert_eq!(
            find_local(
                Some(&dir),
                "enterprise-attack",
                "17.1",
                &recorded.display().to_string()
            ),
            Some(recorded.clone())
        );
        assert_eq!(std::fs::read(&recorded).unwrap(), b"z");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
