//! The in-process simulator: start, handle, shutdown.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::blocking::BlockingSimulator;
use crate::clock::Clock;
use crate::config::{ControlApi, SimConfig, TestPerson, Timings};
use crate::fault::{Fault, FaultRule, FaultTable};
use crate::order::{Ctx, OrderInfo, PhoneError};
use crate::pki::Pki;
use crate::store::Store;
use crate::{Error, server};

/// State shared by the server, the sweeper and every handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) ctx: Ctx,
    pub(crate) store: Store,
    pub(crate) faults: FaultTable,
    /// TCP connections accepted so far.
    connections: AtomicU64,
    control_api: ControlApi,
    addr: SocketAddr,
    base_url: String,
}

impl Shared {
    /// Counts a TCP connection accepted by the listener.
    pub(crate) fn connection_accepted(&self) {
        self.connections.fetch_add(1, Ordering::SeqCst);
    }
}

/// A cheap, clonable handle to a running simulator: its address and PKI, the simulated phone,
/// and test controls. [`Simulator`] and [`BlockingSimulator`] dereference to it; all of its
/// methods are synchronous and never block on I/O.
#[derive(Debug, Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
}

impl SimHandle {
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// `https://127.0.0.1:PORT` (no trailing slash): append `/rp/v6.0/auth` and so on.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// Who may use the `/sim/` control endpoints.
    pub fn control_api(&self) -> ControlApi {
        self.shared.control_api
    }

    /// The simulator's certificates and keys.
    pub fn pki(&self) -> &Pki {
        &self.shared.ctx.pki
    }

    /// The PKI, shareable (e.g. to start another simulator with the same certificates).
    pub fn pki_arc(&self) -> Arc<Pki> {
        self.shared.ctx.pki.clone()
    }

    /// The phone scans a QR code: the token must belong to a pending auth/sign/payment order,
    /// the HMAC must match the claimed second, and the claimed second must be at most
    /// [`Timings::qr_max_age`] seconds behind (or one second ahead of) the order's age on the
    /// server's clock. The order moves to `userSign` (`userMrtd` first if MRTD is required).
    /// Returns the order reference.
    pub fn scan_qr(&self, qr_content: &str) -> Result<String, PhoneError> {
        self.shared.store.scan(&self.shared.ctx, qr_content)
    }

    /// The app is started with an autostart token: the order moves to `started`.
    pub fn use_autostart(&self, auto_start_token: &str) -> Result<String, PhoneError> {
        self.shared.store.use_autostart(&self.shared.ctx, auto_start_token)
    }

    /// The user opens a pushed order (phone/auth, phone/sign, other/payment) in the app: phone
    /// orders move to `userCallConfirm`, others to `userSign` (after `userMrtd`). Returns the
    /// new hint code.
    pub fn open_app(&self, order_ref: &str) -> Result<String, PhoneError> {
        self.shared.store.open(&self.shared.ctx, order_ref)
    }

    /// Moves a picked-up order to its next pending step (`started` -> `userSign`,
    /// `userCallConfirm` -> `userSign`, `userMrtd` -> `userSign`). Returns the new hint code.
    pub fn next_step(&self, order_ref: &str) -> Result<String, PhoneError> {
        self.shared.store.advance(&self.shared.ctx, order_ref)
    }

    /// The user approves: the order completes (with `stepUp.mrtd = true` if MRTD was required).
    /// QR and autostart orders must have been picked up; pushed orders are opened implicitly.
    pub fn approve(&self, order_ref: &str) -> Result<(), PhoneError> {
        self.shared.store.approve(&self.shared.ctx, order_ref)
    }

    /// The user cancels in the app: the order fails with `userCancel`.
    pub fn user_cancel(&self, order_ref: &str) -> Result<(), PhoneError> {
        self.fail_order(order_ref, "userCancel")
    }

    /// Fails a pending order with any hint code (`certificateErr`, `expiredTransaction`,
    /// `userDeclinedCall`, or one BankID has not invented yet: 1-64 ASCII letters or digits).
    pub fn fail_order(&self, order_ref: &str, hint_code: &str) -> Result<(), PhoneError> {
        self.shared.store.fail(&self.shared.ctx, order_ref, hint_code)
    }

