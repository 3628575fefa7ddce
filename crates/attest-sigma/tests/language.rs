//! Every Sigma modifier and condition form, on small hand-written events.

use std::collections::BTreeMap;

use attest_sigma::{CompileOptions, DiagnosticKind, Event, RuleSet, Severity, SourceRule};
use serde_json::{Value, json};

/// Compiles one rule whose `detection:` block is `detection` (YAML, indented by two spaces).
fn rule_with(detection: &str) -> RuleSet {
    rule_with_options(detection, &CompileOptions::default())
}

fn rule_with_options(detection: &str, options: &CompileOptions) -> RuleSet {
    let text = format!(
        "title: Test\nid: 00000000-0000-0000-0000-000000000001\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n{detection}\n"
    );
    let (set, diags) = RuleSet::compile([SourceRule::new("test.yml", text)], options);
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "unexpected diagnostics: {errors:?}");
    assert_eq!(set.len(), 1);
    set
}

fn event(v: Value) -> Event {
    let mut v = v;
    if let Value::Object(m) = &mut v {
        m.entry("Channel")
            .or_insert(json!("Microsoft-Windows-Sysmon/Operational"));
        m.entry("EventID").or_insert(json!(1));
    }
    Event::from_json(v).unwrap_or_else(|| Event::new(serde_json::Map::new()))
}

fn hits(set: &RuleSet, v: Value) -> bool {
    !set.evaluate(&event(v)).is_empty()
}

#[test]
fn plain_equality_is_case_insensitive_and_whole_value() {
    let s = rule_with("  sel:\n    Image: 'C:\\Windows\\cmd.exe'\n  condition: sel");
    assert!(hits(&s, json!({"Image": "c:\\windows\\CMD.EXE"})));
    assert!(!hits(&s, json!({"Image": "C:\\Windows\\cmd.exe2"})));
    assert!(!hits(&s, json!({"Other": "C:\\Windows\\cmd.exe"})));
}

