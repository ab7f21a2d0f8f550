//! The JSON endpoints: start, status, cancel.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bankid_core::{Error, FailedHintCode, Language, OrderResponse, PendingHintCode, Rfa, StartMode, WebData};
use bankid_tokio::{Client, HttpTransport};
use http::header::{CACHE_CONTROL, SET_COOKIE, USER_AGENT};
use http::{HeaderMap, HeaderValue, StatusCode, request::Parts};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cookie::{self, OriginRefused};
use crate::device::{Platform, cut_user_agent};
use crate::flow::{self, End, OrderSnapshot};
use crate::rp::{Completed, OrderKind, Rejection, Rp, StartContext, StartRequest, Started};
use crate::seal::{OpenError, Sealer};
use crate::settings::Settings;
use crate::state::{Active, Session, unix};
use crate::svg::qr_svg;

/// The longest `context` a start request may carry, in characters.
pub const MAX_CONTEXT_LEN: usize = 1024;
/// The longest request body the endpoints read.
const MAX_BODY: usize = 16 * 1024;
/// The longest `returnPath`.
const MAX_RETURN_PATH: usize = 256;
/// How often the page should poll.
const POLL_AFTER_MS: u64 = 1000;

/// The shared state of the router.
pub(crate) struct Inner<T, R> {
    pub(crate) client: Client<T>,
    pub(crate) settings: Settings,
    pub(crate) sealer: Sealer,
    pub(crate) rp: R,
    pub(crate) rng: SystemRandom,
}

pub(crate) type App<T, R> = Arc<Inner<T, R>>;

/// An error answer: `{"error": code, "message": text, "rfa": {"code", "text"}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    rfa: Option<Rfa>,
    lang: Language,
    clear: Option<HeaderValue>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_owned(), message: message.into(), rfa: None, lang: Language::En, clear: None }
    }

    fn bankid(error: &Error, lang: Language) -> Self {
        let (status, code) = match error {
            // The RP's request broke BankID's rules (e.g. a text too long): nothing was sent.
            Error::InvalidInput(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
            Error::Transport(_) => (StatusCode::BAD_GATEWAY, "bankid_unreachable"),
            _ => (StatusCode::BAD_GATEWAY, "bankid_error"),
        };
        let mut this = Self::new(status, code, error.to_string());
        if let Some(code) = error.error_code() {
            this.message = format!("BankID answered {code}");
        }
        this.rfa = Some(error.user_message());
        this.lang = lang;
        this
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        Self { status: rejection.status, code: rejection.code, ..Self::new(StatusCode::OK, "", rejection.message) }
    }
}

impl From<OriginRefused> for ApiError {
    fn from(refused: OriginRefused) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "origin_refused",
            match refused {
                OriginRefused::Missing => "the request has no Origin header",
                OriginRefused::Foreign => "the request comes from another origin",
            },
        )
    }
}

#[derive(Debug, Serialize)]
struct Message {
    code: &'static str,
    text: &'static str,
}

impl Message {
    fn new(rfa: Rfa, lang: Language) -> Self {
        Self { code: rfa.code(), text: rfa.text(lang) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            rfa: Option<Message>,
        }
        let body =
            Body { error: &self.code, message: &self.message, rfa: self.rfa.map(|rfa| Message::new(rfa, self.lang)) };
        let mut response = json_response(self.status, &body);
        if let Some(clear) = self.clear {
            response.headers_mut().append(SET_COOKIE, clear);
        }
        response
    }
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// How the page wants the order shown.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
enum ModeName {
    Qr,
    AutoStart,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StartBody {
    mode: Option<ModeName>,
    lang: Option<Language>,
    context: Option<String>,
    return_path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StatusBody {
    lang: Option<Language>,
    return_nonce: Option<String>,
}

#[derive(Debug, Default, Serialize)]
struct QrJson {
    content: String,
    svg: String,
}

/// The answer of start and status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusJson {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<OrderKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<StartMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qr: Option<QrJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    launch_url: Option<String>,
    restarts: u32,
    restarted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    poll_after_ms: Option<u64>,
}

impl StatusJson {
    fn ended(status: &'static str, kind: OrderKind, order_ref: &str, restarts: u32) -> Self {
        Self {
            status,
            kind: Some(kind),
            order_ref: Some(order_ref.to_owned()),
            mode: None,
            hint_code: None,
            message: None,
            qr: None,
            launch_url: None,
            restarts,
            restarted: false,
            result: None,
            poll_after_ms: None,
        }
    }
}

type Result<T, E = ApiError> = std::result::Result<T, E>;

impl<T: HttpTransport, R: Rp> Inner<T, R> {
    fn random_hex(&self, bytes: usize) -> Result<String> {
        let mut buffer = vec![0u8; bytes];
        self.rng
            .fill(&mut buffer)
            .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no random numbers"))?;
        Ok(hex::encode(buffer))
    }

