//! The fixture of the cross-transport conformance suite.
//!
//! Every scenario in `tests/conformance.rs` is written once against [`Transport`], a blocking
//! view of the three clients: [`Blocking`] (`bankid-blocking`), [`Reqwest`] (`bankid-reqwest`)
//! and [`Hyper`] (`bankid-hyper`), the async ones driven on their own tokio runtime. Each
//! scenario talks to an in-process `bankid-sim` ([`Sim`]) over mutual TLS on loopback (its
//! faults give the odd answers, its connection counter shows connection reuse and that a
//! redirect is not followed).
#![forbid(unsafe_code)]

pub mod fuzz_targets;
mod transport;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bankid_core::{Config, Identity, Order, OrderOptions, OrderResponse, PhoneOrderResponse, Roots, StartMode};
use bankid_sim::{BlockingSimulator, Pki, Simulator, SimulatorBuilder};

pub use transport::{AsyncTransport, Blocking, Hyper, Reqwest, Transport};

/// The request timeout of the suite's clients: short, so a hung request fails the test fast.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// One PKI for the whole test binary: generating keys and PKCS#12 files once saves time.
pub fn pki() -> Arc<Pki> {
    static PKI: OnceLock<Arc<Pki>> = OnceLock::new();
    PKI.get_or_init(|| Arc::new(Pki::generate(2, "qwerty123").expect("generate the simulator's PKI"))).clone()
}

/// A simulator of the suite's own, on its own runtime threads.
#[derive(Debug)]
pub struct Sim(BlockingSimulator);

impl std::ops::Deref for Sim {
    type Target = BlockingSimulator;

    fn deref(&self) -> &BlockingSimulator {
        &self.0
    }
}

impl Sim {
    /// A simulator whose phone acts only when a test tells it to.
    pub fn start() -> Self {
        Self::with(Simulator::builder())
    }

    /// A simulator configured by `builder` (its PKI is the shared one).
    pub fn with(builder: SimulatorBuilder) -> Self {
        Self(builder.pki(pki()).start_blocking().expect("start bankid-sim"))
    }

    /// The roots a client needs to trust this simulator.
    pub fn roots(&self) -> Roots {
        Roots::from_pem(self.pki().ca_pem().as_bytes()).expect("the simulator's CA")
    }

    /// RP identity `i` of the simulator's PKI, loaded from PEM (0) or PKCS#12 (others).
    pub fn identity(&self, i: usize) -> Identity {
        let rp = self.pki().client_identity(i).expect("client identity");
        if i == 0 {
            Identity::from_pem(rp.cert_pem().as_bytes(), rp.key_pem().as_bytes(), None).expect("PEM identity")
        } else {
            Identity::from_pkcs12(rp.p12(), rp.p12_password()).expect("PKCS#12 identity")
        }
    }

    /// A configuration for this simulator.
    pub fn config(&self) -> Config {
        Config::custom(self.base_url(), self.roots())
            .expect("base URL")
            .with_identity(self.identity(0))
            .with_request_timeout(REQUEST_TIMEOUT)
    }

    /// A client of transport `T` for this simulator.
    pub fn client<T: Transport>(&self) -> T {
        T::new(self.config()).expect("client")
    }
}

/// Order options for tests: collect every second (the fastest BankID allows).
pub fn fast() -> OrderOptions {
    OrderOptions::default().collect_interval(Duration::from_secs(1))
}

/// A started auth/sign/payment order, collected every second.
pub fn order(start: &OrderResponse, mode: StartMode) -> Order {
    Order::with_options(start, mode, std::time::Instant::now(), fast())
}

/// A started phone or other/payment order, collected every second.
pub fn phone_order(start: &PhoneOrderResponse) -> Order {
    Order::phone(start, std::time::Instant::now(), fast())
}

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
