//! Uploads: the body of an import is one file (its raw bytes, named by the `path` query
//! parameter or a default), or several as JSON `{"files": [{"path" | "name", "content"}]}` —
//! the shape the rule import takes. Bad files are answered with one 422 naming every file and
//! line, and nothing is written.

use attest_formats::{Diagnostic, Severity};
use serde::Deserialize;
use utoipa::ToSchema;

use super::unprocessable;
use crate::problem::Problem;

/// Several files in one upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Files {
    /// The files.
    files: Vec<NamedFile>,
}

/// One file of an upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NamedFile {
    /// Its name or path (names it in problems).
    #[serde(alias = "name")]
    path: String,
    /// Its text.
    content: String,
}

impl NamedFile {
    /// Its name.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Its text.
    pub(crate) fn content(&self) -> &str {
        &self.content
    }
}

/// The files of a body: a [`Files`] document, or the body itself named `name`.
pub(crate) fn files(
    bytes: &[u8],
    name: Option<&str>,
    default: &str,
) -> Result<Vec<(String, Vec<u8>)>, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request("empty-body", "the upload is empty"));
    }
    if name.is_none()
        && let Ok(bundle) = serde_json::from_slice::<Files>(bytes)
    {
        if bundle.files.is_empty() {
            return Err(Problem::bad_request(
                "empty-body",
                "files: the upload holds no file",
            ));
        }
        return Ok(bundle
            .files
            .into_iter()
            .map(|f| (f.path, f.content.into_bytes()))
            .collect());
    }
    Ok(vec![(name.unwrap_or(default).to_string(), bytes.to_vec())])
}

/// A 422 naming every error among `diags` (`path:line: message`), or `Ok` with the warnings
/// as text when there is none.
pub(crate) fn check(code: &'static str, diags: &[Diagnostic]) -> Result<Vec<String>, Problem> {
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    if !errors.is_empty() {
        return Err(unprocessable(
            code,
            format!(
                "{} problem(s); nothing was written: {}",
                errors.len(),
                errors.join("; ")
            ),
        ));
    }
    Ok(diags.iter().map(ToString::to_string).collect())
}

/// The raw body, or a problem document when it cannot be read (too large: 413
/// `body-too-large`), as JSON bodies get from [`crate::problem::from_json_rejection`].
pub(crate) fn bytes(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::body::Bytes, Problem> {
    body.map_err(|rejection| {
        let status = rejection.status();
        let code = if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            "body-too-large"
        } else {
            "invalid-body"
        };
        Problem::new(status, code, rejection.body_text())
    })
}
