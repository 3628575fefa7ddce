//! One helper for end-to-end tests: a temporary workspace and a way to run `attest` in it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tiny hand-written Enterprise bundle: enough ATT&CK for hermetic CLI tests.
pub const MINI_BUNDLE: &str = r#"{"type": "bundle", "id": "bundle--mini", "spec_version": "2.0", "objects": [
 {"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "name": "Enterprise ATT&CK",
  "x_mitre_domains": ["enterprise-attack"], "tactic_refs": ["x-mitre-tactic--ca", "x-mitre-tactic--ex"],
  "external_references": [{"source_name": "mitre-attack", "external_id": "enterprise-attack"}]},
 {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ca", "name": "Credential Access", "x_mitre_shortname": "credential-access",
  "external_references": [{"source_name": "mitre-attack", "external_id": "TA0006"}]},
 {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ex", "name": "Execution", "x_mitre_shortname": "execution",
  "external_references": [{"source_name": "mitre-attack", "external_id": "TA0002"}]},
 {"type": "attack-pattern", "id": "attack-pattern--t1003", "name": "OS Credential Dumping", "x_mitre_platforms": ["Windows", "Linux"],
  "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
  "external_references": [{"source_name": "mitre-attack", "external_id": "T1003"}]},
 {"type": "attack-pattern", "id": "attack-pattern--t1003-001", "name": "LSASS Memory", "x_mitre_is_subtechnique": true,
  "x_mitre_platforms": ["Windows"],
  "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
  "external_references": [{"source_name": "mitre-attack", "external_id": "T1003.001"}]},
 {"type": "attack-pattern", "id": "attack-pattern--t1059-001", "name": "PowerShell", "x_mitre_is_subtechnique": true,
  "x_mitre_platforms": ["Windows"],
  "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
  "external_references": [{"source_name": "mitre-attack", "external_id": "T1059.001"}]},
 {"type": "attack-pattern", "id": "attack-pattern--t1059", "name": "Command and Scripting Interpreter",
  "x_mitre_platforms": ["Windows"],
  "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
  "external_references": [{"source_name": "mitre-attack", "external_id": "T1059"}]},
 {"type": "attack-pattern", "id": "attack-pattern--t1086", "name": "PowerShell", "revoked": true,
  "external_references": [{"source_name": "mitre-attack", "external_id": "T1086"}]},
 {"type": "relationship", "id": "relationship--r1", "relationship_type": "revoked-by",
  "source_ref": "attack-pattern--t1086", "target_ref": "attack-pattern--t1059-001"},
 {"type": "relationship", "id": "relationship--r2", "relationship_type": "subtechnique-of",
  "source_ref": "attack-pattern--t1003-001", "target_ref": "attack-pattern--t1003"},
 {"type": "relationship", "id": "relationship--r3", "relationship_type": "subtechnique-of",
  "source_ref": "attack-pattern--t1059-001", "target_ref": "attack-pattern--t1059"},
 {"type": "x-mitre-data-component", "id": "x-mitre-data-component--pc", "name": "Process Creation",
  "x_mitre_log_sources": [{"name": "WinEventLog:Sysmon", "channel": "EventCode=1"},
                          {"name": "WinEventLog:Security", "channel": "EventCode=4688"}],
  "external_references": [{"source_name": "mitre-attack", "external_id": "DC0032"}]},
 {"type": "x-mitre-data-component", "id": "x-mitre-data-component--pa", "name": "Process Access",
  "x_mitre_log_sources": [{"name": "WinEventLog:Sysmon", "channel": "EventCode=10"}],
  "external_references": [{"source_name": "mitre-attack", "external_id": "DC0035"}]},
 {"type": "intrusion-set", "id": "intrusion-set--apt29", "name": "APT29", "aliases": ["APT29", "Cozy Bear"],
  "external_references": [{"source_name": "mitre-attack", "external_id": "G0016"}]},
 {"type": "relationship", "id": "relationship--u1", "relationship_type": "uses", "description": "APT29 dumped LSASS.",
  "source_ref": "intrusion-set--apt29", "target_ref": "attack-pattern--t1003-001"}
]}"#;

/// A temporary directory with a workspace in it and the mini bundle beside it.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("mini-attack.json"), MINI_BUNDLE).expect("write bundle");
        Env { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn bundle(&self) -> PathBuf {
        self.path().join("mini-attack.json")
    }

    /// Writes a file under the temp dir, creating folders.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
        p
    }

    /// `attest` with the workspace and ATT&CK set, nothing from the caller's environment.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_attest"));
        c.current_dir(self.path())
            .env_remove("ATTEST_DATABASE")
            .env_remove("ATTEST_WORKSPACE")
            .env("ATTEST_ATTACK_BUNDLE", self.bundle())
            .env("ATTEST_CACHE_DIR", self.path().join("cache"))
            .env("ATTEST_USER", "tester");
        c
    }

    /// Runs `attest ARGS`, asserting success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "attest {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs `attest ARGS --format json`, asserting success; returns the parsed document.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        let text = self.ok(&a);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("attest {args:?}: not JSON ({e}):\n{text}"))
    }

    /// Runs `attest ARGS` and returns the whole output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run attest")
    }
}

/// The shared data folder for tests on real corpora, or `None` (with a loud SKIPPED) when the
/// variable is unset; with `ATTEST_REQUIRE_CORPORA=1` a missing variable fails the test.
pub fn corpus_dir(var: &str, test: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => {
            if std::env::var("ATTEST_REQUIRE_CORPORA").as_deref() == Ok("1") {
                panic!("{test}: {var} is not set but ATTEST_REQUIRE_CORPORA=1");
            }
            eprintln!("SKIPPED: {test}: set {var} to run it on the real corpus");
            None
        }
    }
}
