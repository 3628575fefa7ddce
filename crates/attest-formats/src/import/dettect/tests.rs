//! Unit tests of the DeTT&CT importer on a file in the published 1.1 shape.

use attest_core::source::PipelineState;

use super::*;
use crate::{Input, Severity};

const FILE: &str = r#"version: 1.1
file_type: data-source-administration
name: example
domain: enterprise-attack
systems:
  - applicable_to: client endpoints
    platform:
      - Windows
  - applicable_to: servers
    platform: [Windows, Linux]
  - applicable_to: cloud
    platform: all
data_sources:
  - data_source_name: Process Creation
    data_source:
      - applicable_to: ['client endpoints']
        date_registered: 2019-03-01
        date_connected: 2017-01-01
        products: [Windows Event Log, Sysmon]
        available_for_data_analytics: true
        comment: 'Sysmon on all workstations'
        data_quality:
          device_completeness: 5
          data_field_completeness: 4
          timeliness: 5
          consistency: 5
          retention: 4
      - applicable_to: [servers]
        date_registered: 2020-01-01
        date_connected: 2020-02-01
        products: Auditd
        available_for_data_analytics: false
        data_quality:
          device_completeness: 2
          data_field_completeness: 2
          timeliness: 3
          consistency: 3
          retention: 1
  - data_source_name: Logon Session Creation
    data_source:
      - applicable_to: ['all']
        date_registered: 2021-05-05
        date_connected:
        products: [Windows Event Log]
        available_for_data_analytics: false
        comment: ''
        data_quality:
          device_completeness: 1
          data_field_completeness: 0
          timeliness: 0
          consistency: 0
          retention: 0
  - data_source_name: Drive Creation
    data_source:
      - applicable_to: ['all']
        date_registered:
        date_connected:
        products: []
        available_for_data_analytics: false
        comment: ''
        data_quality:
          device_completeness: 0
          data_field_completeness: 0
          timeliness: 0
          consistency: 0
          retention: 0
  - data_source_name: Cloud Service Enumeration
    data_source:
      - applicable_to: [cloud]
        date_registered: 2022-01-01
        products: [CloudTrail]
        available_for_data_analytics: true
"#;

fn read(text: &str) -> (Vec<attest_core::source::DataSource>, Vec<crate::Diagnostic>) {
    read_dettect(Input {
        path: "data-sources.yaml",
        bytes: text.as_bytes(),
    })
}

#[test]
fn one_source_per_entry() {
    let (sources, diags) = read(FILE);
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Process Creation (client endpoints)",
            "Process Creation (servers)",
            "Logon Session Creation",
            "Cloud Service Enumeration (cloud)",
        ]
    );
    let s = &sources[0];
    assert_eq!(s.components, ["Process Creation"]);
    assert_eq!(s.scope, ["client endpoints"]);
    assert_eq!(s.platforms, ["Windows"]);
    assert_eq!(s.products, ["Windows Event Log", "Sysmon"]);
    assert_eq!(s.state, PipelineState::Queryable);
    let d = s.description.as_deref().unwrap_or_default();
    assert!(
        d.contains(
            "retention 4; registered 2019-03-01; connected 2017-01-01. Sysmon on all workstations"
        ),
        "{d}"
    );
    assert_eq!(sources[1].platforms, ["Windows", "Linux"]);
    assert_eq!(sources[1].products, ["Auditd"]);
    assert_eq!(sources[1].state, PipelineState::Ingested);
    assert_eq!(sources[2].state, PipelineState::Planned);
    assert!(sources[2].platforms.is_empty() && sources[2].scope.is_empty());
    assert!(
        sources[3].platforms.is_empty(),
        "platform: all is not a restriction"
    );
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].severity, Severity::Warning);
    assert!(diags[0].message.contains("1 empty template entries"));
}

#[test]
fn other_versions_and_file_types_are_refused() {
    let (sources, diags) = read(&FILE.replace("version: 1.1", "version: 1.0"));
    assert!(sources.is_empty());
    assert!(
        diags[0].message.contains("`1.0` is not supported"),
        "{}",
        diags[0]
    );
    let (sources, diags) =
        read(&FILE.replace("data-source-administration", "technique-administration"));
    assert!(sources.is_empty());
    assert!(diags[0].message.contains("technique-administration"));
}

#[test]
fn unknown_system_and_bad_yaml() {
    let text = FILE.replace(
        "applicable_to: [servers]",
        "applicable_to: [servers, laptops]",
    );
    let (_, diags) = read(&text);
    assert!(
        diags.iter().any(|d| d.message.contains("`laptops`")),
        "{diags:?}"
    );
    let (sources, diags) = read("version: 1.1\ndata_sources:\n  - data_source: []\n");
    assert!(sources.is_empty());
    assert_eq!(diags[0].severity, Severity::Error);
    assert!(
        diags[0].message.contains("data_source_name"),
        "{}",
        diags[0]
    );
    assert!(diags[0].line.is_some());
}
