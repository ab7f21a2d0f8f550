//! `bankid web`: a demo site on `bankid-axum`. Log in with BankID, sign a text, see the
//! result, log out.
//!
//! Against the embedded simulator by default: its phone scans the QR code the page shows
//! (the content the status endpoint last handed to the browser) after a few seconds, then
//! approves, like `bankid auth`. With `--env test` it works with a real test BankID app, with
//! `--base-url` against any BankID-compatible server (where nobody scans for you).
//!
//! Nothing is kept on the server: the BankID orders live in `bankid-axum`'s sealed cookie, and
//! the demo's own login session in another cookie sealed with the same keys for another
//! purpose. Several `bankid web` processes with the same `--cookie-key` therefore serve one
//! login together behind a load balancer.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use bankid_axum::seal::Sealer;
use bankid_axum::{
    BankId, Completed, IpSource, Key, OrderKind, Rejection, Reply, Rp, Settings, StartContext, StartRequest, Started,
};
use bankid_core::{AuthRequest, Language, SignRequest, StartMode};
use bankid_verify::{Environment, Expectations, TrustAnchors};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::header::{HOST, LOCATION, ORIGIN, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::args::{EnvName, WebArgs};
use crate::output::{EXIT_ERROR, EXIT_OK};
use crate::server::{Embedded, Server, connect};
use crate::sim::{EmbeddedSim, Phone, Pickup};

/// The demo's own session cookie.
const SESSION_COOKIE: &str = "demo_session";
/// What the app shows at login.
const LOGIN_TEXT: &str = "Log in to the bankid-rs demo";
/// The longest text the demo lets a user sign.
const MAX_SIGN_TEXT: usize = 500;

/// `bankid web`.
pub(crate) async fn web(args: WebArgs) -> u8 {
    match serve(args).await {
        Ok(()) => EXIT_OK,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_ERROR
        }
    }
}

async fn serve(args: WebArgs) -> Result<(), String> {
    let keys = if args.cookie_key.is_empty() {
        vec![Key::generate().map_err(|e| e.to_string())?]
    } else {
        args.cookie_key
            .iter()
            .map(|hex| Key::from_hex(hex).map_err(|e| format!("--cookie-key: {e}")))
            .collect::<Result<_, _>>()?
    };
    let Server { client, label, sim } = connect(&args.server, Embedded::Allowed).await.map_err(|f| f.message)?;
    let plan = sim.as_ref().map(EmbeddedSim::plan);
    let sealer = Sealer::new(&keys, "bankid-web-demo/session").ok_or("no cookie key")?;
    let mut settings = Settings::new(keys).language(args.lang);
    if let Some(header) = &args.ip_header {
        let name = http::header::HeaderName::from_bytes(header.as_bytes())
            .map_err(|_| format!("--ip-header {header:?} is not a header name"))?;
        settings = settings.ip_source(IpSource::Header(name));
    }
    let anchors = match (&sim, &args.signature_root, args.server.env) {
        (_, Some(pem), _) => {
            let text = std::fs::read_to_string(pem).map_err(|e| format!("--signature-root {}: {e}", pem.display()))?;
            Some(TrustAnchors::from_pem(&text).map_err(|e| format!("--signature-root {}: {e}", pem.display()))?)
        }
        (Some(sim), None, _) => TrustAnchors::from_pem(sim.signature_root_pem()).ok(),
        (None, None, Some(EnvName::Test)) => Some(TrustAnchors::bankid(Environment::Test)),
        (None, None, Some(EnvName::Prod)) => Some(TrustAnchors::bankid(Environment::Production)),
        (None, None, _) => None,
    };
    let demo = Demo { sealer, anchors, phones: Mutex::default(), sim, lang: args.lang };
    let bankid = BankId::new(client, settings, demo).map_err(|e| e.to_string())?;
    let app = Router::new()
        .route("/", get(page))
        .route("/logout", post(logout))
        .nest("/bankid", bankid.router())
        .with_state(bankid.clone());
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // A closed stdout must not stop the server: write errors are ignored.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Open http://{addr}/ in your browser.");
    let _ = writeln!(out, "BankID server: {label}.");
    if let Some(plan) = plan {
        let _ = writeln!(out, "{plan} (QR codes only: with \"Open BankID on this device\" nobody picks the order up.)");
    }
    let _ = writeln!(out, "Ctrl-C stops the server.");
    let _ = out.flush();
    drop(out);
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("serving {addr}: {e}"))
}

