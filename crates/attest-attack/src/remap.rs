//! A user-supplied remap table (old technique id → new one), parsed from CSV or YAML bytes.
//!
//! Teams keep such tables for ids their tooling used before MITRE revoked or split them, or
//! for ids from a newer release than the one loaded. The table is applied before resolution.

use std::collections::BTreeMap;

use crate::TechniqueId;
use crate::error::Error;

/// Old technique id → new technique id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemapTable {
    map: BTreeMap<TechniqueId, TechniqueId>,
}

fn parse_id(s: &str, line: usize) -> Result<TechniqueId, Error> {
    TechniqueId::parse(s).map_err(|e| Error::Remap {
        line,
        message: e.to_string(),
    })
}

impl RemapTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces one entry.
    pub fn insert(&mut self, old: TechniqueId, new: TechniqueId) {
        self.map.insert(old, new);
    }

    /// Where `old` is remapped to, if anywhere.
    pub fn get(&self, old: TechniqueId) -> Option<TechniqueId> {
        self.map.get(&old).copied()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// All entries, by old id.
    pub fn iter(&self) -> impl Iterator<Item = (TechniqueId, TechniqueId)> + '_ {
        self.map.iter().map(|(a, b)| (*a, *b))
    }

    /// Parses CSV with two columns `old,new`. A first row that is not two technique ids (a
    /// header such as `old,new`) is skipped; blank lines and lines starting with `#` are ignored.
    pub fn from_csv(bytes: &[u8]) -> Result<Self, Error> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let mut table = Self::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| Error::Remap {
                line: e.position().map_or(0, |p| p.line() as usize),
                message: e.to_string(),
            })?;
            let line = rec.position().map_or(i + 1, |p| p.line() as usize);
            if rec.iter().all(str::is_empty) {
                continue;
            }
            let (Some(old), Some(new)) = (rec.get(0), rec.get(1)) else {
                return Err(Error::Remap {
                    line,
                    message: "expected two columns: old,new".into(),
                });
            };
            if rec.len() > 2 && rec.iter().skip(2).any(|f| !f.is_empty()) {
                return Err(Error::Remap {
                    line,
                    message: "expected two columns: old,new".into(),
                });
            }
            if i == 0 && TechniqueId::parse(old).is_err() && TechniqueId::parse(new).is_err() {
                continue; // header
            }
            table.insert(parse_id(old, line)?, parse_id(new, line)?);
        }
        Ok(table)
    }

    /// Parses a YAML mapping `T1086: T1059.001`.
    pub fn from_yaml(bytes: &[u8]) -> Result<Self, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Remap {
            line: 0,
            message: format!("not UTF-8 at byte {}", e.valid_up_to()),
        })?;
        if text.trim().is_empty() {
            return Ok(Self::new());
        }
        let map: BTreeMap<String, String> =
            yaml_serde::from_str(text).map_err(|e| Error::Remap {
                line: e.location().map_or(0, |l| l.line()),
                message: e.to_string(),
            })?;
        let mut table = Self::new();
        for (old, new) in map {
            let line = yaml_key_line(text, &old);
            table.insert(parse_id(&old, line)?, parse_id(&new, line)?);
        }
        Ok(table)
    }
}

/// The 1-based line of the mapping key `key` in a flat YAML map (0 when not found), so a bad
/// entry is named by its line as in a CSV table.
fn yaml_key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let unquoted = l
                .strip_prefix(['"', '\''])
                .and_then(|r| r.strip_prefix(key))
                .and_then(|r| r.strip_prefix(['"', '\'']));
            unquoted
                .or_else(|| l.strip_prefix(key))
                .is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TechniqueId {
        TechniqueId::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn csv_with_header_comments_and_case() {
        let table = RemapTable::from_csv(b"old,new\n# comment\nt1086, T1059.001\n\nT1685,T1003\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.len(), 2);
        assert_eq!(table.get(t("T1086")), Some(t("T1059.001")));
        assert_eq!(table.get(t("T1685")), Some(t("T1003")));
        assert_eq!(table.get(t("T1003")), None);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = RemapTable::from_csv(b"T1086,T1059.001\nT1,T2\n").err();
        assert!(matches!(err, Some(Error::Remap { line: 2, .. })), "{err:?}");
        let err = RemapTable::from_csv(b"T1086\n").err();
        assert!(matches!(err, Some(Error::Remap { line: 1, .. })), "{err:?}");
    }

    #[test]
    fn yaml_map() {
        let table = RemapTable::from_yaml(b"T1086: T1059.001\n\"t1064\": T1027.010\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.get(t("T1064")), Some(t("T1027.010")));
        assert_eq!(table.len(), 2);
        assert!(RemapTable::from_yaml(b"- a\n- b\n").is_err());
        let err = RemapTable::from_yaml(b"T1086: T1059.001\n'T1064': nonsense\n").err();
        assert!(matches!(err, Some(Error::Remap { line: 2, .. })), "{err:?}");
        assert!(RemapTable::from_yaml(b"").is_ok_and(|t| t.is_empty()));
    }
}
