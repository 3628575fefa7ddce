//! Unit tests of the Sigma importer on small hand-written rules.

use attest_core::rule::{Dependency, DependencyOrigin, RuleFormat};
use attest_core::source::LogSourceRef;

use super::*;
use crate::import::{MAX_INPUT_BYTES, RuleImporter};
use crate::{Diagnostic, Input, Severity};

fn import(path: &str, text: &str) -> (Vec<SigmaRecord>, Vec<Diagnostic>) {
    read_sigma(
        Input {
            path,
            bytes: text.as_bytes(),
        },
        "repo",
    )
}

fn deps(r: &SigmaRecord) -> Vec<String> {
    r.rule
        .dependencies
        .iter()
        .map(|d| d.dependency.to_string())
        .collect()
}

const PROC: &str = r#"
title: Suspicious Whoami
id: 11111111-2222-3333-4444-555555555555
status: experimental
date: 2023/01/31
modified: 2024-02-29
level: high
tags:
    - attack.discovery
    - attack.T1033
    - attack.t1059.001
    - attack.credential_access
    - attack.stealth
    - attack.g0016
    - attack.s0002
    - cve.2021-44228
    - car.2016-03-001
    - detection.threat-hunting
related:
    - id: 00000000-0000-0000-0000-000000000001
      type: obsolete
simulation:
    - type: atomic-red-team
      name: whoami
      technique: T1033
      atomic_guid: 4C4959BF-ADDF-4B4A-BE86-8D09CC1857AA
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
"#;

#[test]
fn single_rule_fields_and_tag_grammar() {
    let (records, diags) = import("rules/windows/proc_whoami.yml", PROC);
    assert!(diags.is_empty(), "{diags:?}");
    let [r] = records.as_slice() else {
        panic!("one rule")
    };
    let rule = &r.rule;
    assert_eq!(rule.id.0, "11111111-2222-3333-4444-555555555555");
    assert_eq!(rule.title, "Suspicious Whoami");
    assert_eq!(rule.origin.format, RuleFormat::Sigma);
    assert_eq!(rule.origin.root, "repo");
    assert_eq!(rule.techniques, ["T1033", "T1059.001"]);
    assert_eq!(rule.tactics, ["discovery", "credential-access", "stealth"]);
    assert_eq!(r.tags.groups, ["G0016"]);
    assert_eq!(r.tags.software, ["S0002"]);
    assert_eq!(r.tags.cves, ["CVE-2021-44228"]);
    assert_eq!(
        r.tags.other,
        ["car.2016-03-001", "detection.threat-hunting"]
    );
    assert_eq!(rule.tests, ["4c4959bf-addf-4b4a-be86-8d09cc1857aa"]);
    assert_eq!(rule.created.as_deref(), Some("2023-01-31"));
    assert_eq!(rule.modified.as_deref(), Some("2024-02-29"));
    assert_eq!(rule.severity.as_deref(), Some("high"));
    assert_eq!(rule.maturity.as_deref(), Some("experimental"));
    assert_eq!(
        r.related,
        [(
            "00000000-0000-0000-0000-000000000001".to_string(),
            "obsolete".to_string()
        )]
    );
    assert_eq!(deps(r), ["component:Process Creation"]);
    assert_eq!(rule.dependencies[0].origin, DependencyOrigin::Inferred);
    assert_eq!(
        rule.content_hash,
        crate::import::sha256_hex(PROC.as_bytes())
    );
}

#[test]
fn deprecated_folder_marks_the_rule() {
    let (records, _) = import("deprecated/windows/proc_whoami.yml", PROC);
    assert_eq!(records[0].rule.maturity.as_deref(), Some("deprecated"));
}

#[test]
fn security_service_uses_the_event_ids_of_the_detection() {
    let text = r#"
title: Logon and process
id: r1
logsource:
    product: windows
    service: security
detection:
    logon:
        EventID: 4624
        LogonType: 10
    proc:
        - EventID|contains:
            - '4688'
            - 9999
          NewProcessName: x
    condition: logon or proc
"#;
    let (records, diags) = import("a.yml", text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        deps(&records[0]),
        [
            "component:Logon Session Creation",
            "component:Process Creation",
            "log-source:WinEventLog:Security:EventCode=4624",
            "log-source:WinEventLog:Security:EventCode=4688",
            "log-source:WinEventLog:Security:EventCode=9999",
        ]
    );
}

