//! Round trip: sources written by the exporter read back identical.

use attest_core::source::{DataSource, LogSourceRef, PipelineState};
use jiff::SignedDuration;

use super::*;
use crate::Input;
use crate::import::inventory::read_inventory;

fn sources() -> Vec<DataSource> {
    let mut a = DataSource::new("Sysmon on Windows servers");
    a.description = Some("Sysmon 15: \"SwiftOnSecurity\" config\nsecond line".into());
    a.platforms = vec!["Windows".into()];
    a.scope = vec!["Windows servers".into(), "DCs: tier 0".into()];
    a.components = vec!["Process Creation".into(), "Module Load".into()];
    a.log_sources = vec![
        LogSourceRef::parse("WinEventLog:Sysmon"),
        LogSourceRef::parse("WinEventLog:Security:EventCode=4688"),
    ];
    a.state = PipelineState::Normalised;
    a.products = vec!["Sysmon".into(), "Splunk".into()];
    a.owner = Some("SOC platform".into());
    a.max_silence = Some(SignedDuration::from_hours(24));
    let mut b = DataSource::new("Okta System Log");
    b.max_silence = Some(SignedDuration::from_secs(90));
    let c = DataSource::new("yes"); // a name YAML would read as a boolean unless quoted
    vec![a, b, c]
}

#[test]
fn written_inventory_reads_back_the_same_sources() {
    let text = write_inventory(&sources()).expect("writes");
    let (back, diags) = read_inventory(Input {
        path: "inventory.yaml",
        bytes: text.as_bytes(),
    });
    assert!(diags.is_empty(), "{diags:?}\n{text}");
    assert_eq!(back, sources(), "{text}");
    assert!(text.contains("max_silence: 1d"), "{text}");
    assert!(text.contains("max_silence: 90s"));
    assert!(!text.contains("platforms: []"), "empty lists are left out");
}

#[test]
fn empty_inventory() {
    let text = write_inventory(&[]).expect("writes");
    let (back, diags) = read_inventory(Input {
        path: "i.yaml",
        bytes: text.as_bytes(),
    });
    assert!(back.is_empty() && diags.is_empty(), "{text}");
}
