//! The router against bankid-sim over real mutual TLS, driven request by request like a
//! browser would (cookies, Origin, User-Agent), without a network between "browser" and router.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bankid_axum::seal::Sealer;
use bankid_axum::{BankId, Completed, IpSource, Key, Rejection, Reply, Rp, Settings};
use bankid_core::{Config, Error, Identity, Roots, TransportError};
use bankid_hyper::HyperTransport;
use bankid_sim::Simulator;
use bankid_tokio::{Client, HttpTransport};
use http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const HOST: &str = "rp.example";
const ORIGIN: &str = "https://rp.example";
const DESKTOP: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

/// When each collect of each order was sent (order reference -> instants), across all tests.
static COLLECTS: Mutex<Vec<(String, Instant)>> = Mutex::new(Vec::new());

/// The hyper transport, recording every collect.
#[derive(Clone, Debug)]
struct Recording(HyperTransport);

impl HttpTransport for Recording {
    const NAME: &'static str = "recording";

    fn new(config: &Config) -> Result<Self, Error> {
        HyperTransport::new(config).map(Self)
    }

    async fn execute(&self, request: Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        if request.uri().path().ends_with("/collect") {
            let body: Value = serde_json::from_slice(request.body()).unwrap();
            let order_ref = body["orderRef"].as_str().unwrap().to_owned();
            COLLECTS.lock().unwrap_or_else(PoisonError::into_inner).push((order_ref, Instant::now()));
        }
        self.0.execute(request).await
    }
}

fn collects_of(order_ref: &str) -> Vec<Instant> {
    let all = COLLECTS.lock().unwrap_or_else(PoisonError::into_inner);
    all.iter().filter(|(r, _)| r == order_ref).map(|(_, at)| *at).collect()
}

/// The RP of the tests: counts completions, offers signing with the context as the text.
#[derive(Default)]
struct TestRp {
    completed: AtomicUsize,
}

impl Rp for TestRp {
    fn start(&self, start: &bankid_axum::StartContext<'_>) -> Result<bankid_axum::StartRequest, Rejection> {
        match start.kind {
            bankid_axum::OrderKind::Sign => {
                Ok(bankid_core::SignRequest::new(start.end_user_ip, start.context.unwrap_or("text")).into())
            }
            _ => Ok(bankid_core::AuthRequest::new(start.end_user_ip).into()),
        }
    }

    async fn completed(&self, done: Completed) -> Result<Reply, Rejection> {
        self.completed.fetch_add(1, Ordering::SeqCst);
        Ok(Reply::new(json!({ "name": done.data.user.name, "context": done.context }))
            .header(http::header::SET_COOKIE, "rp_session=1; Path=/".parse().unwrap()))
    }
}

struct Env {
    sim: Simulator,
    config: Config,
}

impl Env {
    async fn start() -> Self {
        let sim = Simulator::builder().bind("127.0.0.1:0").client_identities(1).start().await.unwrap();
        let pki = sim.pki();
        let roots = Roots::from_pem(pki.ca_pem().as_bytes()).unwrap();
        let rp = pki.client_identity(0).unwrap();
        let identity = Identity::from_pem(rp.cert_pem().as_bytes(), rp.key_pem().as_bytes(), None).unwrap();
        let config = Config::custom(sim.base_url(), roots).unwrap().with_identity(identity);
        Self { sim, config }
    }

    fn bankid(&self, settings: Settings) -> (Router, BankId<Recording, TestRp>) {
        let client = Client::<Recording>::new(self.config.clone()).unwrap();
        let bankid = BankId::new(client, settings, TestRp::default()).unwrap();
        (Router::new().nest("/bankid", bankid.router()), bankid)
    }
}

fn key(byte: u8) -> Key {
    Key::from_bytes([byte; 32])
}

