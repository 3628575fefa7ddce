//! Unit tests of the mapping readers, on hand-written files in the published shapes.

use attest_core::exposure::{MappingKind, MappingType};

use super::*;
use crate::Input;

/// The CTID Mappings Explorer unified JSON shape (KEV project), cut down.
const CTID: &str = r#"{
  "metadata": {
    "mapping_version": "07/28/2025",
    "attack_version": "16.1",
    "technology_domain": "enterprise",
    "mapping_framework": "kev",
    "mapping_framework_version": "07/28/2025"
  },
  "mapping_objects": [
    {
      "capability_id": "CVE-2021-44228",
      "capability_description": "Apache Log4j2 Remote Code Execution Vulnerability",
      "mapping_type": "exploitation_technique",
      "attack_object_id": "T1190",
      "attack_object_name": "Exploit Public-Facing Application"
    },
    {
      "capability_id": "CVE-2021-44228",
      "mapping_type": "primary_impact",
      "attack_object_id": "T1059"
    },
    {
      "capability_id": "CVE-2020-0001",
      "mapping_type": "non_mappable",
      "attack_object_id": null
    },
    {
      "capability_id": "CVE-2021-44228",
      "mapping_type": "secondary_impact",
      "attack_object_id": "Exploit"
    }
  ]
}"#;

#[test]
fn ctid_json_reads_metadata_and_mapping_objects() {
    let (set, diags) = read_cve_mappings(
        Input {
            path: "kev.json",
            bytes: CTID.as_bytes(),
        },
        "kev",
    );
    let set = set.expect("a set");
    assert_eq!(set.kind, MappingKind::Cve);
    assert_eq!(set.attack_version.as_deref(), Some("16.1"));
    let rows: Vec<(&str, &str, &MappingType)> = set
        .mappings
        .iter()
        .map(|m| (m.finding.as_str(), m.technique.as_str(), &m.mapping_type))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "CVE-2021-44228",
                "T1190",
                &MappingType::ExploitationTechnique
            ),
            ("CVE-2021-44228", "T1059", &MappingType::PrimaryImpact),
        ]
    );
    // The malformed id names its object's line; the non-mappable one is counted.
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert_eq!(diags[0].line, Some(28));
    assert!(
        diags[0].message.starts_with("mapping_objects[3]"),
        "{}",
        diags[0].message
    );
    assert!(
        diags[1].message.starts_with("1 mapping objects"),
        "{}",
        diags[1].message
    );
}

#[test]
fn kev_csv_splits_cells_on_semicolons() {
    let text = "\
CVE ID,Vendor,Primary Impact,Secondary Impact,Exploitation Technique,Notes
CVE-2021-44228,Apache,T1059,T1005; T1041,T1190,
CVE-2019-0708,Microsoft,,,T1210; T12x,
";
    let (set, diags) = read_cve_mappings(
        Input {
            path: "nvd.csv",
            bytes: text.as_bytes(),
        },
        "nvd",
    );
    let set = set.expect("a set");
    let rows: Vec<String> = set
        .mappings
        .iter()
        .map(|m| format!("{} {} {}", m.finding, m.technique, m.mapping_type.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            "CVE-2021-44228 T1190 exploitation_technique",
            "CVE-2021-44228 T1059 primary_impact",
            "CVE-2021-44228 T1005 secondary_impact",
            "CVE-2021-44228 T1041 secondary_impact",
            "CVE-2019-0708 T1210 exploitation_technique",
        ]
    );
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, Some(3));
    assert!(diags[0].message.contains("\"T12x\""));
}

#[test]
fn neither_json_nor_kev_csv_is_an_error() {
    let (set, diags) = read_cve_mappings(
        Input {
            path: "x.csv",
            bytes: b"a,b\n1,2\n",
        },
        "x",
    );
    assert!(set.is_none());
    assert_eq!(diags[0].line, Some(1));
    let (set, diags) = read_cve_mappings(
        Input {
            path: "x.json",
            bytes: b"{\"metadata\": {}}",
        },
        "x",
    );
    assert!(set.is_none());
    assert!(
        diags[0].message.contains("mapping_objects"),
        "{}",
        diags[0].message
    );
}

#[test]
fn misconfiguration_maps_read_ids_and_name_bad_lines() {
    let text = "\
attack_version: \"16.1\"
mappings:
  AWS-S3-BUCKET-PUBLIC: [T1530]
  AZ-STORAGE-ANON-ACCESS:
    - T1530
    - T1619
    - TX999
";
    let (set, diags) = read_misconfig_map(
        Input {
            path: "misconfig.yaml",
            bytes: text.as_bytes(),
        },
        "cloud",
    );
    let set = set.expect("a set");
    assert_eq!(set.kind, MappingKind::Misconfiguration);
    assert_eq!(set.mappings.len(), 3);
    assert!(
        set.mappings
            .iter()
            .all(|m| m.mapping_type == MappingType::Enables)
    );
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, Some(7));
    let (set, diags) = read_misconfig_map(
        Input {
            path: "misconfig.yaml",
            bytes: b"mapping:\n  X: [T1530]\n",
        },
        "cloud",
    );
    assert!(set.is_none());
    assert!(
        diags[0].message.contains("unknown field"),
        "{}",
        diags[0].message
    );
}
