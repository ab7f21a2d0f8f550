//! PyBankID's method names, written once for every client.

/// Generates PyBankID's method names on a client type: `authenticate`, `sign`, `payment`,
/// `phone_authenticate`, `phone_sign`, `other_payment`, `collect` and `cancel`, each a call of
/// the client's own generic `send` (`fn send<O: Operation>(&self, &O) -> Result<O::Output,
/// Error>`, `async` or not). This is the one list of endpoints of every transport: adding an
/// endpoint touches the core and this list.
///
/// Use it inside an `impl` block: `bankid_core::client_methods!(blocking);` for a client whose
/// `send` blocks, `bankid_core::client_methods!(async);` for one whose `send` is `async`.
///
/// ```
/// use bankid_core::{Error, Operation};
///
/// /// A client that answers every request with the same canned response.
/// struct Canned(&'static str);
///
/// impl Canned {
///     fn send<O: Operation>(&self, operation: &O) -> Result<O::Output, Error> {
///         operation.to_http(&bankid_core::Config::test())?;
///         let response = http::Response::builder()
///             .status(200)
///             .header("content-type", "application/json")
///             .body(self.0.as_bytes().to_vec())
///             .unwrap();
///         operation.read_response(response)
///     }
///
///     bankid_core::client_methods!(blocking);
/// }
///
/// let client = Canned(r#"{"orderRef":"o1"}"#);
/// let start = client.phone_authenticate(&bankid_core::PhoneAuthRequest::new(
///     "199001011239",
///     bankid_core::CallInitiator::Rp,
/// ))?;
/// assert_eq!(start.order_ref, "o1");
/// # Ok::<(), Error>(())
/// ```
#[macro_export]
macro_rules! client_methods {
    (blocking) => {
        $crate::client_methods!(@methods [] []);
    };
    (async) => {
        $crate::client_methods!(@methods [async] [.await]);
    };
    (@methods [$($async:ident)?] [$($await:tt)*]) => {
        /// Starts an identification order (`/auth`).
        ///
        /// # Errors
        /// Any [`Error`]($crate::Error): invalid input (nothing sent), BankID's error answers,
        /// unexpected responses, transport failures.
        pub $($async)? fn authenticate(
            &self,
            request: &$crate::AuthRequest,
        ) -> ::core::result::Result<$crate::OrderResponse, $crate::Error> {
            self.send(request)$($await)*
        }

        /// Starts a signing order (`/sign`).
        ///
        /// # Errors
        /// As `authenticate`.
        pub $($async)? fn sign(
            &self,
            request: &$crate::SignRequest,
        ) -> ::core::result::Result<$crate::OrderResponse, $crate::Error> {
            self.send(request)$($await)*
        }

        /// Starts a payment order (`/payment`).
        ///
        /// # Errors
        /// As `authenticate`.
        pub $($async)? fn payment(
            &self,
            request: &$crate::PaymentRequest,
        ) -> ::core::result::Result<$crate::OrderResponse, $crate::Error> {
            self.send(request)$($await)*
        }

        /// Starts an identification over the phone (`/phone/auth`).
        ///
        /// # Errors
        /// As `authenticate`.
        pub $($async)? fn phone_authenticate(
            &self,
            request: &$crate::PhoneAuthRequest,
        ) -> ::core::result::Result<$crate::PhoneOrderResponse, $crate::Error> {
            self.send(request)$($await)*
        }

        /// Starts a signing over the phone (`/phone/sign`).
        ///
        /// # Errors
        /// As `authenticate`.
        pub $($async)? fn phone_sign(
            &self,
            request: &$crate::PhoneSignRequest,
        ) -> ::core::result::Result<$crate::PhoneOrderResponse, $crate::Error> {
            self.send(request)$($await)*
        }

        /// Starts a payment the user approves on another device (`/other/payment`).
        ///
        /// # Errors
        /// As `authenticate`.
        pub $($async)? fn other_payment(
            &self,
            request: &$crate::OtherPaymentRequest,
        ) -> ::core::result::Result<$crate::PhoneOrderResponse, $crate::Error> {
            self.send(request)$($await)*
        }

        /// Collects an order once (`/collect`); `wait` does this at the right pace. An answer
        /// about another order is an error ([`UnexpectedKind::ForeignOrder`]($crate::UnexpectedKind::ForeignOrder)).
        ///
        /// # Errors
        /// As `authenticate`.
        pub $($async)? fn collect(
            &self,
            order_ref: &str,
        ) -> ::core::result::Result<$crate::CollectResponse, $crate::Error> {
            self.send(&$crate::CollectRequest::new(order_ref))$($await)*
        }

        /// Cancels an order (`/cancel`).
        ///
        /// # Errors
        /// As `authenticate`.
        pub $($async)? fn cancel(&self, order_ref: &str) -> ::core::result::Result<(), $crate::Error> {
            self.send(&$crate::CancelRequest::new(order_ref))$($await)*.map(drop)
        }
    };
}
