//! Opt-in: the three transports against BankID's real test environment ("kundtest") with the
//! embedded public test identity. Needs internet, so it only runs with `BANKID_LIVE_TEST=1`;
//! otherwise each test returns at once and says so.
//!
//! It checks what PyBankID's suite checks there: an auth order is pending with
//! `outstandingTransaction` or `noClient` right after it starts, and cancel answers `{}`.

use bankid_conformance::{Blocking, Hyper, Reqwest, Transport};
use bankid_core::{AuthRequest, CancelRequest, CollectRequest, CollectStatus, Config, PendingHintCode};

fn enabled() -> bool {
    let on = std::env::var_os("BANKID_LIVE_TEST").is_some_and(|v| v == "1");
    if !on {
        eprintln!("skipped: set BANKID_LIVE_TEST=1 to run against appapi2.test.bankid.com");
    }
    on
}

fn auth_collect_cancel<T: Transport>() {
    if !enabled() {
        return;
    }
    let client = T::new(Config::test()).expect("the public test identity loads");
    let start = client.send(&AuthRequest::new("192.0.2.10".parse().unwrap())).expect("auth");
    let collect = client.send(&CollectRequest::new(&start.order_ref)).expect("collect");
    assert!(
        matches!(
            collect.status,
            CollectStatus::Pending { hint_code: PendingHintCode::OutstandingTransaction | PendingHintCode::NoClient }
        ),
        "{:?}",
        collect.status
    );
    client.send(&CancelRequest::new(&start.order_ref)).map(drop).expect("cancel");
}

#[test]
fn live_via_blocking() {
    auth_collect_cancel::<Blocking>();
}

#[test]
fn live_via_reqwest() {
    auth_collect_cancel::<Reqwest>();
}

#[test]
fn live_via_hyper() {
    auth_collect_cancel::<Hyper>();
}
