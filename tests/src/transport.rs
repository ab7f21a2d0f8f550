//! One blocking interface over the three transports.

use std::ops::ControlFlow;
use std::time::Duration;

use bankid_core::{
    AuthRequest, CollectResponse, Config, Error, Event, Order, OrderResponse, OtherPaymentRequest, PaymentRequest,
    PhoneAuthRequest, PhoneOrderResponse, PhoneSignRequest, SignRequest,
};

/// What every transport offers, as blocking calls. Scenarios are written against this.
pub trait Transport: Sized {
    /// The transport's name, for messages.
    const NAME: &'static str;

    /// `Client::new`.
    fn new(config: Config) -> Result<Self, Error>;
    /// `Client::authenticate`.
    fn authenticate(&self, request: &AuthRequest) -> Result<OrderResponse, Error>;
    /// `Client::sign`.
    fn sign(&self, request: &SignRequest) -> Result<OrderResponse, Error>;
    /// `Client::payment`.
    fn payment(&self, request: &PaymentRequest) -> Result<OrderResponse, Error>;
    /// `Client::phone_authenticate`.
    fn phone_authenticate(&self, request: &PhoneAuthRequest) -> Result<PhoneOrderResponse, Error>;
    /// `Client::phone_sign`.
    fn phone_sign(&self, request: &PhoneSignRequest) -> Result<PhoneOrderResponse, Error>;
    /// `Client::other_payment`.
    fn other_payment(&self, request: &OtherPaymentRequest) -> Result<PhoneOrderResponse, Error>;
    /// `Client::collect`.
    fn collect(&self, order_ref: &str) -> Result<CollectResponse, Error>;
    /// `Client::cancel`.
    fn cancel(&self, order_ref: &str) -> Result<(), Error>;
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
    fn authenticate(&self, request: &AuthRequest) -> Result<OrderResponse, Error> {
        self.0.authenticate(request)
    }
    fn sign(&self, request: &SignRequest) -> Result<OrderResponse, Error> {
        self.0.sign(request)
    }
    fn payment(&self, request: &PaymentRequest) -> Result<OrderResponse, Error> {
        self.0.payment(request)
    }
    fn phone_authenticate(&self, request: &PhoneAuthRequest) -> Result<PhoneOrderResponse, Error> {
        self.0.phone_authenticate(request)
    }
    fn phone_sign(&self, request: &PhoneSignRequest) -> Result<PhoneOrderResponse, Error> {
        self.0.phone_sign(request)
    }
    fn other_payment(&self, request: &OtherPaymentRequest) -> Result<PhoneOrderResponse, Error> {
        self.0.other_payment(request)
    }
    fn collect(&self, order_ref: &str) -> Result<CollectResponse, Error> {
        self.0.collect(order_ref)
    }
    fn cancel(&self, order_ref: &str) -> Result<(), Error> {
        self.0.cancel(order_ref)
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
            fn authenticate(&self, request: &AuthRequest) -> Result<OrderResponse, Error> {
                self.runtime.block_on(self.client.authenticate(request))
            }
            fn sign(&self, request: &SignRequest) -> Result<OrderResponse, Error> {
                self.runtime.block_on(self.client.sign(request))
            }
            fn payment(&self, request: &PaymentRequest) -> Result<OrderResponse, Error> {
                self.runtime.block_on(self.client.payment(request))
            }
            fn phone_authenticate(&self, request: &PhoneAuthRequest) -> Result<PhoneOrderResponse, Error> {
                self.runtime.block_on(self.client.phone_authenticate(request))
            }
            fn phone_sign(&self, request: &PhoneSignRequest) -> Result<PhoneOrderResponse, Error> {
                self.runtime.block_on(self.client.phone_sign(request))
            }
            fn other_payment(&self, request: &OtherPaymentRequest) -> Result<PhoneOrderResponse, Error> {
                self.runtime.block_on(self.client.other_payment(request))
            }
            fn collect(&self, order_ref: &str) -> Result<CollectResponse, Error> {
                self.runtime.block_on(self.client.collect(order_ref))
            }
            fn cancel(&self, order_ref: &str) -> Result<(), Error> {
                self.runtime.block_on(self.client.cancel(order_ref))
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
