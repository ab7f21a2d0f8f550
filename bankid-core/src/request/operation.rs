//! [`Operation`], the one pipeline of every endpoint, and the two requests about a started
//! order: collect and cancel.

use super::wire::WireBody;
use crate::codes::Endpoint;
use crate::error::{Error, InvalidInput, UnexpectedKind};
use crate::response::{CancelResponse, CollectResponse};
use crate::validate;

/// The status of an order (`POST /rp/v6.0/collect`). Call it every two seconds while the order
/// is pending; [`crate::Order`] does that for you.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectRequest {
    order_ref: String,
}

impl CollectRequest {
    /// Collects the order `order_ref`.
    pub fn new(order_ref: impl Into<String>) -> Self {
        Self { order_ref: order_ref.into() }
    }

    /// The order reference.
    #[must_use]
    pub fn order_ref(&self) -> &str {
        &self.order_ref
    }
}

/// Cancels an order (`POST /rp/v6.0/cancel`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelRequest {
    order_ref: String,
}

impl CancelRequest {
    /// Cancels the order `order_ref`.
    pub fn new(order_ref: impl Into<String>) -> Self {
        Self { order_ref: order_ref.into() }
    }

    /// The order reference.
    #[must_use]
    pub fn order_ref(&self) -> &str {
        &self.order_ref
    }
}

fn order_ref_body(order_ref: &str) -> Result<Vec<u8>, InvalidInput> {
    validate::text_len("orderRef", order_ref, 1, 100)?;
    Ok(WireBody { order_ref: Some(order_ref), ..WireBody::default() }.to_json())
}

pub(super) mod sealed {
    #[allow(unnameable_types, reason = "sealed on purpose: no other crate may implement Operation")]
    pub trait Sealed {}
}

/// One BankID endpoint: builds its request and reads its response.
///
/// This is the whole protocol surface a transport needs: call [`Operation::to_http`], send the
/// request, hand whatever comes back to [`Operation::parse`]. Status codes, content types and
/// JSON are interpreted here and nowhere else.
///
/// ```
/// use bankid_core::{CollectRequest, CollectStatus, Config, Operation, PendingHintCode};
///
/// let request = CollectRequest::new("131daac9-16c6-4618-beb0-365768f37288").to_http(&Config::test())?;
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.headers()["content-type"], "application/json");
///
/// let response = http::Response::builder()
///     .status(200)
///     .header("content-type", "application/json")
///     .body(r#"{"orderRef":"131daac9-16c6-4618-beb0-365768f37288","status":"pending","hintCode":"userSign"}"#)?;
/// let collect = CollectRequest::parse(response)?;
/// assert_eq!(collect.status, CollectStatus::Pending { hint_code: PendingHintCode::UserSign });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Operation: sealed::Sealed {
    /// What a successful response holds.
    type Output;

    /// The endpoint.
    const ENDPOINT: Endpoint;

    /// Validates the request and serialises its JSON body.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first field that breaks a rule of spec §2.
    fn body(&self) -> Result<Vec<u8>, Error>;

    /// Builds the HTTP request: `POST {base}/rp/v6.0/{endpoint}` with the JSON body and the
    /// headers BankID requires.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the request breaks a rule; nothing should be sent then.
    fn to_http(&self, config: &crate::Config) -> Result<http::Request<Vec<u8>>, Error> {
        Ok(crate::pipeline::build_request(config, Self::ENDPOINT, self.body()?))
    }

    /// Reads the response to this request, whatever its status.
    ///
    /// # Errors
    /// [`Error::Api`] for BankID's error responses, [`Error::UnexpectedResponse`] for anything
    /// that is not what BankID sends.
    fn parse<B: AsRef<[u8]>>(response: http::Response<B>) -> Result<Self::Output, Error>;

    /// Reads the response to this very request: [`Operation::parse`], and for an answer that
    /// names an order (collect), the check that it names this request's order. Transports call
    /// this one.
    ///
    /// # Errors
    /// As [`Operation::parse`], and [`Error::UnexpectedResponse`] of kind
    /// [`UnexpectedKind::ForeignOrder`](crate::UnexpectedKind::ForeignOrder) for an answer about
    /// another order.
    fn read_response<B: AsRef<[u8]>>(&self, response: http::Response<B>) -> Result<Self::Output, Error> {
        Self::parse(response)
    }
}

impl sealed::Sealed for CollectRequest {}

impl Operation for CollectRequest {
    type Output = CollectResponse;
    const ENDPOINT: Endpoint = Endpoint::Collect;

    fn body(&self) -> Result<Vec<u8>, Error> {
        Ok(order_ref_body(&self.order_ref)?)
    }

    fn parse<B: AsRef<[u8]>>(response: http::Response<B>) -> Result<Self::Output, Error> {
        crate::pipeline::parse_json(&response, false)
    }

    fn read_response<B: AsRef<[u8]>>(&self, response: http::Response<B>) -> Result<Self::Output, Error> {
        let collect: CollectResponse = crate::pipeline::parse_json(&response, false)?;
        if collect.order_ref != self.order_ref {
            return Err(crate::pipeline::unexpected(&response, UnexpectedKind::ForeignOrder).into());
        }
        Ok(collect)
    }
}

impl sealed::Sealed for CancelRequest {}

impl Operation for CancelRequest {
    type Output = CancelResponse;
    const ENDPOINT: Endpoint = Endpoint::Cancel;

    fn body(&self) -> Result<Vec<u8>, Error> {
        Ok(order_ref_body(&self.order_ref)?)
    }

    fn parse<B: AsRef<[u8]>>(response: http::Response<B>) -> Result<Self::Output, Error> {
        // BankID answers `{}`; an empty body is accepted too (spec §3.3); nothing else is.
        crate::pipeline::parse_json(&response, true)
    }
}