#[test]
fn contains_startswith_endswith() {
    let s = rule_with("  sel:\n    CommandLine|contains: 'whoami'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "cmd /c WHOAMI /all"})));
    assert!(!hits(&s, json!({"CommandLine": "cmd /c who ami"})));
    let s = rule_with("  sel:\n    Image|startswith: 'C:\\Temp\\'\n  condition: sel");
    assert!(hits(&s, json!({"Image": "c:\\temp\\x.exe"})));
    assert!(!hits(&s, json!({"Image": "D:\\c:\\temp\\x.exe"})));
    let s = rule_with("  sel:\n    Image|endswith: '\\rundll32.exe'\n  condition: sel");
    assert!(hits(
        &s,
        json!({"Image": "C:\\Windows\\System32\\RUNDLL32.exe"})
    ));
    assert!(!hits(&s, json!({"Image": "C:\\rundll32.exe.bak"})));
}

#[test]
fn list_values_are_or_and_all_makes_them_and() {
    let s = rule_with(
        "  sel:\n    CommandLine|contains:\n      - 'alpha'\n      - 'beta'\n  condition: sel",
    );
    assert!(hits(&s, json!({"CommandLine": "x beta"})));
    let s = rule_with(
        "  sel:\n    CommandLine|contains|all:\n      - 'alpha'\n      - 'beta'\n  condition: sel",
    );
    assert!(!hits(&s, json!({"CommandLine": "x beta"})));
    assert!(hits(&s, json!({"CommandLine": "beta and alpha"})));
}

#[test]
fn contains_all_with_escaped_backslashes() {
    // The SigmaHQ sample that trips other engines: backslashes before ordinary characters are
    // literal, `\\` is one backslash.
    let s = rule_with(
        "  sel:\n    CommandLine|contains|all:\n      - '\\\\server\\share'\n      - 'copy '\n  condition: sel",
    );
    assert!(hits(
        &s,
        json!({"CommandLine": "copy \\server\\share\\x ."})
    ));
    assert!(!hits(&s, json!({"CommandLine": "copy server\\share\\x ."})));
}

#[test]
fn regex_with_flags() {
    let s = rule_with("  sel:\n    CommandLine|re: '^cmd\\.exe /c [a-z]+$'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "cmd.exe /c dir"})));
    // Regex is case-sensitive by default.
    assert!(!hits(&s, json!({"CommandLine": "CMD.exe /c dir"})));
    let s = rule_with("  sel:\n    CommandLine|re|i: '^cmd\\.exe'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "CMD.EXE /c dir"})));
    let s = rule_with("  sel:\n    CommandLine|re|m: '^second$'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "first\nsecond\nthird"})));
    let s = rule_with("  sel:\n    CommandLine|re: '^second$'\n  condition: sel");
    assert!(!hits(&s, json!({"CommandLine": "first\nsecond\nthird"})));
    let s = rule_with("  sel:\n    CommandLine|re|s: 'first.second'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "first\nsecond"})));
    let s = rule_with("  sel:\n    CommandLine|re: 'first.second'\n  condition: sel");
    assert!(!hits(&s, json!({"CommandLine": "first\nsecond"})));
}

#[test]
fn base64_and_base64offset() {
    // base64("whoami") = d2hvYW1p
    let s = rule_with("  sel:\n    CommandLine|base64: 'whoami'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "d2hvYW1p"})));
    assert!(!hits(
        &s,
        json!({"CommandLine": "powershell -enc d2hvYW1p"})
    ));
    let s = rule_with("  sel:\n    CommandLine|base64|contains: 'whoami'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "powershell -enc d2hvYW1p"})));
    // "xwhoami" → eHdob2FtaQ==, where "whoami" sits at offset 1.
    let s = rule_with("  sel:\n    CommandLine|base64offset|contains: 'whoami'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "-e eHdob2FtaQ=="})));
    assert!(hits(&s, json!({"CommandLine": "-e d2hvYW1p"})));
    assert!(!hits(&s, json!({"CommandLine": "-e aGVsbG8="})));
}

#[test]
fn utf16_encodings() {
    // utf16le("ab") = 61 00 62 00 → base64 "YQBiAA=="
    let s =
        rule_with("  sel:\n    CommandLine|utf16le|base64offset|contains: 'ab'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "-enc YQBiAA=="})));
    let s = rule_with("  sel:\n    CommandLine|wide|base64offset|contains: 'ab'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "-enc YQBiAA=="})));
    // utf16be("ab") = 00 61 00 62 → "AGEAYg=="
    let s =
        rule_with("  sel:\n    CommandLine|utf16be|base64offset|contains: 'ab'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "-enc AGEAYg=="})));
    assert!(!hits(&s, json!({"CommandLine": "-enc YQBiAA=="})));
    // utf16 = BOM FF FE + le: FF FE 61 00 62 00 → "//5hAGIA"
    let s = rule_with("  sel:\n    CommandLine|utf16|base64: 'ab'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "//5hAGIA"})));
}

#[test]
fn windash_matches_every_dash_form() {
    let s =
        rule_with("  sel:\n    CommandLine|windash|contains: ' -exec bypass'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "powershell -exec bypass"})));
    assert!(hits(&s, json!({"CommandLine": "powershell /exec bypass"})));
    assert!(hits(
        &s,
        json!({"CommandLine": "powershell \u{2013}exec bypass"})
    ));
    assert!(!hits(&s, json!({"CommandLine": "powershell +exec bypass"})));
}

#[test]
fn cidr() {
    let s = rule_with(
        "  sel:\n    DestinationIp|cidr:\n      - '10.0.0.0/8'\n      - 'fe80::/10'\n  condition: sel",
    );
    assert!(hits(&s, json!({"DestinationIp": "10.20.30.40"})));
    assert!(hits(&s, json!({"DestinationIp": "fe80::1"})));
    assert!(!hits(&s, json!({"DestinationIp": "11.0.0.1"})));
    assert!(!hits(&s, json!({"DestinationIp": "not an ip"})));
}

#[test]
fn exists() {
    let s = rule_with("  sel:\n    Hashes|exists: true\n  condition: sel");
    assert!(hits(&s, json!({"Hashes": "SHA1=00"})));
    assert!(!hits(&s, json!({"Image": "x"})));
    let s = rule_with("  sel:\n    Image: 'x'\n    Hashes|exists: false\n  condition: sel");
    assert!(hits(&s, json!({"Image": "x"})));
    assert!(!hits(&s, json!({"Image": "x", "Hashes": "y"})));
}

#[test]
fn fieldref() {
    let s = rule_with("  sel:\n    ParentImage|fieldref: Image\n  condition: sel");
    assert!(hits(
        &s,
        json!({"Image": "C:\\a.exe", "ParentImage": "C:\\a.exe"})
    ));
    assert!(!hits(
        &s,
        json!({"Image": "C:\\a.exe", "ParentImage": "C:\\b.exe"})
    ));
    assert!(!hits(&s, json!({"ParentImage": "C:\\b.exe"})));
}

#[test]
fn numeric_comparisons() {
    for (modifier, value, yes, no) in [
        ("lt", 10, 9, 10),
        ("lte", 10, 10, 11),
        ("gt", 10, 11, 10),
        ("gte", 10, 10, 9),
    ] {
        let s = rule_with(&format!(
            "  sel:\n    LogonType|{modifier}: {value}\n  condition: sel"
        ));
        assert!(hits(&s, json!({"LogonType": yes})), "{modifier} {yes}");
        assert!(!hits(&s, json!({"LogonType": no})), "{modifier} {no}");
        // Numbers written as strings in the event compare as numbers too.
        assert!(
            hits(&s, json!({"LogonType": yes.to_string()})),
            "{modifier} \"{yes}\""
        );
    }
}

#[test]
fn cased() {
    let s =
        rule_with("  sel:\n    CommandLine|cased|contains: 'Invoke-Mimikatz'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "x Invoke-Mimikatz"})));
    assert!(!hits(&s, json!({"CommandLine": "x invoke-mimikatz"})));
}

#[test]
fn expand_from_configuration() {
    let mut placeholders = BTreeMap::new();
    placeholders.insert(
        "Admins_Workstations".to_owned(),
        vec!["ADMIN01".to_owned(), "ADMIN02".to_owned()],
    );
    let options = CompileOptions {
        placeholders,
        ..CompileOptions::default()
    };
    let s = rule_with_options(
        "  sel:\n    Computer|expand: '%Admins_Workstations%'\n  condition: sel",
        &options,
    );
    assert!(hits(&s, json!({"Computer": "admin02"})));
    assert!(!hits(&s, json!({"Computer": "ADMIN03"})));
    assert!(!hits(&s, json!({"Computer": "%Admins_Workstations%"})));
}

#[test]
fn expand_without_value_is_a_counted_warning() {
    let text = "title: T\nid: e1\nlogsource: {product: windows}\ndetection:\n  sel:\n    Computer|expand: '%Unknown%'\n  condition: sel\n";
    let (set, diags) =
        RuleSet::compile([SourceRule::new("e.yml", text)], &CompileOptions::default());
    assert_eq!(set.len(), 1);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].kind, DiagnosticKind::UnresolvedPlaceholder);
    assert_eq!(diags[0].severity, Severity::Warning);
    assert!(diags[0].message.contains("Unknown"), "{}", diags[0].message);
}

#[test]
fn wildcards_and_escapes() {
    // `\\*` is a literal backslash followed by a wildcard (`\*` alone would be a literal star).
    let s = rule_with("  sel:\n    Image: 'C:\\Users\\\\*\\AppData\\\\?.exe'\n  condition: sel");
    assert!(hits(&s, json!({"Image": "C:\\Users\\bob\\AppData\\x.exe"})));
    assert!(!hits(
        &s,
        json!({"Image": "C:\\Users\\bob\\AppData\\xy.exe"})
    ));
    // Escaped wildcards are literal characters.
    let s = rule_with("  sel:\n    CommandLine: 'what\\?'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "what?"})));
    assert!(!hits(&s, json!({"CommandLine": "whatX"})));
    let s = rule_with("  sel:\n    CommandLine: 'a\\*b'\n  condition: sel");
    assert!(hits(&s, json!({"CommandLine": "a*b"})));
    assert!(!hits(&s, json!({"CommandLine": "aXXb"})));
}

#[test]
fn null_numbers_booleans() {
    let s = rule_with("  sel:\n    ParentImage: null\n  condition: sel");
    assert!(hits(&s, json!({"ParentImage": null})));
    assert!(!hits(&s, json!({"ParentImage": "x"})));
    let s = rule_with("  sel:\n    LogonType: 3\n  condition: sel");
    assert!(hits(&s, json!({"LogonType": 3})));
    assert!(hits(&s, json!({"LogonType": "3"})));
    assert!(!hits(&s, json!({"LogonType": 10})));
    let s = rule_with("  sel:\n    Elevated: true\n  condition: sel");
    assert!(hits(&s, json!({"Elevated": true})));
    assert!(!hits(&s, json!({"Elevated": false})));
}

#[test]
fn keyword_lists() {
    let s = rule_with("  keywords:\n    - 'mimikatz'\n    - 'sekurlsa'\n  condition: keywords");
    assert!(hits(
        &s,
        json!({"CommandLine": "run SEKURLSA::logonpasswords"})
    ));
    assert!(hits(&s, json!({"Image": "C:\\tools\\mimikatz.exe"})));
    assert!(!hits(&s, json!({"CommandLine": "notepad"})));
}

#[test]
fn and_or_not_and_parentheses() {
    let det = "  a:\n    Image|endswith: '\\a.exe'\n  b:\n    CommandLine|contains: 'bee'\n  c:\n    User: 'root'\n  condition: a and (b or c) and not c";
    let s = rule_with(det);
    assert!(hits(&s, json!({"Image": "x\\a.exe", "CommandLine": "bee"})));
    assert!(!hits(
        &s,
        json!({"Image": "x\\a.exe", "CommandLine": "bee", "User": "root"})
    ));
    assert!(!hits(&s, json!({"Image": "x\\a.exe", "User": "root"})));
    assert!(!hits(
        &s,
        json!({"Image": "x\\b.exe", "CommandLine": "bee"})
    ));
    let s = rule_with(
        "  a:\n    Image|endswith: '\\a.exe'\n  b:\n    CommandLine|contains: 'bee'\n  condition: a or b",
    );
    assert!(hits(&s, json!({"CommandLine": "bee"})));
}

#[test]
fn one_of_and_all_of_patterns_and_them() {
    let det = "  selection_img:\n    Image|endswith: '\\a.exe'\n  selection_cli:\n    CommandLine|contains: 'bee'\n  filter_x:\n    User: 'root'\n";
    let s = rule_with(&format!(
        "{det}  condition: 1 of selection_* and not 1 of filter_*"
    ));
    assert!(hits(&s, json!({"CommandLine": "bee"})));
    assert!(!hits(&s, json!({"CommandLine": "bee", "User": "root"})));
    let s = rule_with(&format!("{det}  condition: all of selection_*"));
    assert!(!hits(&s, json!({"CommandLine": "bee"})));
    assert!(hits(
        &s,
        json!({"CommandLine": "bee", "Image": "c:\\a.exe"})
    ));
    let s = rule_with(&format!("{det}  condition: 1 of them"));
    assert!(hits(&s, json!({"User": "ROOT"})));
    let s = rule_with(&format!("{det}  condition: all of them"));
    assert!(!hits(
        &s,
        json!({"CommandLine": "bee", "Image": "c:\\a.exe"})
    ));
    assert!(hits(
        &s,
        json!({"CommandLine": "bee", "Image": "c:\\a.exe", "User": "root"})
    ));
}

#[test]
fn list_of_maps_is_or() {
    let s = rule_with(
        "  sel:\n    - Image|endswith: '\\a.exe'\n    - CommandLine|contains: 'bee'\n  condition: sel",
    );
    assert!(hits(&s, json!({"CommandLine": "bee"})));
    assert!(hits(&s, json!({"Image": "c:\\a.exe"})));
    assert!(!hits(&s, json!({"Image": "c:\\b.exe"})));
}

#[test]
fn explanation_names_the_matching_selection_and_field() {
    let s = rule_with(
        "  sel:\n    Image|endswith: '\\a.exe'\n  filter:\n    User: 'root'\n  condition: sel and not filter",
    );
    let ev = event(json!({"Image": "c:\\a.exe", "User": "bob"}));
    let ex = s.explain(0, &ev).unwrap_or_else(|| panic!("rule 0 exists"));
    assert!(ex.matched);
    let img = ex
        .items
        .iter()
        .find(|i| i.field.as_deref() == Some("Image"))
        .map(|i| (i.selection.as_str(), i.matched));
    assert_eq!(img, Some(("sel", true)));
    let user = ex
        .items
        .iter()
        .find(|i| i.field.as_deref() == Some("User"))
        .map(|i| (i.selection.as_str(), i.matched));
    assert_eq!(user, Some(("filter", false)));
    let m = s.evaluate(&ev);
    assert_eq!(m[0].selections, vec!["sel".to_owned()]);
}

#[test]
fn unknown_modifier_is_a_precise_diagnostic_and_the_batch_survives() {
    let bad = "title: Bad\nid: bad-1\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|frobnicate: x\n  condition: sel\n";
    let good = "title: Good\nid: good-1\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image: x\n  condition: sel\n";
    let (set, diags) = RuleSet::compile(
        [
            SourceRule::new("bad.yml", bad),
            SourceRule::new("good.yml", good),
        ],
        &CompileOptions::default(),
    );
    assert_eq!(set.len(), 1);
    assert_eq!(set.stats().skipped, 1);
    assert_eq!(diags.len(), 1);
    let d = &diags[0];
    assert_eq!(d.origin, "bad.yml");
    assert_eq!(d.rule_id.as_deref(), Some("bad-1"));
    assert_eq!(d.severity, Severity::Error);
    assert!(d.message.contains("frobnicate"), "{}", d.message);
}

#[test]
fn broken_yaml_and_bad_condition_are_diagnostics() {
    let yaml = "title: Y\nid: y-1\ndetection: [unclosed\n";
    let cond = "title: C\nid: c-1\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image: x\n  condition: sel and and\n";
    let missing = "title: M\nid: m-1\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image: x\n  condition: nothere\n";
    let (set, diags) = RuleSet::compile(
        [
            SourceRule::new("y.yml", yaml),
            SourceRule::new("c.yml", cond),
            SourceRule::new("m.yml", missing),
        ],
        &CompileOptions::default(),
    );
    assert_eq!(set.len(), 0);
    let origins: Vec<&str> = diags.iter().map(|d| d.origin.as_str()).collect();
    assert_eq!(origins, vec!["y.yml", "c.yml", "m.yml"], "{diags:#?}");
    assert_eq!(diags[0].kind, DiagnosticKind::Yaml);
    assert_eq!(diags[0].rule_id.as_deref(), Some("y-1"));
}

#[test]
fn regex_bomb_is_rejected() {
    let bomb = "title: Bomb\nid: bomb-1\nlogsource: {product: windows}\ndetection:\n  sel:\n    CommandLine|re: '((a{100}){100}){100}'\n  condition: sel\n";
    let (set, diags) = RuleSet::compile(
        [SourceRule::new("bomb.yml", bomb)],
        &CompileOptions::default(),
    );
    assert_eq!(set.len(), 0);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].kind, DiagnosticKind::Compile);
}

#[test]
fn catastrophic_backtracking_pattern_runs_in_linear_time() {
    let s = rule_with("  sel:\n    CommandLine|re: '^(a+)+$'\n  condition: sel");
    let long = format!("{}!", "a".repeat(100_000));
    let start = std::time::Instant::now();
    assert!(!hits(&s, json!({"CommandLine": long})));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn action_global_collection() {
    let text = "action: global\ntitle: Shared\nlogsource: {product: windows, category: process_creation}\ndetection:\n  condition: sel\n---\nid: g-1\ndetection:\n  sel:\n    Image|endswith: '\\a.exe'\n---\nid: g-2\ndetection:\n  sel:\n    Image|endswith: '\\b.exe'\n";
    let (set, diags) =
        RuleSet::compile([SourceRule::new("g.yml", text)], &CompileOptions::default());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(set.len(), 2);
    let m = set.evaluate(&event(json!({"Image": "c:\\b.exe"})));
    assert_eq!(m.len(), 1);
    assert_eq!(set.rules()[m[0].rule].id.as_deref(), Some("g-2"));
}

#[test]
fn duplicate_ids_keep_the_first() {
    let a = "title: A\nid: same\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image: x\n  condition: sel\n";
    let b = "title: B\nid: same\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image: y\n  condition: sel\n";
    let (set, diags) = RuleSet::compile(
        [SourceRule::new("a.yml", a), SourceRule::new("b.yml", b)],
        &CompileOptions::default(),
    );
    assert_eq!(set.len(), 1);
    assert_eq!(set.rules()[0].title, "A");
    assert_eq!(diags[0].kind, DiagnosticKind::DuplicateId);
    assert_eq!(diags[0].origin, "b.yml");
}

#[test]
fn metadata_is_typed() {
    let text = r#"title: Meta
id: 5f1abf38-3f3c-4e4c-9d4b-000000000001
name: meta_rule
status: test
level: high
description: d
author: me
date: 2024-01-02
modified: 2024-03-04
tags:
  - attack.execution
  - attack.t1059.001
related:
  - id: 5f1abf38-3f3c-4e4c-9d4b-000000000002
    type: derived
falsepositives:
  - admins
simulation:
  - type: atomic-red-team
    name: Run it
    technique: T1059.001
    atomic_guid: e7469fe2-ad41-4382-8965-99b94dd3c13f
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4688
  condition: sel
"#;
    let (set, diags) =
        RuleSet::compile([SourceRule::new("m.yml", text)], &CompileOptions::default());
    assert!(diags.is_empty(), "{diags:?}");
    let r = &set.rules()[0];
    assert_eq!(r.name.as_deref(), Some("meta_rule"));
    assert_eq!(r.status, Some(attest_sigma::Status::Test));
    assert_eq!(r.level, Some(attest_sigma::Level::High));
    assert_eq!(r.logsource.service.as_deref(), Some("security"));
    assert_eq!(r.date.as_deref(), Some("2024-01-02"));
    assert_eq!(r.modified.as_deref(), Some("2024-03-04"));
    assert_eq!(r.related[0].relation, "derived");
    assert_eq!(r.falsepositives, vec!["admins".to_owned()]);
    assert_eq!(
        r.simulation[0].atomic_guid.as_deref(),
        Some("e7469fe2-ad41-4382-8965-99b94dd3c13f")
    );
    assert_eq!(r.attack_techniques(), vec!["T1059.001".to_owned()]);
    assert_eq!(set.find("meta_rule"), Some(0));
}

#[test]
fn routing_keeps_rules_to_their_log_source() {
    let text = "title: Sec\nid: sec-1\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    TargetUserName: bob\n  condition: sel\n";
    let (set, _) = RuleSet::compile([SourceRule::new("s.yml", text)], &CompileOptions::default());
    let sec =
        Event::from_json(json!({"Channel": "Security", "EventID": 4624, "TargetUserName": "bob"}));
    let sys =
        Event::from_json(json!({"Channel": "System", "EventID": 7045, "TargetUserName": "bob"}));
    let flat = Event::from_json(json!({"TargetUserName": "bob"}));
    let count = |e: Option<Event>| e.map_or(usize::MAX, |e| set.evaluate(&e).len());
    assert_eq!(count(sec), 1);
    assert_eq!(count(sys), 0);
    // No channel: the event cannot be routed, so it meets every rule.
    assert_eq!(count(flat), 1);
}