/// A browser: a cookie jar, a user agent, an origin.
struct Browser {
    jar: HashMap<String, String>,
    user_agent: String,
    origin: Option<String>,
    headers: Vec<(&'static str, String)>,
}

impl Browser {
    fn new() -> Self {
        Self { jar: HashMap::new(), user_agent: DESKTOP.to_owned(), origin: Some(ORIGIN.to_owned()), headers: vec![] }
    }

    async fn post(&mut self, router: &Router, path: &str, body: Value) -> (StatusCode, Value, Vec<String>) {
        let mut request = Request::post(format!("/bankid{path}"))
            .header("host", HOST)
            .header("user-agent", &self.user_agent)
            .header("content-type", "application/json");
        if let Some(origin) = &self.origin {
            request = request.header("origin", origin);
        }
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", cookies.join("; "));
        }
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let mut request = request.body(Body::from(body.to_string())).unwrap();
        request.extensions_mut().insert(ConnectInfo::<SocketAddr>("192.0.2.7:40000".parse().unwrap()));
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        assert_eq!(response.headers()["cache-control"], "no-store");
        let set_cookies: Vec<String> =
            response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        for cookie in &set_cookies {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value, set_cookies)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_login_web_data_and_one_completion() {
    let env = Env::start().await;
    let (router, bankid) = env.bankid(Settings::new(vec![key(1)]));
    let mut browser = Browser::new();
    browser.user_agent = format!("{DESKTOP} {}", "x".repeat(300));
    let (status, start, cookies) = browser.post(&router, "/auth", json!({"lang": "sv"})).await;
    assert_eq!(status, StatusCode::OK, "{start}");
    assert_eq!(start["status"], "pending");
    assert_eq!(start["mode"], "qr");
    assert_eq!(start["message"]["code"], "RFA1");
    assert_eq!(start["message"]["text"], "Starta BankID-appen.");
    assert!(start["launchUrl"].as_str().unwrap().starts_with("bankid:///?autostarttoken="));
    assert!(start["launchUrl"].as_str().unwrap().ends_with("&redirect=null"));
    // Cookies: sealed order state, device identifier; HttpOnly, SameSite=Strict, Secure.
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for cookie in &cookies {
        assert!(cookie.contains("; HttpOnly; SameSite=Strict; Secure"), "{cookie}");
    }
    let order_ref = start["orderRef"].as_str().unwrap().to_owned();
    let order = env.sim.handle().order(&order_ref).unwrap();
    // The QR secret never reaches the browser in clear.
    let secret = order.qr_start_secret.clone().unwrap();
    assert!(!start.to_string().contains(&secret));
    assert!(browser.jar.values().all(|v| !v.contains(&secret)));
    // endUserIp from the socket; web data from the request.
    assert_eq!(order.request["endUserIp"], "192.0.2.7");
    let web = &order.request["web"];
    assert_eq!(web["userAgent"].as_str().unwrap().chars().count(), 256);
    assert_eq!(web["referringDomain"], HOST);
    assert_eq!(web["deviceIdentifier"].as_str(), browser.jar.get("bankid_device").map(String::as_str));
    assert!(order.request.get("returnUrl").is_none());

    // The phone scans the QR code of the start answer (second 0, still fresh) and approves.
    let content = start["qr"]["content"].as_str().unwrap();
    assert_eq!(env.sim.handle().scan_qr(content).unwrap(), order_ref);
    while env.sim.handle().next_step(&order_ref).is_ok() {}
    env.sim.handle().approve(&order_ref).unwrap();
    let (status, done, cookies) = browser.post(&router, "/status", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "complete");
    assert_eq!(done["result"]["name"], "Tessa Testsson");
    assert!(cookies.iter().any(|c| c == "rp_session=1; Path=/"));
    assert_eq!(bankid.rp().completed.load(Ordering::SeqCst), 1);
    // Never collected again: the cookie forgot the order.
    let (status, again, _) = browser.post(&router, "/status", json!({})).await;
    assert_eq!((status, again["error"].as_str()), (StatusCode::NOT_FOUND, Some("no_order")));
    assert_eq!(bankid.rp().completed.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_cadence_holds_when_polls_alternate_between_instances() {
    let env = Env::start().await;
    let (first, _) = env.bankid(Settings::new(vec![key(2)]));
    let (second, _) = env.bankid(Settings::new(vec![key(2)]));
    let mut browser = Browser::new();
    let (_, start, _) = browser.post(&first, "/auth", json!({})).await;
    let order_ref = start["orderRef"].as_str().unwrap().to_owned();
    let mut seconds = Vec::new();
    let began = Instant::now();
    for i in 0..14 {
        tokio::time::sleep(Duration::from_millis(450)).await;
        let router = if i % 2 == 0 { &second } else { &first };
        let (status, polled, _) = browser.post(router, "/status", json!({})).await;
        assert_eq!(status, StatusCode::OK, "{polled}");
        assert_eq!(polled["status"], "pending");
        seconds.push(polled["qr"]["content"].as_str().unwrap().split('.').nth(2).unwrap().parse::<u64>().unwrap());
    }
    let collects = collects_of(&order_ref);
    assert!(collects.len() >= 3, "{} collects in {:?}", collects.len(), began.elapsed());
    for pair in collects.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(1_950), "collects {gap:?} apart");
    }
    // The QR code follows the wall clock, whichever instance draws it.
    assert!(seconds.windows(2).all(|w| w[1] >= w[0]), "{seconds:?}");
    assert!(seconds.last().unwrap() - seconds[0] >= 5, "{seconds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_failed_restarts_a_bounded_number_of_times() {
    let env = Env::start().await;
    let (router, _) = env.bankid(Settings::new(vec![key(3)]).max_restarts(1));
    let mut browser = Browser::new();
    let (_, start, _) = browser.post(&router, "/sign", json!({"context": "I agree"})).await;
    let first_ref = start["orderRef"].as_str().unwrap().to_owned();
    env.sim.handle().advance_clock(Duration::from_secs(31));
    let (status, restarted, _) = browser.post(&router, "/status", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{restarted}");
    assert_eq!(restarted["status"], "pending");
    assert_eq!(restarted["restarted"], true);
    assert_eq!(restarted["restarts"], 1);
    assert_eq!(restarted["kind"], "sign");
    let second_ref = restarted["orderRef"].as_str().unwrap().to_owned();
    assert_ne!(second_ref, first_ref);
    // The restart carries the same context into the new order.
    let order = env.sim.handle().order(&second_ref).unwrap();
    assert_eq!(order.request["userVisibleData"], "SSBhZ3JlZQ==");
    assert_eq!(restarted["qr"]["content"].as_str().unwrap().split('.').nth(2), Some("0"), "a fresh QR code");

    env.sim.handle().advance_clock(Duration::from_secs(31));
    let (_, failed, _) = browser.post(&router, "/status", json!({"lang": "en"})).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["hintCode"], "startFailed");
    assert_eq!(failed["restarts"], 1);
    assert!(failed["message"]["code"].as_str().unwrap().starts_with("RFA17"), "{failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_cancels_at_bankid() {
    let env = Env::start().await;
    let (router, _) = env.bankid(Settings::new(vec![key(4)]));
    let mut browser = Browser::new();
    let (_, start, _) = browser.post(&router, "/auth", json!({})).await;
    let order_ref = start["orderRef"].as_str().unwrap();
    assert!(env.sim.handle().order(order_ref).is_some());
    let (status, cancelled, _) = browser.post(&router, "/cancel", json!({})).await;
    assert_eq!((status, cancelled["status"].as_str()), (StatusCode::OK, Some("cancelled")));
    assert!(env.sim.handle().order(order_ref).is_none());
    let (status, _, _) = browser.post(&router, "/status", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A new order cancels the running one first.
    let (_, one, _) = browser.post(&router, "/auth", json!({})).await;
    let (_, two, _) = browser.post(&router, "/auth", json!({})).await;
    assert!(env.sim.handle().order(one["orderRef"].as_str().unwrap()).is_none());
    assert!(env.sim.handle().order(two["orderRef"].as_str().unwrap()).is_some());

    // An order past its lifetime is cancelled at BankID by the next poll.
    let mut settings = Settings::new(vec![key(4)]);
    settings.order_lifetime = Duration::from_secs(1);
    let (short, _) = env.bankid(settings);
    let mut browser = Browser::new();
    let (_, start, _) = browser.post(&short, "/auth", json!({})).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, polled, _) = browser.post(&short, "/status", json!({})).await;
    assert_eq!((status, polled["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{polled}");
    assert!(env.sim.handle().order(start["orderRef"].as_str().unwrap()).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals() {
    let env = Env::start().await;
    let (router, _) = env.bankid(Settings::new(vec![key(5)]).max_orders_per_session(2));

    // Origin.
    let mut browser = Browser::new();
    browser.origin = None;
    let (status, body, _) = browser.post(&router, "/auth", json!({})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("origin_refused")));
    browser.origin = Some("https://evil.example".into());
    let (status, _, _) = browser.post(&router, "/auth", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    browser.origin = Some(ORIGIN.into());
    browser.headers.push(("sec-fetch-site", "cross-site".into()));
    let (status, _, _) = browser.post(&router, "/auth", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Bad bodies.
    let mut browser = Browser::new();
    for body in [
        json!({"mode": "phone"}),
        json!({"unknown": 1}),
        json!({"context": "x".repeat(1025)}),
        json!({"returnPath": "//evil.example"}),
        json!({"returnPath": "https://evil.example/"}),
    ] {
        let (status, answer, _) = browser.post(&router, "/auth", body.clone()).await;
        assert_eq!((status, answer["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{body}");
    }
    // A start request that breaks BankID's rules is refused before it is sent.
    let (status, body, _) = browser.post(&router, "/sign", json!({"context": "x".repeat(1000)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = browser.post(&router, "/sign", json!({"context": ""})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")), "{body}");
    // No order yet.
    let mut browser = Browser::new();
    let (status, _, _) = browser.post(&router, "/status", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The bound on orders per session.
    assert_eq!(browser.post(&router, "/auth", json!({})).await.0, StatusCode::OK);
    // The return nonce must be this order's.
    let (status, body, _) = browser.post(&router, "/status", json!({"returnNonce": "00"})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("foreign_return")));
    assert_eq!(browser.post(&router, "/auth", json!({})).await.0, StatusCode::OK);
    let (status, body, _) = browser.post(&router, "/auth", json!({})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_orders")));
    assert_eq!(body["rfa"]["code"], "RFA22");

    // Tampered, foreign-key, other-purpose and expired cookies.
    let sealed = browser.jar["bankid_order"].clone();
    let mut tampered = sealed.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let forged =
        |plain: &str, purpose: &str, key: Key| Sealer::new(&[key], purpose).unwrap().seal(plain.as_bytes()).unwrap();
    let purpose = "bankid-axum/order/v1/bankid_order";
    for (value, why) in [
        (String::from_utf8(tampered).unwrap(), "does not authenticate"),
        (Sealer::new(&[key(9)], purpose).unwrap().seal(b"{}").unwrap(), "unknown key"),
        (forged(r#"{"x":99999999999,"w":0,"n":0}"#, "another purpose", key(5)), "does not authenticate"),
        (forged(r#"{"x":1,"w":0,"n":0}"#, purpose, key(5)), "expired"),
        (forged(r#"{"what":1}"#, purpose, key(5)), "no order state"),
        ("%%%".to_owned(), "malformed"),
    ] {
        let mut thief = Browser::new();
        thief.jar.insert("bankid_order".into(), value);
        let (status, body, cookies) = thief.post(&router, "/status", json!({})).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_session")), "{why}");
        assert!(body["message"].as_str().unwrap().contains(why), "{body}");
        assert!(cookies.iter().any(|c| c.starts_with("bankid_order=;") && c.contains("Max-Age=0")));
    }
    // The genuine cookie still works.
    let (status, _, _) = browser.post(&router, "/status", json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_from_a_proxy_header_and_mobile_launch() {
    let env = Env::start().await;
    let settings = Settings::new(vec![key(6)])
        .ip_source(IpSource::Header(http::header::HeaderName::from_static("x-forwarded-for")));
    let (router, _) = env.bankid(settings);
    let mut browser = Browser::new();
    browser.user_agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1".into();
    browser.headers.push(("x-forwarded-for", "198.51.100.9, 203.0.113.5".into()));
    let (status, start, _) = browser.post(&router, "/auth", json!({"returnPath": "/login?x=1"})).await;
    assert_eq!(status, StatusCode::OK, "{start}");
    assert_eq!(start["mode"], "autoStart");
    assert!(start.get("qr").is_none());
    assert_eq!(start["message"]["code"], "RFA13");
    let order = env.sim.handle().order(start["orderRef"].as_str().unwrap()).unwrap();
    assert_eq!(order.request["endUserIp"], "203.0.113.5");
    let return_url = order.request["returnUrl"].as_str().unwrap();
    assert!(return_url.starts_with("https://rp.example/login?x=1#bankid-return="), "{return_url}");
    let nonce = return_url.rsplit('=').next().unwrap();
    let launch = start["launchUrl"].as_str().unwrap();
    assert!(launch.starts_with("https://app.bankid.com/?autostarttoken="));
    assert!(launch.ends_with(&format!("%23bankid-return%3D{nonce}")), "{launch}");
    // Coming back with the nonce works.
    let (status, polled, _) = browser.post(&router, "/status", json!({"returnNonce": nonce})).await;
    assert_eq!((status, polled["status"].as_str()), (StatusCode::OK, Some("pending")));
    // Without the header, no address: a precise error, not a guess.
    browser.headers.clear();
    let (status, body, _) = browser.post(&router, "/auth", json!({})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::INTERNAL_SERVER_ERROR, Some("no_client_ip")));
}

/// An RP that keeps the default start: identification only.
struct LoginOnly;

impl Rp for LoginOnly {
    async fn completed(&self, _done: Completed) -> Result<Reply, Rejection> {
        Ok(Reply::default())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_rp_offers_identification_only() {
    let env = Env::start().await;
    let client = Client::<Recording>::new(env.config.clone()).unwrap();
    let bankid = BankId::new(client, Settings::new(vec![key(8)]), LoginOnly).unwrap();
    let router: Router = Router::new().nest("/bankid", bankid.router());
    let mut browser = Browser::new();
    for kind in ["/sign", "/payment"] {
        let (status, body, _) = browser.post(&router, kind, json!({"context": "x"})).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_offered")), "{kind}");
    }
    let (status, body, _) = browser.post(&router, "/auth", json!({})).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::OK, Some("auth")));
    // Settings that cannot work are refused up front.
    let client = Client::<Recording>::new(env.config.clone()).unwrap();
    assert_eq!(BankId::new(client, Settings::new(vec![]), LoginOnly).unwrap_err(), bankid_axum::SettingsError::NoKeys);
    let client = Client::<Recording>::new(env.config.clone()).unwrap();
    let bad = Settings::new(vec![key(8)]).cookie_path("no-slash");
    assert!(BankId::new(client, bad, LoginOnly).is_err());
}

#[tokio::test]
async fn widget_is_served_and_small() {
    let env = Env::start().await;
    let (router, _) = env.bankid(Settings::new(vec![key(7)]));
    let response = router.oneshot(Request::get("/bankid/widget.js").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/javascript; charset=utf-8");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert!(bytes.len() < 12 * 1024, "{} bytes", bytes.len());
    assert!(
        !String::from_utf8_lossy(&bytes).contains("http://") && !String::from_utf8_lossy(&bytes).contains("https://")
    );
}
