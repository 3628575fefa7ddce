//! Unit tests of the Atomic Red Team reader on cut-down technique files.

use attest_core::test::TestKind;

use super::*;
use crate::{Input, Severity};

/// The published shape, cut down: two tests, one without a GUID, long fields that are skipped.
const T1003_001: &str = r##"attack_technique: T1003.001
display_name: "OS Credential Dumping: LSASS Memory"
atomic_tests:
- name: Dump LSASS.exe Memory using ProcDump
  auto_generated_guid: 0BE2230C-9AB3-4AC2-8826-3199B9A0EBF8
  description: |
    The memory of lsass.exe is often dumped.
  supported_platforms:
  - windows
  input_arguments:
    output_file:
      description: Path where resulting dump should be placed
      type: path
      default: C:\Windows\Temp\lsass_dump.dmp
  dependency_executor_name: powershell
  dependencies:
  - description: |
      ProcDump tool from Sysinternals must exist on disk
    prereq_command: |
      if (Test-Path "#{procdump_exe}") {exit 0} else {exit 1}
  executor:
    command: |
      "#{procdump_exe}" -accepteula -ma lsass.exe #{output_file}
    name: command_prompt
    elevation_required: true
- name: No guid yet
  supported_platforms: [linux, macos]
  executor:
    name: sh
- name: Runs as user
  auto_generated_guid: 2536dee2-12fb-459a-8c37-971844fa73be
  supported_platforms:
  - linux
  - macos
  executor:
    name: bash
    command: id
"##;

fn input<'a>(path: &'a str, text: &'a str) -> Input<'a> {
    Input {
        path,
        bytes: text.as_bytes(),
    }
}

#[test]
fn reads_tests_keyed_by_lowercase_guid() {
    let (tests, diags) = read_technique(input("atomics/T1003.001/T1003.001.yaml", T1003_001));
    assert_eq!(tests.len(), 2);
    let t = &tests[0];
    assert_eq!(t.id, "0be2230c-9ab3-4ac2-8826-3199b9a0ebf8");
    assert_eq!(t.kind, TestKind::Atomic);
    assert_eq!(t.techniques, ["T1003.001"]);
    assert_eq!(t.name, "Dump LSASS.exe Memory using ProcDump");
    assert_eq!(t.platforms, ["windows"]);
    assert_eq!(t.executor.as_deref(), Some("command_prompt"));
    assert!(t.elevation_required);
    let u = &tests[1];
    assert_eq!(u.platforms, ["linux", "macos"]);
    assert_eq!(u.executor.as_deref(), Some("bash"));
    assert!(
        !u.elevation_required,
        "absent elevation_required means false"
    );

    assert_eq!(diags.len(), 1);
    let d = &diags[0];
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.line, Some(26), "{d}");
    assert!(
        d.message.contains("#2") && d.message.contains("No guid yet"),
        "{d}"
    );
}

#[test]
fn broken_yaml_is_an_error_with_a_line_not_a_panic() {
    let text = "attack_technique: T1001\natomic_tests:\n- name: x\n  executor: [unclosed\n";
    let (tests, diags) = read_technique(input("T1001.yaml", text));
    assert!(tests.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].severity, Severity::Error);
    assert!(diags[0].line.is_some(), "{}", diags[0]);

    let wrong_type = "attack_technique: T1001\natomic_tests:\n- name: x\n  executor:\n    name: sh\n    elevation_required: maybe\n";
    let (tests, diags) = read_technique(input("T1001.yaml", wrong_type));
    assert!(tests.is_empty());
    assert_eq!(diags[0].line, Some(6), "{}", diags[0]);

    let (tests, diags) = read_technique(Input {
        path: "bin.yaml",
        bytes: &[0, 159, 146, 150],
    });
    assert!(tests.is_empty());
    assert!(!diags.is_empty());
}

#[test]
fn missing_technique_falls_back_to_the_file_name() {
    let text = "atomic_tests:\n- name: a\n  auto_generated_guid: 2536dee2-12fb-459a-8c37-971844fa73be\n  executor: {name: sh}\n";
    let (tests, diags) = read_technique(input("atomics/T1082/T1082.yaml", text));
    assert_eq!(tests[0].techniques, ["T1082"]);
    assert_eq!(diags.len(), 1);
    let (tests, diags) = read_technique(input("notes.yaml", text));
    assert!(tests.is_empty());
    assert_eq!(diags[0].severity, Severity::Error);
}

