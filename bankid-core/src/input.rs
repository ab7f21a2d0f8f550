//! [`InvalidInput`], on its own so that the modules that parse caller input (codes, messages,
//! validation) need nothing else of the error module.

/// Input rejected before anything was sent, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    /// The field, as BankID names it (e.g. `requirement.personalNumber`).
    pub field: &'static str,
    /// Why it was rejected. Never contains the rejected value when that may be personal data.
    pub reason: String,
}

impl InvalidInput {
    /// A rejection of `field` for `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}