    /// Opens the order cookie: `Ok(None)` without one, `Err` when it is refused.
    fn open(&self, headers: &HeaderMap, wall: SystemTime) -> Result<Option<Session>, &'static str> {
        let Some(value) = cookie::get(headers, &self.settings.cookie_name) else { return Ok(None) };
        let plain = self.sealer.open(value).map_err(|e| match e {
            OpenError::Malformed => "the order cookie is malformed",
            OpenError::UnknownKey => "the order cookie was sealed under an unknown key",
            _ => "the order cookie does not authenticate",
        })?;
        let session: Session = serde_json::from_slice(&plain).map_err(|_| "the order cookie holds no order state")?;
        if session.expires <= unix(wall) {
            return Err("the order cookie has expired");
        }
        Ok(Some(session))
    }

    /// Opens the order cookie for status and cancel: a refused cookie is an error (and cleared).
    fn open_required(&self, headers: &HeaderMap, wall: SystemTime) -> Result<Option<Session>> {
        self.open(headers, wall).map_err(|why| {
            let mut error = ApiError::new(StatusCode::UNAUTHORIZED, "invalid_session", why);
            error.clear = Some(cookie::set(&self.settings, headers, &self.settings.cookie_name, "", 0));
            error
        })
    }

    /// The `Set-Cookie` of the sealed session.
    fn seal(&self, headers: &HeaderMap, session: &mut Session, wall: SystemTime) -> Result<HeaderValue> {
        let lifetime = self.settings.session_window.max(self.settings.order_lifetime);
        session.expires = unix(wall) + lifetime.as_secs();
        let internal = |_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "cannot seal the order state");
        let plain = serde_json::to_vec(&session).map_err(|_| internal(()))?;
        let sealed = self.sealer.seal(&plain).map_err(|_| internal(()))?;
        Ok(cookie::set(&self.settings, headers, &self.settings.cookie_name, &sealed, lifetime.as_secs()))
    }

