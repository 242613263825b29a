//! The OpenAPI document, generated from the handlers' annotations and the types' schemas
//! (utoipa), served at `/api/openapi.json`.

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::state::AppState;

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
        description = "Electronic licences: issue, register (电子证照互认), checks, holder authorisations, verification; the platform's RFC 3161 time-stamping authority. \
                       Errors are JSON {code, message} with stable codes."
    ),
    paths(
        super::health::healthz,
        super::pki::roots,
        super::pki::pki_file,
        super::pki::trust_list,
        super::verify::verify,
        super::verify::page,
        super::bundle_page::page,
        super::home::home,
        super::home::verify_text,
        super::home::verify_form,
        super::licences::issue,
        super::licences::renew,
        super::licences::pdf,
        super::licences::ofd,
        super::bundles::issue,
        super::bundles::show,
        super::bundles::receipt,
        super::delegations::granted,
        super::register::read,
        super::register::list,
        super::register::check,
        super::register::set_status,
        super::register::history,
        super::holder::holder_licences,
        super::holder::holder_access_log,
        super::holder::authorise,
        super::holder::revoke_authorisation,
        super::audit::checkpoint,
        super::tsa::stamp,
        super::pki::tsa_chains,
        super::imports::start,
        super::imports::job,
    ),
    components(schemas(
        super::error::ErrorBody,
        super::verify::VerifyRequest,
        crate::verify::Report,
        crate::verify::BundleReport,
        crate::verify::BundleSummary,
        crate::verify::BundleLicenceReport,
        super::licences::IssueBody,
        super::licences::IssuedBody,
        super::licences::Render,
        super::bundles::BundleBody,
        super::bundles::BundleLicenceBody,
        crate::platform::BundleContent,
        crate::platform::BundleEntry,
        crate::platform::EntryProblem,
        super::delegations::DelegationsBody,
        crate::platform::DelegationView,
        super::register::StatusBody,
        crate::licence::LicenceInput,
        crate::licence::HolderInput,
        crate::licence::MatterInput,
        crate::licence::LicenceStatus,
        crate::licence::DocumentKind,
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
        super::imports::ImportPathBody,
        super::imports::ImportStarted,
        crate::platform::import::ImportJobView,
        crate::store::ImportCounts,
        crate::store::ImportErrorLine,
    )),
    modifiers(&BearerKeys)
)]
#[derive(Debug)]
pub struct ApiDoc;

impl ApiDoc {
    /// The document as served: the annotations' document with [`conformance`] applied.
    pub fn document() -> Value {
        let mut doc = serde_json::to_value(Self::openapi()).unwrap_or_else(|_| json!({}));
        conformance(&mut doc);
        doc
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { Json(ApiDoc::document()) }))
}

/// Printable ASCII with at least one non-space character. OpenAPI cannot say which bytes
/// a header carries; the service also takes UTF-8 text (e.g. a purpose in Chinese).
const HEADER_TEXT: &str = r"^[\x20-\x7E]*[\x21-\x7E][\x20-\x7E]*$";

/// What the annotations cannot say, applied once over the whole document so that it
/// states every status the service answers and the exact input it accepts:
/// - the shared layers' answers on every operation: 400 (a parameter or body the
///   extractors refuse), 414 and 431 (request target or header section too large), 401
///   and 429 where a key is needed, 413 and 415 where a body is taken; under `/v/` these
///   are HTML pages;
/// - the access headers' and `Idempotency-Key`'s limits, as the handlers check them;
/// - the bodies' constraints (enumerations, lengths, "exactly one of").
fn conformance(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, operations) in paths.iter_mut() {
            let Some(operations) = operations.as_object_mut() else { continue };
            for (method, op) in operations.iter_mut() {
                let has_parameters = constrain_parameters(path, op);
                add_responses(path, method, op, has_parameters);
            }
        }
    }
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        constrain_schemas(schemas);
    }
    // A time-stamp request is DER: bytes, not text.
    if let Some(schema) =
        doc.pointer_mut("/paths/~1tsa/post/requestBody/content/application~1timestamp-query/schema")
    {
        *schema = json!({"type": "string", "format": "binary", "maxLength": crate::tsa::MAX_REQUEST_BYTES});
    }
}

/// A header's schema: printable text of 1 to `max` characters.
fn header_text(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": HEADER_TEXT})
}

/// States the limits of the operation's parameters as the handlers check them; true if it
/// has any.
fn constrain_parameters(path: &str, op: &mut Value) -> bool {
    let mut any = false;
    for param in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
        any = true;
        let name = param["name"].as_str().unwrap_or_default().to_owned();
        match name.as_str() {
            "X-Purpose" => param["schema"] = header_text(crate::platform::MAX_PURPOSE),
            "X-Authorisation-Code" | "X-Matter-Code" => {
                param["schema"] = header_text(super::headers::MAX_CODE_CHARS);
            }
            "Idempotency-Key" => {
                param["schema"] = header_text(crate::platform::MAX_IDEMPOTENCY_KEY);
                param["required"] = json!(true);
            }
            "status" => param["schema"] = json!({"type": "string", "enum": STATUS_CODES}),
            "limit" => param["schema"]["maximum"] = json!(u32::MAX),
            "after" => param["schema"]["maximum"] = json!(u64::MAX),
            _ => {}
        }
        if name == "X-Purpose" && path.ends_with("/pdf") {
            // The issuing department reads its own PDF without stating a purpose.
            param["required"] = json!(false);
        }
    }
    any
}

