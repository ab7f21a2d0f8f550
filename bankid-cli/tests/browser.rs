//! `bankid web` in a real browser: headless Chromium driven through WebDriver (chromedriver),
//! against the embedded simulator or a simulator run by the test, whose phone is the test.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`, `/usr/bin/chromedriver`;
//! other paths through `BANKID_CHROMIUM` and `BANKID_CHROMEDRIVER`). Without them every test
//! here prints that it was skipped, straight to the terminal; with `CI` set they fail instead.
//! `BANKID_UPDATE_SCREENSHOTS=1` writes the screenshots to `docs/` of the repository.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

const NAME: &str = "Tessa Testsson";
const ANDROID_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                          Chrome/126.0.0.0 Mobile Safari/537.36";
const IPHONE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
                         Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const KEY: &str = "6b1a2f03c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f";

/// One browser at a time: the machine is small.
static BROWSER: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------------------------
// Chromium over WebDriver.

/// chromedriver and Chromium, if installed; otherwise `None` after saying so loudly.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = PathBuf::from(std::env::var("BANKID_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    let driver = PathBuf::from(std::env::var("BANKID_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()));
    if chromium.exists() && driver.exists() {
        return Some((chromium, driver));
    }
    let message = format!(
        "\n*** BROWSER TESTS SKIPPED: {} or {} is missing (apt-get install chromium chromium-driver) ***\n",
        chromium.display(),
        driver.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{message} and CI is set");
    // Straight to the terminal: the test harness captures eprintln! of passing tests.
    let _ = std::io::stderr().write_all(message.as_bytes());
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A chromedriver process and one Chromium session; both end when dropped.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    profile: PathBuf,
}

