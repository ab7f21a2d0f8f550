//! The embedded simulator: a `bankid-sim` server on `127.0.0.1:0`, trusted with its own CA and
//! its first client identity, plus a simulated phone that does what a user would.
//!
//! # Why the CLI drives the phone itself
//! The simulator's own auto mode ([`bankid_sim::SimulatorBuilder::auto_approve`]) picks every
//! order up as a QR scan. The phone here instead picks the order up the way it was started:
//! it scans the QR content this process shows (so a wrong QR code would fail here as it would
//! with a real app), uses the autostart token with `--autostart`, opens pushed phone orders;
//! and it can also cancel in the app, which the tests use for a failing order. It goes through
//! the simulator's public phone API ([`SimHandle`]), the same one the simulator's own auto mode
//! and its `/sim/` endpoints use.

use std::time::Duration;

use bankid_core::{Config, Identity, Roots};
use bankid_sim::{PhoneError, SimHandle, Simulator};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::args::{PhoneScript, SimPhoneArgs};
use crate::output::Failure;

/// A running embedded simulator.
#[derive(Debug)]
pub(crate) struct EmbeddedSim {
    sim: Simulator,
    phone: SimPhoneArgs,
}

/// How the phone picks an order up.
#[derive(Debug)]
pub(crate) enum Pickup {
    /// By scanning the QR code currently shown (`None` while none is).
    Qr(watch::Receiver<Option<String>>),
    /// With the autostart token.
    AutoStart(String),
    /// By opening the order pushed to the app (phone orders).
    App,
}

/// The simulated phone working on one order; stops when dropped.
#[derive(Debug)]
pub(crate) struct Phone(JoinHandle<()>);

impl Drop for Phone {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl EmbeddedSim {
    /// Starts a simulator on `127.0.0.1:0` with one client identity.
    pub(crate) async fn start(phone: SimPhoneArgs) -> Result<Self, Failure> {
        let sim = Simulator::builder()
            .bind("127.0.0.1:0")
            .client_identities(1)
            .start()
            .await
            .map_err(|e| Failure::new(format!("cannot start the embedded simulator: {e}")))?;
        Ok(Self { sim, phone })
    }

    /// The root of the simulator's signature hierarchy (PEM), to verify its completion signatures.
    pub(crate) fn signature_root_pem(&self) -> &str {
        self.sim.pki().signature_root_pem()
    }

    /// A configuration trusting the simulator's CA with its first client identity.
    pub(crate) fn config(&self) -> Result<Config, Failure> {
        let unusable = |e: bankid_core::IdentityError| Failure::new(format!("embedded simulator's TLS material: {e}"));
        let pki = self.sim.pki();
        let roots = Roots::from_pem(pki.ca_pem().as_bytes()).map_err(unusable)?;
        let rp = pki.client_identity(0).ok_or_else(|| Failure::new("the embedded simulator has no client identity"))?;
        let identity = Identity::from_pem(rp.cert_pem().as_bytes(), rp.key_pem().as_bytes(), None).map_err(unusable)?;
        Config::custom(self.sim.base_url(), roots)
            .map(|config| config.with_identity(identity))
            .map_err(|e| Failure::new(format!("embedded simulator: {e}")))
    }

    /// What the user will do, for the screen.
    pub(crate) fn plan(&self) -> String {
        let after = format!("{} s", Duration::from_millis(self.phone.sim_pickup_after).as_secs_f64());
        match self.phone.sim_phone {
            PhoneScript::Approve => format!("The simulated phone picks the order up after {after} and approves it."),
            PhoneScript::Cancel => format!("The simulated phone picks the order up after {after} and cancels it."),
            PhoneScript::Ignore => "The simulated phone does nothing.".to_owned(),
        }
    }

    /// Starts the simulated phone on the order `order_ref`.
    pub(crate) fn phone(&self, order_ref: &str, pickup: Pickup) -> Phone {
        let task = run_phone(self.sim.handle(), order_ref.to_owned(), pickup, self.phone.clone());
        Phone(tokio::spawn(task))
    }
}

/// The user: waits, picks the order up, goes through the app's steps, then approves or cancels.
/// Gives up quietly when the order is gone (cancelled, expired).
async fn run_phone(sim: SimHandle, order_ref: String, pickup: Pickup, args: SimPhoneArgs) {
    if args.sim_phone == PhoneScript::Ignore {
        return;
    }
    tokio::time::sleep(Duration::from_millis(args.sim_pickup_after)).await;
    let picked_up = match pickup {
        Pickup::Qr(shown) => {
            let content = shown.borrow().clone();
            content.ok_or(PhoneError::InvalidQr).and_then(|content| sim.scan_qr(&content)).map(drop)
        }
        Pickup::AutoStart(token) => sim.use_autostart(&token).map(drop),
        Pickup::App => sim.open_app(&order_ref).map(drop),
    };
    if picked_up.is_err() {
        return;
    }
    let step = Duration::from_millis(args.sim_approve_after);
    loop {
        tokio::time::sleep(step).await;
        if args.sim_phone == PhoneScript::Cancel {
            _ = sim.user_cancel(&order_ref);
            return;
        }
        match sim.next_step(&order_ref) {
            Ok(_) => {}
            Err(PhoneError::LastStep) => {
                _ = sim.approve(&order_ref);
                return;
            }
            Err(_) => return,
        }
    }
}
