//! `bankid-sim`: a BankID RP API v6 server over mutual TLS, for local development.
#![forbid(unsafe_code)]

use clap::Parser;

/// A BankID RP API v6 server over mutual TLS, with a throwaway PKI and a simulated phone.
#[derive(Debug, Parser)]
#[command(name = "bankid-sim", version, about)]
struct Cli {
    #[command(flatten)]
    sim: bankid_sim::cli::SimArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bankid-sim: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.sim.run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bankid-sim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
