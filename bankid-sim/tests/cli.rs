//! The `bankid-sim` binary starts, writes its PKI and prints where everything is.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_prints_base_url_folder_and_files() {
    let dir = std::env::temp_dir().join(format!("bankid-sim-cli-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_bankid-sim"))
        .args(["--listen", "127.0.0.1:0", "--auto-approve", "2", "--maintenance", "1", "--out"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let done = line.contains("Ctrl-C");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let out = lines.join("\n");
    assert!(out.contains("listening on https://127.0.0.1:"), "{out}");
    assert!(out.contains(&dir.display().to_string()), "{out}");
    assert!(out.contains("rp-1.p12"), "{out}");
    assert!(
        out.contains("/sim/  (needs an RP client certificate"),
        "the banner says how the control API is guarded: {out}"
    );
    assert!(dir.join("ca.pem").exists());
    let _ = std::fs::remove_dir_all(&dir);

    let status = Command::new(env!("CARGO_BIN_EXE_bankid-sim"))
        .args(["--listen", "not an address", "--out"])
        .arg(std::env::temp_dir().join(format!("bankid-sim-cli-bad-{}", std::process::id())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    assert!(!status.success());
}
