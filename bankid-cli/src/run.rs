//! What each subcommand does.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::pin::pin;
use std::time::{Duration, Instant};

use bankid_core::launch::{LaunchScheme, launch_url};
use bankid_core::{Event, Order, OrderOptions, StartMode};
use tokio::sync::watch;

use crate::args::{Command, OrderRefArgs, QrArgs};
use crate::output::{EXIT_ERROR, EXIT_OK, Failure, Report};
use crate::progress::Progress;
use crate::server::{Embedded, Server, connect};
use crate::sim::Pickup;
use crate::start::{self, Start, Started};

/// Runs `command`; returns the exit code.
pub(crate) async fn run(command: Command) -> u8 {
    match command {
        Command::Auth(args) => order(start::auth(args)).await,
        Command::Sign(args) => order(start::sign(args)).await,
        Command::Payment(args) => order(start::payment(args)).await,
        Command::PhoneAuth(args) => order(start::phone_auth(args)).await,
        Command::PhoneSign(args) => order(start::phone_sign(args)).await,
        Command::Collect(args) => collect(args).await,
        Command::Cancel(args) => cancel(args).await,
        Command::Qr(args) => qr(&args),
        Command::Web(args) => crate::web::web(args).await,
        Command::Verify(args) => crate::verify::run(&args),
        Command::Sim(args) => match args.run().await {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_ERROR
            }
        },
    }
}

/// `bankid qr`: the content, exactly, and a newline.
fn qr(args: &QrArgs) -> u8 {
    println!("{}", bankid_core::qr::content(&args.token, &args.secret, args.seconds));
    EXIT_OK
}

/// `bankid collect ORDER_REF`.
async fn collect(args: OrderRefArgs) -> u8 {
    let report = match connect(&args.server, Embedded::Refused).await {
        Ok(server) => match server.client.collect(&args.order_ref).await {
            Ok(response) => Report::from_collect(response),
            Err(e) => Report::error(Some(args.order_ref), Failure::from_error(&e, server.url())),
        },
        Err(failure) => Report::error(Some(args.order_ref), failure),
    };
    report.print(&args.output)
}

/// `bankid cancel ORDER_REF`.
async fn cancel(args: OrderRefArgs) -> u8 {
    let report = match connect(&args.server, Embedded::Refused).await {
        Ok(server) => match server.client.cancel(&args.order_ref).await {
            Ok(()) => Report::cancelled(args.order_ref),
            Err(e) => Report::error(Some(args.order_ref), Failure::from_error(&e, server.url())),
        },
        Err(failure) => Report::error(Some(args.order_ref), failure),
    };
    report.print(&args.output)
}

/// auth, sign, payment, phone-auth, phone-sign: starts the order and drives it to its end.
async fn order(start: Start) -> u8 {
    let report = match connect(&start.server, Embedded::Allowed).await {
        Ok(server) => {
            let mut report = drive(&server, &start).await;
            crate::verify::check_order(&mut report, &start, &server);
            report
        }
        Err(failure) => Report::error(None, failure),
    };
    report.print(&start.output)
}

/// Sends the start request and runs the order to its end, showing its progress; Ctrl-C
/// cancels it at the server.
async fn drive(server: &Server, start: &Start) -> Report {
    // Listen to Ctrl-C from now on (polling the future once installs the handler): pressed
    // while the start request is in flight, it cancels the order as soon as the order exists.
    let mut interrupt = pin!(ctrl_c());
    let interrupted = tokio::select! {
        biased;
        () = &mut interrupt => true,
        () = std::future::ready(()) => false,
    };
    let stop = async move {
        if !interrupted {
            interrupt.await;
        }
    };
    let started = match start.request.send(&server.client).await {
        Ok(started) => started,
        Err(e) => return Report::error(None, Failure::from_error(&e, server.url())),
    };
    let now = Instant::now();
    let order = match &started {
        Started::Device(response) => Order::new(response, start.mode, now),
        Started::Phone(response) => Order::phone(response, now, OrderOptions::default()),
    };
    let order_ref = order.order_ref().to_owned();

    let mut progress = Progress::new(&start.output, start.mode, now, server.url());
    introduce(&mut progress, server, &order);
    let (qr_shown, qr_seen) = watch::channel(None);
    let _phone = server.sim.as_ref().map(|sim| {
        let pickup = match (start.mode, order.auto_start_token()) {
            (StartMode::Qr, _) => Pickup::Qr(qr_seen),
            (StartMode::AutoStart, Some(token)) => Pickup::AutoStart(token.to_owned()),
            _ => Pickup::App,
        };
        sim.phone(&order_ref, pickup)
    });

    let progress = RefCell::new(progress);
    let end = {
        let on_event = |event: &Event| {
            if let Event::QrChanged(content) = event {
                qr_shown.send_replace(Some(content.clone()));
            }
            progress.borrow_mut().on_event(event);
            ControlFlow::Continue(())
        };
        let mut wait = pin!(server.client.wait_until(order, stop, on_event));
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                end = &mut wait => break end,
                _ = ticker.tick() => progress.borrow_mut().redraw(),
            }
        }
    };
    progress.into_inner().finish();
    Report::from_final_event(order_ref, end, server.url())
}

/// Shows where the order runs, what happens next and how to cancel it.
fn introduce(progress: &mut Progress, server: &Server, order: &Order) {
    progress.plain_note(&format!("Order {} at {} ({}).", order.order_ref(), server.label, server.url()));
    progress.note(&format!("Server: {}", server.label));
    if let Some(sim) = &server.sim {
        progress.note(&sim.plan());
    }
    match (order.mode(), order.auto_start_token()) {
        (StartMode::AutoStart, Some(token)) => {
            let url = launch_url(LaunchScheme::BankId, token, None);
            progress.essential(&format!("Open this link to start the BankID app on this device: {url}"));
        }
        (StartMode::Phone, _) => progress.note("The order is waiting in the user's BankID app."),
        _ => {}
    }
    progress.note("Ctrl-C cancels the order.");
}

/// Resolves on Ctrl-C; never when the signal cannot be listened to.
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
