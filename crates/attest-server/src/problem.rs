//! RFC 9457 problem documents: every error the API returns, with a stable machine `code`.

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An API error, answered as `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank`-style tags under our namespace).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, human summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// A stable machine-readable code clients can branch on (e.g. `rule-not-found`).
    pub code: &'static str,
}

impl Problem {
    /// A problem with a status, a stable code and a detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("https://attest.invalid/problems/{code}"),
            title: status.canonical_reason().unwrap_or("error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
        }
    }

    /// 400 with code `bad-request` or a more precise one.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 404.
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, code, detail)
    }

    /// 500 for a store failure: the detail names the operation, the cause is logged.
    pub fn store(operation: &str, error: &attest_store::Error) -> Problem {
        tracing::error!(%error, operation, "store failure");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            format!("{operation}: {error}"),
        )
    }

    /// The status as an `http` value.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (status, [(CONTENT_TYPE, "application/problem+json")], body).into_response()
    }
}

/// Maps a JSON body rejection (syntax, wrong shape, too large, wrong content type) to a
/// problem, so clients never see axum's plain-text rejections.
pub fn from_json_rejection(rejection: axum::extract::rejection::JsonRejection) -> Problem {
    let status = rejection.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        _ => "invalid-json",
    };
    Problem::new(status, code, rejection.body_text())
}

/// Maps a query-string rejection to a problem.
pub fn from_query_rejection(rejection: axum::extract::rejection::QueryRejection) -> Problem {
    Problem::new(rejection.status(), "invalid-query", rejection.body_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_carry_status_code_and_type() {
        let p = Problem::not_found("rule-not-found", "no rule `x`");
        assert_eq!(p.status, 404);
        assert_eq!(p.title, "Not Found");
        assert_eq!(p.kind, "https://attest.invalid/problems/rule-not-found");
        let json = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(json["code"], "rule-not-found");
        assert_eq!(json["type"], p.kind.as_str());
    }
}