/// Adds the shared layers' answers and [`EXTRA_RESPONSES`] to the operation's responses,
/// keeping those its annotation states; under `/v/` they are HTML pages.
fn add_responses(path: &str, method: &str, op: &mut Value, has_parameters: bool) {
    let content = if path.starts_with("/v/") || path.starts_with("/b/") {
        json!({"text/html": {"schema": {"type": "string"}}})
    } else {
        json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}})
    };
    let secured = op.get("security").is_some();
    let has_body = op.get("requestBody").is_some();
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { return };
    let mut add = |status: u16, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| json!({"description": description, "content": content}));
    };
    add(414, "The request target is longer than 8 KiB (code uri_too_long)");
    add(431, "More than 64 header fields or 32 KiB of headers (code headers_too_large)");
    if has_body || has_parameters {
        add(400, "Invalid input");
    }
    if secured {
        add(401, "No or bad API key");
        add(429, "Rate limited; see Retry-After");
    }
    if has_body {
        add(413, "The body is too large (code payload_too_large)");
        add(415, "Not the content type documented here (code unsupported_media_type)");
    }
    for &(p, m, status, description) in EXTRA_RESPONSES {
        if p == path && m == method {
            add(status, description);
        }
    }
}

/// States the bodies' constraints: enumerations, lengths, "exactly one of".
fn constrain_schemas(schemas: &mut serde_json::Map<String, Value>) {
    for (schema, pointer, value) in schema_constraints() {
        if let Some(target) = schemas.get_mut(schema).and_then(|s| s.pointer_mut(pointer)) {
            *target = value;
        }
    }
    if let Some(verify) = schemas.get_mut("VerifyRequest").and_then(Value::as_object_mut) {
        verify.insert("oneOf".into(), exactly_one(&["token", "url", "identifier"]));
    }
    if let Some(check) = schemas.get_mut("CheckRequest").and_then(Value::as_object_mut) {
        check.insert(
            "oneOf".into(),
            json!([
                {"required": ["identifier"], "properties": {"identifier": {"type": "string"}, "holder_code": {"type": "null"}, "type_code": {"type": "null"}}},
                {"required": ["holder_code", "type_code"], "properties": {"identifier": {"type": "null"}, "holder_code": {"type": "string"}, "type_code": {"type": "string"}}}
            ]),
        );
    }
}

/// Schema, JSON pointer into it, and the property schema that replaces the generated one.
fn schema_constraints() -> [(&'static str, &'static str, Value); 8] {
    [
        (
            "AuthorisationRequest",
            "/properties/holder_code_type",
            json!({"type": "string", "enum": ["001", "111"]}),
        ),
        (
            "AuthorisationRequest",
            "/properties/licence_ids",
            json!({"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 20}),
        ),
        (
            "AuthorisationRequest",
            "/properties/ttl_seconds",
            json!({"type": ["integer", "null"], "minimum": 1, "maximum": 30 * 24 * 3600}),
        ),
        (
            "AuthorisationRequest",
            "/properties/uses",
            json!({"type": ["integer", "null"], "minimum": 1, "maximum": 100}),
        ),
        (
            "StatusBody",
            "/properties/status",
            json!({"type": "string", "enum": ["valid", "suspended", "revoked", "cancelled", "01", "02", "03", "04"]}),
        ),
        (
            "StatusBody",
            "/properties/reason",
            json!({"type": "string", "minLength": 1, "maxLength": 500, "pattern": r"\S"}),
        ),
        (
            "HolderInput",
            "/properties/code_type",
            json!({"type": ["string", "null"], "enum": ["001", "111", null]}),
        ),
        ("CheckClaims", "/properties/valid_on", json!({"type": ["string", "null"], "format": "date"})),
    ]
}

/// `oneOf` branches: exactly one of `names` is a string, the others null.
fn exactly_one(names: &[&str]) -> Value {
    let branches: Vec<Value> = names
        .iter()
        .map(|given| {
            let properties: serde_json::Map<String, Value> = names
                .iter()
                .map(|n| {
                    let t = if n == given { json!({"type": "string"}) } else { json!({"type": "null"}) };
                    ((*n).to_owned(), t)
                })
                .collect();
            json!({"required": [given], "properties": properties})
        })
        .collect();
    Value::Array(branches)
}

/// Licence status codes (证照状态).
const STATUS_CODES: [&str; 8] = ["01", "02", "03", "04", "05", "06", "07", "99"];

/// Statuses one operation answers besides those its annotation lists.
const EXTRA_RESPONSES: &[(&str, &str, u16, &str)] = &[
    ("/api/v1/licences", "post", 404, "Unknown seal or licence type"),
    ("/api/v1/licences/{id}/versions", "post", 404, "Unknown licence, seal or licence type"),
    ("/api/v1/licences/{id}/versions", "post", 200, "Replayed for the same Idempotency-Key"),
    ("/api/v1/licences/{id}/status", "post", 404, "Unknown licence"),
    ("/api/v1/authorisations", "post", 404, "A licence of this holder is unknown"),
];
