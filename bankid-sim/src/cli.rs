//! The command line of the `bankid-sim` binary, reusable by other binaries:
//! `#[command(flatten)] sim: bankid_sim::cli::SimArgs`, then `sim.run().await`.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{ControlApi, DEFAULT_MAX_CONNECTIONS, SimConfig, TestPerson};
use crate::endpoint::Endpoint;
use crate::fault::{DEFAULT_REDIRECT, Fault, FaultRule};
use crate::{Error, Simulator};

/// Arguments of `bankid-sim` (and of `bankid sim`).
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct SimArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443", env = "BANKID_SIM_LISTEN")]
    pub listen: String,
    /// Folder for the generated certificates and keys (default: a new folder under the
    /// system's temp dir).
    #[arg(long, value_name = "DIR", env = "BANKID_SIM_OUT")]
    pub out: Option<PathBuf>,
    /// Auto mode: every order is picked up after SECONDS (QR orders by scanning the current QR
    /// code), each step takes SECONDS, then it completes.
    #[arg(long, value_name = "SECONDS")]
    pub auto_approve: Option<f64>,
    /// Number of RP client identities to generate.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub clients: usize,
    /// Password of the generated PKCS#12 files.
    #[arg(long, value_name = "PASSWORD", default_value = "qwerty123")]
    pub p12_password: String,
    /// The test person's personal number (12 digits, valid date and Luhn digit).
    #[arg(long, value_name = "PNR")]
    pub personal_number: Option<String>,
    /// The test person's given name.
    #[arg(long, value_name = "NAME")]
    pub given_name: Option<String>,
    /// The test person's surname.
    #[arg(long, value_name = "NAME")]
    pub surname: Option<String>,
    /// Do not serve the /sim/ control endpoints at all (404). Without this flag they need an RP
    /// client certificate of this simulator (e.g. rp-1.pem), as /rp/ does.
    #[arg(long)]
    pub no_control_api: bool,
    /// At most N connections open at once; further clients wait until one closes.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = positive)]
    pub max_connections: usize,
    /// Fault: answer 503 maintenance to the first N requests, then recover.
    #[arg(long, value_name = "N")]
    pub maintenance: Option<u32>,
    /// Fault: answer 500 internalError.
    #[arg(long)]
    pub internal_error: bool,
    /// Fault: answer 408 requestTimeout.
    #[arg(long)]
    pub request_timeout: bool,
    /// Fault: answer with an HTML error page (text/html) with this status (200-599; default 502).
    #[arg(
        long,
        value_name = "STATUS",
        num_args = 0..=1,
        default_missing_value = "502",
        value_parser = clap::value_parser!(u16).range(200..=599),
    )]
    pub html: Option<u16>,
    /// Fault: wait MS milliseconds before answering.
    #[arg(long, value_name = "MS")]
    pub delay: Option<u64>,
    /// Fault: close the connection without answering.
    #[arg(long)]
    pub drop_connection: bool,
    /// Fault: send half of the body, then close the connection.
    #[arg(long)]
    pub truncate: bool,
    /// Fault: answer with Content-Type text/plain.
    #[arg(long)]
    pub wrong_content_type: bool,
    /// Fault: answer 302 with this Location.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = DEFAULT_REDIRECT)]
    pub redirect: Option<String>,
    /// Fault: answer 200 application/json with a body that is not valid JSON.
    #[arg(long)]
    pub malformed_json: bool,
    /// Fault: answer 200 application/json with a body of BYTES bytes (default 2 MiB, at most
    /// 64 MiB), for a client's limit on the size of an answer.
    #[arg(long, value_name = "BYTES", num_args = 0..=1, default_missing_value = "2097152", value_parser = oversized)]
    pub oversized: Option<usize>,
    /// Fault: answer collect requests with another order's answer (another orderRef, status
    /// complete, another person's completion data). Other endpoints are answered normally.
    #[arg(long)]
    pub foreign_order_ref: bool,
    /// Apply the fault flags (except --maintenance's count) only to this endpoint
    /// (auth, sign, payment, phone/auth, phone/sign, other/payment, collect, cancel).
    #[arg(long, value_name = "ENDPOINT")]
    pub fault_endpoint: Option<Endpoint>,
    /// Apply each fault flag only to the first N matching requests (default: all).
    #[arg(long, value_name = "N")]
    pub fault_times: Option<u32>,
}

