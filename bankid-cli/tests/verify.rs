//! `bankid verify`, and the verification `auth`/`sign` run on what they receive.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn bankid(args: &[&str]) -> Command {
    let mut command = common::bankid(args);
    command.env("BANKID_SIM_PICKUP_AFTER_MS", "100").env("BANKID_SIM_APPROVE_AFTER_MS", "100");
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = command.output().expect("runs bankid");
    (
        status.code().expect("exit code"),
        String::from_utf8(stdout).expect("utf-8"),
        String::from_utf8(stderr).expect("utf-8"),
    )
}

fn json(stdout: &str) -> Value {
    assert_eq!(stdout.lines().count(), 1, "one JSON document: {stdout:?}");
    serde_json::from_str(stdout).expect("json")
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bankid-cli-verify-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    d
}

/// The genuine 2016 sample's signature and OCSP response, written to files.
fn sample_files(d: &std::path::Path) -> (String, String, Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bankid-verify/tests/data/test-2016-t2v.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("json");
    let sig = d.join("sig.txt");
    let ocsp = d.join("ocsp.txt");
    std::fs::write(&sig, v["signature"].as_str().expect("signature")).expect("write");
    std::fs::write(&ocsp, v["ocspResponse"].as_str().expect("ocsp")).expect("write");
    (sig.to_str().expect("path").to_owned(), ocsp.to_str().expect("path").to_owned(), v)
}

#[test]
fn verify_a_genuine_signature_with_exit_codes_0_1_2() {
    let d = dir("genuine");
    let (sig, ocsp, v) = sample_files(&d);
    let pnr = v["expected"]["personal_number"].as_str().expect("pnr");

    let (code, out, err) =
        run(&mut bankid(&["verify", "--signature", &sig, "--ocsp", &ocsp, "--env", "test", "--json"]));
    assert_eq!(code, 0, "{err}");
    let r = json(&out);
    assert_eq!(r["verified"], true);
    assert_eq!(r["personalNumber"], pnr);
    assert_eq!(r["funcId"], "Signing");
    assert_eq!(r["signedAt"], "2016-08-05T09:21:14Z");
    assert_eq!(r["userVisibleData"], v["expected"]["usrVisibleData_decoded"]);
    assert!(r.get("failure").is_none());

    // Text output.
    let (code, out, _) = run(&mut bankid(&["verify", "--signature", &sig, "--ocsp", &ocsp, "--env", "test"]));
    assert_eq!(code, 0);
    assert!(out.starts_with("verified\n") && out.contains("signed at        2016-08-05T09:21:14Z"), "{out}");

    // A check that fails: production root, another person, another text. Exit 1, `failure` named.
    for (flags, failure) in [
        (vec![], "untrusted-root"),
        (vec!["--env", "test", "--personal-number", "190001019876"], "personal-number-mismatch"),
        (vec!["--env", "test", "--text", "something else"], "user-visible-data-mismatch"),
        (vec!["--env", "test", "--at", "2030-01-01T00:00:00Z"], "certificate-not-valid"),
    ] {
        let (code, out, _) = run(bankid(&["verify", "--signature", &sig, "--ocsp", &ocsp, "--json"]).args(&flags));
        assert_eq!(code, 1, "{flags:?}");
        let r = json(&out);
        assert_eq!((r["verified"].as_bool(), r["failure"].as_str()), (Some(false), Some(failure)), "{flags:?}");
    }

    // Errors: unreadable file, a bad time, not JSON. Exit 2.
    for flags in [
        vec!["--signature", "/nonexistent/sig"],
        vec!["--signature", &sig, "--at", "yesterday"],
        vec!["--signature", &ocsp, "--root", "/nonexistent/root.pem"],
    ] {
        let (code, _, err) = run(bankid(&["verify"]).args(&flags));
        assert_eq!(code, 2, "{flags:?}");
        assert!(err.starts_with("error: "), "{err}");
    }

    // A collect response on standard input: the OCSP response comes with it.
    let collect = serde_json::json!({
        "orderRef": "x", "status": "complete",
        "completionData": { "signature": v["signature"], "ocspResponse": v["ocspResponse"] }
    });
    let mut child = bankid(&["verify", "--signature", "-", "--env", "test", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(collect.to_string().as_bytes()).expect("write");
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(0));
    let r = json(&String::from_utf8(out.stdout).expect("utf-8"));
    assert_eq!(r["verified"], true);
    assert_eq!(r["signedAt"], "2016-08-05T09:21:14Z", "judged at the OCSP producedAt: the OCSP response was used");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn sign_and_auth_verify_what_they_receive() {
    let (code, out, err) = run(&mut bankid(&["sign", "--text", "Jag godkänner", "--json"]));
    assert_eq!(code, 0, "{err}");
    let r = json(&out);
    assert_eq!(r["verification"]["verified"], true, "{r}");
    assert_eq!(r["verification"]["funcId"], "Signing");
    assert_eq!(r["verification"]["userVisibleData"], "Jag godkänner");
    assert_eq!(r["verification"]["personalNumber"], r["completionData"]["user"]["personalNumber"]);

    let (code, out, err) = run(&mut bankid(&["auth"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("  signature        verified (signed "), "{out}");

    let (code, out, _) = run(&mut bankid(&["auth", "--json", "--no-verify"]));
    assert_eq!(code, 0);
    assert!(json(&out).get("verification").is_none());
}

#[test]
fn a_separate_simulators_signature_verifies_with_its_root() {
    let d = dir("separate");
    let mut child = bankid(&["sim", "--listen", "127.0.0.1:0", "--auto-approve", "0.1", "--out"])
        .arg(&d)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts bankid sim");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.split_once("listening on ").map(|(_, url)| url.trim().to_owned()))
        .expect("the banner names the URL");
    std::thread::spawn(move || lines.for_each(drop));
    let file = |name: &str| d.join(name).to_str().expect("path").to_owned();
    let (code, out, err) = run(&mut bankid(&[
        "sign",
        "--text",
        "Avtal",
        "--json",
        "--base-url",
        &url,
        "--ca",
        &file("ca.pem"),
        "--cert",
        &file("rp-1.cert.pem"),
        "--key",
        &file("rp-1.key.pem"),
    ]));
    _ = child.kill();
    _ = child.wait();
    assert_eq!(code, 0, "{err}");
    // No root is known for --base-url: said, not failed.
    let r = json(&out);
    assert_eq!(r["verification"]["verified"], false);
    assert!(r["verification"].get("failure").is_none());
    let result = d.join("result.json");
    std::fs::write(&result, &out).expect("write");
    let (code, out, err) = run(&mut bankid(&[
        "verify",
        "--signature",
        result.to_str().expect("path"),
        "--root",
        &file("signature-root.pem"),
        "--text",
        "Avtal",
        "--json",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(json(&out)["funcId"], "Signing");
    let _ = std::fs::remove_dir_all(&d);
}
