//! The dashboard in a real headless Chromium, driven over WebDriver (`fantoccini` and Debian's
//! `chromedriver`): `attest demo` builds the demo workspace on the real ATT&CK bundle, `attest
//! serve` serves it, and the browser checks states, filters, a technique link and that hostile
//! rule titles run nothing. Screenshots are kept under `target/tmp/dashboard-screenshots/`.
//!
//! Needs `chromedriver` and `chromium` (`apt-get install chromium chromium-driver`): without
//! them the test says SKIPPED, and fails when `ATTEST_REQUIRE_BROWSER=1` (as `.ci/run` sets).
//! Needs the ATT&CK bundle (`ATTEST_ATTACK_BUNDLE` or `ATTEST_ATTACK_DIR`), gated like the
//! other real-data tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Kills the child process when dropped (a failing test must not leave servers behind).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn browser(test: &str) -> Option<(PathBuf, PathBuf)> {
    let driver = std::env::var("ATTEST_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
    let chromium = std::env::var("ATTEST_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    if Path::new(&driver).exists() && Path::new(&chromium).exists() {
        return Some((driver.into(), chromium.into()));
    }
    assert!(
        std::env::var("ATTEST_REQUIRE_BROWSER").map_or(true, |v| v != "1"),
        "{test}: ATTEST_REQUIRE_BROWSER=1 but {driver} or {chromium} is missing \
         (apt-get install chromium chromium-driver)"
    );
    eprintln!(
        "SKIPPED: {test}: no headless browser ({driver}, {chromium}); \
         apt-get install chromium chromium-driver to run it"
    );
    None
}

fn bundle(test: &str) -> Option<PathBuf> {
    if let Ok(b) = std::env::var("ATTEST_ATTACK_BUNDLE")
        && !b.is_empty()
    {
        return Some(b.into());
    }
    if let Ok(d) = std::env::var("ATTEST_ATTACK_DIR")
        && !d.is_empty()
    {
        return Some(Path::new(&d).join("enterprise-attack-18.1.json.gz"));
    }
    assert!(
        std::env::var("ATTEST_REQUIRE_CORPORA").map_or(true, |v| v != "1"),
        "{test}: ATTEST_REQUIRE_CORPORA=1 but neither ATTEST_ATTACK_BUNDLE nor ATTEST_ATTACK_DIR is set"
    );
    eprintln!("SKIPPED: {test}: set ATTEST_ATTACK_BUNDLE or ATTEST_ATTACK_DIR to run");
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn attest(bundle: &Path, workspace: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_attest"))
        .arg("--attack")
        .arg(bundle)
        .arg("--workspace")
        .arg(workspace)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "attest {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn wait_for(url: &str) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if client.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{url} did not answer within 60 s");
}

