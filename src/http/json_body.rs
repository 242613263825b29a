//! JSON request bodies read strictly: serde's derived structs also take a JSON array
//! (fields by position), so the places the document declares objects are checked first.

use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// Parses `bytes` as `T` after checking that the body and the members at `objects`
/// (JSON pointers, e.g. `/licence/holder`) are objects when present and not null.
/// Anything else answers 400 `invalid_json`.
pub(super) fn parse<T: DeserializeOwned>(bytes: &[u8], objects: &[&str]) -> Result<T, ApiError> {
    let bad =
        |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", format!("request body: {m}"));
    let value: Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    for pointer in std::iter::once(&"").chain(objects) {
        match value.pointer(pointer) {
            None | Some(Value::Null | Value::Object(_)) => {}
            Some(_) if pointer.is_empty() => return Err(bad("must be a JSON object".into())),
            Some(_) => {
                let name = pointer.trim_start_matches('/').replace('/', ".");
                return Err(bad(format!("{name} must be a JSON object")));
            }
        }
    }
    serde_json::from_value(value).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // Read by Debug only: the test is that parsing fails or not.
    struct Inner {
        a: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        inner: Option<Inner>,
    }

    #[test]
    fn arrays_where_objects_belong_are_refused() {
        assert!(parse::<Outer>(br#"{"inner": {"a": "x"}}"#, &["/inner"]).is_ok());
        assert!(parse::<Outer>(br#"{"inner": null}"#, &["/inner"]).is_ok());
        assert!(parse::<Outer>(br#"{}"#, &["/inner"]).is_ok());
        // serde alone takes both arrays.
        assert!(serde_json::from_str::<Outer>(r#"[["x"]]"#).is_ok());
        for body in [r#"[["x"]]"#, r#"{"inner": ["x"]}"#, r#""text""#, "3"] {
            let e = parse::<Outer>(body.as_bytes(), &["/inner"]).unwrap_err();
            let response = axum::response::IntoResponse::into_response(e);
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        }
    }
}
