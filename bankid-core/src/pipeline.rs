//! The one place where requests are assembled and responses interpreted.

use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::codes::{Endpoint, ErrorCode};
use crate::config::{self, Config};
use crate::error::{ApiError, Error, UnexpectedKind, UnexpectedResponse, excerpt};

const JSON: &str = "application/json";

/// `POST {base}/rp/v6.0/{endpoint}` with `body` and exactly the headers BankID wants:
/// `Content-Type: application/json` without a charset (BankID answers 415 to one), `Accept` and
/// a `User-Agent` naming this crate.
pub(crate) fn build_request(
    config: &Config,
    endpoint: Endpoint,
    body: Vec<u8>,
) -> Result<http::Request<Vec<u8>>, Error> {
    let request = http::Request::builder()
        .method(Method::POST)
        .uri(config.endpoint_url(endpoint))
        .header(CONTENT_TYPE, HeaderValue::from_static(JSON))
        .header(ACCEPT, HeaderValue::from_static(JSON))
        .header(USER_AGENT, HeaderValue::from_static(config::USER_AGENT))
        .body(body);
    // The URL was validated when the config was made, so this cannot fail; map it anyway.
    request.map_err(|e| crate::error::InvalidInput::new("base_url", e.to_string()).into())
}

/// The body of an error response.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    error_code: ErrorCode,
    #[serde(default)]
    details: String,
}

/// Checks status, content type and body of a response and decodes a success into `T`.
pub(crate) fn parse_json<T: DeserializeOwned, B: AsRef<[u8]>>(
    response: &http::Response<B>,
    allow_empty: bool,
) -> Result<T, Error> {
    let body = response.body().as_ref();
    let status = response.status();
    let content_type = response.headers().get(CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let unexpected =
        |kind| UnexpectedResponse { kind, status, content_type: content_type.clone(), excerpt: excerpt(body) };

    if status != StatusCode::OK {
        return Err(api_error(status, body).map_or_else(|| unexpected(UnexpectedKind::Status).into(), Error::Api));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return if allow_empty {
            serde_json::from_slice(b"{}").map_err(|e| unexpected(UnexpectedKind::Body(e.to_string())).into())
        } else {
            Err(unexpected(UnexpectedKind::EmptyBody).into())
        };
    }
    if !content_type.as_deref().is_some_and(is_json) {
        return Err(unexpected(UnexpectedKind::ContentType).into());
    }
    serde_json::from_slice(body).map_err(|e| unexpected(UnexpectedKind::Body(e.to_string())).into())
}

/// The API error of a non-200 response: from its JSON body, or else from its status.
fn api_error(status: StatusCode, body: &[u8]) -> Option<ApiError> {
    let from_body = serde_json::from_slice::<ErrorBody>(body).ok();
    let inferred_from_status = from_body.is_none();
    let (code, details) = match from_body {
        Some(ErrorBody { error_code, details }) => (error_code, details),
        None => (ErrorCode::for_status(status)?, String::new()),
    };
    // A JSON error body on a success or redirect status is not what BankID sends.
    if !(status.is_client_error() || status.is_server_error()) {
        return None;
    }
    Some(ApiError { code, details, status, body: excerpt(body), inferred_from_status })
}

/// `application/json`, ignoring case and parameters.
fn is_json(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|mime| mime.trim().eq_ignore_ascii_case(JSON))
}
