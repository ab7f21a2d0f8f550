//! Simulator configuration.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::fault::FaultRule;
use crate::pki::Pki;

/// The person who "owns" the simulated phone. Orders that carry a personal number
/// (`requirement.personalNumber`, or `personalNumber` on phone and other/payment orders) complete
/// with that number instead, and the same names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestPerson {
    /// 12 digits, `YYYYMMDDNNNC`.
    pub personal_number: String,
    /// Given name.
    pub given_name: String,
    /// Surname.
    pub surname: String,
    /// `completionData.bankIdIssueDate`, as BankID sends it (`YYYY-MM-DDZ`).
    pub bank_id_issue_date: String,
    /// `completionData.device.ipAddress` for orders without `endUserIp` (phone orders).
    pub phone_ip: IpAddr,
}

impl TestPerson {
    /// A test person with the given personal number and names (other fields default).
    pub fn new(personal_number: impl Into<String>, given_name: impl Into<String>, surname: impl Into<String>) -> Self {
        Self {
            personal_number: personal_number.into(),
            given_name: given_name.into(),
            surname: surname.into(),
            ..Self::default()
        }
    }

    /// The person in the answers of [`Fault::ForeignOrderRef`](crate::Fault::ForeignOrderRef):
    /// Fredrik Främling, `197505051230`, never the default test person.
    pub fn foreign() -> Self {
        Self::new(FOREIGN_PERSONAL_NUMBER, "Fredrik", "Främling")
    }

    /// `givenName surname`.
    pub fn name(&self) -> String {
        format!("{} {}", self.given_name, self.surname)
    }
}

impl Default for TestPerson {
    fn default() -> Self {
        Self {
            personal_number: "198001019994".to_owned(),
            given_name: "Tessa".to_owned(),
            surname: "Testsson".to_owned(),
            bank_id_issue_date: "2023-11-29Z".to_owned(),
            phone_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
        }
    }
}

/// The personal number of [`TestPerson::foreign`].
const FOREIGN_PERSONAL_NUMBER: &str = "197505051230";

/// The time rules of an order, on the server's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timings {
    /// A QR or autostart order (auth, sign, payment) nobody picked up fails with `startFailed`
    /// this long after creation (30 s). Pushed orders (phone/auth, phone/sign, other/payment)
    /// have nothing to start and never fail this way.
    pub start_failed: Duration,
    /// An order that is not finished fails with `expiredTransaction` this long after creation
    /// (3 min; BankID does not document its value): a picked-up order of any kind, and a
    /// pushed order the user never opened.
    pub order_lifetime: Duration,
    /// How long a completed order stays collectable (3 min, BankID's documented window).
    pub complete_ttl: Duration,
    /// How long a failed order that had been picked up stays collectable (5 min, BankID's
    /// documented window).
    pub failed_ttl: Duration,
    /// How long an order that failed because nobody ever picked it up (`startFailed`, or
    /// `expiredTransaction` of a pushed order never opened) stays collectable: 3 min 10 s,
    /// BankID's documented window "for orders that timed out because never picked up by a
    /// client", counted here from the moment it timed out (BankID does not say from when).
    pub unpicked_ttl: Duration,
    /// How old a scanned QR code may be, in whole seconds behind the server's elapsed time (5 s).
    pub qr_max_age: u64,
    /// How often the background sweeper purges finished orders (5 s).
    pub sweep_interval: Duration,
    /// How long a client may take to send its request body before getting 408 (10 s).
    pub request_timeout: Duration,
    /// How long a connection may take to deliver a complete request head (30 s). The clock
    /// starts when the server is ready for the next request, so this is also how long an idle
    /// keep-alive connection is kept.
    pub header_read_timeout: Duration,
    /// How long a write to a client may stall (the client reads nothing) before the connection
    /// is closed (30 s).
    pub write_timeout: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            start_failed: Duration::from_secs(30),
            order_lifetime: Duration::from_secs(180),
            complete_ttl: Duration::from_secs(180),
            failed_ttl: Duration::from_secs(300),
            unpicked_ttl: Duration::from_secs(190),
            qr_max_age: 5,
            sweep_interval: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// Who may use the `/sim/` control endpoints (the simulated phone, faults, the clock).
///
/// They can fail every order, inject 64 MiB answers or move the clock by a century, so they are
/// not open to anyone who can reach the port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlApi {
    /// Only connections with a client certificate from the simulator's RP CA (any of its RP
    /// identities, e.g. `rp-1.pem`; their keys are written readable only by their owner), as
    /// for `/rp/`; without one: HTTP 401. The default.
    #[default]
    ClientCertificate,
    /// Not served at all: every `/sim/` path answers HTTP 404. The in-process [`crate::SimHandle`]
    /// keeps working.
    Off,
}

/// The default of [`SimConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// Everything the simulator can be told at start. [`crate::SimulatorBuilder`] sets it field by
/// field; the `bankid-sim` binary builds it from [`crate::cli::SimArgs`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimConfig {
    /// Listen address (`127.0.0.1:0` by default: any free port).
    pub bind: String,
    /// Auto mode: every order is picked up after this delay, and each following step (and the
    /// approval) takes the same delay again. `None`: orders wait for the simulated phone.
    pub auto_approve: Option<Duration>,
    /// Faults applied to `/rp/` requests for the whole run.
    pub faults: Vec<FaultRule>,
    /// The default user.
    pub person: TestPerson,
    /// Order time rules.
    pub timings: Timings,
    /// Number of RP client identities to generate (at least 1; 2 by default).
    pub client_identities: usize,
    /// Password of the generated PKCS#12 files (`qwerty123`, like BankID's test certificate).
    pub p12_password: String,
    /// Write the PKI files here at start (PEM and PKCS#12).
    pub pki_dir: Option<PathBuf>,
    /// Reuse an existing PKI instead of generating one (tests share one to save time).
    pub pki: Option<Arc<Pki>>,
    /// Who may use the `/sim/` control endpoints.
    pub control_api: ControlApi,
    /// At most this many connections are open at once (256 by default, at least 1); further
    /// clients wait in the listen backlog until one closes.
    pub max_connections: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:0".to_owned(),
            auto_approve: None,
            faults: Vec::new(),
            person: TestPerson::default(),
            timings: Timings::default(),
            client_identities: 2,
            p12_password: "qwerty123".to_owned(),
            pki_dir: None,
            pki: None,
            control_api: ControlApi::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_person_is_valid() {
        assert!(crate::is_valid_personal_number(&super::TestPerson::default().personal_number));
        let foreign = super::TestPerson::foreign();
        assert!(crate::is_valid_personal_number(&foreign.personal_number));
        assert_ne!(foreign.personal_number, super::TestPerson::default().personal_number);
    }
}
