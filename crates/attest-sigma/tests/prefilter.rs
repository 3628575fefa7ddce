//! The literal pre-filter never changes an answer: on hand-written events chosen to sit on its
//! edges (anchors, case, non-ASCII text, numbers, arrays, regexes, negations), the pre-filtered
//! evaluation gives exactly the matches of evaluating every routed rule.

use attest_sigma::{CompileOptions, Event, RuleSet, SourceRule};
use serde_json::{Value, json};

const RULES: &[(&str, &str)] = &[
    ("exact", "    Image: 'C:\\Windows\\cmd.exe'"),
    ("ends", "    Image|endswith: '\\whoami.exe'"),
    ("starts", "    CommandLine|startswith: 'powershell -enc'"),
    ("contains", "    CommandLine|contains: 'mimikatz'"),
    ("cased", "    CommandLine|contains|cased: 'Invoke-Mimikatz'"),
    ("number", "    ProcessId: 4242"),
    (
        "list",
        "    Image|endswith:\n      - '\\a.exe'\n      - '\\b.exe'",
    ),
    (
        "all",
        "    CommandLine|contains|all:\n      - 'net'\n      - 'user'",
    ),
    ("unicode", "    CommandLine|contains: 'éé'"),
    ("kelvin", "    CommandLine|contains: 'kerberos'"),
    ("regex", "    CommandLine|re: '(?i)inv[o0]ke-?expression'"),
    ("wildcard", "    CommandLine|contains: 'copy*sam'"),
    ("longs", "    CommandLine|re: '(?i)sekurlsa::[a-z]+'"),
    ("emoji", "    CommandLine|contains: '\u{1F600}'"),
    ("bool", "    Flag: true"),
];

fn rule(name: &str, selection: &str) -> SourceRule {
    let text = format!(
        "title: {name}\nid: rule-{name}\nlogsource: {{product: windows, category: process_creation}}\ndetection:\n  sel:\n{selection}\n  filter:\n    User: 'SYSTEM'\n  condition: sel and not filter\n"
    );
    SourceRule::new(format!("{name}.yml"), text)
}

fn rules() -> RuleSet {
    let (set, diags) = RuleSet::compile(
        RULES.iter().map(|(n, s)| rule(n, s)),
        &CompileOptions::default(),
    );
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(set.len(), RULES.len());
    set
}

fn event(fields: Value) -> Event {
    let mut fields = fields;
    if let Value::Object(m) = &mut fields {
        m.insert(
            "Channel".into(),
            json!("Microsoft-Windows-Sysmon/Operational"),
        );
        m.insert("EventID".into(), json!(1));
    }
    Event::from_json(fields).unwrap_or_else(|| Event::new(serde_json::Map::new()))
}

fn titles(set: &RuleSet, found: Vec<attest_sigma::RuleMatch>) -> Vec<String> {
    let mut t: Vec<String> = found
        .into_iter()
        .map(|m| set.rules()[m.rule].title.clone())
        .collect();
    t.sort();
    t
}

/// Pre-filtered and exhaustive evaluation agree; returns the matching titles.
fn check(set: &RuleSet, fields: Value) -> Vec<String> {
    let e = event(fields.clone());
    let fast = titles(set, set.evaluate(&e));
    let slow = titles(set, set.evaluate_exhaustive(&e));
    assert_eq!(fast, slow, "pre-filter disagrees on {fields}");
    fast
}

#[test]
fn anchors_hold_only_where_the_matcher_looks() {
    let set = rules();
    assert_eq!(
        check(&set, json!({"Image": "c:\\windows\\CMD.exe"})),
        ["exact"]
    );
    assert!(check(&set, json!({"Image": "C:\\Windows\\cmd.exe.bak"})).is_empty());
    assert!(check(&set, json!({"Image": "x C:\\Windows\\cmd.exe"})).is_empty());
    assert_eq!(check(&set, json!({"Image": "C:\\x\\WHOAMI.EXE"})), ["ends"]);
    assert!(check(&set, json!({"Image": "C:\\whoami.exe\\x.exe"})).is_empty());
    assert_eq!(
        check(&set, json!({"CommandLine": "PowerShell -Enc AAAA"})),
        ["starts"]
    );
    assert!(check(&set, json!({"CommandLine": "cmd /c powershell -enc AAAA"})).is_empty());
    assert_eq!(check(&set, json!({"Image": "C:\\B.EXE"})), ["list"]);
    assert_eq!(check(&set, json!({"CommandLine": "NET user bob"})), ["all"]);
    assert!(check(&set, json!({"CommandLine": "net localgroup"})).is_empty());
}

