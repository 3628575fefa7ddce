//! The thin I/O edge: read bundle files from disk, and the pinned MITRE download URLs.
//!
//! Downloading is left to the CLI; this module only names what to download.

use std::path::{Path, PathBuf};

use crate::KnowledgeBase;
use crate::build::BundleInput;
use crate::error::{Error, Warning};

/// The ATT&CK release attest pins.
pub const PINNED_RELEASE: &str = "18.1";

/// MITRE's Enterprise ATT&CK bundle at the pinned release (STIX 2.1, attack-stix-data).
pub const ENTERPRISE_URL: &str = "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/enterprise-attack-18.1.json";
/// MITRE's ICS ATT&CK bundle at the pinned release.
pub const ICS_URL: &str = "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/ics-attack/ics-attack-18.1.json";
/// MITRE's Mobile ATT&CK bundle at the pinned release.
pub const MOBILE_URL: &str = "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/mobile-attack/mobile-attack-18.1.json";

/// `(domain key, file name, URL)` of every pinned bundle, for a download cache.
pub const PINNED_BUNDLES: [(&str, &str, &str); 3] = [
    (
        "enterprise-attack",
        "enterprise-attack-18.1.json",
        ENTERPRISE_URL,
    ),
    ("ics-attack", "ics-attack-18.1.json", ICS_URL),
    ("mobile-attack", "mobile-attack-18.1.json", MOBILE_URL),
];

/// Guesses the ATT&CK release from a file name such as `enterprise-attack-18.1.json.gz`
/// (the last `-<major>.<minor>` before the extension). MITRE's `mitre/cti` bundles do not state
/// their release inside, so the file name is the best evidence there is.
pub fn release_from_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name
        .strip_suffix(".gz")
        .unwrap_or(name)
        .strip_suffix(".json")?;
    let (_, v) = stem.rsplit_once('-')?;
    let v = v.strip_prefix('v').unwrap_or(v);
    let ok = !v.is_empty()
        && v.split('.').count() <= 3
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then(|| v.to_owned())
}

/// Reads one bundle file into memory.
pub fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Loads bundle files (one per domain): reads each whole, takes a release hint from the file
/// name, and builds the knowledge base. Errors name the file.
pub fn from_paths<P: AsRef<Path>>(paths: &[P]) -> Result<(KnowledgeBase, Vec<Warning>), Error> {
    let mut files: Vec<(PathBuf, String, Option<String>, Vec<u8>)> = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let bytes = read_file(p)?;
        files.push((
            p.to_owned(),
            p.display().to_string(),
            release_from_file_name(p),
            bytes,
        ));
    }
    let inputs: Vec<BundleInput<'_>> = files
        .iter()
        .map(|(_, name, release, bytes)| BundleInput {
            name,
            bytes,
            release: release.as_deref(),
        })
        .collect();
    KnowledgeBase::from_bundles(&inputs)
}

/// Loads one bundle file. See [`from_paths`].
pub fn from_path(path: &Path) -> Result<(KnowledgeBase, Vec<Warning>), Error> {
    from_paths(&[path])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_from_names() {
        let r = |s: &str| release_from_file_name(Path::new(s));
        assert_eq!(
            r("/x/enterprise-attack-18.1.json.gz").as_deref(),
            Some("18.1")
        );
        assert_eq!(r("ics-attack-18.1.json").as_deref(), Some("18.1"));
        assert_eq!(r("enterprise-attack-v17.1.json").as_deref(), Some("17.1"));
        assert_eq!(r("enterprise-attack.json"), None);
        assert_eq!(r("enterprise-attack-18.1.txt"), None);
        assert_eq!(r("bundle-x.y.json"), None);
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = from_path(Path::new("/nonexistent/enterprise-attack-18.1.json")).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("/nonexistent/enterprise-attack-18.1.json"),
            "{msg}"
        );
    }
}