type App = BankId<bankid_hyper::HyperTransport, Demo>;

/// A logged-in visitor of the demo (sealed in the session cookie).
#[derive(Clone, Default, Serialize, Deserialize)]
struct Visitor {
    name: String,
    personal_number: String,
    signed: Option<Signed>,
    /// What bankid-verify said about the login's signature.
    #[serde(default)]
    login_verification: String,
}

/// The last signature of a visitor.
#[derive(Clone, Serialize, Deserialize)]
struct Signed {
    text: String,
    name: String,
    /// What bankid-verify said about the signature.
    verification: String,
}

/// A QR order the simulated phone watches: what the page was last shown, the phone, since when.
type Watched = (watch::Sender<Option<String>>, Phone, Instant);

/// The demo site: its session sealer, and the simulated phone of the embedded simulator.
struct Demo {
    sealer: Sealer,
    /// The signature root completions are verified against, when one is known.
    anchors: Option<TrustAnchors>,
    /// QR orders the simulated phone watches: what the page was last shown, and the phone.
    phones: Mutex<HashMap<String, Watched>>,
    sim: Option<EmbeddedSim>,
    lang: Language,
}

impl Demo {
    /// Verifies a completion's signature and OCSP response (bankid-verify): one line for the page.
    fn verify(&self, done: &Completed, text: Option<&str>) -> String {
        let Some(anchors) = &self.anchors else {
            return "Signature not verified: no signature root is known for this server (--signature-root PEM)."
                .to_owned();
        };
        let func_id = if done.kind == OrderKind::Sign { "Signing" } else { "Identification" };
        let mut expect =
            Expectations::new(anchors.clone()).personal_number(done.data.user.personal_number.clone()).func_id(func_id);
        if let Some(text) = text {
            expect = expect.user_visible_data(BASE64.encode(text));
        }
        match bankid_verify::verify(&done.data.signature, Some(&done.data.ocsp_response), &expect) {
            Ok(verified) => format!(
                "Signature verified: it covers this text, chains to {}, and the OCSP response says good.",
                verified.chain().last().map_or("the signature root", |c| c.issuer())
            ),
            Err(error) => format!("Signature NOT verified ({}): {error}", error.code()),
        }
    }

    fn session_of(&self, headers: &HeaderMap) -> Option<Visitor> {
        let sealed = cookie(headers, SESSION_COOKIE)?;
        serde_json::from_slice(&self.sealer.open(sealed).ok()?).ok()
    }
}

impl Rp for Demo {
    fn start(&self, start: &StartContext<'_>) -> Result<StartRequest, Rejection> {
        match start.kind {
            OrderKind::Auth => {
                Ok(AuthRequest::new(start.end_user_ip).user_visible_data("Log in to the bankid-rs demo").into())
            }
            OrderKind::Sign => {
                let text = start.context.map(str::trim).filter(|text| !text.is_empty()).ok_or_else(|| {
                    Rejection::new(StatusCode::BAD_REQUEST, "no_text", "write the text to sign first")
                })?;
                if text.chars().count() > MAX_SIGN_TEXT {
                    return Err(Rejection::new(
                        StatusCode::BAD_REQUEST,
                        "text_too_long",
                        format!("at most {MAX_SIGN_TEXT} characters"),
                    ));
                }
                Ok(SignRequest::new(start.end_user_ip, text).into())
            }
            _ => Err(Rejection::new(StatusCode::NOT_FOUND, "not_offered", "the demo offers login and signing")),
        }
    }