#[test]
fn service_without_event_ids_is_the_whole_log() {
    let text = "title: t\nid: r2\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  s:\n    eventName: StopLogging\n  condition: s\n";
    let (records, _) = import("a.yml", text);
    assert_eq!(
        records[0].rule.dependencies[0].dependency,
        Dependency::LogSource(LogSourceRef::parse("AWS:CloudTrail"))
    );
    let text = "title: t\nid: r3\nlogsource:\n  product: windows\n  service: something-new\ndetection:\n  condition: s\n";
    let (records, _) = import("a.yml", text);
    assert!(
        records[0].rule.dependencies.is_empty(),
        "unknown services infer nothing"
    );
}

#[test]
fn collection_with_global_action_is_merged_into_each_rule() {
    let text = r#"action: global
title: Shared title
status: test
tags:
    - attack.execution
logsource:
    product: windows
detection:
    condition: selection
---
id: c1
logsource:
    category: process_creation
detection:
    selection:
        Image: a.exe
---
id: c2
title: Own title
logsource:
    service: security
detection:
    selection:
        EventID: 4688
---
action: reset
---
id: c3
title: After reset
logsource:
    category: image_load
    product: windows
"#;
    let (records, diags) = import("coll.yml", text);
    assert!(diags.is_empty(), "{diags:?}");
    let ids: Vec<&str> = records.iter().map(|r| r.rule.id.0.as_str()).collect();
    assert_eq!(ids, ["c1", "c2", "c3"]);
    assert_eq!(records[0].rule.title, "Shared title");
    assert_eq!(records[0].rule.tactics, ["execution"]);
    assert_eq!(records[0].rule.maturity.as_deref(), Some("test"));
    assert_eq!(deps(&records[0]), ["component:Process Creation"]);
    assert_eq!(records[1].rule.title, "Own title");
    assert_eq!(
        deps(&records[1]),
        [
            "component:Process Creation",
            "log-source:WinEventLog:Security:EventCode=4688"
        ]
    );
    assert_eq!(records[2].rule.tactics, Vec::<String>::new());
    assert_eq!(deps(&records[2]), ["component:Module Load"]);
}

#[test]
fn odd_but_valid_values_are_read_as_text() {
    let text = "title: 123\nid: 42\ndate: 2023-13-45\ntags: [attack.t1059, attack.notatactic, attack.tx, attack.]\nlogsource: {product: windows}\n";
    let (records, diags) = import("odd.yml", text);
    let rule = &records[0].rule;
    assert_eq!(rule.id.0, "42");
    assert_eq!(rule.title, "123");
    assert_eq!(rule.created.as_deref(), Some("2023-13-45"));
    assert_eq!(rule.techniques, ["T1059"]);
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(diags.len(), 4, "{messages:#?}");
    assert!(diags.iter().all(|d| d.severity == Severity::Warning));
    assert!(messages[0].contains("unknown ATT&CK tactic `notatactic`"));
    assert!(messages[3].contains("not a YYYY-MM-DD"));
}

#[test]
fn rule_without_id_is_an_error() {
    let (records, diags) = import(
        "noid.yml",
        "title: t\nlogsource: {category: process_creation}\n",
    );
    assert!(records.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].severity, Severity::Error);
    assert!(diags[0].message.contains("without `id`"));
}

#[test]
fn yaml_syntax_error_names_the_line() {
    let (records, diags) = import("bad.yml", "title: t\nid: x\ntags:\n  - a\n - b\n");
    assert!(records.is_empty());
    assert_eq!(diags[0].severity, Severity::Error);
    assert_eq!(diags[0].path, "bad.yml");
    assert_eq!(diags[0].line, Some(5), "{}", diags[0]);
}

#[test]
fn wrong_shape_is_an_error_not_a_panic() {
    for text in [
        "- a\n- b\n",
        "just a string\n",
        "title: [1, 2]\nid: x\n",
        "tags: {a: b}\nid: x\n",
    ] {
        let (records, diags) = import("shape.yml", text);
        assert!(records.is_empty(), "{text}");
        assert_eq!(diags.len(), 1, "{text}: {diags:?}");
        assert_eq!(diags[0].severity, Severity::Error);
    }
    let (records, diags) = import("empty.yml", "");
    assert!(records.is_empty());
    assert!(diags[0].message.contains("empty"));
}

#[test]
fn billion_laughs_is_refused() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, prev) in ('b'..='i').zip('a'..='h') {
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{i}: &{i} [{refs}]\n"));
    }
    text.push_str("id: bomb\ndetection: *i\n");
    let (records, diags) = import("bomb.yml", &text);
    assert!(records.is_empty());
    assert!(diags[0].message.contains("alias bomb"), "{}", diags[0]);
    // Wider bombs are refused before parsing.
    let wide = format!("a: &a [x]\nb: [{}]\nid: w\n", vec!["*a"; 65].join(", "));
    let (records, diags) = import("wide.yml", &wide);
    assert!(records.is_empty());
    assert!(diags[0].message.contains("aliases"), "{}", diags[0]);
    assert_eq!(diags[0].line, Some(2));
}