#[test]
fn case_and_non_ascii_text() {
    let set = rules();
    assert_eq!(
        check(&set, json!({"CommandLine": "x MIMIKATZ.exe"})),
        ["contains"]
    );
    assert_eq!(
        check(&set, json!({"CommandLine": "Invoke-Mimikatz"})),
        ["cased", "contains"]
    );
    assert_eq!(
        check(&set, json!({"CommandLine": "invoke-mimikatz"})),
        ["contains"]
    );
    // Non-ASCII values are lowercased as rsigma lowercases them.
    assert_eq!(check(&set, json!({"CommandLine": "ÉÉ"})), ["unicode"]);
    assert_eq!(
        check(&set, json!({"CommandLine": "x \u{1F600} y"})),
        ["emoji"]
    );
    assert_eq!(
        check(&set, json!({"CommandLine": "İ mimikatz"})),
        ["contains"]
    );
    // The Kelvin sign lowercases to an ASCII `k`.
    assert_eq!(
        check(&set, json!({"CommandLine": "\u{212A}erberos"})),
        ["kelvin"]
    );
}

#[test]
fn numbers_booleans_arrays_regexes_and_negations() {
    let set = rules();
    assert_eq!(check(&set, json!({"ProcessId": 4242})), ["number"]);
    assert_eq!(check(&set, json!({"ProcessId": "4242"})), ["number"]);
    assert_eq!(check(&set, json!({"ProcessId": 4242.0})), ["number"]);
    assert!(check(&set, json!({"ProcessId": 42420})).is_empty());
    assert_eq!(check(&set, json!({"Flag": true})), ["bool"]);
    assert!(check(&set, json!({"Flag": false})).is_empty());
    assert_eq!(
        check(&set, json!({"Image": ["C:\\x\\a.exe", "y"]})),
        ["list"]
    );
    assert_eq!(
        check(&set, json!({"CommandLine": "IEX; inv0keexpression"})),
        ["regex"]
    );
    assert_eq!(
        check(&set, json!({"CommandLine": "copy c:\\sam"})),
        ["wildcard"]
    );
    assert!(check(&set, json!({"CommandLine": "sam copy"})).is_empty());
    assert_eq!(
        check(&set, json!({"CommandLine": "SEKURLSA::LogonPasswords"})),
        ["longs"]
    );
    // The regex folds the long s (U+017F) to `s`; Unicode lowercasing does not.
    assert_eq!(
        check(&set, json!({"CommandLine": "\u{17F}ekurlsa::x"})),
        ["longs"]
    );
    assert!(check(&set, json!({"CommandLine": "sekurlsa:: 1"})).is_empty());
    assert!(check(&set, json!({"CommandLine": "mimikatz", "User": "system"})).is_empty());
}

#[test]
fn keywords_are_looked_for_in_every_string_value() {
    let text = "title: kw\nid: rule-kw\nlogsource: {product: windows, category: process_creation}\ndetection:\n  keywords:\n    - 'sekurlsa::'\n    - 'Mimikatz'\n  condition: keywords\n";
    let (set, diags) = RuleSet::compile(
        [SourceRule::new("kw.yml", text)],
        &CompileOptions::default(),
    );
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(check(&set, json!({"CommandLine": "x SEKURLSA::y"})), ["kw"]);
    assert_eq!(check(&set, json!({"ParentImage": "mimikatz"})), ["kw"]);
    assert_eq!(
        check(&set, json!({"Image": "a", "Nested": {"x": ["MIMIKATZ"]}})),
        ["kw"]
    );
    assert!(check(&set, json!({"CommandLine": "sekurlsa:", "Count": 5})).is_empty());
}
