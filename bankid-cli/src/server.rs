//! Which server the command talks to, with which TLS material: from [`ServerArgs`] to a
//! [`Config`] and a [`Client`], starting the embedded simulator when no server is named.

use std::path::Path;

use bankid_core::{Config, Identity, IdentityError, Roots};
use bankid_hyper::Client;

use crate::args::{EnvName, ServerArgs};
use crate::output::{Failure, root_cause};
use crate::sim::EmbeddedSim;

/// A client for the chosen server.
#[derive(Debug)]
pub(crate) struct Server {
    /// The client.
    pub(crate) client: Client,
    /// The server, for the user: "BankID test", "embedded simulator", or the base URL.
    pub(crate) label: String,
    /// The embedded simulator, when it is the server.
    pub(crate) sim: Option<EmbeddedSim>,
}

impl Server {
    /// The base URL, for error messages.
    pub(crate) fn url(&self) -> &str {
        self.client.config().base_url()
    }
}

/// Whether a command may run against an embedded simulator it starts itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Embedded {
    /// Yes: the order is started and ends in this process (auth, sign, ...).
    Allowed,
    /// No: a fresh simulator knows no order (collect, cancel).
    Refused,
}

/// Connects to the server `args` name: `--base-url`, `--env test|prod`, or (no flags) an
/// embedded simulator.
pub(crate) async fn connect(args: &ServerArgs, embedded: Embedded) -> Result<Server, Failure> {
    let identity = identity(args)?;
    let roots = args.ca.as_deref().map(|ca| Roots::from_pem_file(ca).map_err(|e| material(ca, &e))).transpose()?;
    let (config, label, sim) = match (args.env, &args.base_url) {
        (_, Some(url)) => {
            // clap makes --ca required with --base-url.
            let roots = roots.ok_or_else(|| Failure::new("--base-url needs --ca PEM"))?;
            let config = Config::custom(url, roots).map_err(|e| Failure::new(format!("--base-url {url}: {e}")))?;
            let config = match identity {
                Some(identity) => config.with_identity(identity),
                None => config,
            };
            let label = config.base_url().to_owned();
            (config, label, None)
        }
        (Some(EnvName::Test), None) => {
            let mut config = Config::test();
            if let Some(identity) = identity {
                config = config.with_identity(identity);
            }
            if let Some(roots) = roots {
                config = config.with_roots(roots);
            }
            let label = "BankID test".to_owned();
            (config, label, None)
        }
        (Some(EnvName::Prod), None) => {
            let identity = identity.ok_or_else(|| {
                Failure::new("--env prod needs your identity: --cert PEM --key PEM, or --p12 FILE --password PW")
            })?;
            let mut config = Config::production(identity);
            if let Some(roots) = roots {
                config = config.with_roots(roots);
            }
            let label = "BankID production".to_owned();
            (config, label, None)
        }
        (Some(EnvName::Sim) | None, None) => {
            if identity.is_some() || roots.is_some() {
                return Err(Failure::new("--ca, --cert, --key and --p12 need --env test, --env prod or --base-url"));
            }
            if embedded == Embedded::Refused {
                return Err(Failure::new(
                    "this command needs a server: --env test, --env prod, or --base-url URL --ca PEM",
                ));
            }
            let sim = EmbeddedSim::start(args.phone.clone()).await?;
            let config = sim.config()?;
            let label = "embedded simulator".to_owned();
            (config, label, Some(sim))
        }
    };
    let config = config.with_request_timeout(args.timeout);
    let client = Client::new(config).map_err(|e| Failure::new(format!("unusable TLS material: {e}")))?;
    Ok(Server { client, label, sim })
}

/// The client identity from `--cert/--key` or `--p12/--password`, if any.
fn identity(args: &ServerArgs) -> Result<Option<Identity>, Failure> {
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let identity = Identity::from_pem_files(cert, key, args.key_password.as_deref());
        return identity.map(Some).map_err(|e| material(cert, &e));
    }
    let Some(p12) = &args.p12 else { return Ok(None) };
    let password = args
        .password
        .as_deref()
        .ok_or_else(|| Failure::new("--p12 needs --password PW (or BANKID_P12_PASSWORD in the environment)"))?;
    Identity::from_pkcs12_file(p12, password).map(Some).map_err(|e| material(p12, &e))
}

/// `path` holds unusable TLS material.
fn material(path: &Path, error: &IdentityError) -> Failure {
    match error {
        IdentityError::Io { path, source } => {
            Failure::new(format!("cannot read {}: {}", path.display(), root_cause(source)))
        }
        other => Failure::new(format!("cannot use {}: {other}", path.display())),
    }
}
