//! What the `bankid` subprocess tests share.

use std::process::{Command, Stdio};

/// The `bankid` command with `args`, no standard input and none of the caller's `BANKID_*`
/// settings (so a developer's environment cannot change a test).
pub(crate) fn bankid(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bankid"));
    command.args(args).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BANKID_") {
            command.env_remove(key);
        }
    }
    command
}
