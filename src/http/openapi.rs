//! The OpenAPI document, generated from the handlers' annotations and the types' schemas
//! (utoipa), served at `/api/openapi.json`.

use axum::Json;
use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::AppState;

/// Adds the bearer-key security scheme.
#[derive(Debug)]
struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Zhengzhao (证照) API",
        description = "Electronic licences: issue, register (电子证照互认), checks, holder authorisations, verification. \
                       Errors are JSON {code, message} with stable codes."
    ),
    paths(
        super::healthz,
        super::pki::roots,
        super::pki::pki_file,
        super::pki::trust_list,
        super::verify::verify,
        super::verify::page,
        super::licences::issue,
        super::licences::renew,
        super::licences::pdf,
        super::register::read,
        super::register::list,
        super::register::check,
        super::register::set_status,
        super::register::history,
        super::register::holder_licences,
        super::register::holder_access_log,
        super::register::authorise,
        super::register::revoke_authorisation,
        super::audit::checkpoint,
    ),
    components(schemas(
        super::ErrorBody,
        super::verify::VerifyRequest,
        crate::verify::Report,
        super::licences::IssueBody,
        super::licences::IssuedBody,
        super::register::StatusBody,
        crate::licence::LicenceInput,
        crate::licence::HolderInput,
        crate::licence::MatterInput,
        crate::licence::LicenceStatus,
        crate::platform::LicenceView,
        crate::platform::StatusView,
        crate::platform::CheckRequest,
        crate::platform::CheckClaims,
        crate::platform::CheckResult,
        crate::platform::AuthorisationRequest,
        crate::platform::AuthorisationView,
        crate::store::LicenceEvent,
        crate::audit::AccessEntry,
        crate::audit_checkpoint::Checkpoint,
    )),
    modifiers(&BearerKeys)
)]
#[derive(Debug)]
pub struct ApiDoc;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