#[test]
fn a_few_aliases_within_the_limit_still_expand_safely() {
    // 30 levels of 2 aliases each: under the alias-count guard, so yaml_serde's own repetition
    // limit is what must stop the 2^30 expansion of the detection.
    let mut text = String::from("a0: &a0 [x, y]\n");
    for i in 1..=30 {
        text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}]\n", p = i - 1));
    }
    text.push_str("id: bomb2\ndetection: *a30\n");
    let (records, diags) = import("bomb2.yml", &text);
    assert!(records.is_empty());
    assert_eq!(diags[0].severity, Severity::Error);
    assert!(
        diags[0].message.contains("repetition limit"),
        "{}",
        diags[0]
    );
}

#[test]
fn deep_nesting_is_an_error() {
    let depth = 100_000;
    let text = format!(
        "id: deep\ndetection: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let started = std::time::Instant::now();
    let (records, diags) = import("deep.yml", &text);
    assert!(records.is_empty());
    assert!(diags[0].message.contains("nested"), "{}", diags[0]);
    assert!(
        started.elapsed().as_secs() < 2,
        "refused before the parser's quadratic work"
    );
    // Brackets inside quoted scalars and comments do not count.
    let quoted = format!(
        "id: q\nlogsource:\n    product: windows\ntitle: '{}'\n# {}\n",
        "[".repeat(500),
        "{".repeat(500)
    );
    let (records, diags) = import("quoted.yml", &quoted);
    assert_eq!(records.len(), 1, "{diags:?}");
    // Block nesting is bounded by the deserializer.
    let mut block = String::from("id: b\ndetection:\n");
    for i in 0..300 {
        block.push_str(&" ".repeat(2 * i + 2));
        block.push_str("k:\n");
    }
    let (records, diags) = import("block.yml", &block);
    assert!(records.is_empty());
    assert!(diags[0].message.contains("recursion limit"), "{}", diags[0]);
}

#[test]
fn binary_garbage_invalid_utf8_and_huge_files_are_refused() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let importer = SigmaImporter::new("repo");
    let (rules, diags) = importer.import(Input {
        path: "g.yml",
        bytes: &garbage,
    });
    assert!(rules.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].severity, Severity::Error);

    let mut latin1 = b"title: caf".to_vec();
    latin1.extend([0xe9, b'\n', b'i', b'd', b':', b' ', b'x', b'\n']);
    let (_, diags) = importer.import(Input {
        path: "l.yml",
        bytes: &latin1,
    });
    assert!(diags[0].message.contains("UTF-8"));
    assert_eq!(diags[0].line, Some(1));

    let nul = b"title: a\nid: b\x00\n";
    let (_, diags) = importer.import(Input {
        path: "n.yml",
        bytes: nul,
    });
    assert_eq!(diags[0].line, Some(2));

    let huge = vec![b'#'; MAX_INPUT_BYTES + 1];
    let (rules, diags) = importer.import(Input {
        path: "huge.yml",
        bytes: &huge,
    });
    assert!(rules.is_empty());
    assert!(diags[0].message.contains("limit"), "{}", diags[0]);
}

#[test]
fn every_mapped_component_is_spelled_like_attack_v18() {
    // The names checked against the v18.1 bundle by the corpus test; here: no stray spaces or
    // lowercase words that would never match.
    for row in spec::CATEGORIES {
        for c in row.components {
            assert!(
                c.split(' ')
                    .all(|w| w.starts_with(|ch: char| ch.is_ascii_uppercase())),
                "{c}"
            );
        }
    }
}

#[test]
fn yaml_beside_rules_that_is_not_a_rule_is_skipped_with_a_warning() {
    // SigmaHQ's regression_data/…/info.yml has an `id` but no detection.
    let info = "id: baeec889-f3aa-4a10-b913-71e94f741066\ndescription: regression test\nregression_tests_info:\n  - name: Positive\n    type: evtx\n    match_count: 1\n";
    let (records, diags) = read_sigma(
        Input {
            path: "regression_data/x/info.yml",
            bytes: info.as_bytes(),
        },
        "repo",
    );
    assert!(records.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].severity, Severity::Warning);
    assert!(
        diags[0].message.contains("not a Sigma rule"),
        "{}",
        diags[0].message
    );
}
