//! The `bankid` binary, run as a subprocess: against its embedded simulator, against a
//! `bankid sim` started separately, and against nothing at all.
//!
//! The embedded simulator's phone is sped up with `BANKID_SIM_PICKUP_AFTER_MS` and
//! `BANKID_SIM_APPROVE_AFTER_MS`, and told to cancel with `BANKID_SIM_PHONE=cancel`.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

/// The simulator's default test person.
const PERSONAL_NUMBER: &str = "198001019994";
const NAME: &str = "Tessa Testsson";

/// The `bankid` command with a fast simulated phone and none of the caller's BANKID_* settings.
fn bankid(args: &[&str]) -> Command {
    let mut command = common::bankid(args);
    command.env("BANKID_SIM_PICKUP_AFTER_MS", "200").env("BANKID_SIM_APPROVE_AFTER_MS", "200");
    command
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn exec(command: &mut Command) -> Run {
    let Output { status, stdout, stderr } = command.output().expect("runs bankid");
    let run = Run {
        code: status.code().expect("exited normally"),
        stdout: String::from_utf8(stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(stderr).expect("utf-8 stderr"),
    };
    // Never an escape code when the output is not a terminal (here: pipes).
    assert!(!run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'), "escape codes:\n{}", run.stderr);
    run
}

/// Parses stdout, which must hold exactly one JSON document and nothing else.
fn json(run: &Run) -> Value {
    assert_eq!(run.stdout.lines().count(), 1, "stdout: {:?}", run.stdout);
    assert!(run.stdout.ends_with('\n'));
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", run.stdout))
}

fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bankid-cli-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Some PEM certificate: BankID's test server root.
fn some_ca() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bankid-core/certs/appapi2.test.bankid.com.pem")
}

#[test]
fn auth_with_json_runs_a_whole_identification_against_the_embedded_simulator() {
    let run = exec(bankid(&["auth", "--json"]).env("BANKID_SIM_PICKUP_AFTER_MS", "500"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let result = json(&run);
    assert_eq!(result["status"], "complete");
    assert!(result["orderRef"].as_str().is_some_and(|r| !r.is_empty()));
    let data = &result["completionData"];
    assert_eq!(data["user"]["personalNumber"], PERSONAL_NUMBER);
    assert_eq!(data["user"]["name"], NAME);
    assert_eq!(data["device"]["ipAddress"], "127.0.0.1");
    assert!(data["signature"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(data["ocspResponse"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(result.get("error").is_none() && result.get("hintCode").is_none());
    // Progress went to stderr, as plain lines: the QR contents and the messages.
    assert!(run.stderr.contains("QR code: bankid."), "{}", run.stderr);
    assert!(run.stderr.contains("Start your BankID app."), "{}", run.stderr);
}

#[test]
fn sign_puts_the_text_in_the_signature() {
    let text = "Överför 1 000 kr till Kalle Anka";
    let run = exec(&mut bankid(&["sign", "--text", text, "--json", "--end-user-ip", "192.0.2.7"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let result = json(&run);
    assert_eq!(result["status"], "complete");
    assert_eq!(result["completionData"]["device"]["ipAddress"], "192.0.2.7");
    let signature = result["completionData"]["signature"].as_str().unwrap();
    let xml = String::from_utf8(BASE64.decode(signature).unwrap()).unwrap();
    let visible = format!(">{}</usrVisibleData>", BASE64.encode(text));
    assert!(xml.contains(&visible), "{xml}");
}

#[test]
fn a_cancelled_order_exits_1_with_the_hint_code_and_message() {
    let run = exec(bankid(&["auth", "--lang", "sv"]).env("BANKID_SIM_PHONE", "cancel"));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.starts_with("failed: userCancel\nÅtgärden avbröts.\n"), "{}", run.stdout);

    let run = exec(bankid(&["sign", "--text", "x", "--json"]).env("BANKID_SIM_PHONE", "cancel"));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let result = json(&run);
    assert_eq!(result["status"], "failed");
    assert_eq!(result["hintCode"], "userCancel");
    assert!(result.get("completionData").is_none());
}

#[test]
fn text_output_without_a_terminal_is_plain() {
    let run = exec(&mut bankid(&["auth"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("complete\n"), "{}", run.stdout);
    assert!(run.stdout.contains(NAME) && run.stdout.contains(PERSONAL_NUMBER) && run.stdout.contains("127.0.0.1"));
    assert!(!run.stdout.contains("QR code"), "progress is on stderr");
}

#[test]
fn autostart_prints_the_launch_url_and_the_phone_uses_the_token() {
    let run = exec(&mut bankid(&["auth", "--autostart", "--json", "--quiet"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json(&run)["status"], "complete");
    let url = run.stderr.lines().find_map(|line| line.split_once("bankid:///?autostarttoken=")).map(|(_, rest)| rest);
    let (token, redirect) = url.expect("a launch URL").split_once('&').unwrap();
    assert_eq!(token.len(), 36);
    assert_eq!(redirect, "redirect=null");
    assert!(!run.stderr.contains("QR code"));
}

#[test]
fn phone_auth_runs_against_the_embedded_simulator() {
    let run = exec(&mut bankid(&["phone-auth", "--personal-number", "199001011239", "--json"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let result = json(&run);
    assert_eq!(result["completionData"]["user"]["personalNumber"], "199001011239");
}

#[test]
fn an_unreachable_server_exits_2_with_one_clear_line() {
    let ca = some_ca();
    let args = ["auth", "--base-url", "https://127.0.0.1:9", "--ca", ca.to_str().unwrap(), "--timeout", "3"];
    let run = exec(&mut bankid(&args));
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "error: cannot connect to https://127.0.0.1:9: connection refused\n");

    let run = exec(bankid(&args).arg("--json"));
    assert_eq!(run.code, 2);
    let result = json(&run);
    assert_eq!(result["status"], "error");
    assert_eq!(result["error"]["message"], "cannot connect to https://127.0.0.1:9: connection refused");
    assert!(result.get("orderRef").is_none());
}

#[test]
fn qr_prints_the_official_vectors() {
    let token = "67df3917-fa0d-44e5-b327-edcc928297f8";
    let secret = "d28db9a7-4cde-429e-a983-359be676944c";
    let vectors = [
        (0, "dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"),
        (1, "949d559bf23403952a94d103e67743126381eda00f0b3cbddbf7c96b1adcbce2"),
        (2, "a9e5ec59cb4eee4ef4117150abc58fad7a85439a6a96ccbecc3668b41795b3f3"),
        (3, "96077d77699971790b46ee1f04ff1e44fe96b0602c9c51e4ca9c6d031c7c3bb7"),
        (10, "2822ca616ce1e64a1c171df69154ebc5adef4011244c867d6ad88a02db178962"),
        (30, "814d7fd38e2276625b6815152e3554c663acca689260c092203b48ca4e5c09a3"),
    ];
    for (seconds, code) in vectors {
        let seconds = seconds.to_string();
        let run = exec(&mut bankid(&["qr", "--token", token, "--secret", secret, "--seconds", &seconds]));
        assert_eq!(run.code, 0);
        assert_eq!(run.stdout, format!("bankid.{token}.{seconds}.{code}\n"));
        assert_eq!(run.stderr, "");
    }
}

#[test]
fn bad_flags_exit_2_with_usage_on_stderr() {
    // Unknown flags, missing required ones, unknown subcommands: the error and the usage.
    for args in [&["auth", "--no-such-flag"][..], &["sign"], &["frobnicate"], &["auth", "--qr", "--autostart"]] {
        let run = exec(&mut bankid(args));
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(run.stderr.starts_with("error: "), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("Usage: bankid"), "{args:?}: {}", run.stderr);
    }
    // A bad value: the error and the values there are.
    let run = exec(&mut bankid(&["auth", "--lang", "de", "--json"]));
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert!(run.stderr.contains("[possible values: en, sv]"), "{}", run.stderr);
}

#[test]
fn missing_material_is_an_error_not_a_request() {
    let run = exec(&mut bankid(&["auth", "--env", "prod"]));
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("error: --env prod needs your identity"), "{}", run.stderr);

    let run = exec(&mut bankid(&["collect", "some-order"]));
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("error: this command needs a server"), "{}", run.stderr);

    let run = exec(&mut bankid(&["auth", "--env", "test", "--p12", "/nonexistent.p12", "--password", "x"]));
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "error: cannot read /nonexistent.p12: no such file or directory\n");

    // Input the core rejects before sending: a personal number that is not 12 digits (BankID
    // itself accepts a wrong check digit, so the core sends that).
    let run = exec(&mut bankid(&["auth", "--personal-number", "19900101123", "--json"]));
    assert_eq!(run.code, 2);
    let result = json(&run);
    assert!(result["error"]["message"].as_str().unwrap().contains("requirement.personalNumber"), "{result}");
}

/// `bankid sim` in the foreground, killed when dropped.
struct Sim {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Sim {
    fn start(name: &str) -> Self {
        Self::with(name, &[])
    }

    /// `bankid sim` with extra flags (faults).
    fn with(name: &str, flags: &[&str]) -> Self {
        let dir = test_dir(name);
        let mut child = bankid(&["sim", "--listen", "127.0.0.1:0", "--auto-approve", "0.2", "--out"])
            .arg(&dir)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts bankid sim");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.split_once("listening on ").map(|(_, url)| url.trim().to_owned()))
            .expect("the banner names the URL");
        // Keep reading: the simulator dies writing to a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, url, dir }
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }

    /// `--base-url ... --ca ...` with the PEM identity.
    fn pem_flags(&self) -> Vec<String> {
        ["--base-url", &self.url, "--ca", &self.file("ca.pem")]
            .into_iter()
            .map(str::to_owned)
            .chain(["--cert".to_owned(), self.file("rp-1.cert.pem"), "--key".to_owned(), self.file("rp-1.key.pem")])
            .collect()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        _ = self.child.kill();
        _ = self.child.wait();
        _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn sim_auth_collect_and_cancel_against_a_separate_simulator() {
    let sim = Sim::start("separate");

    // auth with the PKCS#12 identity, the password from the environment.
    let (ca, p12) = (sim.file("ca.pem"), sim.file("rp-1.p12"));
    let run = exec(
        bankid(&["auth", "--json", "--base-url", &sim.url, "--ca", &ca, "--p12", &p12])
            .env("BANKID_P12_PASSWORD", "qwerty123"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let result = json(&run);
    assert_eq!(result["completionData"]["user"]["name"], NAME);
    let order_ref = result["orderRef"].as_str().unwrap().to_owned();

    // collect with the PEM identity: BankID delivers a final status once ("the order cannot be
    // collected twice"), so the same order is now invalidParameters, exit 2 - over a TLS
    // connection that the PEM identity opened.
    let pem = sim.pem_flags();
    let pem: Vec<&str> = pem.iter().map(String::as_str).collect();
    let run = exec(bankid(&["collect", &order_ref, "--json"]).args(&pem));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(json(&run)["error"]["errorCode"], "invalidParameters");

    // cancel, then the order is gone: an API error with BankID's code, exit 2.
    let run = exec(bankid(&["cancel", &order_ref]).args(&pem));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("cancelled\n"), "{}", run.stdout);
    let run = exec(bankid(&["collect", &order_ref, "--json"]).args(&pem));
    assert_eq!(run.code, 2);
    let error = &json(&run)["error"];
    assert_eq!(error["errorCode"], "invalidParameters");
    assert!(run.stderr.starts_with("error: BankID answered invalidParameters (HTTP 400)"), "{}", run.stderr);
}

/// A server that answers a collect with another order's reference and person: never printed as
/// this order's result, exit 2 with a line that says so (auth and collect alike).
#[test]
fn an_answer_about_another_order_exits_2() {
    let sim = Sim::with("foreign", &["--foreign-order-ref"]);
    let pem = sim.pem_flags();
    let pem: Vec<&str> = pem.iter().map(String::as_str).collect();
    let run = exec(bankid(&["auth", "--json"]).args(&pem));
    assert_eq!(run.code, 2, "{}", run.stderr);
    let result = json(&run);
    assert!(result.get("completionData").is_none(), "{result}");
    let message = result["error"]["message"].as_str().unwrap();
    assert!(message.contains("another order"), "{message}");
    assert!(!run.stdout.contains(NAME) && !run.stderr.contains(NAME));

    let run = exec(bankid(&["collect", "131daac9-16c6-4618-beb0-365768f37288"]).args(&pem));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("another order"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_the_order_at_the_server() {
    let mut child = bankid(&["auth", "--json"])
        .env("BANKID_SIM_PHONE", "ignore")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts bankid");
    // Wait until the order runs: its first QR code is on stderr.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("QR code") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "bankid ended early");
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["status"], "cancelled");
    // The cancel request succeeded at the simulator: no error.
    assert!(result.get("error").is_none(), "{result}");
}
