//! `bankid`: Swedish BankID from the terminal.
//!
//! `bankid auth` runs a whole identification - the animated QR code drawn in the terminal, the
//! user messages, the identified person at the end - against an embedded simulator when no
//! server is named, against BankID's test service with `--env test`, against production with
//! `--env prod` and your identity, or against any BankID-compatible server with `--base-url`.
//! `sign`, `payment`, `phone-auth`, `phone-sign`, `collect`, `cancel`, `qr`, `sim` and `verify`
//! complete the set (orders verify their completion signature with `bankid-verify`);
//! `bankid web` serves a demo site on `bankid-axum` (log in, sign a text, log out) until
//! Ctrl-C. `bankid --help` and `bankid <command> --help` list every flag.
//!
//! Built on `bankid-core` (requests, the order state machine, QR codes, messages) and
//! `bankid-hyper` (the transport); the embedded server is `bankid-sim`.
//!
//! Exit codes: 0 the order completed, 1 it failed or was cancelled (or its signature did not
//! verify), 2 an error.
#![forbid(unsafe_code)]

mod args;
mod output;
mod progress;
mod render;
mod run;
mod server;
mod sim;
mod start;
mod verify;
mod web;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(output::EXIT_ERROR);
        }
    };
    ExitCode::from(runtime.block_on(run::run(cli.command)))
}
