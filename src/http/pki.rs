//! Public PKI material: the root certificates, each root's current CRL at the URL that its
//! seal and TSA certificates name as their CRL distribution point, and the certificate
//! chains of the time-stamping authority.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use time::OffsetDateTime;

use super::error::ApiError;
use super::state::AppState;
use crate::pki::Algorithm;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/pki/root.pem", get(roots))
        .route("/pki/trust-list.json", get(trust_list))
        .route("/pki/tsa.pem", get(tsa_chains))
        .route("/pki/{file}", get(pki_file))
}

#[utoipa::path(get, path = "/pki/root.pem", tag = "pki", responses((status = 200, description = "All root certificates, PEM", content_type = "application/x-pem-file")))]
async fn roots(State(platform): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let pem = platform.pki.roots_pem(None).await?;
    Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem))
}

/// The trust list for offline verifiers and peer platforms: a JWS (flattened JSON, EdDSA)
/// signed by the Ed25519 root, with the roots, seal certificates, the licence types each
/// department may issue, and the current CRLs.
#[utoipa::path(get, path = "/pki/trust-list.json", tag = "pki", responses((status = 200, description = "The signed trust list (JWS, flattened JSON serialisation)", content_type = "application/json")))]
async fn trust_list(State(platform): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let list = platform.verification.trust_list(OffsetDateTime::now_utc()).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=60")],
        list.as_str().to_owned(),
    ))
}

/// The chains of the time-stamping units that sign now, one per root algorithm: each TSA
/// certificate followed by its root (for `openssl ts -verify -untrusted`).
#[utoipa::path(get, path = "/pki/tsa.pem", tag = "pki", responses((status = 200, description = "The current TSA certificate and its root, per algorithm, PEM", content_type = "application/x-pem-file")))]
async fn tsa_chains(State(platform): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let pem = platform.tsa.chain_pem(None, OffsetDateTime::now_utc()).await?;
    Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem))
}

/// `crl-ALG.crl` (DER), `root-ALG.pem` and `tsa-ALG.pem` (the current TSA certificate of
/// that algorithm and its root), ALG one of `ed25519`, `p256`, `sm2`.
#[utoipa::path(get, path = "/pki/{file}", tag = "pki", params(("file" = String, Path, description = "crl-ed25519.crl, crl-p256.crl, crl-sm2.crl (DER, application/pkix-crl) or root-ed25519.pem, root-p256.pem, root-sm2.pem, or tsa-ed25519.pem, tsa-p256.pem, tsa-sm2.pem (the current time-stamping certificate and its root). SM2 certificates and CRLs are signed SM2-with-SM3 (1.2.156.10197.1.501) with the default distinguishing ID 1234567812345678 (OpenSSL: -vfyopt distid:1234567812345678)")), responses((status = 200, description = "The CRL or root certificate"), (status = 404, description = "No such file", body = super::error::ErrorBody)))]
async fn pki_file(
    State(platform): State<AppState>,
    Path(file): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let not_found =
        || ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", format!("no PKI file {file:?}"));
    if let Some(alg) = file.strip_prefix("crl-").and_then(|f| f.strip_suffix(".crl")) {
        let algorithm: Algorithm = alg.parse().map_err(|_| not_found())?;
        let crl = platform.pki.current_crl(algorithm).await?;
        let max_age = (crl.next_update - OffsetDateTime::now_utc()).whole_seconds().clamp(0, 3600);
        return Ok((
            [
                (header::CONTENT_TYPE, "application/pkix-crl".to_owned()),
                (header::CACHE_CONTROL, format!("public, max-age={max_age}")),
            ],
            crl.der,
        )
            .into_response());
    }
    if let Some(alg) = file.strip_prefix("root-").and_then(|f| f.strip_suffix(".pem")) {
        let algorithm: Algorithm = alg.parse().map_err(|_| not_found())?;
        let pem = platform.pki.roots_pem(Some(algorithm)).await?;
        return Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response());
    }
    if let Some(alg) = file.strip_prefix("tsa-").and_then(|f| f.strip_suffix(".pem")) {
        let algorithm: Algorithm = alg.parse().map_err(|_| not_found())?;
        let pem = platform.tsa.chain_pem(Some(algorithm), OffsetDateTime::now_utc()).await?;
        return Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response());
    }
    Err(not_found())
}
