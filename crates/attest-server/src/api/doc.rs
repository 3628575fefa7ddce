//! The OpenAPI document's frame: title, version, the bearer scheme, and the tags. The paths
//! come from the handlers' `#[utoipa::path]` annotations as they are routed.

use utoipa::Modify;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

/// The document's frame.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "attest",
        description = "The attest HTTP API: ATT&CK detection coverage — validated, assumed or missing. \
            Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`. \
            Every `/api/v1` route needs `Authorization: Bearer <token>`: viewers read, engineers \
            also write rules, sources and results, admins also write profiles, tokens and webhooks."
    ),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    components(schemas(crate::problem::Problem)),
    tags(
        (name = "health", description = "Probes, metrics, this document"),
        (name = "attack", description = "The ATT&CK knowledge base"),
        (name = "rules", description = "The detection rule registry"),
        (name = "sources", description = "The data source inventory"),
        (name = "validation", description = "Tests and validation results"),
        (name = "intel", description = "Actors, profiles, API tokens"),
        (name = "coverage", description = "Coverage, diffs, backlog, Navigator layers, the CI check, SOAR enrichment"),
        (name = "exposures", description = "Exposures (CTEM) by effective priority: severity raised where their techniques lack validated detection"),
        (name = "webhooks", description = "Webhook subscriptions and their delivery log (admin)"),
        (name = "jobs", description = "Scheduled jobs: list, run now"),
    )
)]
pub(super) struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}