    /// The QR content the RP should be showing now for this order (what a phone camera would
    /// see), computed with the simulator's own HMAC.
    pub fn current_qr(&self, order_ref: &str) -> Result<String, PhoneError> {
        self.shared.store.current_qr(&self.shared.ctx, order_ref)
    }

    /// A snapshot of an order: the request it carried, its state and completion data.
    pub fn order(&self, order_ref: &str) -> Option<OrderInfo> {
        self.shared.store.info(&self.shared.ctx, order_ref)
    }

    /// Queues `fault` for the next `times` collect/cancel requests about this order (from the
    /// RP that owns it).
    pub fn inject_fault(&self, order_ref: &str, fault: Fault, times: u32) -> Result<(), PhoneError> {
        self.shared.store.inject_fault(&self.shared.ctx, order_ref, fault, times)
    }

    /// Adds a fault rule for the rest of the run.
    pub fn add_fault(&self, rule: FaultRule) {
        self.shared.faults.add(rule);
    }

    /// Removes every run-level fault rule.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Moves the server's clock forward: `startFailed`, expiry and purging happen as if that
    /// much time had passed.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.ctx.clock.advance(by);
    }

    /// The order count and the connection count together (what `/sim/status` answers).
    pub fn status(&self) -> SimStatus {
        SimStatus { orders: self.order_count(), connections: self.connections_accepted() }
    }

    /// Orders held in memory (pending, and finished ones still in their collect window).
    pub fn order_count(&self) -> usize {
        self.shared.store.count()
    }

    /// TCP connections the listener has accepted so far, whether or not their TLS handshake
    /// succeeded (the `/sim/` endpoints' connections count too). A client that reuses its
    /// connections makes this grow by one for a whole series of requests.
    pub fn connections_accepted(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Runs the sweeper now (it also runs every [`Timings::sweep_interval`]).
    pub fn sweep(&self) {
        self.shared.store.sweep(&self.shared.ctx);
    }
}

/// What [`SimHandle::status`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimStatus {
    /// [`SimHandle::order_count`].
    pub orders: usize,
    /// [`SimHandle::connections_accepted`].
    pub connections: u64,
}

/// A running simulator on the caller's tokio runtime. Dereferences to [`SimHandle`].
/// Dropping it stops the server at once; [`shutdown`](Self::shutdown) lets open requests finish.
#[derive(Debug)]
pub struct Simulator {
    handle: SimHandle,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    sweeper: JoinHandle<()>,
}

impl Deref for Simulator {
    type Target = SimHandle;

    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("https://{}", SocketAddr::new(ip, addr.port()))
}

