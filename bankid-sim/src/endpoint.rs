//! The eight v6 endpoints, named as `bankid_core::Endpoint` names them.

use std::fmt;
use std::str::FromStr;

/// One of the eight v6 endpoints under `/rp/v6.0/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `auth`
    Auth,
    /// `sign`
    Sign,
    /// `payment`
    Payment,
    /// `phone/auth`
    PhoneAuth,
    /// `phone/sign`
    PhoneSign,
    /// `other/payment`
    OtherPayment,
    /// `collect`
    Collect,
    /// `cancel`
    Cancel,
}

impl Endpoint {
    /// All endpoints.
    pub const ALL: [Self; 8] = [
        Self::Auth,
        Self::Sign,
        Self::Payment,
        Self::PhoneAuth,
        Self::PhoneSign,
        Self::OtherPayment,
        Self::Collect,
        Self::Cancel,
    ];

    /// The endpoint's path below `/rp/v6.0/`, e.g. `phone/auth` (as `bankid_core`'s
    /// `Endpoint::name`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Sign => "sign",
            Self::Payment => "payment",
            Self::PhoneAuth => "phone/auth",
            Self::PhoneSign => "phone/sign",
            Self::OtherPayment => "other/payment",
            Self::Collect => "collect",
            Self::Cancel => "cancel",
        }
    }

    /// The full path of the endpoint, e.g. `/rp/v6.0/phone/auth` (as `bankid_core`'s
    /// `Endpoint::path`).
    pub fn path(self) -> &'static str {
        match self {
            Self::Auth => "/rp/v6.0/auth",
            Self::Sign => "/rp/v6.0/sign",
            Self::Payment => "/rp/v6.0/payment",
            Self::PhoneAuth => "/rp/v6.0/phone/auth",
            Self::PhoneSign => "/rp/v6.0/phone/sign",
            Self::OtherPayment => "/rp/v6.0/other/payment",
            Self::Collect => "/rp/v6.0/collect",
            Self::Cancel => "/rp/v6.0/cancel",
        }
    }

    /// The endpoint with this [`name`](Self::name), e.g. `phone/auth`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The endpoint with this full [`path`](Self::path), e.g. `/rp/v6.0/phone/auth`.
    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.path() == path)
    }

    /// `true` for the endpoints that start an order.
    pub fn starts_order(self) -> bool {
        !matches!(self, Self::Collect | Self::Cancel)
    }

    /// `true` for auth, sign and payment: orders with QR and autostart tokens.
    pub fn has_tokens(self) -> bool {
        matches!(self, Self::Auth | Self::Sign | Self::Payment)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Endpoint {
    type Err = UnknownEndpoint;

    /// Parses a [`name`](Self::name) (`phone/auth`, also `phone-auth` or `phone_auth`) or a
    /// full [`path`](Self::path).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim_start_matches('/').trim_start_matches("rp/v6.0/");
        Self::from_name(name)
            .or_else(|| Self::from_name(&name.replace(['-', '_'], "/")))
            .ok_or_else(|| UnknownEndpoint(name.to_owned()))
    }
}

/// A string that names none of the eight endpoints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown endpoint {0:?}; one of: auth, sign, payment, phone/auth, phone/sign, other/payment, collect, cancel")]
pub struct UnknownEndpoint(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_names() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::from_name(e.name()), Some(e));
            assert_eq!(Endpoint::from_path(e.path()), Some(e));
            assert_eq!(e.path(), format!("/rp/v6.0/{}", e.name()));
            assert_eq!(e.name().parse::<Endpoint>(), Ok(e));
            assert_eq!(e.path().parse::<Endpoint>(), Ok(e));
            assert_eq!(e.to_string(), e.name());
        }
        assert_eq!(Endpoint::from_path("phone/auth"), None);
        assert_eq!("phone-auth".parse::<Endpoint>(), Ok(Endpoint::PhoneAuth));
        assert_eq!("/rp/v6.0/collect".parse::<Endpoint>(), Ok(Endpoint::Collect));
        let err = "nope".parse::<Endpoint>().unwrap_err();
        assert_eq!(err, UnknownEndpoint("nope".into()));
        assert!(err.to_string().contains("phone/auth"));
    }
}
