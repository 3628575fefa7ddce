//! Replay datasets: event files plus what should fire on them.
//!
//! Three layouts are read:
//! - the SigmaHQ `regression_data` layout, as-is: a folder with an `info.yml` naming the rule
//!   (`rule_metadata[].id`) and its samples (`regression_tests_info[]`: `path` to an `.evtx`,
//!   optional `match_count`);
//! - a manifest (any other `.yml`/`.yaml`, see [`Manifest`]);
//! - a plain folder or file of `.evtx`/`.json`/`.jsonl`/`.ndjson` files, with no expectations.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;
use crate::read::is_event_file;

/// A set of event files and the rules expected to fire on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// A name for reports (the manifest's `name`, or the folder's path).
    pub name: String,
    /// Where the dataset was found (folder or manifest file).
    pub source: PathBuf,
    /// The event files, in replay order.
    pub files: Vec<PathBuf>,
    /// Rules expected to fire, each with the fewest matches that count as a pass.
    pub expected_rules: Vec<ExpectedRule>,
    /// ATT&CK techniques the dataset exercises (as written, e.g. `T1059.001`).
    pub expected_techniques: Vec<String>,
    /// The platform the telemetry comes from (`windows`, …), when stated.
    pub platform: Option<String>,
}

/// A rule that should fire on a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRule {
    /// The rule's id (or name).
    pub rule: String,
    /// Fewest matching events for a pass (at least 1).
    pub min_matches: u64,
}

/// The manifest format (YAML):
///
/// ```yaml
/// name: mimikatz-lsass            # optional; defaults to the file name
/// platform: windows               # optional
/// files: [lsass.evtx, more-logs/]   # files or folders (no globs)
/// expected_rules:                 # ids or names; a bare string means min_matches 1
///   - 0d894093-71bc-43c3-8c4d-ecfa28dcb5f3
///   - {id: 3bd9d2a3-8e52-4f3f-8c1b-5f1d3d3f0f0f, min_matches: 2}
/// expected_techniques: [T1003.001]
/// ```
///
/// Paths are relative to the manifest's folder; a folder entry means every event file under it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Dataset name.
    #[serde(default)]
    pub name: Option<String>,
    /// Platform of the telemetry.
    #[serde(default)]
    pub platform: Option<String>,
    /// Event files or folders.
    pub files: Vec<PathBuf>,
    /// Rules expected to fire.
    #[serde(default)]
    pub expected_rules: Vec<ManifestRule>,
    /// Techniques exercised.
    #[serde(default)]
    pub expected_techniques: Vec<String>,
}

/// One entry of [`Manifest::expected_rules`].
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ManifestRule {
    /// Just the id or name (at least one match).
    Id(String),
    /// Id or name and a minimum match count.
    Detailed {
        /// Rule id or name.
        id: String,
        /// Fewest matches for a pass.
        #[serde(default = "one")]
        min_matches: u64,
    },
}

fn one() -> u64 {
    1
}

/// SigmaHQ `info.yml`.
#[derive(Debug, Deserialize)]
struct RegressionInfo {
    #[serde(default)]
    rule_metadata: Vec<RegressionRule>,
    #[serde(default)]
    regression_tests_info: Vec<RegressionTest>,
}

#[derive(Debug, Deserialize)]
struct RegressionRule {
    id: String,
}

#[derive(Debug, Deserialize)]
struct RegressionTest {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    match_count: Option<u64>,
    #[serde(default)]
    path: Option<String>,
}

/// Loads the datasets at `path`: a regression tree (every `info.yml` below it is one dataset), a
/// manifest file, a folder holding `dataset.yml`, a plain folder, or a single event file.
pub fn load_datasets(path: &Path) -> Result<Vec<Dataset>, Error> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_file() {
        let ext = extension(path);
        if path.file_name().is_some_and(|n| n == "info.yml") {
            return Ok(vec![load_regression(path)?]);
        }
        if ext == "yml" || ext == "yaml" {
            return Ok(vec![load_manifest(path)?]);
        }
        if is_event_file(path) {
            return Ok(vec![plain(path, vec![path.to_owned()])]);
        }
        return Err(Error::NotADataset {
            path: path.to_owned(),
        });
    }
    for name in ["dataset.yml", "dataset.yaml"] {
        let manifest = path.join(name);
        if manifest.is_file() {
            return Ok(vec![load_manifest(&manifest)?]);
        }
    }
    let infos = walk_files(path, |p| p.file_name().is_some_and(|n| n == "info.yml"));
    if !infos.is_empty() {
        return infos.iter().map(|p| load_regression(p)).collect();
    }
    let files = walk_files(path, is_event_file);
    Ok(vec![plain(path, files)])
}

fn plain(source: &Path, files: Vec<PathBuf>) -> Dataset {
    Dataset {
        name: source.display().to_string(),
        source: source.to_owned(),
        files,
        expected_rules: Vec::new(),
        expected_techniques: Vec::new(),
        platform: None,
    }
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Files under `root` (sorted, so replay order is stable) that satisfy `keep`.
fn walk_files(root: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && keep(e.path()))
        .map(walkdir::DirEntry::into_path)
        .collect();
    files.sort();
    files
}

fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Loads one SigmaHQ regression folder from its `info.yml`.
pub fn load_regression(info_path: &Path) -> Result<Dataset, Error> {
    let text = read_text(info_path)?;
    let info: RegressionInfo = yaml_serde::from_str(&text).map_err(|e| Error::Manifest {
        path: info_path.to_owned(),
        message: e.to_string(),
    })?;
    let dir = info_path.parent().unwrap_or(Path::new("."));
    let mut files = Vec::new();
    let mut min_matches = 1;
    for test in &info.regression_tests_info {
        if test
            .kind
            .as_deref()
            .is_some_and(|k| !k.eq_ignore_ascii_case("evtx"))
        {
            continue;
        }
        if let Some(n) = test.match_count {
            min_matches = min_matches.max(n);
        }
        // `path` is relative to the SigmaHQ repository root; the sample sits beside info.yml.
        let file = test
            .path
            .as_deref()
            .and_then(|p| Path::new(p).file_name())
            .map(|name| dir.join(name));
        if let Some(file) = file
            && file.is_file()
            && !files.contains(&file)
        {
            files.push(file);
        }
    }
    if files.is_empty() {
        files = walk_files(dir, |p| extension(p) == "evtx");
    }
    if info.rule_metadata.is_empty() {
        return Err(Error::Manifest {
            path: info_path.to_owned(),
            message: "no rule_metadata entry names the rule under test".to_owned(),
        });
    }
    Ok(Dataset {
        name: dir.display().to_string(),
        source: dir.to_owned(),
        files,
        expected_rules: info
            .rule_metadata
            .into_iter()
            .map(|r| ExpectedRule {
                rule: r.id,
                min_matches,
            })
            .collect(),
        expected_techniques: Vec::new(),
        platform: Some("windows".to_owned()),
    })
}

/// Loads a manifest file (see [`Manifest`]).
pub fn load_manifest(path: &Path) -> Result<Dataset, Error> {
    let text = read_text(path)?;
    let manifest: Manifest = yaml_serde::from_str(&text).map_err(|e| Error::Manifest {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut files = Vec::new();
    for entry in &manifest.files {
        let full = dir.join(entry);
        if full.is_dir() {
            files.extend(walk_files(&full, is_event_file));
        } else if full.is_file() {
            files.push(full);
        } else {
            return Err(Error::Manifest {
                path: path.to_owned(),
                message: format!("listed file {} does not exist", full.display()),
            });
        }
    }
    let name = manifest
        .name
        .clone()
        .unwrap_or_else(|| path.display().to_string());
    Ok(Dataset {
        name,
        source: path.to_owned(),
        files,
        expected_rules: manifest
            .expected_rules
            .into_iter()
            .map(|r| match r {
                ManifestRule::Id(rule) => ExpectedRule {
                    rule,
                    min_matches: 1,
                },
                ManifestRule::Detailed { id, min_matches } => ExpectedRule {
                    rule: id,
                    min_matches: min_matches.max(1),
                },
            })
            .collect(),
        expected_techniques: manifest.expected_techniques,
        platform: manifest.platform,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
        }
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("write: {e}"));
        p
    }

    #[test]
    fn regression_layout() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let d = dir.path().join("rules/windows/x");
        write(&d, "abc.evtx", "ElfFile\0");
        write(&d, "abc.json", "{}");
        write(
            &d,
            "info.yml",
            "id: x\nrule_metadata:\n  - id: abc\n    title: T\nregression_tests_info:\n  - name: P\n    type: evtx\n    match_count: 4\n    path: regression_data/rules/windows/x/abc.evtx\n",
        );
        let sets = load_datasets(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].files, vec![d.join("abc.evtx")]);
        assert_eq!(
            sets[0].expected_rules,
            vec![ExpectedRule {
                rule: "abc".into(),
                min_matches: 4
            }]
        );
    }

    #[test]
    fn manifest() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write(dir.path(), "logs/a.jsonl", "{}\n");
        write(dir.path(), "b.evtx", "");
        let m = write(
            dir.path(),
            "set.yml",
            "name: demo\nplatform: windows\nfiles: [logs, b.evtx]\nexpected_rules:\n  - r1\n  - {id: r2, min_matches: 3}\nexpected_techniques: [T1059.001]\n",
        );
        let sets = load_datasets(&m).unwrap_or_else(|e| panic!("{e}"));
        let s = &sets[0];
        assert_eq!(s.name, "demo");
        assert_eq!(
            s.files,
            vec![dir.path().join("logs/a.jsonl"), dir.path().join("b.evtx")]
        );
        assert_eq!(
            s.expected_rules[1],
            ExpectedRule {
                rule: "r2".into(),
                min_matches: 3
            }
        );
        assert_eq!(s.expected_techniques, vec!["T1059.001".to_owned()]);
    }

    #[test]
    fn manifest_with_unknown_key_or_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let m = write(dir.path(), "m.yml", "files: []\nexpected: [x]\n");
        assert!(matches!(load_datasets(&m), Err(Error::Manifest { .. })));
        let m = write(dir.path(), "n.yml", "files: [nothere.evtx]\n");
        let err = load_datasets(&m)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("nothere.evtx"), "{err}");
    }

    #[test]
    fn plain_folder() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write(dir.path(), "a.json", "{}");
        write(dir.path(), "notes.txt", "x");
        let sets = load_datasets(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sets[0].files, vec![dir.path().join("a.json")]);
        assert!(sets[0].expected_rules.is_empty());
    }
}