    async fn completed(&self, done: Completed) -> Result<Reply, Rejection> {
        self.phones.lock().unwrap_or_else(PoisonError::into_inner).remove(&done.order_ref);
        let user = &done.data.user;
        let mut visitor = match self.session_of(&done.headers) {
            Some(visitor) if done.kind == OrderKind::Sign => visitor,
            _ => Visitor {
                name: user.name.clone(),
                personal_number: user.personal_number.clone(),
                signed: None,
                login_verification: String::new(),
            },
        };
        if done.kind == OrderKind::Sign {
            let text = done.context.as_deref().unwrap_or_default().trim();
            let verification = self.verify(&done, Some(text));
            visitor.signed = Some(Signed { text: text.to_owned(), name: user.name.clone(), verification });
        } else {
            visitor.login_verification = self.verify(&done, Some(LOGIN_TEXT));
        }
        let internal = || Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "cannot seal the session");
        let plain = serde_json::to_vec(&visitor).map_err(|_| internal())?;
        let sealed = self.sealer.seal(&plain).map_err(|_| internal())?;
        // Secure except on loopback, like bankid-axum's own cookies.
        let host = done.headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name).trim_matches(['[', ']']);
        let loopback = name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        let secure = if loopback { "" } else { "; Secure" };
        let cookie = format!("{SESSION_COOKIE}={sealed}; Path=/; HttpOnly; SameSite=Strict{secure}");
        let value = HeaderValue::from_str(&cookie).map_err(|_| internal())?;
        let reply = Reply::new(serde_json::json!({ "redirect": "/" })).header(SET_COOKIE, value);
        Ok(reply)
    }

    fn started(&self, started: &Started<'_>) {
        let Some(sim) = &self.sim else { return };
        if started.mode != StartMode::Qr {
            return;
        }
        let (shown, seen) = watch::channel(None);
        let phone = sim.phone(started.order_ref, Pickup::Qr(seen));
        let mut phones = self.phones.lock().unwrap_or_else(PoisonError::into_inner);
        phones.retain(|_, (_, _, at)| at.elapsed() < Duration::from_secs(600));
        phones.insert(started.order_ref.to_owned(), (shown, phone, Instant::now()));
    }

    fn qr_shown(&self, order_ref: &str, content: &str) {
        if let Some((shown, _, _)) = self.phones.lock().unwrap_or_else(PoisonError::into_inner).get(order_ref) {
            shown.send_replace(Some(content.to_owned()));
        }
    }
}

/// The value of a cookie.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `GET /`.
async fn page(State(app): State<App>, request: Request) -> Response {
    let demo = app.rp();
    let lang = demo.lang.as_str();
    let mut body = String::new();
    match demo.session_of(request.headers()) {
        None => {
            body.push_str("<h1>bankid-rs demo</h1><p>Log in with your BankID.</p>");
            let _ = write!(
                body,
                r#"<div id="login" data-bankid="auth" data-bankid-base="/bankid" data-lang="{lang}"></div>"#
            );
        }
        Some(visitor) => {
            let pnr = &visitor.personal_number;
            let _ = write!(
                body,
                r#"<h1>Welcome, <span id="name">{}</span></h1><p>Personal number <span id="pnr">{}</span>.</p><p id="login-verification">{}</p>"#,
                esc(&visitor.name),
                esc(pnr),
                esc(&visitor.login_verification)
            );
            if let Some(signed) = &visitor.signed {
                let _ = write!(
                    body,
                    r#"<section id="signed"><h2>Signed</h2><blockquote id="signed-text">{}</blockquote><p>Signed by <span id="signed-by">{}</span>.</p><p id="signed-verification">{}</p></section>"#,
                    esc(&signed.text),
                    esc(&signed.name),
                    esc(&signed.verification)
                );
            }
            let _ = write!(
                body,
                r##"<h2>Sign a text</h2><textarea id="sign-text" maxlength="{MAX_SIGN_TEXT}" rows="3" cols="40">I agree to the terms.</textarea><div id="sign" data-bankid="sign" data-bankid-base="/bankid" data-lang="{lang}" data-bankid-context-from="#sign-text"></div><form method="post" action="/logout"><button id="logout" type="submit">Log out</button></form>"##
            );
        }
    }
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>bankid-rs demo</title><style>body{{font:16px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:36rem;padding:0 1rem}}</style></head><body>{body}<script src=\"/bankid/widget.js\" defer></script></body></html>"
    );
    let mut response = Html(html).into_response();
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /logout`: only from the demo's own pages.
async fn logout(request: Request) -> Response {
    let headers = request.headers();
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok()).and_then(|o| o.split_once("://")).map(|(_, a)| a);
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    if origin.is_none() || origin != host {
        return (StatusCode::FORBIDDEN, "foreign origin").into_response();
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(LOCATION, HeaderValue::from_static("/"));
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_static("demo_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"));
    response
}
