//! `TechniqueId`: a validated ATT&CK technique or sub-technique identifier (`T1234`, `T1234.001`).

use std::fmt;
use std::str::FromStr;

/// A validated ATT&CK technique identifier: `T` followed by four digits, optionally followed by
/// `.` and three digits for a sub-technique.
///
/// Parsing accepts lower-case `t` and surrounding whitespace; the value is always stored and
/// displayed in the canonical upper-case form. Ordering is numeric (`T1003` < `T1003.001` <
/// `T1004`), which is also the natural textual order of the canonical form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TechniqueId {
    // Packed as numbers rather than a string: the id is copied into every index and every
    // coverage record, and `Copy` plus integer comparison keeps that cheap.
    number: u16,
    /// 0 for a technique, 1..=999 for a sub-technique.
    sub: u16,
}

/// Why a string is not a technique id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not an ATT&CK technique id (expected T1234 or T1234.001)")]
pub struct TechniqueIdError {
    /// The rejected input (trimmed, truncated to 64 characters).
    pub input: String,
}

impl TechniqueId {
    /// Builds an id from its parts: `number` is the four-digit technique number, `sub` the
    /// sub-technique number (`None` for a technique). Returns `None` when out of range.
    pub fn new(number: u16, sub: Option<u16>) -> Option<Self> {
        if number > 9999 {
            return None;
        }
        match sub {
            None => Some(Self { number, sub: 0 }),
            Some(s) if (1..=999).contains(&s) => Some(Self { number, sub: s }),
            Some(_) => None,
        }
    }

    /// Parses `T1234` or `T1234.001` (case-insensitive, surrounding whitespace ignored).
    pub fn parse(input: &str) -> Result<Self, TechniqueIdError> {
        let err = || TechniqueIdError {
            input: input.trim().chars().take(64).collect(),
        };
        let s = input.trim().as_bytes();
        if s.len() != 5 && s.len() != 9 {
            return Err(err());
        }
        if !s[0].eq_ignore_ascii_case(&b'T') {
            return Err(err());
        }
        let number = digits(&s[1..5]).ok_or_else(err)?;
        if s.len() == 5 {
            return Ok(Self { number, sub: 0 });
        }
        if s[5] != b'.' {
            return Err(err());
        }
        let sub = digits(&s[6..9]).ok_or_else(err)?;
        if sub == 0 {
            return Err(err());
        }
        Ok(Self { number, sub })
    }

    /// The four-digit technique number (`1003` for `T1003.001`).
    pub fn number(self) -> u16 {
        self.number
    }

    /// The sub-technique number (`Some(1)` for `T1003.001`), `None` for a technique.
    pub fn sub(self) -> Option<u16> {
        (self.sub != 0).then_some(self.sub)
    }

    /// Whether this is a sub-technique (`T1234.001`).
    pub fn is_subtechnique(self) -> bool {
        self.sub != 0
    }

    /// The parent technique of a sub-technique, `None` for a technique.
    pub fn parent(self) -> Option<Self> {
        self.is_subtechnique().then_some(Self {
            number: self.number,
            sub: 0,
        })
    }
}

fn digits(b: &[u8]) -> Option<u16> {
    let mut v: u16 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u16::from(c - b'0');
    }
    Some(v)
}

impl fmt::Display for TechniqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sub == 0 {
            write!(f, "T{:04}", self.number)
        } else {
            write!(f, "T{:04}.{:03}", self.number, self.sub)
        }
    }
}

impl fmt::Debug for TechniqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TechniqueId({self})")
    }
}

impl FromStr for TechniqueId {
    type Err = TechniqueIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for TechniqueId {
    type Error = TechniqueIdError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_canonical_form() {
        let t = TechniqueId::parse(" t1003.001 ").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.to_string(), "T1003.001");
        assert!(t.is_subtechnique());
        assert_eq!(t.number(), 1003);
        assert_eq!(t.sub(), Some(1));
        let p = t.parent().unwrap_or_else(|| panic!("no parent"));
        assert_eq!(p.to_string(), "T1003");
        assert!(!p.is_subtechnique());
        assert_eq!(p.parent(), None);
        assert_eq!(
            "T0800".parse::<TechniqueId>().map(|t| t.to_string()),
            Ok("T0800".into())
        );
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "T",
            "T123",
            "T12345",
            "X1003",
            "T1003.",
            "T1003.01",
            "T1003.0001",
            "T1003.000",
            "T1003-001",
            "T10a3",
            "T1003.0a1",
            "1003",
            "TA0001",
            "T1003.001x",
            "é1003",
        ] {
            assert!(
                TechniqueId::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn orders_numerically_with_subtechniques_after_parent() {
        let mut v: Vec<TechniqueId> = ["T1004", "T1003.002", "T1003", "T1003.001", "T0800"]
            .iter()
            .filter_map(|s| TechniqueId::parse(s).ok())
            .collect();
        v.sort();
        let s: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(s, ["T0800", "T1003", "T1003.001", "T1003.002", "T1004"]);
    }

    #[test]
    fn display_and_parse_round_trip() {
        let mut checked = 0;
        for number in (0..=9999).step_by(7).chain([0, 9999]) {
            for sub in [None, Some(1), Some(10), Some(999)] {
                let id = TechniqueId::new(number, sub).unwrap_or_else(|| panic!("{number}"));
                let text = id.to_string();
                assert_eq!(TechniqueId::parse(&text), Ok(id));
                assert_eq!(TechniqueId::parse(&text.to_lowercase()), Ok(id));
                assert_eq!(id.sub(), sub);
                checked += 1;
            }
        }
        assert_eq!(checked, 4 * (1429 + 2));
    }

    #[test]
    fn new_checks_ranges() {
        assert!(TechniqueId::new(10000, None).is_none());
        assert!(TechniqueId::new(1003, Some(0)).is_none());
        assert!(TechniqueId::new(1003, Some(1000)).is_none());
        assert_eq!(
            TechniqueId::new(1003, Some(1)).map(|t| t.to_string()),
            Some("T1003.001".into())
        );
    }
}