    fn end_user_ip(&self, parts: &Parts) -> Result<IpAddr> {
        self.settings.ip_source.resolve(&parts.headers, &parts.extensions).ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "no_client_ip",
                "the user's IP address is not available from the configured source",
            )
        })
    }

    fn web_data(&self, headers: &HeaderMap, device_id: &str) -> WebData {
        let mut web = WebData::new().device_identifier(device_id);
        if let Some(ua) = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).and_then(cut_user_agent) {
            web = web.user_agent(ua);
        }
        let domain = self.settings.referring_domain.clone().or_else(|| cookie::host_name(headers)).filter(|domain| {
            (3..=253).contains(&domain.len())
                && domain.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'.' || b == b'-')
        });
        if let Some(domain) = domain {
            web = web.referring_domain(domain);
        }
        web
    }

    /// Builds the RP's start request, adds the device data and the return URL, and sends it.
    #[allow(clippy::too_many_arguments)]
    async fn send_start(
        &self,
        kind: OrderKind,
        ip: IpAddr,
        context: Option<&str>,
        headers: &HeaderMap,
        restart: u32,
        device_id: &str,
        return_url: Option<&str>,
        lang: Language,
    ) -> Result<(OrderKind, OrderResponse)> {
        let start = StartContext { kind, end_user_ip: ip, context, headers, restart };
        let request = self.rp.start(&start)?;
        let web = self.web_data(headers, device_id);
        let kind = request.kind();
        macro_rules! send {
            ($request:expr, $method:ident) => {{
                let request = $request.device(web);
                let request = match return_url {
                    Some(url) => request.return_url(url),
                    None => request,
                };
                self.client.$method(&request).await
            }};
        }
        let response = match request {
            StartRequest::Auth(request) => send!(request, authenticate),
            StartRequest::Sign(request) => send!(request, sign),
            StartRequest::Payment(request) => send!(request, payment),
        };
        response.map(|response| (kind, response)).map_err(|e| ApiError::bankid(&e, lang))
    }

    /// The status of a running order, telling the RP's observer which QR code it shows.
    fn pending_json(
        &self,
        active: &Active,
        qr: Option<String>,
        hint: Option<&PendingHintCode>,
        lang: Language,
    ) -> StatusJson {
        if let Some(content) = &qr {
            self.rp.qr_shown(active.order.order_ref(), content);
        }
        pending_json(active, qr, hint, lang)
    }
}

/// The status of a running order: the message, the QR code (content and SVG) and the launch URL.
pub(crate) fn pending_json(
    active: &Active,
    qr: Option<String>,
    hint: Option<&PendingHintCode>,
    lang: Language,
) -> StatusJson {
    let order = &active.order;
    let rfa = order.message(active.platform.kind());
    let qr = qr.and_then(|content| qr_svg(&content).map(|svg| QrJson { content, svg }));
    StatusJson {
        status: "pending",
        kind: Some(active.kind),
        order_ref: Some(order.order_ref().to_owned()),
        mode: Some(order.mode()),
        hint_code: hint.map(|hint| hint.as_str().to_owned()),
        message: Some(Message::new(rfa, lang)),
        qr,
        launch_url: order
            .auto_start_token()
            .map(|token| active.platform.launch_url(token, active.return_url.as_deref())),
        restarts: active.restarts,
        restarted: false,
        result: None,
        poll_after_ms: Some(POLL_AFTER_MS),
    }
}

/// `POST /{auth,sign,payment}`.
pub(crate) async fn start<T: HttpTransport, R: Rp>(app: App<T, R>, kind: OrderKind, request: Request) -> Response {
    start_inner(&app, kind, request).await.unwrap_or_else(IntoResponse::into_response)
}

async fn read_body<B: for<'de> Deserialize<'de> + Default>(body: Body) -> Result<B> {
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::bad_request(format!("the body is unreadable or longer than {MAX_BODY} bytes")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(B::default());
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("the body is not the expected JSON: {e}")))
}

fn check_return_path(path: &str) -> Result<()> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= MAX_RETURN_PATH
        && !path.contains('#')
        && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if ok { Ok(()) } else { Err(ApiError::bad_request("returnPath must be a path on this site, like /login")) }
}

