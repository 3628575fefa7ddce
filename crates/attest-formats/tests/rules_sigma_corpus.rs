//! The Sigma importer on the whole SigmaHQ corpus (`$ATTEST_CORPORA_DIR/sigma`). The expected
//! counts were computed independently, with PyYAML over the same folders.

mod rules_common;

use std::collections::BTreeSet;

use attest_core::rule::{Dependency, DependencyOrigin, Rule};
use attest_core::source::LogSourceRef;
use attest_formats::import::sigma::SigmaImporter;
use attest_formats::import::{import_rules, select_files};
use attest_formats::{Input, Severity};

fn component(name: &str) -> Dependency {
    Dependency::Component(name.to_string())
}

fn find<'a>(rules: &'a [Rule], id: &str) -> &'a Rule {
    rules
        .iter()
        .find(|r| r.id.0 == id)
        .unwrap_or_else(|| panic!("rule {id} not imported"))
}

#[test]
fn whole_sigmahq_corpus_imports_with_the_independently_counted_figures() {
    let Some(corpora) = rules_common::corpus_dir("ATTEST_CORPORA_DIR") else {
        return;
    };
    let files = rules_common::sigma_corpus(&corpora);
    let importer = SigmaImporter::new("sigmahq");
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let selected: BTreeSet<&str> = select_files(&importer, &paths).into_iter().collect();
    assert_eq!(
        selected.len(),
        3952,
        "Sigma files in rules*/ and deprecated/"
    );
    let inputs: Vec<Input<'_>> = files
        .iter()
        .filter(|(p, _)| selected.contains(p.as_str()))
        .map(|(p, b)| Input { path: p, bytes: b })
        .collect();

    let (rules, diags) = import_rules(&importer, &inputs, 2);
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "no invalid file in SigmaHQ: {errors:#?}");
    assert_eq!(rules.len(), 3952);
    assert_eq!(
        rules.iter().filter(|r| !r.techniques.is_empty()).count(),
        3470
    );
    let techniques: BTreeSet<&str> = rules
        .iter()
        .flat_map(|r| r.techniques.iter().map(String::as_str))
        .collect();
    assert_eq!(techniques.len(), 407);
    let deprecated = rules
        .iter()
        .filter(|r| r.maturity.as_deref() == Some("deprecated"))
        .count();
    assert_eq!(deprecated, 172);
    assert_eq!(rules.iter().filter(|r| !r.tests.is_empty()).count(), 65);
    let guids: BTreeSet<&str> = rules
        .iter()
        .flat_map(|r| r.tests.iter().map(String::as_str))
        .collect();
    assert_eq!(guids.len(), 64);
    let stealth = rules
        .iter()
        .filter(|r| r.tactics.iter().any(|t| t == "stealth"))
        .count();
    assert_eq!(stealth, 1099);
    let cred = rules
        .iter()
        .filter(|r| r.tactics.iter().any(|t| t == "credential-access"))
        .count();
    assert_eq!(
        cred, 415,
        "attack.credential_access and attack.credential-access are one tactic"
    );
    // Every rule with a category in the mapping table got its component.
    let process_creation = rules
        .iter()
        .filter(|r| {
            r.dependencies
                .iter()
                .any(|d| d.dependency == component("Process Creation"))
        })
        .count();
    assert!(process_creation >= 1495 + 144 + 72, "{process_creation}");
    assert!(
        rules
            .iter()
            .flat_map(|r| &r.dependencies)
            .all(|d| d.origin == DependencyOrigin::Inferred)
    );
    // Every content hash is a SHA-256.
    assert!(rules.iter().all(|r| r.content_hash.len() == 64));

    // Spot checks.
    let r = find(&rules, "a5b977d6-8a81-4475-91b9-49dbfcd941f7");
    assert_eq!(r.title, "Remove Immutable File Attribute - Auditd");
    assert_eq!(r.techniques, ["T1222.002"]);
    assert_eq!(r.tactics, ["defense-impairment"]);
    assert_eq!(r.tests, ["e7469fe2-ad41-4382-8965-99b94dd3c13f"]);
    assert_eq!(r.maturity.as_deref(), Some("test"));
    assert_eq!(r.severity.as_deref(), Some("medium"));
    assert_eq!(r.created.as_deref(), Some("2019-09-23"));
    assert_eq!(
        r.origin.path,
        "rules/linux/auditd/execve/lnx_auditd_chattr_immutable_removal.yml"
    );

    let r = find(&rules, "259a9cdf-c4dd-4fa2-b243-2269e5ab18a2");
    assert_eq!(r.techniques, ["T1133", "T1078", "T1110"]);
    assert_eq!(
        r.tactics,
        [
            "privilege-escalation",
            "persistence",
            "initial-access",
            "credential-access",
            "stealth"
        ]
    );
    let deps: Vec<&Dependency> = r.dependencies.iter().map(|d| &d.dependency).collect();
    assert_eq!(
        deps,
        [
            &component("Logon Session Creation"),
            &Dependency::LogSource(LogSourceRef::parse("WinEventLog:Security:EventCode=4624")),
        ]
    );

    let r = find(&rules, "5039f3d2-406a-4c1a-9350-7a5a85dc84c2");
    assert_eq!(r.maturity.as_deref(), Some("deprecated"));
    assert_eq!(
        r.created.as_deref(),
        Some("2023-08-21"),
        "YYYY/MM/DD normalised"
    );
    assert_eq!(r.modified.as_deref(), Some("2024-05-10"));
    assert_eq!(r.tactics, ["initial-access"]);
    assert_eq!(r.techniques, ["T1584", "T1566"]);
    assert_eq!(deps_of(r), [component("Network Traffic Content")]);
}

fn deps_of(r: &Rule) -> Vec<Dependency> {
    r.dependencies
        .iter()
        .map(|d| d.dependency.clone())
        .collect()
}

#[test]
fn importer_reads_yml_and_yaml_only() {
    let importer = SigmaImporter::new("x");
    let paths = [
        "a.yml",
        "b.YAML",
        "c.json",
        ".github/w.yml",
        "dir/d.yml",
        "yml",
    ];
    assert_eq!(
        select_files(&importer, &paths),
        ["a.yml", "b.YAML", "dir/d.yml"]
    );
}
