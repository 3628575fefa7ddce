//! The dashboard over real HTTP: sign-in with CSRF, every page's status, escaping of hostile
//! text, the security headers, filters in the URL and the downloads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use attest_core::journal::Event;
use attest_server::Limits;
use attest_store::NewEntry;
use jiff::Timestamp;

const HOSTILE_SCRIPT: &str = "<script>window.__attestPwned=1</script>";
const HOSTILE_IMG: &str = "\"><img src=x onerror=\"window.__attestPwned=2\">";

/// An `application/x-www-form-urlencoded` body.
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

fn set_cookie_value(res: &reqwest::Response, name: &str) -> Option<(String, String)> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v
                .split(';')
                .next()
                .unwrap()
                .split_once('=')
                .unwrap()
                .1
                .to_string();
            (value, v.to_string())
        })
}

/// Signs in with `token` through the form; returns the Cookie header to send afterwards.
async fn sign_in(srv: &common::Running, token: &str) -> String {
    let c = no_redirects();
    let page = c.get(srv.url("/login?next=/rules")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (csrf, csrf_header) = set_cookie_value(&page, "attest_csrf").expect("a CSRF cookie");
    assert!(csrf_header.contains("HttpOnly") && csrf_header.contains("SameSite=Strict"));
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("name=\"csrf\" value=\"{csrf}\"")));
    let cookie = format!("attest_csrf={csrf}");

    // A forged form (no matching CSRF token) is refused.
    let forged = c
        .post(srv.url("/login"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("token", token), ("csrf", "0000"), ("next", "/")]))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    // A wrong token goes back to the form.
    let wrong = c
        .post(srv.url("/login"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("token", "attest_nope"),
            ("csrf", csrf.as_str()),
            ("next", "/"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 303);
    assert!(
        wrong.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?failed=1")
    );

    let ok = c
        .post(srv.url("/login"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("token", token),
            ("csrf", csrf.as_str()),
            ("next", "/rules"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/rules");
    let (session, header) = set_cookie_value(&ok, "attest_session").expect("a session cookie");
    assert_eq!(session, token);
    assert!(header.contains("HttpOnly") && header.contains("SameSite=Strict"));
    format!("attest_csrf={csrf}; attest_session={session}")
}

async fn get(
    srv: &common::Running,
    cookie: &str,
    path: &str,
) -> (u16, String, reqwest::header::HeaderMap) {
    let res = no_redirects()
        .get(srv.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.text().await.unwrap_or_default(), headers)
}

#[tokio::test]
async fn pages_need_a_session_and_render_with_the_security_headers() {
    let (_dir, url) = common::sqlite_url();
    let srv = common::start(&url, Limits::default()).await;

    // Without a session a browser is sent to the login form, remembering where it went.
    let (status, _, headers) = get(&srv, "", "/rules?q=x").await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/login?next=/rules%3Fq%3Dx");
    // A made-up token in the cookie is no session either.
    let (status, _, _) = get(&srv, "attest_session=attest_forged", "/").await;
    assert_eq!(status, 303);

    let cookie = sign_in(&srv, &srv.viewer).await;
    for path in [
        "/",
        "/?state=unvalidated&q=lsass",
        "/?platform=Windows&tactic=credential-access",
        "/?actor=G0007",
        "/techniques/T1003.001",
        "/techniques/T1003",
        "/profiles",
        "/actors?a=G0007&b=APT28",
        "/rules",
        "/rules?validation=untested&tactic=credential-access",
        "/rules/r-lsass",
        "/sources",
        "/backlog",
        "/trends",
        "/trends.svg",
        "/exposures",
        "/exposures?technique=T1110&q=cve",
    ] {
        let (status, body, headers) = get(&srv, &cookie, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        if path.ends_with(".svg") {
            assert_eq!(headers["content-type"], "image/svg+xml");
            continue;
        }
        assert!(body.contains("<!doctype html>"), "{path}");
        // No inline script and no inline style anywhere (the CSP would block them).
        assert!(
            !body.contains("<script>") && !body.contains("style=\""),
            "{path}"
        );
    }
    for (path, want) in [
        ("/techniques/T9999", 404),
        ("/techniques/nonsense", 404),
        ("/rules/no-such-rule", 404),
        ("/?actor=no-such-group", 400),
        ("/?profile=no-such-profile", 404),
    ] {
        let (status, body, _) = get(&srv, &cookie, path).await;
        assert_eq!(status, want, "{path}: {body}");
    }
    // The static assets are served with the right types.
    let (status, css, headers) = get(&srv, "", "/static/app.css").await;
    assert_eq!(
        (status, &headers["content-type"]),
        (200, &"text/css; charset=utf-8".parse().unwrap())
    );
    assert!(css.contains("--validated"));
    srv.stop().await;
}

#[tokio::test]
async fn the_matrix_shows_states_and_applies_filters_from_the_url() {
    let (_dir, url) = common::sqlite_url();
    let srv = common::start(&url, Limits::default()).await;
    let cookie = sign_in(&srv, &srv.viewer).await;

    let (_, all, _) = get(&srv, &cookie, "/").await;
    // r-lsass is usable but untested: rule exists. Nothing claims Brute Force: gap.
    assert!(
        all.contains(r#"data-technique="T1003.001" data-state="unvalidated""#),
        "{all}"
    );
    assert!(all.contains(r#"data-technique="T1110" data-state="gap""#));
    // Tactics are columns in matrix order (Execution before Credential Access in the fixture).
    let ex = all.find(r#"aria-label="Execution""#).unwrap();
    let ca = all.find(r#"aria-label="Credential Access""#).unwrap();
    assert!(ex < ca);
    // Hover/focus text carries the reason.
    assert!(all.contains("rule r-lsass untested"));

    let (_, only_unvalidated, _) = get(&srv, &cookie, "/?state=unvalidated").await;
    assert!(only_unvalidated.contains(r#"data-technique="T1003.001""#));
    assert!(!only_unvalidated.contains(r#"data-technique="T1110""#));
    // The parent stays as the way to its matching sub-technique, opened.
    assert!(only_unvalidated.contains(r#"data-technique="T1003""#));
    assert!(only_unvalidated.contains("<details open>"));

    let (_, search, _) = get(&srv, &cookie, "/?q=brute").await;
    assert!(search.contains(r#"data-technique="T1110""#));
    assert!(!search.contains(r#"data-technique="T1059""#));

    let (_, tactic, _) = get(&srv, &cookie, "/?tactic=execution").await;
    assert!(tactic.contains(r#"data-technique="T1059""#));
    assert!(!tactic.contains(r#"data-technique="T1110""#));
    // The filters are kept in the page's links (shareable) and in the form.
    assert!(tactic.contains("/downloads/coverage.csv?tactic=execution"));
    assert!(tactic.contains(r#"<option value="execution" selected>"#));

    // Linux: the Windows-only LSASS sub-technique is not shown.
    let (_, linux, _) = get(&srv, &cookie, "/?platform=Linux").await;
    assert!(!linux.contains(r#"data-technique="T1003.001""#));
    assert!(linux.contains(r#"data-technique="T1003.008""#));

    // Actor overlay: techniques APT28 does not use are muted (the fixture's APT28 uses none).
    let (_, actor, _) = get(&srv, &cookie, "/?actor=APT28").await;
    assert!(
        actor.contains(r#"class="cell st-gap muted" data-technique="T1110""#),
        "{actor}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn downloads_hold_what_the_filters_select() {
    let (_dir, url) = common::sqlite_url();
    let srv = common::start(&url, Limits::default()).await;
    let cookie = sign_in(&srv, &srv.viewer).await;

    let (status, csv, headers) =
        get(&srv, &cookie, "/downloads/coverage.csv?state=unvalidated").await;
    assert_eq!(status, 200);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attest-coverage.csv")
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("technique,name,tactics,state"));
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("T1003.001,LSASS Memory"));

    let (status, layer, _) = get(
        &srv,
        &cookie,
        "/downloads/layer.json?tactic=credential-access",
    )
    .await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&layer).unwrap();
    let ids: Vec<&str> = v["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["techniqueID"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"T1003.001") && ids.contains(&"T1110"));
    assert!(!ids.contains(&"T1059"), "{ids:?}");

    let res = no_redirects()
        .get(srv.url("/downloads/coverage.xlsx"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));

    let (status, _, _) = get(&srv, &cookie, "/downloads/layer.json?kind=priority").await;
    assert_eq!(status, 400, "a priority layer needs a profile");
    srv.stop().await;
}

#[tokio::test]
async fn hostile_rule_titles_are_escaped_everywhere() {
    let (_dir, url) = common::sqlite_url();
    let srv = common::start(&url, Limits::default()).await;
    let now = Timestamp::now();
    let batch = vec![
        NewEntry::new(
            "test",
            now,
            Event::RuleUpserted(common::rule(
                "r-evil-1",
                HOSTILE_SCRIPT,
                &["T1110"],
                "Process Access",
            )),
        ),
        NewEntry::new(
            "test",
            now,
            Event::RuleUpserted(common::rule(
                "r-evil-2",
                HOSTILE_IMG,
                &["T1110.001"],
                "Process Access",
            )),
        ),
    ];
    srv.store.append(batch).await.unwrap();
    srv.app.refresh(true).await.unwrap();
    let cookie = sign_in(&srv, &srv.viewer).await;
    for path in [
        "/rules",
        "/rules?q=script",
        "/rules/r-evil-1",
        "/rules/r-evil-2",
        "/techniques/T1110",
        "/techniques/T1110.001",
        "/",
        "/?q=%3Cscript%3E",
    ] {
        let (status, body, _) = get(&srv, &cookie, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            !body.contains("<script>window"),
            "{path} let a script through"
        );
        assert!(
            !body.contains("<img src=x"),
            "{path} let an element through"
        );
        assert!(
            !body.contains("onerror=\"window"),
            "{path} let an attribute through"
        );
    }
    let (_, rule, _) = get(&srv, &cookie, "/rules/r-evil-1").await;
    assert!(
        rule.contains("&#60;script&#62;window.__attestPwned=1&#60;/script&#62;"),
        "{rule}"
    );
    let (_, search, _) = get(&srv, &cookie, "/?q=%3Cscript%3E").await;
    assert!(search.contains(r#"value="&#60;script&#62;""#));
    srv.stop().await;
}

#[tokio::test]
async fn logout_needs_the_csrf_token_and_ends_the_session() {
    let (_dir, url) = common::sqlite_url();
    let srv = common::start(&url, Limits::default()).await;
    let cookie = sign_in(&srv, &srv.viewer).await;
    let csrf = cookie
        .split("; ")
        .find_map(|c| c.strip_prefix("attest_csrf="))
        .unwrap()
        .to_string();
    let c = no_redirects();
    let forged = c
        .post(srv.url("/logout"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", "forged")]))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let ok = c
        .post(srv.url("/logout"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", csrf.as_str())]))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    let (_, header) = set_cookie_value(&ok, "attest_session").unwrap();
    assert!(header.contains("Max-Age=0"));
    // Open redirects are refused: `next` must be a path on this server.
    let (status, html, _) = get(&srv, "", "/login?next=//evil.example/").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"name="next" value="/""#));
    srv.stop().await;
}

#[tokio::test]
async fn exposures_show_on_their_page_and_on_the_technique_they_need() {
    use attest_core::exposure::{Exposure, ExposureStatus, Severity};
    let (_dir, url) = common::sqlite_url();
    let srv = common::start(&url, Limits::default()).await;
    let exposure = Exposure {
        asset: "dc01.corp".into(),
        finding: "CVE-2020-1472".into(),
        title: HOSTILE_SCRIPT.into(),
        severity: Severity::Cvss(6.0),
        first_seen: None,
        last_seen: None,
        status: ExposureStatus::Open,
        techniques: vec!["T1110".into()],
        feed: "scanner".into(),
    };
    srv.store
        .append(vec![NewEntry::new(
            "test",
            Timestamp::now(),
            Event::ExposureObserved(exposure),
        )])
        .await
        .unwrap();
    srv.app.refresh(true).await.unwrap();
    let cookie = sign_in(&srv, &srv.viewer).await;
    for path in [
        "/exposures",
        "/exposures?technique=T1110",
        "/techniques/T1110",
    ] {
        let (status, body, _) = get(&srv, &cookie, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("CVE-2020-1472"), "{path}: {body}");
        assert!(body.contains("dc01.corp"), "{path}");
        assert!(
            !body.contains("<script>window"),
            "{path} let a script through"
        );
    }
    // Nothing detects brute force in the fixture: the finding's priority is raised (6.0 → 8.0).
    let (_, page, _) = get(&srv, &cookie, "/exposures").await;
    assert!(page.contains("<strong>8.0</strong>"), "{page}");
    let (_, other, _) = get(&srv, &cookie, "/exposures?technique=T1059").await;
    assert!(!other.contains("CVE-2020-1472"));

    // The downloads hold what the filters select, with the reasoning.
    assert!(
        page.contains("/downloads/exposures.csv?q=&#38;technique="),
        "{page}"
    );
    let (status, csv, _) = get(&srv, &cookie, "/downloads/exposures.csv?technique=T1110").await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("asset,finding,title,status,severity,effective_priority"));
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].starts_with("dc01.corp,CVE-2020-1472,") && lines[1].contains(",8.0,"),
        "{csv}"
    );
    assert!(lines[1].contains("T1110:gap"), "{csv}");
    let (_, csv, _) = get(&srv, &cookie, "/downloads/exposures.csv?technique=T1059").await;
    assert_eq!(csv.lines().count(), 1, "header only: {csv}");
    let (status, csv, _) = get(&srv, &cookie, "/downloads/sources.csv").await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "name,platforms,scope,state,health,owner,unlocks,techniques"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Sysmon,Windows,") && l.contains("T1003.001")),
        "{csv}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn rules_and_backlog_download_with_their_filters() {
    let (_dir, url) = common::sqlite_url();
    let srv = common::start(&url, Limits::default()).await;
    let cookie = sign_in(&srv, &srv.viewer).await;

    let (status, csv, headers) = get(&srv, &cookie, "/downloads/rules.csv").await;
    assert_eq!(status, 200);
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attest-rules.csv")
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,title,format,techniques,status,validation,owner"
    );
    assert_eq!(lines.len(), 3, "both seeded rules: {csv}");
    let (_, csv, _) = get(&srv, &cookie, "/downloads/rules.csv?technique=T1003").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "the filter applies: {csv}");
    assert!(lines[1].starts_with("r-lsass,LSASS Access,"), "{csv}");
    assert!(lines[1].contains("T1003.001:"), "{csv}");
    // The rules page links to the download with its filters.
    let (_, page, _) = get(&srv, &cookie, "/rules?technique=T1003").await;
    assert!(
        page.contains("/downloads/rules.csv?technique=T1003"),
        "{page}"
    );

    // The backlog is per profile: one with two techniques, neither validated.
    let profile = attest_core::profile::Profile {
        name: "ops".into(),
        extra_techniques: vec![("T1003.001".into(), 2.0), ("T1110".into(), 1.0)],
        ..Default::default()
    };
    srv.store
        .append(vec![attest_store::NewEntry::new(
            "test",
            jiff::Timestamp::now(),
            attest_core::journal::Event::ProfileUpserted(profile),
        )])
        .await
        .unwrap();
    let mut lines = Vec::new();
    for _ in 0..50 {
        // Until the server's snapshot catches up with the append, the profile is unknown (404).
        let (status, csv, _) = get(&srv, &cookie, "/downloads/backlog.csv?profile=ops").await;
        if status == 200 {
            lines = csv.lines().map(str::to_string).collect();
            break;
        }
        assert_eq!(status, 404);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        lines[0].starts_with("id,technique,name,priority,tier,owner,state,due"),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[1].contains(",T1003.001,"),
        "highest priority first: {lines:?}"
    );
    assert!(lines[2].contains(",T1110,"), "{lines:?}");
    let (_, page, _) = get(&srv, &cookie, "/backlog?profile=ops").await;
    assert!(
        page.contains("/downloads/backlog.csv?profile=ops&#38;sort=priority"),
        "{page}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_technique_page_dates_each_change_of_state() {
    let (_dir, url) = common::sqlite_url();
    let srv = common::start(&url, Limits::default()).await;
    let cookie = sign_in(&srv, &srv.viewer).await;
    let history = |page: &str| -> Vec<String> {
        let Some(start) = page.find("<ol class=\"history\">") else {
            return Vec::new();
        };
        let list = &page[start..];
        let list = &list[..list.find("</ol>").unwrap()];
        list.split("<li>").skip(1).map(str::to_string).collect()
    };
    let (_, page, _) = get(&srv, &cookie, "/techniques/T1003.001").await;
    let before = history(&page);
    assert_eq!(before.len(), 1, "one state since the seed: {before:?}");
    assert!(
        before[0].contains("rule exists (unvalidated)"),
        "{before:?}"
    );

    // A pass one minute later is a change dated by its journal entry.
    let at = Timestamp::now() + jiff::SignedDuration::from_secs(60);
    let pass = attest_core::result::ValidationResult {
        rule: attest_core::rule::RuleId("r-lsass".into()),
        technique: "T1003.001".into(),
        test: Some("atomic".into()),
        outcome: attest_core::result::Outcome::Pass,
        at,
        by: "test".into(),
        evidence: attest_core::result::Evidence::default(),
    };
    srv.store
        .append(vec![NewEntry::new("test", at, Event::ResultRecorded(pass))])
        .await
        .unwrap();
    let mut after = Vec::new();
    for _ in 0..50 {
        let (_, page, _) = get(&srv, &cookie, "/techniques/T1003.001").await;
        after = history(&page);
        if after.len() > 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after[1].contains("validated"), "{after:?}");
    let minute = at.strftime("%Y-%m-%d %H:%M UTC").to_string();
    assert!(
        after[1].starts_with(&minute),
        "dated by the entry ({minute}): {after:?}"
    );
    srv.stop().await;
}