impl SimArgs {
    /// The simulator configuration these arguments describe.
    pub fn to_config(&self) -> Result<SimConfig, Error> {
        let mut config = SimConfig {
            bind: self.listen.clone(),
            client_identities: self.clients,
            p12_password: self.p12_password.clone(),
            control_api: if self.no_control_api { ControlApi::Off } else { ControlApi::ClientCertificate },
            max_connections: self.max_connections,
            ..SimConfig::default()
        };
        if let Some(secs) = self.auto_approve {
            let d = Duration::try_from_secs_f64(secs).map_err(|_| Error::InvalidAutoApprove(secs))?;
            config.auto_approve = Some(d);
        }
        let mut person = TestPerson::default();
        if let Some(p) = &self.personal_number {
            if !crate::is_valid_personal_number(p) {
                return Err(Error::InvalidPersonalNumber);
            }
            person.personal_number = p.clone();
        }
        if let Some(n) = &self.given_name {
            person.given_name = n.clone();
        }
        if let Some(n) = &self.surname {
            person.surname = n.clone();
        }
        config.person = person;

        let rule = |fault: Fault| {
            let mut r = FaultRule::new(fault);
            r.endpoint = self.fault_endpoint;
            r.times = self.fault_times;
            r
        };
        if let Some(n) = self.maintenance {
            let mut r = rule(Fault::Maintenance);
            r.times = Some(n);
            config.faults.push(r);
        }
        let flags = [
            (self.internal_error, Fault::InternalError),
            (self.request_timeout, Fault::RequestTimeout),
            (self.drop_connection, Fault::Drop),
            (self.truncate, Fault::Truncate),
            (self.wrong_content_type, Fault::WrongContentType),
            (self.malformed_json, Fault::MalformedJson),
            (self.foreign_order_ref, Fault::ForeignOrderRef),
        ];
        config.faults.extend(flags.into_iter().filter(|(on, _)| *on).map(|(_, f)| rule(f)));
        if let Some(status) = self.html {
            config.faults.push(rule(Fault::Html { status }));
        }
        if let Some(bytes) = self.oversized {
            config.faults.push(rule(Fault::Oversized(bytes)));
        }
        if let Some(ms) = self.delay {
            config.faults.push(rule(Fault::Delay(Duration::from_millis(ms))));
        }
        if let Some(url) = &self.redirect {
            config.faults.push(rule(Fault::Redirect(url.clone())));
        }
        let out =
            self.out.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("bankid-sim-{}", std::process::id())));
        config.pki_dir = Some(out);
        Ok(config)
    }

    /// Starts the simulator, prints where it is and what it wrote, and runs until Ctrl-C.
    pub async fn run(self) -> Result<(), Error> {
        let config = self.to_config()?;
        let dir = config.pki_dir.clone().unwrap_or_default();
        let sim = Simulator::start(config).await?;
        // A closed stdout (`bankid-sim | head -1`) must not stop the server: ignore write errors.
        let say = |text: &str| {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}").and_then(|()| out.flush());
        };
        say(&banner(&sim, &dir));
        let _ = tokio::signal::ctrl_c().await;
        say("bankid-sim: shutting down");
        sim.shutdown().await;
        Ok(())
    }
}

/// Parses `--max-connections`: a number from 1.
fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("a number from 1".to_owned()),
    }
}

/// Parses `--oversized`: a number of bytes up to [`Fault::MAX_OVERSIZED`].
fn oversized(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n <= Fault::MAX_OVERSIZED => Ok(n),
        _ => Err(format!("a number of bytes up to {}", Fault::MAX_OVERSIZED)),
    }
}

