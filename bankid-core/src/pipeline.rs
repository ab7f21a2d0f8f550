//! The one place where requests are assembled and responses interpreted.

use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, StatusCode};
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::codes::{Endpoint, ErrorCode};
use crate::config::{self, Config};
use crate::error::{ApiError, Error, UnexpectedKind, UnexpectedResponse, excerpt};

const JSON: &str = "application/json";

/// `POST {base}/rp/v6.0/{endpoint}` with `body` and exactly the headers BankID wants:
/// `Content-Type: application/json` without a charset (BankID answers 415 to one), `Accept` and
/// a `User-Agent` naming this crate.
pub(crate) fn build_request(config: &Config, endpoint: Endpoint, body: Vec<u8>) -> http::Request<Vec<u8>> {
    // Assembled in place: `http::request::Builder` moves the request's parts through a
    // `Result` at every step, which costs more than the rest of building a collect.
    let mut request = http::Request::new(body);
    *request.method_mut() = Method::POST;
    *request.uri_mut() = config.endpoint_uri(endpoint);
    let headers = request.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    headers.insert(ACCEPT, HeaderValue::from_static(JSON));
    headers.insert(USER_AGENT, HeaderValue::from_static(config::USER_AGENT));
    request
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
    let unexpected = |kind| unexpected(response, kind);

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
    if !response.headers().get(CONTENT_TYPE).is_some_and(|value| is_json(value.as_bytes())) {
        return Err(unexpected(UnexpectedKind::ContentType).into());
    }
    // UTF-8 checked once for the whole body: `from_slice` would check each string on its own.
    let text = std::str::from_utf8(body).map_err(|e| unexpected(UnexpectedKind::Body(e.to_string())))?;
    serde_json::from_str::<Object<T>>(text)
        .map(|object| object.0)
        .map_err(|e| unexpected(UnexpectedKind::Body(e.to_string())).into())
}

/// The [`UnexpectedResponse`] of `kind` for `response`, with its status, content type and an
/// excerpt of its body.
pub(crate) fn unexpected<B: AsRef<[u8]>>(response: &http::Response<B>, kind: UnexpectedKind) -> UnexpectedResponse {
    UnexpectedResponse {
        kind,
        status: response.status(),
        content_type: response.headers().get(CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        excerpt: excerpt(response.body().as_ref()),
    }
}

/// `T` read from a JSON object and nothing else: serde's derived structs also accept an array
/// of their fields in order, which BankID never sends.
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer.deserialize_map(ObjectVisitor(PhantomData)).map(Object)
    }
}

/// `deserialize_with` for a field that must be a JSON object.
pub(crate) fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<T, D::Error> {
    Object::deserialize(deserializer).map(|object| object.0)
}

/// `deserialize_with` for an optional field that must be a JSON object (or `null`).
pub(crate) fn optional_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<Object<T>>::deserialize(deserializer).map(|object| object.map(|object| object.0))
}

/// The longest order reference or token accepted from BankID (they are UUIDs, 36 characters).
pub const MAX_REFERENCE_LEN: usize = 128;

/// The bytes of a reference: a table, checked once per byte (collect answers, every second).
const REFERENCE_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
        b += 1;
    }
    table
};

/// `deserialize_with` for an order reference or a token: 1 to [`MAX_REFERENCE_LEN`] ASCII
/// letters, digits, `-` and `_`. Anything else would end up in a QR code, a launch URL or the
/// next request's body.
pub(crate) fn reference<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let value = String::deserialize(deserializer)?;
    if value.is_empty() || value.len() > MAX_REFERENCE_LEN {
        return Err(D::Error::custom(format_args!(
            "a reference or token of 1 to {MAX_REFERENCE_LEN} characters, got {}",
            value.len()
        )));
    }
    if !value.bytes().all(|b| REFERENCE_BYTES[usize::from(b)]) {
        return Err(D::Error::custom("a reference or token with a character other than A-Z, a-z, 0-9, - and _"));
    }
    Ok(value)
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
fn is_json(content_type: &[u8]) -> bool {
    let mime = content_type.split(|&b| b == b';').next().unwrap_or_default();
    mime.trim_ascii().eq_ignore_ascii_case(JSON.as_bytes())
}
