//! The fields read from a DeTT&CT data source administration file.

use serde::Deserialize;

/// The file.
#[derive(Debug, Deserialize)]
pub struct AdminFile {
    /// `1.1` (a number or a string in the wild).
    pub version: Option<serde_json::Value>,
    /// `data-source-administration`.
    pub file_type: Option<String>,
    /// System groups and their platforms.
    #[serde(default)]
    pub systems: Vec<System>,
    /// The data sources.
    #[serde(default)]
    pub data_sources: Vec<DataSourceDoc>,
}

/// A system group (`applicable_to`) and its platforms.
#[derive(Debug, Deserialize)]
pub struct System {
    /// Its name, referenced by data source entries.
    pub applicable_to: String,
    /// ATT&CK platforms, one or a list.
    #[serde(default)]
    pub platform: OneOrMany,
}

/// One data source (an ATT&CK data component in DeTT&CT 1.1) and its entries.
#[derive(Debug, Deserialize)]
pub struct DataSourceDoc {
    /// `Process Creation`.
    pub data_source_name: String,
    /// One entry per scope.
    #[serde(default)]
    pub data_source: Vec<Entry>,
}

/// One scoped entry.
#[derive(Debug, Deserialize)]
pub struct Entry {
    /// System groups (or `all`), one or a list.
    #[serde(default)]
    pub applicable_to: OneOrMany,
    /// When the source was registered in DeTT&CT.
    pub date_registered: Option<Scalar>,
    /// When it was connected to the SIEM.
    pub date_connected: Option<Scalar>,
    /// Products.
    #[serde(default)]
    pub products: OneOrMany,
    /// Usable for analytics.
    #[serde(default)]
    pub available_for_data_analytics: bool,
    /// Free text.
    pub comment: Option<String>,
    /// Scores 0–5.
    #[serde(default)]
    pub data_quality: DataQuality,
}

/// DeTT&CT's five data quality dimensions, each scored 0–5.
#[derive(Debug, Default, Deserialize)]
pub struct DataQuality {
    /// Share of devices sending the data.
    #[serde(default)]
    pub device_completeness: u8,
    /// Share of fields filled.
    #[serde(default)]
    pub data_field_completeness: u8,
    /// How soon data arrives.
    #[serde(default)]
    pub timeliness: u8,
    /// Consistency of field names and values.
    #[serde(default)]
    pub consistency: u8,
    /// How long data is kept.
    #[serde(default)]
    pub retention: u8,
}

impl DataQuality {
    /// Whether every score is 0 (DeTT&CT's "not filled in").
    pub fn is_empty(&self) -> bool {
        [
            self.device_completeness,
            self.data_field_completeness,
            self.timeliness,
            self.consistency,
            self.retention,
        ]
        .iter()
        .all(|s| *s == 0)
    }
}

/// A string or a list of strings (DeTT&CT writes both), nulls and blanks dropped.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<OneOrMany, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(Option<Scalar>),
            Many(Vec<Option<Scalar>>),
        }
        let items = match Raw::deserialize(d)? {
            Raw::One(one) => one.into_iter().collect::<Vec<_>>(),
            Raw::Many(many) => many.into_iter().flatten().collect(),
        };
        Ok(OneOrMany(
            items
                .into_iter()
                .map(|s| s.0.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ))
    }
}

/// A scalar as text (dates are unquoted in DeTT&CT files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            I(i64),
            F(f64),
            B(bool),
        }
        Ok(Scalar(match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::I(i) => i.to_string(),
            Raw::F(f) => f.to_string(),
            Raw::B(b) => b.to_string(),
        }))
    }
}
