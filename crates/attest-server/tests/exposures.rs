//! `GET /api/v1/exposures` and `/api/v1/exposures/{id}` over HTTP: effective priorities with
//! their reasons, filters, one exposure or a finding's assets, and problems for bad input.

mod common;

use attest_core::exposure::{
    Exposure, ExposureStatus, FindingMapping, MappingKind, MappingSet, MappingType, Severity,
};
use attest_core::journal::Event;
use attest_server::Limits;
use attest_store::NewEntry;
use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::Value;

use common::{Running, sqlite_url, start};

async fn get(s: &Running, path: &str) -> (StatusCode, Value) {
    let r = s
        .client
        .get(s.url(path))
        .bearer_auth(&s.viewer)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn finding(asset: &str, id: &str, cvss: f64) -> Exposure {
    Exposure {
        asset: asset.into(),
        finding: id.into(),
        title: format!("{id} on {asset}"),
        severity: Severity::Cvss(cvss),
        first_seen: None,
        last_seen: None,
        status: ExposureStatus::Open,
        techniques: Vec::new(),
        feed: "scanner".into(),
    }
}

#[tokio::test]
async fn exposures_are_listed_by_effective_priority_with_reasons() {
    let (_dir, url) = sqlite_url();
    let s = start(&url, Limits::default()).await;
    let now = Timestamp::now();
    // The seeded workspace has an untested rule on T1003.001 and nothing on T1003.008.
    let mut fixed = finding("db-01", "CVE-2020-0002", 9.0);
    fixed.status = ExposureStatus::Fixed;
    let batch = vec![
        Event::ExposureObserved(finding("web-01", "CVE-2024-0001", 6.0)),
        Event::ExposureObserved(finding("web-02", "CVE-2024-0001", 4.0)),
        Event::ExposureObserved(finding("app-01", "CVE-2024-0002", 7.0)),
        Event::ExposureObserved(fixed),
        Event::ExposureMappingsLoaded(MappingSet {
            name: "kev".into(),
            kind: MappingKind::Cve,
            attack_version: Some("16.1".into()),
            remap: Vec::new(),
            mappings: vec![
                FindingMapping {
                    finding: "CVE-2024-0001".into(),
                    technique: "T1003.008".into(),
                    mapping_type: MappingType::ExploitationTechnique,
                },
                FindingMapping {
                    finding: "CVE-2024-0002".into(),
                    technique: "T1003.001".into(),
                    mapping_type: MappingType::PrimaryImpact,
                },
            ],
        }),
    ]
    .into_iter()
    .map(|e| NewEntry::new("test", now, e))
    .collect();
    s.store
        .append(batch)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    s.app.refresh(true).await.unwrap_or_else(|e| panic!("{e}"));

    let (status, body) = get(&s, "/api/v1/exposures").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["count"], 3,
        "fixed findings are not listed by default: {body}"
    );
    let ids: Vec<&str> = body["exposures"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    // web-01: 6 + 4 × 0.5 = 8 (gap); app-01: 7 + 3 × 0.25 = 7.75 (unvalidated); web-02: 7.
    assert_eq!(
        ids,
        [
            "CVE-2024-0001@web-01",
            "CVE-2024-0002@app-01",
            "CVE-2024-0001@web-02"
        ]
    );
    let top = &body["exposures"][0];
    assert_eq!(top["effective"], 8.0);
    assert_eq!(top["techniques"][0]["technique"], "T1003.008");
    assert_eq!(top["techniques"][0]["state"], "gap");
    assert_eq!(
        top["reasons"]
            .as_array()
            .and_then(|r| r.last())
            .and_then(Value::as_str),
        Some("effective 8.0 = 6.0 + (10 − 6.0) × 0.5 because T1003.008 gap")
    );

    let (_, by_technique) = get(&s, "/api/v1/exposures?technique=T1003.001").await;
    assert_eq!(by_technique["count"], 1);
    let (_, all) = get(&s, "/api/v1/exposures?status=all&limit=1").await;
    assert_eq!(
        (
            all["count"].as_u64(),
            all["exposures"].as_array().map(Vec::len)
        ),
        (Some(4), Some(1))
    );

    let (status, one) = get(&s, "/api/v1/exposures/CVE-2024-0002@app-01").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["techniques"][0]["state"], "unvalidated");
    assert_eq!(
        one["techniques"][0]["provenance"],
        "CVE mapping kev (primary impact)"
    );
    let (_, assets) = get(&s, "/api/v1/exposures/cve-2024-0001").await;
    assert_eq!(assets["count"], 2, "{assets}");

    let (status, problem) = get(&s, "/api/v1/exposures/CVE-1999-0001@nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["code"], "exposure-not-found", "{problem}");
    let (status, _) = get(&s, "/api/v1/exposures?status=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&s, "/api/v1/exposures?technique=nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.stop().await;
}