impl Browser {
    fn start(user_agent: Option<&str>, width: u32, height: u32) -> Option<Self> {
        let (chromium, driver_bin) = browser_tools()?;
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts chromedriver");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            thread::sleep(Duration::from_millis(100));
        }
        let profile = std::env::temp_dir().join(format!("bankid-chromium-{}-{port}", std::process::id()));
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            format!("--window-size={width},{height}"),
        ];
        if let Some(ua) = user_agent {
            args.push(format!("--user-agent={ua}"));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args}
        }}});
        let mut browser = Self { driver, base, session: String::new(), agent, profile };
        let answer = browser.call("POST", "/session", Some(caps));
        browser.session = answer["sessionId"].as_str().expect("a session").to_owned();
        Some(browser)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let response = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let mut response = response.unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"));
        let text = response.body_mut().read_to_string().expect("webdriver body");
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        // Errors are {"value": {"error": ...}}: returned as they are, for the caller to see.
        value["value"].clone()
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })));
    }

    fn find(&self, css: &str) -> Option<String> {
        let found = self.call("POST", &self.s("/element"), Some(json!({"using": "css selector", "value": css})));
        found.get("element-6066-11e4-a52e-4f735466cecf").and_then(Value::as_str).map(str::to_owned)
    }

    /// Runs `script` in the page and returns its value.
    fn js(&self, script: &str) -> Value {
        self.call("POST", &self.s("/execute/sync"), Some(json!({"script": script, "args": []})))
    }

    /// Waits until `script` returns something truthy; returns it.
    fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.js(script);
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Object(o) => !o.contains_key("error"),
                _ => true,
            };
            if truthy {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; page:\n{}",
                self.js("return document.body.innerHTML")
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn click(&self, css: &str) {
        let element = self.find(css).unwrap_or_else(|| panic!("no {css}"));
        self.call("POST", &self.s(&format!("/element/{element}/click")), None);
    }

    fn text(&self, css: &str) -> String {
        let element = self.find(css).unwrap_or_else(|| panic!("no {css}"));
        self.call("GET", &self.s(&format!("/element/{element}/text")), None).as_str().unwrap_or_default().to_owned()
    }

    /// A PNG of the whole page, or of one element.
    fn screenshot(&self, css: Option<&str>) -> Vec<u8> {
        let path = match css {
            Some(css) => {
                let element = self.find(css).unwrap_or_else(|| panic!("no {css}"));
                self.s(&format!("/element/{element}/screenshot"))
            }
            None => self.s("/screenshot"),
        };
        BASE64.decode(self.call("GET", &path, None).as_str().expect("a screenshot")).expect("base64 PNG")
    }

    fn cookie(&self, name: &str) -> Value {
        self.call("GET", &self.s(&format!("/cookie/{name}")), None)
    }

    fn set_cookie(&self, cookie: Value) {
        self.call("POST", &self.s("/cookie"), Some(json!({ "cookie": cookie })));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.agent.delete(&format!("{}/session/{}", self.base, self.session)).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Keeps the screenshot under `docs/` when `BANKID_UPDATE_SCREENSHOTS` is set.
fn keep_screenshot(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    if std::env::var_os("BANKID_UPDATE_SCREENSHOTS").is_some() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }
}

/// Decodes the QR code in a PNG screenshot.
fn decode_qr(png_bytes: &[u8]) -> String {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = info.color_type.samples();
    let (width, height) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        let i = (y * width + x) * channels;
        if channels >= 3 {
            ((u16::from(pixels[i]) + u16::from(pixels[i + 1]) + u16::from(pixels[i + 2])) / 3) as u8
        } else {
            pixels[i]
        }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().expect("the QR code decodes").1
}

// ---------------------------------------------------------------------------------------------
// The site and the simulator.

/// A running `bankid web`; killed when dropped.
struct Site {
    child: Child,
    url: String,
}

impl Site {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = common::bankid(&["web", "--listen", "127.0.0.1:0"]);
        command.args(args).stdout(Stdio::piped()).envs(env.iter().copied());
        let mut child = command.spawn().expect("starts bankid web");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        // Keep reading, so that the server never writes into a closed pipe.
        thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        Self { child, url }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A simulator run by the test (the test is its phone), with its PKI written to a folder.
struct Sim {
    runtime: tokio::runtime::Runtime,
    sim: Option<bankid_sim::Simulator>,
    dir: PathBuf,
}

impl Sim {
    fn start(name: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let dir = std::env::temp_dir().join(format!("bankid-web-test-{}-{name}", std::process::id()));
        let sim = runtime
            .block_on(
                bankid_sim::Simulator::builder().bind("127.0.0.1:0").client_identities(1).write_pki_to(&dir).start(),
            )
            .expect("starts the simulator");
        Self { runtime, sim: Some(sim), dir }
    }

    fn handle(&self) -> bankid_sim::SimHandle {
        self.sim.as_ref().unwrap().handle()
    }

    /// The flags of `bankid web` for this simulator.
    fn flags(&self) -> Vec<String> {
        let file = |name: &str| self.dir.join(name).display().to_string();
        vec![
            "--base-url".into(),
            self.handle().base_url().to_owned(),
            "--ca".into(),
            file("ca.pem"),
            "--cert".into(),
            file("rp-1.cert.pem"),
            "--key".into(),
            file("rp-1.key.pem"),
        ]
    }

    /// Goes through the app's steps and approves.
    fn approve(&self, order_ref: &str) {
        let sim = self.handle();
        loop {
            match sim.next_step(order_ref) {
                Ok(_) => {}
                Err(bankid_sim::PhoneError::LastStep) => break,
                Err(e) => panic!("next step: {e}"),
            }
        }
        sim.approve(order_ref).expect("approves");
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn lock() -> MutexGuard<'static, ()> {
    BROWSER.lock().unwrap_or_else(PoisonError::into_inner)
}

const LONG: Duration = Duration::from_secs(30);

fn start_login(browser: &Browser, site: &str) {
    browser.goto(&format!("{site}/"));
    let label = browser.text("#login .bankid-start");
    assert!(label.contains("BankID"), "{label:?}");
    browser.click("#login .bankid-start");
}

fn qr_content(browser: &Browser) -> String {
    browser
        .wait_for("a QR code", "return document.querySelector('.bankid-qr svg') && document.querySelector('.bankid-qr').getAttribute('data-content')", LONG)
        .as_str()
        .unwrap()
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn qr_changes_every_second_decodes_and_the_login_names_the_person() {
    let _guard = lock();
    let Some(browser) = Browser::start(None, 1000, 800) else { return };
    let sim = Sim::start("qr");
    let flags = sim.flags();
    let site = Site::start(&flags.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    start_login(&browser, &site.url);

    // Three seconds of QR codes, read from the pixels on the screen.
    let mut seen = Vec::new();
    let first = qr_content(&browser);
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(3_300) {
        let shot = browser.screenshot(Some(".bankid-qr"));
        let decoded = decode_qr(&shot);
        if seen.last() != Some(&decoded) {
            if seen.is_empty() {
                keep_screenshot("web-desktop-qr.png", &browser.screenshot(None));
            }
            seen.push(decoded);
        }
        thread::sleep(Duration::from_millis(150));
    }
    assert!(first.starts_with("bankid."));
    assert!(seen.len() >= 3, "the QR code changed {} times in 3.3 s: {seen:?}", seen.len());
    let seconds: Vec<u64> = seen.iter().map(|c| c.split('.').nth(2).unwrap().parse().unwrap()).collect();
    assert!(seconds.windows(2).all(|w| w[1] == w[0] + 1), "one code per second: {seconds:?}");

    // The phone scans the picture: the simulator accepts it.
    let latest = decode_qr(&browser.screenshot(Some(".bankid-qr")));
    let order_ref = sim.handle().scan_qr(&latest).expect("the simulator accepts the QR code on the screen");
    browser.wait_for("the message after the scan", "return !document.querySelector('.bankid-qr svg')", LONG);
    sim.approve(&order_ref);
    let name = browser.wait_for(
        "the name",
        "return document.getElementById('name') && document.getElementById('name').textContent",
        LONG,
    );
    assert_eq!(name, NAME);
}

#[test]
fn embedded_simulator_login_sign_and_logout() {
    let _guard = lock();
    let Some(browser) = Browser::start(None, 1000, 800) else { return };
    let site = Site::start(&[], &[("BANKID_SIM_PICKUP_AFTER_MS", "1500"), ("BANKID_SIM_APPROVE_AFTER_MS", "300")]);
    start_login(&browser, &site.url);
    qr_content(&browser);
    let name = browser.wait_for(
        "the name",
        "return document.getElementById('name') && document.getElementById('name').textContent",
        LONG,
    );
    assert_eq!(name, NAME);
    keep_screenshot("web-logged-in.png", &browser.screenshot(None));

    // Sign a text.
    let text = "I, Tessa, agree to pay 10 kr <b>now</b>.";
    browser.js(&format!("document.getElementById('sign-text').value = {}; return 1", json!(text)));
    assert!(browser.text("#sign .bankid-start").contains("BankID"));
    browser.click("#sign .bankid-start");
    let signed = browser.wait_for(
        "the signed text",
        "return document.getElementById('signed-text') && document.getElementById('signed-text').textContent",
        LONG,
    );
    assert_eq!(signed, text);
    assert_eq!(browser.text("#signed-by"), NAME);
    let verification = browser.text("#signed-verification");
    assert!(verification.starts_with("Signature verified: it covers this text"), "{verification}");
    assert!(browser.text("#login-verification").starts_with("Signature verified"));
    keep_screenshot("web-completed.png", &browser.screenshot(None));

    browser.click("#logout");
    browser.wait_for("the login button", "return document.querySelector('#login .bankid-start')", LONG);
    assert!(browser.find("#name").is_none());
}

#[test]
fn cancel_cancels_at_the_simulator() {
    let _guard = lock();
    let Some(browser) = Browser::start(None, 1000, 800) else { return };
    let sim = Sim::start("cancel");
    let flags = sim.flags();
    let site = Site::start(&flags.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    start_login(&browser, &site.url);
    let content = qr_content(&browser);
    let token = content.split('.').nth(1).unwrap();
    let order_ref = browser.js("return document.getElementById('login').getAttribute('data-bankid-order')");
    let order_ref = order_ref.as_str().expect("the widget names the order").to_owned();
    let order = sim.handle().order(&order_ref).expect("the simulator has the order");
    assert_eq!((order.status, order.qr_start_token.as_deref()), ("pending", Some(token)));
    browser.click(".bankid-cancel");
    browser.wait_for("the start button again", "return !document.querySelector('.bankid-start').hidden", LONG);
    wait_until_gone(&sim, &order_ref);

    // Leaving the page cancels the order too.
    start_login(&browser, &site.url);
    qr_content(&browser);
    let order_ref = browser.js("return document.getElementById('login').getAttribute('data-bankid-order')");
    let order_ref = order_ref.as_str().expect("the widget names the order").to_owned();
    assert!(sim.handle().order(&order_ref).is_some());
    browser.goto("about:blank");
    wait_until_gone(&sim, &order_ref);
}

fn wait_until_gone(sim: &Sim, order_ref: &str) {
    let deadline = Instant::now() + LONG;
    while sim.handle().order(order_ref).is_some() {
        assert!(Instant::now() < deadline, "the simulator still has the order");
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn mobile_user_agents_get_the_app_link_with_the_right_redirect() {
    let _guard = lock();
    for (ua, shot) in [(ANDROID_UA, Some("web-mobile.png")), (IPHONE_UA, None)] {
        let Some(browser) = Browser::start(Some(ua), 412, 860) else { return };
        let site = Site::start(&[], &[("BANKID_SIM_PHONE", "ignore")]);
        start_login(&browser, &site.url);
        let href = browser
            .wait_for(
                "the launch link",
                "var a = document.querySelector('.bankid-launch'); return a && !a.hidden && a.href",
                LONG,
            )
            .as_str()
            .unwrap()
            .to_owned();
        assert!(href.starts_with("https://app.bankid.com/?autostarttoken="), "{href}");
        if ua == ANDROID_UA {
            assert!(href.ends_with("&redirect=null"), "{href}");
        } else {
            let redirect = format!("&redirect={}", percent(&format!("{}/#bankid-return=", site.url)));
            assert!(href.contains(&redirect), "{href} lacks {redirect}");
            let nonce = href.rsplit("%3D").next().unwrap();
            assert_eq!(nonce.len(), 32, "{href}");
        }
        // Autostart: no QR code, the message for this device.
        assert!(browser.find(".bankid-qr svg").is_none());
        assert!(browser.text(".bankid-launch").contains("BankID"));
        if let Some(name) = shot {
            keep_screenshot(name, &browser.screenshot(None));
        }
    }
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn a_tampered_cookie_is_refused() {
    let _guard = lock();
    let Some(browser) = Browser::start(None, 1000, 800) else { return };
    let site = Site::start(&[], &[("BANKID_SIM_PHONE", "ignore")]);
    start_login(&browser, &site.url);
    qr_content(&browser);
    let mut cookie = browser.cookie("bankid_order");
    let value = cookie["value"].as_str().unwrap().to_owned();
    assert_eq!(cookie["httpOnly"], true);
    assert_eq!(cookie["sameSite"], "Strict");
    // The QR secret is not in the cookie in clear.
    assert!(!value.contains("bankid."));
    let mut bytes = value.into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    cookie["value"] = Value::String(String::from_utf8(bytes).unwrap());
    browser.set_cookie(cookie);
    let status = browser.wait_for(
        "the refusal",
        "var w = document.getElementById('login'); var s = w.getAttribute('data-bankid-status'); return s !== 'pending' && s",
        LONG,
    );
    assert_eq!(status, "invalid_session");
    assert!(browser.text(".bankid-message").contains("does not authenticate"));
}

/// A load balancer: every request goes to the next backend, round robin.
fn round_robin_proxy(backends: Vec<String>, served: Arc<Vec<AtomicUsize>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let next = Arc::new(AtomicUsize::new(0));
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (backends, served, next) = (backends.clone(), Arc::clone(&served), Arc::clone(&next));
            thread::spawn(move || {
                let mut client = BufReader::new(client);
                while let Some(request) = read_message(&mut client) {
                    let i = next.fetch_add(1, Ordering::SeqCst) % backends.len();
                    if String::from_utf8_lossy(&request).starts_with("POST /bankid/status") {
                        served[i].fetch_add(1, Ordering::SeqCst);
                    }
                    let Ok(backend) = TcpStream::connect(backends[i].trim_start_matches("http://")) else { return };
                    let mut backend = BufReader::new(backend);
                    if backend.get_mut().write_all(&request).is_err() {
                        return;
                    }
                    let Some(response) = read_message(&mut backend) else { return };
                    if client.get_mut().write_all(&response).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// One HTTP/1.1 message with a Content-Length body (or none).
fn read_message(stream: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
        head.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).ok()?;
    head.extend_from_slice(&body);
    Some(head)
}

#[test]
fn two_server_processes_with_the_same_keys_serve_one_login_alternately() {
    let _guard = lock();
    let Some(browser) = Browser::start(None, 1000, 800) else { return };
    let sim = Sim::start("two");
    let mut flags = sim.flags();
    flags.extend(["--cookie-key".to_owned(), KEY.to_owned()]);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (a, b) = (Site::start(&flags, &[]), Site::start(&flags, &[]));
    let served = Arc::new(vec![AtomicUsize::new(0), AtomicUsize::new(0)]);
    let proxy = round_robin_proxy(vec![a.url.clone(), b.url.clone()], Arc::clone(&served));
    start_login(&browser, &proxy);
    qr_content(&browser);
    thread::sleep(Duration::from_millis(2_500));
    let content = browser.js("return document.querySelector('.bankid-qr').getAttribute('data-content')");
    let order_ref = sim.handle().scan_qr(content.as_str().unwrap()).expect("accepted");
    sim.approve(&order_ref);
    let name = browser.wait_for(
        "the name",
        "return document.getElementById('name') && document.getElementById('name').textContent",
        LONG,
    );
    assert_eq!(name, NAME);
    let (first, second) = (served[0].load(Ordering::SeqCst), served[1].load(Ordering::SeqCst));
    assert!(first >= 1 && second >= 1, "status polls per process: {first} and {second}");
}