impl Simulator {
    /// A builder with the defaults of [`SimConfig`].
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    /// Starts a simulator on the current tokio runtime (multi-threaded or not).
    pub async fn start(config: SimConfig) -> Result<Self, Error> {
        if !crate::is_valid_personal_number(&config.person.personal_number) {
            return Err(Error::InvalidPersonalNumber);
        }
        let pki = match config.pki {
            Some(pki) => pki,
            None if config.client_identities == 0 => return Err(Error::NoClientIdentities),
            None => {
                let (n, pw) = (config.client_identities, config.p12_password.clone());
                match tokio::task::spawn_blocking(move || Pki::generate(n, &pw)).await {
                    Ok(generated) => Arc::new(generated?),
                    Err(join) => return Err(Error::Pki(join.into())),
                }
            }
        };
        if let Some(dir) = &config.pki_dir {
            pki.write_to(dir).map_err(|source| Error::WritePki { dir: dir.clone(), source })?;
        }
        let tls = server::tls_config(&pki)?;
        let bind_error = |source| Error::Bind { addr: config.bind.clone(), source };
        let listener = TcpListener::bind(config.bind.as_str()).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let shared = Arc::new(Shared {
            ctx: Ctx {
                clock: Clock::default(),
                timings: config.timings,
                person: config.person,
                pki,
                auto: config.auto_approve,
            },
            store: Store::default(),
            faults: FaultTable::new(config.faults),
            connections: AtomicU64::new(0),
            control_api: config.control_api,
            addr,
            base_url: base_url(addr),
        });
        let handle = SimHandle { shared };
        let (tx, rx) = watch::channel(false);
        let server = tokio::spawn(server::serve(listener, tls, handle.clone(), config.max_connections, rx));
        let sweeper = {
            let handle = handle.clone();
            let every = config.timings.sweep_interval.max(Duration::from_millis(10));
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    handle.sweep();
                }
            })
        };
        tracing::info!(url = handle.base_url(), "bankid-sim listening");
        Ok(Self { handle, shutdown: tx, server: Some(server), sweeper })
    }

    /// Starts a simulator on its own runtime threads, for blocking code (not from inside an
    /// async runtime).
    pub fn start_blocking(config: SimConfig) -> Result<BlockingSimulator, Error> {
        BlockingSimulator::start(config)
    }

    /// A handle that outlives `&self` borrows (clone it into tasks).
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }

    /// Stops accepting connections, lets requests in flight finish (up to 5 s), closes idle
    /// keep-alive connections, and stops.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.sweeper.abort();
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            server.abort();
        }
        self.sweeper.abort();
    }
}

/// Configures and starts a [`Simulator`].
#[derive(Debug, Clone, Default)]
pub struct SimulatorBuilder {
    config: SimConfig,
}

impl SimulatorBuilder {
    /// Listen address, e.g. `127.0.0.1:0` (the default: any free port) or `0.0.0.0:8443`.
    pub fn bind(mut self, addr: impl Into<String>) -> Self {
        self.config.bind = addr.into();
        self
    }

    /// Auto mode: every order is picked up after `delay` (QR orders through a real QR check),
    /// each following step takes `delay`, then it completes. `None` turns it off.
    pub fn auto_approve(mut self, delay: Option<Duration>) -> Self {
        self.config.auto_approve = delay;
        self
    }

    /// Adds a run-level fault rule.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.config.faults.push(rule);
        self
    }

    /// The default test person.
    pub fn person(mut self, person: TestPerson) -> Self {
        self.config.person = person;
        self
    }

    /// Order time rules.
    pub fn timings(mut self, timings: Timings) -> Self {
        self.config.timings = timings;
        self
    }

    /// Number of RP client identities to generate (default 2).
    pub fn client_identities(mut self, n: usize) -> Self {
        self.config.client_identities = n;
        self
    }

    /// Password of the generated PKCS#12 files (default `qwerty123`).
    pub fn p12_password(mut self, password: impl Into<String>) -> Self {
        self.config.p12_password = password.into();
        self
    }

    /// Writes the PKI files to this folder at start.
    pub fn write_pki_to(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.pki_dir = Some(dir.into());
        self
    }

    /// Reuses a PKI (from [`Pki::generate`] or [`SimHandle::pki_arc`]).
    pub fn pki(mut self, pki: Arc<Pki>) -> Self {
        self.config.pki = Some(pki);
        self
    }

    /// Who may use the `/sim/` control endpoints (default: RP client certificates only).
    pub fn control_api(mut self, control_api: ControlApi) -> Self {
        self.config.control_api = control_api;
        self
    }

    /// At most `n` connections open at once (default [`crate::DEFAULT_MAX_CONNECTIONS`]; 0 counts as 1).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = n;
        self
    }

    /// The configuration built so far.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Starts the simulator on the current tokio runtime.
    pub async fn start(self) -> Result<Simulator, Error> {
        Simulator::start(self.config).await
    }

    /// Starts the simulator on its own runtime threads (for blocking code).
    pub fn start_blocking(self) -> Result<BlockingSimulator, Error> {
        BlockingSimulator::start(self.config)
    }
}

impl From<SimConfig> for SimulatorBuilder {
    fn from(config: SimConfig) -> Self {
        Self { config }
    }
}
