//! A whole identification against bankid-sim, started in-process with a phone that picks every
//! order up and approves it on its own: `cargo run -p bankid-blocking --example blocking_auth_flow`.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use bankid_blocking::Client;
use bankid_core::{AuthRequest, Config, Event, Identity, Language, Order, Roots, StartMode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The simulator: its own CA, an RP identity for us, a phone that approves after 1.5 s.
    let sim = bankid_sim::Simulator::builder().auto_approve(Some(Duration::from_millis(1500))).start_blocking()?;
    let rp = sim.pki().client_identity(0).ok_or("the simulator has no client identity")?;
    let identity = Identity::from_pem(rp.cert_pem().as_bytes(), rp.key_pem().as_bytes(), None)?;
    let config =
        Config::custom(sim.base_url(), Roots::from_pem(sim.pki().ca_pem().as_bytes())?)?.with_identity(identity);

    let client = Client::new(config)?;
    let start = client.authenticate(&AuthRequest::new("192.0.2.10".parse()?).user_visible_data("Log in to Example"))?;
    println!("order {} started", start.order_ref);
    let order = Order::new(&start, StartMode::Qr, Instant::now());
    let end = client.wait(order, |event| {
        match event {
            Event::QrChanged(content) => println!("QR code: {content}"),
            Event::Progress { hint_code, message } => println!("{hint_code}: {}", message.text(Language::En)),
            _ => {}
        }
        ControlFlow::Continue(())
    });
    match end {
        Event::Completed(data) => {
            println!("completed: {} (BankID issued {})", data.user.name, data.bank_id_issue_date);
            Ok(())
        }
        other => Err(format!("the order did not complete: {other:?}").into()),
    }
}