async fn shot(client: &fantoccini::Client, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

async fn state_of(client: &fantoccini::Client, technique: &str) -> Option<String> {
    let css = format!(r#"li[data-technique="{technique}"]"#);
    match client.find(Locator::Css(&css)).await {
        Ok(el) => el.attr("data-state").await.unwrap(),
        Err(_) => None,
    }
}

async fn wait_url(client: &fantoccini::Client, contains: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains(contains)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the browser never reached a URL with {contains}: {}",
        client.current_url().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_a_real_browser() {
    let test = "dashboard_in_a_real_browser";
    let Some(bundle) = bundle(test) else { return };
    let Some((driver, chromium)) = browser(test) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("demo");
    attest(
        &bundle,
        &ws,
        &["demo", "--dir", ws.to_str().unwrap(), "--no-serve"],
    );
    // Rules whose titles try to run script: the pages must show them as text.
    let hostile = tmp.path().join("hostile.csv");
    std::fs::write(
        &hostile,
        "id,title,techniques\n\
         hostile-1,\"<script>window.__attestPwned=1;alert(1)</script> attest-hostile\",T1059.001\n\
         hostile-2,\"\"\"><img src=x onerror=\"\"window.__attestPwned=2;alert(2)\"\"> attest-hostile\",T1082\n",
    )
    .unwrap();
    attest(
        &bundle,
        &ws,
        &[
            "rules",
            "import",
            "csv",
            hostile.to_str().unwrap(),
            "--root",
            "hostile",
        ],
    );

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Killed(
        Command::new(env!("CARGO_BIN_EXE_attest"))
            .arg("--attack")
            .arg(&bundle)
            .arg("--workspace")
            .arg(&ws)
            .args(["serve", "--insecure-no-auth", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let dport = free_port();
    let _driver = Killed(
        Command::new(&driver)
            .arg(format!("--port={dport}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(&format!("{base}/healthz")).await;
    wait_for(&format!("http://127.0.0.1:{dport}/status")).await;

    let profile_dir = tmp.path().join("chromium-profile");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1600,1000",
                format!("--user-data-dir={}", profile_dir.display()),
            ]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{dport}"))
        .await
        .expect("a WebDriver session with headless Chromium");

    // The matrix: known demo techniques in their states.
    client.goto(&format!("{base}/")).await.unwrap();
    let headline = client
        .find(Locator::Id("headline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(headline.contains("validated"), "{headline}");
    for (technique, want) in [
        ("T1059.001", "validated"), // fresh pass
        ("T1003.001", "validated"),
        ("T1105", "failing"), // latest run failed
        ("T1110.003", "failing"),
        ("T1543.003", "unvalidated"), // pass older than the freshness window
        ("T1218.011", "unvalidated"), // tuned after its pass
        ("T1621", "degraded"),        // its source is only planned
        ("T1548.003", "degraded"),    // its only source went silent after the pass
        ("T1595", "gap"),
    ] {
        assert_eq!(
            state_of(&client, technique).await.as_deref(),
            Some(want),
            "{technique}"
        );
    }
    shot(&client, "01-matrix").await;

    // A filter: choosing a state submits the form (the page's own script), and the URL keeps it.
    client
        .find(Locator::Css(r#"select[name="state"]"#))
        .await
        .unwrap()
        .select_by_value("failing")
        .await
        .unwrap();
    wait_url(&client, "state=failing").await;
    assert_eq!(state_of(&client, "T1105").await.as_deref(), Some("failing"));
    assert_eq!(state_of(&client, "T1059.001").await, None, "filtered out");
    shot(&client, "02-filter-failing").await;

    // The reason shows on keyboard focus.
    let link = client
        .find(Locator::Css(r#"li[data-technique="T1105"] > a.tech"#))
        .await
        .unwrap();
    client
        .execute(
            "arguments[0].focus();",
            vec![serde_json::to_value(&link).unwrap()],
        )
        .await
        .unwrap();
    let tip = link.find(Locator::Css(".tip")).await.unwrap();
    assert!(
        tip.is_displayed().await.unwrap(),
        "the reason is visible on focus"
    );
    assert!(
        tip.text().await.unwrap().contains("failed"),
        "the reason names the failure"
    );
    shot(&client, "03-focus-reason").await;

    // Following the technique link keeps the filters and shows the rules and the failure.
    link.click().await.unwrap();
    wait_url(&client, "/techniques/T1105").await;
    let h1 = client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(h1.contains("T1105"), "{h1}");
    let body = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Certutil download"), "{body}");
    assert!(body.contains("failing"));
    shot(&client, "04-technique").await;

    // Hostile titles: shown as text, nothing ran.
    for path in [
        "/rules?q=attest-hostile",
        "/rules/hostile-1",
        "/rules/hostile-2",
        "/techniques/T1059.001",
        "/?q=T1082",
    ] {
        client.goto(&format!("{base}{path}")).await.unwrap();
        assert!(
            client.get_alert_text().await.is_err(),
            "{path}: an alert opened"
        );
        let pwned = client
            .execute("return typeof window.__attestPwned;", vec![])
            .await
            .unwrap();
        assert_eq!(
            pwned,
            serde_json::json!("undefined"),
            "{path}: the payload ran"
        );
        let images = client.find_all(Locator::Css("main img")).await.unwrap();
        assert!(images.is_empty(), "{path}: an injected element exists");
    }
    client
        .goto(&format!("{base}/rules?q=attest-hostile"))
        .await
        .unwrap();
    let table = client
        .find(Locator::Id("rules"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("<script>window.__attestPwned=1;alert(1)</script>"),
        "{table}"
    );
    shot(&client, "05-hostile-titles").await;

    // Trends: the server-side SVG chart loads as an image; the regressions are listed.
    client.goto(&format!("{base}/trends")).await.unwrap();
    let width = client
        .execute(
            "const i = document.getElementById('trend'); return i.complete ? i.naturalWidth : -1;",
            vec![],
        )
        .await
        .unwrap();
    assert!(width.as_i64().unwrap_or(0) > 0, "the chart loaded: {width}");
    let regressions = client
        .find(Locator::Id("regressions"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        regressions.contains("T1105"),
        "the failing certutil rule is a regression: {regressions}"
    );
    shot(&client, "06-trends").await;

    client.close().await.unwrap();
}
