//! `attest webhooks` and `attest jobs` end to end in a temporary workspace.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test should fail loudly

mod util;

use util::Env;

#[test]
fn webhooks_are_added_listed_and_removed() {
    let env = Env::new();
    env.ok(&["init"]);
    let out = env
        .cmd()
        .env("HOOK_SECRET", "s3cret")
        .args([
            "webhooks",
            "add",
            "soc",
            "https://hooks.example.invalid/x",
            "--events",
            "regression,source-silent",
            "--shape",
            "slack",
            "--secret-env",
            "HOOK_SECRET",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = env.json(&["webhooks", "list"]);
    let rows = list.as_array().expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "soc");
    assert_eq!(rows[0]["events"], "regression,source_silent");
    assert_eq!(rows[0]["shape"], "slack");
    assert_eq!(rows[0]["signed"], "true");
    assert!(
        !list.to_string().contains("s3cret"),
        "the secret is never printed"
    );

    // Bad input is refused with a reason, and nothing is written.
    for (args, why) in [
        (
            vec!["webhooks", "add", "x", "ftp://h/", "--events", "regression"],
            "http",
        ),
        (
            vec!["webhooks", "add", "x", "http://h/", "--events", "nope"],
            "unknown event",
        ),
        (
            vec![
                "webhooks",
                "add",
                "x",
                "http://h/",
                "--events",
                "regression",
                "--shape",
                "teams",
            ],
            "unknown shape",
        ),
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{args:?}: {err}");
    }
    assert_eq!(env.json(&["webhooks", "list"]).as_array().unwrap().len(), 1);

    env.ok(&["webhooks", "remove", "soc"]);
    assert!(
        env.json(&["webhooks", "list"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        env.run(&["webhooks", "remove", "soc"]).status.code(),
        Some(2)
    );
    assert!(
        env.json(&["webhooks", "deliveries"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn job_schedules_and_datasets_live_in_the_workspace() {
    let env = Env::new();
    env.ok(&["init"]);
    let jobs = env.json(&["jobs", "list"]);
    let names: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["silence", "coverage", "replay", "digest"]);
    assert_eq!(jobs[2]["schedule"], "0 3 * * 1");

    env.ok(&["jobs", "schedule", "replay", "30 2 * * *"]);
    env.ok(&["jobs", "schedule", "digest", "off"]);
    let jobs = env.json(&["jobs", "list"]);
    assert_eq!(jobs[2]["schedule"], "30 2 * * *");
    assert_eq!(jobs[3]["schedule"], "off");
    env.ok(&["jobs", "schedule", "digest", "default"]);
    assert_eq!(env.json(&["jobs", "list"])[3]["schedule"], "0 8 * * 1");

    let bad = env.run(&["jobs", "schedule", "replay", "every tuesday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a cron expression"));
    let bad = env.run(&["jobs", "schedule", "nope", "* * * * *"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no job"));

    let ds = env.write("datasets/one/info.yml", "id: x\n");
    env.ok(&["jobs", "datasets", ds.parent().unwrap().to_str().unwrap()]);
    let missing = env.run(&["jobs", "datasets", "no/such/dir"]);
    assert_eq!(missing.status.code(), Some(2));
    env.ok(&["jobs", "datasets", "--clear"]);
}
