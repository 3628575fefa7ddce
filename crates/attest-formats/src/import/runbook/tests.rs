use attest_attack::{BundleInput, KnowledgeBase};
use attest_core::coverage::Catalog;

use super::*;
use crate::{Input, Severity};

fn read(file: &str, text: &str) -> Result<(Runbook, Vec<crate::Diagnostic>), RunbookError> {
    read_runbook(Input {
        path: file,
        bytes: text.as_bytes(),
    })
}

const LSASS: &str = "---
title: Credential dumping from LSASS
techniques: [T1003.001, t1003]
platforms: [Windows]
owner: ir-team
---
Free text before the steps is not a step.

1. Isolate the host with the EDR.
2. Collect evidence:
   - a memory image of `lsass.exe`
   - the Security event log
3. Reset the credentials of every account
   that logged on to the host.

Afterwards:

- Tell the [identity team](https://wiki.example/identity).
";

#[test]
fn front_matter_and_steps() {
    let (r, warnings) = read("lsass.md", LSASS).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(r.file, "lsass.md");
    assert_eq!(r.title, "Credential dumping from LSASS");
    assert_eq!(r.techniques, ["T1003.001", "T1003"]);
    assert_eq!(r.platforms, ["Windows"]);
    assert_eq!(r.owner.as_deref(), Some("ir-team"));
    assert_eq!(
        r.steps,
        [
            "Isolate the host with the EDR.",
            "Collect evidence:\n- a memory image of `lsass.exe`\n- the Security event log",
            "Reset the credentials of every account that logged on to the host.",
            "Tell the identity team (https://wiki.example/identity).",
        ]
    );
}

#[test]
fn nested_ordered_lists_and_loose_items_keep_their_shape() {
    let text = "---\ntitle: T\ntechniques: T1059\n---\n\
- First step.

  More about the first step.

- Second step:
  1. one
  2. two
     - deeper
- Run:

  ```
  Get-Process lsass
  whoami /all
  ```
";
    let (r, _) = read("x.md", text).unwrap();
    assert_eq!(r.techniques, ["T1059"]);
    assert_eq!(
        r.steps,
        [
            "First step.\n  More about the first step.",
            "Second step:\n1. one\n2. two\n  - deeper",
            "Run:\n  Get-Process lsass\n  whoami /all",
        ]
    );
}

#[test]
fn title_falls_back_to_the_first_heading() {
    let text =
        "---\ntechniques: [T1059]\n---\n# PowerShell abuse\n\n- Look at the script block log.\n";
    let (r, warnings) = read("ps.md", text).unwrap();
    assert_eq!(r.title, "PowerShell abuse");
    assert_eq!(r.steps, ["Look at the script block log."]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn bad_yaml_names_the_file_and_the_line() {
    let text = "---\ntitle: Broken\ntechniques: [T1003\nowner: x\n---\n- step\n";
    let e = read("dir/broken.md", text).unwrap_err();
    assert_eq!(e.file, "dir/broken.md");
    let line = e.line.expect("a line");
    assert!((3..=5).contains(&line), "line {line}: {e}");
    assert!(
        e.to_string()
            .starts_with(&format!("dir/broken.md:{line}: ")),
        "{e}"
    );
    // A wrong type is a YAML error too, on its own line.
    let e = read("t.md", "---\ntitle: T\n\nowner: [a, b]\n---\n- x\n").unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
}

#[test]
fn missing_or_unclosed_front_matter_and_title_are_errors() {
    let e = read("a.md", "# Title\n- step\n").unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("a.md", Some(1)));
    assert!(e.message.contains("front matter"), "{e}");
    let e = read("b.md", "---\ntitle: x\n- step\n").unwrap_err();
    assert!(e.message.contains("never closed"), "{e}");
    let e = read("c.md", "---\ntechniques: [T1003]\n---\n- step\n").unwrap_err();
    assert!(e.message.contains("no title"), "{e}");
    let e = read(
        "d.md",
        "\u{feff}---\ntitle: ok\ntechniques: T1003\n---\n- s\n",
    );
    assert!(e.is_ok(), "a byte-order mark is allowed: {e:?}");
}

#[test]
fn odd_ids_unknown_keys_and_empty_bodies_are_warnings() {
    let text = "---\ntitle: T\ntechniques: [T1003, credential-dumping, T1003]\ntags: [x]\n---\nNo list here.\n";
    let (r, warnings) = read("w.md", text).unwrap();
    assert_eq!(r.techniques, ["T1003"]);
    let msgs: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert!(warnings.iter().all(|w| w.severity == Severity::Warning));
    assert!(
        msgs.iter()
            .any(|m| m == "warning: w.md:3: `credential-dumping` is not an ATT&CK technique id (T1234 or T1234.001); ignored"),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("warning: w.md:4: unknown front matter key `tags`")),
        "{msgs:?}"
    );
    assert!(msgs.iter().any(|m| m.contains("no steps")), "{msgs:?}");
}

const BUNDLE: &str = r#"{"type": "bundle", "id": "bundle--rb", "spec_version": "2.1", "objects": [
  {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ca", "name": "Credential Access", "x_mitre_shortname": "credential-access",
   "external_references": [{"source_name": "mitre-attack", "external_id": "TA0006"}]},
  {"type": "attack-pattern", "id": "attack-pattern--t1003", "name": "OS Credential Dumping",
   "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
   "external_references": [{"source_name": "mitre-attack", "external_id": "T1003"}]},
  {"type": "attack-pattern", "id": "attack-pattern--t1003-001", "name": "LSASS Memory", "x_mitre_is_subtechnique": true,
   "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
   "external_references": [{"source_name": "mitre-attack", "external_id": "T1003.001"}]},
  {"type": "attack-pattern", "id": "attack-pattern--old", "name": "Old dumping", "revoked": true,
   "external_references": [{"source_name": "mitre-attack", "external_id": "T1099"}]},
  {"type": "relationship", "id": "relationship--r", "relationship_type": "revoked-by",
   "source_ref": "attack-pattern--old", "target_ref": "attack-pattern--t1003-001"}
]}"#;

fn catalog() -> Catalog {
    let (kb, _) =
        KnowledgeBase::from_bundles(&[BundleInput::new("mini.json", BUNDLE.as_bytes())]).unwrap();
    Catalog::from_kb(&kb)
}

#[test]
fn unknown_ids_are_reported_by_name_and_revoked_ones_follow_revoked_by() {
    let text = "---\ntitle: T\ntechniques:\n  - T1003\n  - T9999.001\n  - T1099\n  - T1003.001\n---\n- s\n";
    let (r, warnings) = read("ids.md", text).unwrap();
    assert!(warnings.is_empty());
    let (resolved, warnings) = resolve_techniques(&r, &catalog());
    let ids: Vec<(String, String)> = resolved
        .iter()
        .map(|r| (r.written.clone(), r.current.to_string()))
        .collect();
    // T1099 counts for T1003.001, so the later T1003.001 adds nothing.
    assert_eq!(
        ids,
        [
            ("T1003".into(), "T1003".into()),
            ("T1099".into(), "T1003.001".into())
        ]
    );
    let msgs: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        [
            "warning: ids.md:5: technique T9999.001 is unknown to the loaded ATT&CK release; ignored",
            "warning: ids.md:6: T1099 is revoked in the loaded ATT&CK release; it counts for T1003.001",
        ]
    );
}