fn banner(sim: &Simulator, dir: &std::path::Path) -> String {
    let d = |name: &str| dir.join(name).display().to_string();
    let pw = sim.pki().client_identity(0).map_or("", |i| i.p12_password());
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| format!("  {}", e.path().display())).collect())
        .unwrap_or_default();
    files.sort();
    let control = match sim.control_api() {
        ControlApi::Off => "control API:  off (--no-control-api): /sim/ answers 404".to_owned(),
        _ => format!(
            "control API:  {url}/sim/  (needs an RP client certificate, as /rp/ does)\n\
             phone: curl --cacert {ca} --cert {cert} --key {key} -H 'Content-Type: application/json' \\\n\
             \x20      -d '{{\"orderRef\":\"...\"}}' {url}/sim/current-qr   (then /sim/scan-qr, /sim/approve)",
            url = sim.base_url(),
            ca = d("ca.pem"),
            cert = d("rp-1.cert.pem"),
            key = d("rp-1.key.pem"),
        ),
    };
    format!(
        "bankid-sim listening on {url}\n\
         API base URL:  {url}/rp/v6.0/\n\
         PKI folder:    {dir}\n\
         files written:\n{files}\n\
         trust:         {ca}\n\
         client cert:   {cert} + {key}  (or {p12}, password {pw})\n\n\
         try:  curl --cacert {ca} --cert {cert} --key {key} -H 'Content-Type: application/json' \\\n\
         \x20      -d '{{\"endUserIp\":\"127.0.0.1\"}}' {url}/rp/v6.0/auth\n\
         {control}\n\
         Ctrl-C stops it.",
        url = sim.base_url(),
        dir = dir.display(),
        files = files.join("\n"),
        ca = d("ca.pem"),
        cert = d("rp-1.cert.pem"),
        key = d("rp-1.key.pem"),
        p12 = d("rp-1.p12"),
    )
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn flags_become_config() {
        let cli = Cli::try_parse_from([
            "bankid-sim",
            "--listen",
            "127.0.0.1:0",
            "--auto-approve",
            "1.5",
            "--maintenance",
            "2",
            "--html",
            "--delay",
            "10",
            "--redirect",
            "--fault-endpoint",
            "collect",
            "--personal-number",
            "199001012385",
        ])
        .expect("parses");
        let c = cli.sim.to_config().expect("config");
        assert_eq!(c.auto_approve, Some(Duration::from_millis(1500)));
        assert_eq!(c.person.personal_number, "199001012385");
        assert_eq!(c.faults.len(), 4);
        assert_eq!(c.faults[0].times, Some(2));
        assert!(c.faults.iter().all(|f| f.endpoint == Some(Endpoint::Collect)));
        assert_eq!(c.faults[1].fault, Fault::Html { status: Fault::DEFAULT_HTML_STATUS });
        assert_eq!(c.faults[3].fault, Fault::Redirect(DEFAULT_REDIRECT.into()));

        let cli = Cli::try_parse_from(["x", "--html", "503", "--malformed-json", "--oversized"]).expect("parses");
        let faults: Vec<Fault> = cli.sim.to_config().expect("config").faults.into_iter().map(|r| r.fault).collect();
        assert_eq!(
            faults,
            [Fault::MalformedJson, Fault::Html { status: 503 }, Fault::Oversized(Fault::DEFAULT_OVERSIZED)]
        );
        let cli = Cli::try_parse_from(["x", "--foreign-order-ref", "--fault-times", "1"]).expect("parses");
        let faults = cli.sim.to_config().expect("config").faults;
        assert_eq!((faults[0].fault.clone(), faults[0].times), (Fault::ForeignOrderRef, Some(1)));
        let cli = Cli::try_parse_from(["x", "--oversized", "1048577"]).expect("parses");
        assert_eq!(cli.sim.to_config().expect("config").faults[0].fault, Fault::Oversized(1_048_577));
        for bad in [["x", "--html", "700"], ["x", "--html", "99"], ["x", "--oversized", "67108865"]] {
            assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
        let bad = Cli::try_parse_from(["x", "--personal-number", "199001011234"]).expect("parses");
        let err = bad.sim.to_config().unwrap_err();
        assert!(matches!(err, Error::InvalidPersonalNumber), "{err:?}");
        assert!(!err.to_string().contains("199001011234"), "never printed");
        let bad = Cli::try_parse_from(["x", "--auto-approve=-1"]).expect("parses");
        assert!(matches!(bad.sim.to_config(), Err(Error::InvalidAutoApprove(s)) if s == -1.0));
        let bad = Cli::try_parse_from(["x", "--max-connections", "0"]);
        assert!(bad.is_err());
    }
}