#[test]
fn catalogue_counts_files_and_drops_duplicate_guids() {
    let dup = "attack_technique: T1082\natomic_tests:\n- name: again\n  auto_generated_guid: 2536DEE2-12fb-459a-8c37-971844fa73be\n  executor: {name: sh}\n";
    let c = read_catalogue([
        input("a/T1003.001.yaml", T1003_001),
        input("b/T1082.yaml", dup),
        input("c/T1000.yaml", "attack_technique: [unclosed\n"),
        input("d/T1001.yaml", "attack_technique: T1001\n"),
    ]);
    assert_eq!(c.techniques, 3, "the broken file does not count");
    assert_eq!(c.tests.len(), 2);
    assert_eq!(
        c.diagnostics
            .iter()
            .filter(|d| d.message.contains("more than once"))
            .count(),
        1
    );
    assert_eq!(
        c.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count(),
        1
    );
}

#[test]
fn technique_file_names() {
    assert!(is_technique_file("atomics/T1003/T1003.yaml"));
    assert!(is_technique_file("atomics\\T1003.001\\T1003.001.yml"));
    assert!(!is_technique_file("atomics/T1003/T1003.md"));
    assert!(!is_technique_file("atomics/Indexes/index.yaml"));
    assert!(!is_technique_file("atomics/T1003/src/T1003.ps1"));
}

#[test]
fn unread_block_scalars_are_blanked_keeping_lines() {
    let text = "attack_technique: T1001
atomic_tests:
- name: a
  description: |
    line one: |
      nested-looking text

    - name: fake
  auto_generated_guid: 0be2230c-9ab3-4ac2-8826-3199b9a0ebf8
  executor:
    command: >-
      whoami
    name: sh
- name: |
    kept
  executor: {name: sh}
";
    let stripped = read::strip_unread_blocks(text).unwrap_or_default();
    assert_eq!(stripped.lines().count(), text.lines().count());
    assert!(
        !stripped.contains("fake") && !stripped.contains("whoami") && !stripped.contains("nested")
    );
    assert!(stripped.contains("    kept"), "blocks of read keys stay");
    let (tests, diags) = read_technique(input("T1001.yaml", text));
    assert_eq!(tests.len(), 1, "{diags:?}");
    assert_eq!(tests[0].name, "a");
    assert_eq!(tests[0].executor.as_deref(), Some("sh"));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].line, Some(15), "the GUID-less test keeps its line");
    assert_eq!(read::strip_unread_blocks("a: 1\n"), None);
}

/// Blanking must not change any result on the real corpus: every file gives the same tests
/// through the fast path as through the full parse.
#[test]
fn blanking_changes_nothing_on_the_real_corpus() {
    let Some(dir) = std::env::var_os("ATTEST_CORPORA_DIR") else {
        assert!(
            std::env::var("ATTEST_REQUIRE_CORPORA").as_deref() != Ok("1"),
            "ATTEST_REQUIRE_CORPORA=1 but ATTEST_CORPORA_DIR is not set"
        );
        eprintln!("SKIPPED: set ATTEST_CORPORA_DIR to run the Atomic blanking check");
        return;
    };
    let atomics = std::path::Path::new(&dir).join("atomic-red-team/atomics");
    let mut checked = 0;
    let mut blanked = 0;
    for folder in std::fs::read_dir(&atomics).into_iter().flatten().flatten() {
        for entry in std::fs::read_dir(folder.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            let name = path.to_string_lossy().into_owned();
            if !is_technique_file(&name) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let full: super::spec::RawTechnique =
                yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            if let Some(stripped) = read::strip_unread_blocks(&text) {
                let fast: super::spec::RawTechnique =
                    yaml_serde::from_str(&stripped).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{name}");
                blanked += 1;
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 341);
    assert_eq!(
        blanked, 338,
        "files with block scalars to blank (3 have none)"
    );
}

#[test]
fn alias_bombs_and_huge_files_are_refused() {
    let mut bomb = String::from("a: &a [x, x]\n");
    for i in 0..200 {
        bomb.push_str(&format!("b{i}: &b{i} [*a, *a]\n"));
    }
    let (tests, diags) = read_technique(input("T1001.yaml", &bomb));
    assert!(tests.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].severity, Severity::Error);
    let huge = vec![b' '; crate::import::MAX_INPUT_BYTES + 1];
    let (tests, diags) = read_technique(Input {
        path: "T1001.yaml",
        bytes: &huge,
    });
    assert!(tests.is_empty());
    assert!(diags[0].message.contains("limit"), "{}", diags[0]);
}
