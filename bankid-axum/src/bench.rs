//! The network-free part of a status poll, for the criterion bench (`benches/poll.rs`). Not
//! part of the API.

use std::time::SystemTime;

use bankid_core::{Language, OrderResponse, StartMode};

use crate::api::pending_json;
use crate::device::Platform;
use crate::flow::OrderSnapshot;
use crate::rp::OrderKind;
use crate::seal::Sealer;
use crate::state::{Active, Session, unix};

/// A sealed order cookie for a QR order started at `wall`, like the one the start endpoint sets.
///
/// # Panics
/// Never with a working random generator.
#[must_use]
pub fn order_cookie(sealer: &Sealer, wall: SystemTime) -> String {
    let response: OrderResponse = serde_json::from_str(
        r#"{"orderRef":"131daac9-16c6-4618-beb0-365768f37288","autoStartToken":"7c40b5c9-fa74-49cf-b98c-bfe651f9a7c6",
            "qrStartToken":"67df3917-fa0d-44e5-b327-edcc928297f8","qrStartSecret":"d28db9a7-4cde-429e-a983-359be676944c"}"#,
    )
    .unwrap_or_else(|_| unreachable!());
    let order = OrderSnapshot::new(&response, StartMode::Qr, wall);
    let active = Active {
        kind: OrderKind::Auth,
        order,
        platform: Platform::Desktop,
        nonce: "0123456789abcdef0123456789abcdef".to_owned(),
        return_url: None,
        restarts: 0,
        context: None,
    };
    let session = Session { expires: unix(wall) + 900, window_start: unix(wall), orders: 1, order: Some(active) };
    sealer.seal(&serde_json::to_vec(&session).unwrap_or_default()).unwrap_or_default()
}

/// One status poll with no collect due: opens the cookie, computes the QR content for `wall`,
/// renders its SVG, builds the JSON answer and seals the cookie again. Returns the answer and
/// the new cookie; `None` when the cookie is refused.
#[must_use]
pub fn poll_without_network(sealer: &Sealer, cookie: &str, wall: SystemTime) -> Option<(Vec<u8>, String)> {
    let mut session: Session = serde_json::from_slice(&sealer.open(cookie).ok()?).ok()?;
    let active = session.order.as_ref()?;
    let json = pending_json(active, active.order.qr_content(wall), None, Language::En);
    let body = serde_json::to_vec(&json).ok()?;
    session.expires = unix(wall) + 900;
    let sealed = sealer.seal(&serde_json::to_vec(&session).ok()?).ok()?;
    Some((body, sealed))
}
