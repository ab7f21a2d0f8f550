//! One blocking interface over the three transports.

use std::ops::ControlFlow;
use std::time::Duration;

use bankid_core::{Config, Error, Event, Operation, Order};

/// What every transport offers, as blocking calls. Scenarios are written against this: every
/// endpoint goes through `send` (the PyBankID-named methods are `send` under another name,
/// generated once by `bankid_core::client_methods!`).
pub trait Transport: Sized {
    /// The transport's name, for messages.
    const NAME: &'static str;

    /// `Client::new`.
    fn new(config: Config) -> Result<Self, Error>;
    /// `Client::send`.
    fn send<O: Operation>(&self, operation: &O) -> Result<O::Output, Error>;
    /// `Client::wait`.
    fn wait(&self, order: Order, on_event: &mut dyn FnMut(&Event) -> ControlFlow<()>) -> Event;
    /// The client's `Debug` text.
    fn debug(&self) -> String;
}

/// The async transports' ways to stop an order besides the callback.
pub trait AsyncTransport: Transport {
    /// `Client::wait_until` with a stop future that resolves after `after`.
    fn wait_stopped_after(&self, order: Order, after: Duration) -> Event;
    /// Polls `Client::wait` for `after`, drops it, then keeps the runtime running for `linger`
    /// (so that a task spawned on drop can run).
    fn wait_dropped_after(&self, order: Order, after: Duration, linger: Duration);
}

/// `bankid-blocking`.
#[derive(Debug)]
pub struct Blocking(bankid_blocking::Client);

impl Transport for Blocking {
    const NAME: &'static str = "blocking";

    fn new(config: Config) -> Result<Self, Error> {
        bankid_blocking::Client::new(config).map(Self)
    }
    fn send<O: Operation>(&self, operation: &O) -> Result<O::Output, Error> {
        self.0.send(operation)
    }
    fn wait(&self, order: Order, on_event: &mut dyn FnMut(&Event) -> ControlFlow<()>) -> Event {
        self.0.wait(order, on_event)
    }
    fn debug(&self) -> String {
        format!("{:?}", self.0)
    }
}

/// The two async transports have the same API: one adapter each, from one template.
macro_rules! async_adapter {
    ($(#[$doc:meta])* $name:ident, $client:ty, $label:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            client: $client,
            runtime: tokio::runtime::Runtime,
        }

        impl Transport for $name {
            const NAME: &'static str = $label;

            fn new(config: Config) -> Result<Self, Error> {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                let client = {
                    let _context = runtime.enter();
                    <$client>::new(config)?
                };
                Ok(Self { client, runtime })
            }
            fn send<O: Operation>(&self, operation: &O) -> Result<O::Output, Error> {
                self.runtime.block_on(self.client.send(operation))
            }
            fn wait(&self, order: Order, on_event: &mut dyn FnMut(&Event) -> ControlFlow<()>) -> Event {
                self.runtime.block_on(self.client.wait(order, on_event))
            }
            fn debug(&self) -> String {
                format!("{:?}", self.client)
            }
        }

        impl AsyncTransport for $name {
            fn wait_stopped_after(&self, order: Order, after: Duration) -> Event {
                self.runtime.block_on(async {
                    self.client.wait_until(order, tokio::time::sleep(after), |_| ControlFlow::Continue(())).await
                })
            }
            fn wait_dropped_after(&self, order: Order, after: Duration, linger: Duration) {
                self.runtime.block_on(async {
                    let waiting = self.client.wait(order, |_| ControlFlow::Continue(()));
                    assert!(tokio::time::timeout(after, waiting).await.is_err(), "the order ended too soon");
                    tokio::time::sleep(linger).await;
                });
            }
        }
    };
}

async_adapter!(
    /// `bankid-reqwest` on a current-thread tokio runtime.
    Reqwest,
    bankid_reqwest::Client,
    "reqwest"
);
async_adapter!(
    /// `bankid-hyper` on a current-thread tokio runtime.
    Hyper,
    bankid_hyper::Client,
    "hyper"
);
