//! Runbooks and profiles in SOAR enrichment, over real HTTP on 127.0.0.1: runbooks per
//! technique (parent fallback, platform filter), the folder reloaded while the server runs
//! (edits, new and removed files, a broken edit keeping the last good version), and
//! profile-first ordering on the real Enterprise bundle.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use attest_server::Limits;
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{Running, sqlite_url, start_with};

async fn post(s: &Running, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    let r = s
        .client
        .post(s.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(s: &Running, path: &str, token: &str) -> (StatusCode, Value) {
    let r = s
        .client
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn runbook(title: &str, techniques: &str, platforms: Option<&str>, steps: &[&str]) -> String {
    let mut s = format!("---\ntitle: {title}\ntechniques: {techniques}\n");
    if let Some(p) = platforms {
        s.push_str(&format!("platforms: {p}\n"));
    }
    s.push_str("owner: ir-team\n---\nWhat to do.\n\n");
    for (i, step) in steps.iter().enumerate() {
        s.push_str(&format!("{}. {step}\n", i + 1));
    }
    s
}

/// (file, matched) of the runbooks offered for the answer's only technique.
fn offered(answer: &Value) -> Vec<(String, String)> {
    let ts = answer["techniques"].as_array().expect("techniques");
    assert_eq!(ts.len(), 1, "{answer}");
    ts[0]["runbooks"]
        .as_array()
        .expect("runbooks")
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["matched"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn enrich(s: &Running, technique: &str, platform: Option<&str>) -> Value {
    let mut body = json!({ "techniques": [technique] });
    if let Some(p) = platform {
        body["platform"] = json!(p);
    }
    let (status, answer) = post(s, "/api/v1/enrich", &s.viewer, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

fn library(dir: &Path) {
    write(
        dir,
        "lsass.md",
        &runbook(
            "LSASS dumping",
            "[T1003.001]",
            Some("[Windows]"),
            &["Isolate the host.", "Image memory."],
        ),
    );
    write(
        dir,
        "dumping.md",
        &runbook(
            "Any credential dumping",
            "[T1003]",
            None,
            &["Reset passwords."],
        ),
    );
    write(
        dir,
        "linux.md",
        &runbook(
            "Dumping on Linux",
            "T1003",
            Some("[Linux]"),
            &["Check /etc/shadow reads."],
        ),
    );
    write(
        dir,
        "revoked.md",
        &runbook(
            "Old PowerShell runbook",
            "[T1086]",
            None,
            &["Decode the command."],
        ),
    );
    write(
        dir,
        "unknown.md",
        &runbook(
            "Interpreters",
            "[T9999, T1059]",
            None,
            &["Record the command line."],
        ),
    );
    write(
        dir,
        "broken.md",
        "---\ntitle: Broken\ntechniques: [T1003\n---\n- x\n",
    );
    write(dir, "notes.txt", "not a runbook");
}

#[tokio::test]
async fn runbooks_by_technique_parent_and_platform() {
    let (_db, url) = sqlite_url();
    let folder = tempfile::tempdir().unwrap();
    library(folder.path());
    let s = start_with(&url, Limits::default(), Some(folder.path())).await;

    // The technique's own runbook first, then its parent's; Linux-only ones left out.
    let a = enrich(&s, "T1003.001", Some("Windows")).await;
    assert_eq!(
        offered(&a),
        pairs(&[("lsass.md", "technique"), ("dumping.md", "parent")])
    );
    let lsass = &a["techniques"][0]["runbooks"][0];
    assert_eq!(lsass["title"], "LSASS dumping");
    assert_eq!(lsass["owner"], "ir-team");
    assert_eq!(lsass["platforms"], json!(["Windows"]));
    assert_eq!(
        lsass["steps"],
        json!(["Isolate the host.", "Image memory."])
    );
    // Platforms compare without case; another platform drops the Windows-only runbook.
    let a = enrich(&s, "T1003.001", Some("windows")).await;
    assert_eq!(offered(&a).len(), 2);
    let a = enrich(&s, "T1003.008", Some("Linux")).await;
    assert_eq!(
        offered(&a),
        pairs(&[("dumping.md", "parent"), ("linux.md", "parent")])
    );
    // No platform in the alert: every runbook of the technique.
    let a = enrich(&s, "T1003", None).await;
    assert_eq!(
        offered(&a),
        pairs(&[("dumping.md", "technique"), ("linux.md", "technique")])
    );
    // A runbook naming a revoked id counts for its replacement; unknown ids do not sink a file.
    let a = enrich(&s, "T1059.001", None).await;
    assert_eq!(
        offered(&a),
        pairs(&[("revoked.md", "technique"), ("unknown.md", "parent")])
    );
    // A technique no runbook answers gets an empty list.
    let a = enrich(&s, "T1110.001", None).await;
    assert!(offered(&a).is_empty());

    let (status, list) = get(&s, "/api/v1/runbooks", &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let files: Vec<&str> = list["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "dumping.md",
            "linux.md",
            "lsass.md",
            "revoked.md",
            "unknown.md"
        ]
    );
    let revoked = &list["runbooks"][3];
    assert_eq!(
        revoked["techniques"],
        json!([{"written": "T1086", "id": "T1059.001"}])
    );
    let problems = list["problems"].as_array().unwrap();
    let broken = problems
        .iter()
        .find(|p| p["file"] == "broken.md")
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(broken["severity"], "error");
    assert!(
        broken["line"]
            .as_u64()
            .is_some_and(|l| (3..=4).contains(&l)),
        "{broken}"
    );
    assert!(
        problems.iter().any(|p| p["file"] == "unknown.md"
            && p["severity"] == "warning"
            && p["line"] == 3
            && p["message"].as_str().unwrap().contains("T9999")),
        "{list}"
    );
    s.stop().await;
}

/// Asks until `check` holds on the answer for `technique`, for at most 10 s (the watcher polls
/// every 2 s).
async fn eventually(
    s: &Running,
    technique: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let a = enrich(s, technique, None).await;
        if check(&a) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: not seen after 10 s: {a}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn titles(a: &Value) -> Vec<String> {
    a["techniques"][0]["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_folder_is_reloaded_while_serving() {
    let (_db, url) = sqlite_url();
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    write(
        dir,
        "lsass.md",
        &runbook("LSASS v1", "[T1003.001]", None, &["One."]),
    );
    let s = start_with(&url, Limits::default(), Some(dir)).await;
    assert_eq!(titles(&enrich(&s, "T1003.001", None).await), ["LSASS v1"]);

    // An edit.
    write(
        dir,
        "lsass.md",
        &runbook("LSASS v2", "[T1003.001]", None, &["One.", "Two."]),
    );
    let took = eventually(&s, "T1003.001", "edit", |a| titles(a) == ["LSASS v2"]).await;
    eprintln!("edit seen after {took:?}");
    let a = enrich(&s, "T1003.001", None).await;
    assert_eq!(
        a["techniques"][0]["runbooks"][0]["steps"],
        json!(["One.", "Two."])
    );

    // A new file, in a subfolder.
    std::fs::create_dir(dir.join("windows")).unwrap();
    write(
        &dir.join("windows"),
        "parent.md",
        &runbook("Dumping", "[T1003]", None, &["Reset."]),
    );
    eventually(&s, "T1003.001", "new file", |a| {
        titles(a) == ["LSASS v2", "Dumping"]
            && a["techniques"][0]["runbooks"][1]["file"] == "windows/parent.md"
    })
    .await;

    // A broken edit keeps the last good version, and the listing says so.
    write(
        dir,
        "lsass.md",
        "---\ntitle: LSASS v3\ntechniques: [T1003.001\n---\n- x\n",
    );
    let start = Instant::now();
    loop {
        let (_, list) = get(&s, "/api/v1/runbooks", &s.viewer).await;
        let flagged = list["problems"].as_array().unwrap().iter().any(|p| {
            p["file"] == "lsass.md"
                && p["severity"] == "error"
                && p["line"].as_u64().is_some()
                && p["message"].as_str().unwrap().contains("last good version")
        });
        if flagged {
            let stale = list["runbooks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["file"] == "lsass.md")
                .unwrap();
            assert_eq!(stale["stale"], true);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "broken edit not reported: {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        titles(&enrich(&s, "T1003.001", None).await),
        ["LSASS v2", "Dumping"]
    );

    // Fixed again, then removed.
    write(
        dir,
        "lsass.md",
        &runbook("LSASS v4", "[T1003.001]", None, &["Four."]),
    );
    eventually(&s, "T1003.001", "fix", |a| {
        titles(a) == ["LSASS v4", "Dumping"]
    })
    .await;
    std::fs::remove_file(dir.join("lsass.md")).unwrap();
    eventually(&s, "T1003.001", "removal", |a| titles(a) == ["Dumping"]).await;
    let (_, list) = get(&s, "/api/v1/runbooks", &s.viewer).await;
    assert!(list["problems"].as_array().unwrap().is_empty(), "{list}");
    s.stop().await;
}

#[tokio::test]
async fn an_unreadable_folder_stops_the_start() {
    let (_db, url) = sqlite_url();
    let store = attest_store::Store::create(&url).await.unwrap();
    let app = attest_server::AppState::new(store, common::kb(), attest_server::AuthMode::Disabled)
        .await
        .unwrap();
    let missing = std::env::temp_dir().join("attest-no-such-runbook-folder");
    let e = app.load_runbooks(missing.clone()).await.unwrap_err();
    assert!(
        e.to_string().contains("attest-no-such-runbook-folder"),
        "{e}"
    );
}

/// Serves `app` on 127.0.0.1 without authentication.
async fn serve(app: attest_server::AppState) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(attest_server::serve_on(
        listener,
        app,
        Limits::default(),
        async {
            let _ = rx.await;
        },
    ));
    (base, tx)
}

#[tokio::test]
async fn a_profile_brings_its_groups_first_on_the_real_bundle() {
    let Some(dir) = common::attack_dir("a_profile_brings_its_groups_first_on_the_real_bundle")
    else {
        return;
    };
    let (kb, _) =
        attest_attack::load::from_paths(&[dir.join("enterprise-attack-18.1.json.gz")]).unwrap();
    let (_db, url) = sqlite_url();
    let store = attest_store::Store::create(&url).await.unwrap();
    let app = attest_server::AppState::new(store, kb, attest_server::AuthMode::Disabled)
        .await
        .unwrap();
    let (base, stop) = serve(app).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let ask = |body: Value| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let r = client
                .post(format!("{base}/api/v1/enrich"))
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let alert = json!({"techniques": ["T1003.001"], "platform": "Windows"});
    let (status, plain) = ask(alert.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let plain_t = &plain["techniques"][0]["technique"];
    let groups = plain_t["groups"].as_array().unwrap();
    assert!(groups.len() > 5, "{}", groups.len());
    assert!(groups.iter().all(|g| g.get("in_profile").is_none()));
    assert!(plain["techniques"][0].get("profile").is_none());
    // The last group in ATT&CK's order, named by its name in a profile.
    let chosen = groups.last().unwrap();
    let (chosen_id, chosen_name) = (
        chosen["id"].as_str().unwrap(),
        chosen["name"].as_str().unwrap(),
    );
    let yaml = format!("name: soc-priority\nactors:\n  - actor: {chosen_name}\n    weight: 2\n");
    let r = client
        .post(format!("{base}/api/v1/profiles"))
        .header("content-type", "application/yaml")
        .body(yaml)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);

    let mut with = alert.clone();
    with["profile"] = json!("soc-priority");
    let (status, answer) = ask(with).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let t = &answer["techniques"][0];
    let g = t["technique"]["groups"].as_array().unwrap();
    assert_eq!(g[0]["id"], chosen_id);
    assert_eq!(g[0]["in_profile"], true);
    assert!(g[1..].iter().all(|x| x["in_profile"] == false));
    // The rest keep ATT&CK's order.
    let rest: Vec<&Value> = g[1..].iter().map(|x| &x["id"]).collect();
    let before: Vec<&Value> = groups
        .iter()
        .map(|x| &x["id"])
        .filter(|id| *id != chosen_id)
        .collect();
    assert_eq!(rest, before);
    // Procedures: the profile's block first (the group's own among them), each marked.
    let procs = t["technique"]["procedures"].as_array().unwrap();
    assert_eq!(procs.len(), plain_t["procedures"].as_array().unwrap().len());
    let lead = procs.iter().take_while(|p| p["in_profile"] == true).count();
    assert!(lead >= 1);
    assert!(procs[lead..].iter().all(|p| p["in_profile"] == false));
    assert!(
        procs[..lead]
            .iter()
            .any(|p| p["id"] == chosen_id && p["kind"] == "group")
    );
    // The technique stands in the profile's target set (the group uses it directly).
    assert_eq!(t["profile"]["name"], "soc-priority");
    assert_eq!(t["profile"]["in_target_set"], true);
    assert_eq!(t["profile"]["actors"], json!([chosen_id]));
    assert!(t["profile"]["rank"].as_u64().is_some());
    // The rest of the facts are the same bytes.
    assert_eq!(t["technique"]["mitigations"], plain_t["mitigations"]);
    assert_eq!(t["technique"]["related"], plain_t["related"]);

    // Asked again, the same answer (from the per-snapshot cache); without profile, unchanged.
    let (_, again) =
        ask(json!({"techniques": ["T1003.001"], "platform": "Windows", "profile": "soc-priority"}))
            .await;
    assert_eq!(again["techniques"][0]["technique"], t["technique"]);
    let (_, plain_again) = ask(alert.clone()).await;
    assert_eq!(plain_again["techniques"][0]["technique"], *plain_t);

    // An unknown profile is a 404 naming it.
    let (status, problem) = ask(json!({"techniques": ["T1003.001"], "profile": "nope"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(problem["code"], "profile-not-found");
    assert!(
        problem["detail"].as_str().unwrap().contains("\"nope\""),
        "{problem}"
    );
    let r = client
        .get(format!(
            "{base}/api/v1/enrich?technique=T1003.001&profile=nope"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let _ = stop.send(());
}