async fn start_inner<T: HttpTransport, R: Rp>(
    app: &Inner<T, R>,
    kind: OrderKind,
    request: Request,
) -> Result<Response> {
    let (parts, body) = request.into_parts();
    let origin = cookie::check_origin(&app.settings, &parts.headers)?.to_owned();
    let body: StartBody = read_body(body).await?;
    let lang = body.lang.unwrap_or(app.settings.language);
    if body.context.as_ref().is_some_and(|context| context.chars().count() > MAX_CONTEXT_LEN) {
        return Err(ApiError::bad_request(format!("context is longer than {MAX_CONTEXT_LEN} characters")));
    }
    if let Some(path) = &body.return_path {
        check_return_path(path)?;
    }
    let ip = app.end_user_ip(&parts)?;
    let wall = SystemTime::now();

    // The session: its count of orders survives; a refused cookie is replaced.
    let mut session = app.open(&parts.headers, wall).ok().flatten().unwrap_or_else(|| Session {
        expires: 0,
        window_start: unix(wall),
        orders: 0,
        order: None,
    });
    if unix(wall).saturating_sub(session.window_start) >= app.settings.session_window.as_secs() {
        session.window_start = unix(wall);
        session.orders = 0;
    }
    if session.orders >= app.settings.max_orders_per_session {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_orders",
            "this browser has started too many orders; try again later",
        );
        error.rfa = Some(Rfa::Rfa22);
        error.lang = lang;
        return Err(error);
    }
    if let Some(previous) = session.order.take() {
        // One order per browser: the previous one is cancelled at BankID.
        let _ = app.client.cancel(previous.order.order_ref()).await;
    }

    let platform = Platform::from_user_agent(
        parts.headers.get(USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or_default(),
    );
    let mode = match body.mode {
        Some(ModeName::Qr) => StartMode::Qr,
        Some(ModeName::AutoStart) => StartMode::AutoStart,
        None if platform == Platform::Desktop => StartMode::Qr,
        None => StartMode::AutoStart,
    };
    let mut set_cookies = Vec::new();
    let device_id = match cookie::get(&parts.headers, &app.settings.device_cookie_name)
        .filter(|id| (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        Some(id) => id.to_owned(),
        None => {
            let id = app.random_hex(16)?;
            let year = 365 * 24 * 3600;
            set_cookies.push(cookie::set(&app.settings, &parts.headers, &app.settings.device_cookie_name, &id, year));
            id
        }
    };
    let nonce = app.random_hex(16)?;
    let return_url = (platform.uses_return_url() && mode == StartMode::AutoStart)
        .then(|| format!("{origin}{}#bankid-return={nonce}", body.return_path.as_deref().unwrap_or("/")));
    let (kind, response) = app
        .send_start(kind, ip, body.context.as_deref(), &parts.headers, 0, &device_id, return_url.as_deref(), lang)
        .await?;
    let order = OrderSnapshot::new(&response, mode, wall);
    app.rp.started(&Started { kind, order_ref: &response.order_ref, mode, restart: 0 });
    let active = Active { kind, order, platform, nonce, return_url, restarts: 0, context: body.context };
    session.orders += 1;
    let qr = active.order.qr_content(wall);
    let json = app.pending_json(&active, qr, None, lang);
    session.order = Some(active);
    set_cookies.push(app.seal(&parts.headers, &mut session, wall)?);
    let mut response = json_response(StatusCode::OK, &json);
    for value in set_cookies {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /status`.
pub(crate) async fn status<T: HttpTransport, R: Rp>(app: App<T, R>, request: Request) -> Response {
    status_inner(&app, request).await.unwrap_or_else(IntoResponse::into_response)
}

fn no_order() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_order", "this browser has no order running")
}

fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn status_inner<T: HttpTransport, R: Rp>(app: &Inner<T, R>, request: Request) -> Result<Response> {
    let (parts, body) = request.into_parts();
    cookie::check_origin(&app.settings, &parts.headers)?;
    let body: StatusBody = read_body(body).await?;
    let lang = body.lang.unwrap_or(app.settings.language);
    let wall = SystemTime::now();
    let mut session = app.open_required(&parts.headers, wall)?.ok_or_else(no_order)?;
    let mut active = session.order.take().ok_or_else(no_order)?;
    if let Some(nonce) = &body.return_nonce
        && !same_secret(nonce, &active.nonce)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "foreign_return",
            "the return link does not belong to the order of this browser",
        ));
    }
    let order_ref = active.order.order_ref().to_owned();
    let mut extra_headers = HeaderMap::new();
    let json = {
        let deadline = app.settings.order_lifetime;
        let polled = flow::poll(&app.client, &mut active.order, active.platform.kind(), deadline, wall).await;
        match polled.end {
            None => {
                let json = app.pending_json(&active, polled.qr, polled.hint.as_ref(), lang);
                session.order = Some(active);
                json
            }
            Some(End::Completed(data)) => {
                let completed = Completed {
                    kind: active.kind,
                    order_ref: order_ref.clone(),
                    context: active.context.clone(),
                    data,
                    headers: parts.headers.clone(),
                };
                let reply = app.rp.completed(completed).await;
                let mut json = StatusJson::ended("complete", active.kind, &order_ref, active.restarts);
                match reply {
                    Ok(reply) => {
                        json.result = Some(reply.body);
                        extra_headers = reply.headers;
                    }
                    Err(rejection) => {
                        // The order is over either way: the cookie forgets it.
                        let mut error = ApiError::from(rejection);
                        error.clear = Some(app.seal(&parts.headers, &mut session, wall)?);
                        return Err(error);
                    }
                }
                json
            }
            Some(End::Failed(FailedHintCode::StartFailed, _)) if active.restarts < app.settings.max_restarts => {
                let ip = app.end_user_ip(&parts)?;
                let device_id = cookie::get(&parts.headers, &app.settings.device_cookie_name)
                    .filter(|id| (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()))
                    .map_or_else(|| app.random_hex(16), |id| Ok(id.to_owned()))?;
                let restart = active.restarts + 1;
                let (kind, response) = app
                    .send_start(
                        active.kind,
                        ip,
                        active.context.as_deref(),
                        &parts.headers,
                        restart,
                        &device_id,
                        active.return_url.as_deref(),
                        lang,
                    )
                    .await?;
                let mode = active.order.mode();
                active.order = OrderSnapshot::new(&response, mode, wall);
                active.kind = kind;
                active.restarts = restart;
                app.rp.started(&Started { kind, order_ref: &response.order_ref, mode, restart });
                let qr = active.order.qr_content(wall);
                let mut json = app.pending_json(&active, qr, None, lang);
                json.restarted = true;
                session.order = Some(active);
                json
            }
            Some(End::Failed(hint, rfa)) => {
                let mut json = StatusJson::ended("failed", active.kind, &order_ref, active.restarts);
                json.hint_code = Some(hint.as_str().to_owned());
                json.message = Some(Message::new(rfa, lang));
                json
            }
            Some(End::Cancelled) => StatusJson::ended("cancelled", active.kind, &order_ref, active.restarts),
            Some(End::Error(error)) => {
                let mut json = StatusJson::ended("error", active.kind, &order_ref, active.restarts);
                json.hint_code = error.error_code().map(|code| code.as_str().to_owned());
                json.message = Some(Message::new(error.user_message(), lang));
                json
            }
        }
    };
    let set = app.seal(&parts.headers, &mut session, wall)?;
    let mut response = json_response(StatusCode::OK, &json);
    response.headers_mut().append(SET_COOKIE, set);
    for (name, value) in &extra_headers {
        response.headers_mut().append(name, value.clone());
    }
    Ok(response)
}

/// `POST /cancel`.
pub(crate) async fn cancel<T: HttpTransport, R: Rp>(app: App<T, R>, request: Request) -> Response {
    cancel_inner(&app, request).await.unwrap_or_else(IntoResponse::into_response)
}

async fn cancel_inner<T: HttpTransport, R: Rp>(app: &Inner<T, R>, request: Request) -> Result<Response> {
    let (parts, _body) = request.into_parts();
    cookie::check_origin(&app.settings, &parts.headers)?;
    let wall = SystemTime::now();
    let mut session = app.open_required(&parts.headers, wall)?.ok_or_else(no_order)?;
    let active = session.order.take().ok_or_else(no_order)?;
    let order_ref = active.order.order_ref().to_owned();
    // An order that already ended at BankID cannot be cancelled: either way it is over.
    let _ = app.client.cancel(&order_ref).await;
    let json = StatusJson::ended("cancelled", active.kind, &order_ref, active.restarts);
    let set = app.seal(&parts.headers, &mut session, wall)?;
    let mut response = json_response(StatusCode::OK, &json);
    response.headers_mut().append(SET_COOKIE, set);
    Ok(response)
}
