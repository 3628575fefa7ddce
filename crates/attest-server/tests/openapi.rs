//! The OpenAPI document covers the router exactly: every routed path and method is documented,
//! and every documented operation is routed (answered by a handler, not the fallback).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use attest_server::Limits;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use common::{sqlite_url, start};

/// The paths the router matches, read from its `Debug` form (axum lists the path router's
/// `RouteId → path` table there, before the fallback router's; there is no other public way to
/// enumerate an axum router).
fn routed_paths(router: &axum::Router) -> BTreeSet<String> {
    let full = format!("{router:?}");
    let text = full
        .split("fallback_router:")
        .next()
        .unwrap_or_else(|| panic!("unexpected Router debug form: {full}"));
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("RouteId(") {
        rest = &rest[i..];
        let Some(start) = rest.find(": \"") else {
            break;
        };
        let after = &rest[start + 3..];
        let Some(end) = after.find('"') else {
            break;
        };
        let path = &after[..end];
        if !path.contains("__private__axum") {
            out.insert(path.to_string());
        }
        rest = &after[end..];
    }
    out
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// A concrete URL path for a template: `{param}` becomes `x`.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('x');
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_is_routed() {
    let (_dir, url) = sqlite_url();
    let s = start(&url, Limits::default()).await;

    // The served document is the generated one.
    let r = s
        .client
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), StatusCode::OK);
    let served: Value = r.json().await.unwrap_or(Value::Null);
    let generated = serde_json::to_value(attest_server::openapi()).unwrap_or(Value::Null);
    assert_eq!(served, generated);
    assert!(
        served["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "{}",
        served["openapi"]
    );
    assert!(served["components"]["securitySchemes"]["bearer"].is_object());

    let documented: BTreeMap<String, BTreeSet<String>> = served["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths in the document"))
        .iter()
        .map(|(path, item)| {
            let methods = METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| m.to_string())
                .collect();
            (path.clone(), methods)
        })
        .collect();
    assert!(documented.len() >= 30, "{} paths", documented.len());

    let mut routed = routed_paths(&attest_server::router(s.app.clone()));
    // The dashboard's HTML pages are not part of the JSON API.
    routed.retain(|p| !attest_server::web::ROUTES.contains(&p.as_str()));
    assert!(routed.contains("/api/v1/rules/{id}"), "{routed:?}");
    let documented_paths: BTreeSet<String> = documented.keys().cloned().collect();
    let undocumented: Vec<&String> = routed.difference(&documented_paths).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in the OpenAPI document: {undocumented:?}"
    );
    let unrouted: Vec<&String> = documented_paths.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );

    // Per method: a documented operation reaches a handler (whatever it answers, it is not the
    // fallback's 404 nor a 405); an undocumented method on a routed path is a 405.
    for (path, methods) in &documented {
        let url = s.url(&concrete(path));
        for m in METHODS {
            let method =
                Method::from_bytes(m.to_uppercase().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let r = s
                .client
                .request(method, &url)
                .bearer_auth(&s.admin)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{m} {path}: {e}"));
            let status = r.status();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            if methods.contains(m) {
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{m} {path}");
                assert_ne!(
                    body["code"], "route-not-found",
                    "{m} {path} is documented but falls through to the fallback"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{m} {path} is routed but not documented"
                );
            }
        }
    }
    s.stop().await;
}
