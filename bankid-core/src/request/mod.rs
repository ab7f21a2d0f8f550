//! One typed request per endpoint (spec §2).
//!
//! Text goes in as Rust strings (or bytes for non-visible data); the core base64-encodes it and
//! checks every limit before anything is sent. Optional fields that are not set are omitted from
//! the JSON, never sent as `null` or `""`.
//!
//! - `values`: the value types (requirements, device data, the payment transaction);
//! - `wire`: the one JSON body and the text rules of each endpoint;
//! - `start`: the six requests that start an order;
//! - `operation`: [`Operation`], the pipeline of every endpoint, with collect and cancel.

mod operation;
mod start;
mod values;
mod wire;

pub use operation::{CancelRequest, CollectRequest, Operation};
pub use start::{AuthRequest, OtherPaymentRequest, PaymentRequest, PhoneAuthRequest, PhoneSignRequest, SignRequest};
pub use values::{AppData, DeviceData, Money, Recipient, Requirement, UserVisibleTransaction, WebData};
