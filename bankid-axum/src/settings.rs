//! The router's settings: cookie keys, where the user's IP address comes from, cookie
//! attributes, allowed origins, limits.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::ConnectInfo;
use bankid_core::Language;
use http::HeaderMap;
use http::header::HeaderName;

use crate::seal::Key;

/// Where the user's IP address (`endUserIp`) comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpSource {
    /// The TCP peer address. Serve the router with
    /// `into_make_service_with_connect_info::<SocketAddr>()` (axum's [`ConnectInfo`]).
    Socket,
    /// The last value of this header, as set by your own reverse proxy (`X-Forwarded-For`,
    /// `X-Real-IP`, `CF-Connecting-IP`, ...). The last comma-separated value is the one your
    /// proxy appended; earlier ones come from the client and are ignored. Use this only behind
    /// a proxy that always sets the header.
    Header(HeaderName),
}

impl IpSource {
    /// The user's address for a request with these headers and extensions.
    pub(crate) fn resolve(&self, headers: &HeaderMap, extensions: &http::Extensions) -> Option<IpAddr> {
        match self {
            Self::Socket => extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip()),
            Self::Header(name) => {
                let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
                let last = value.rsplit(',').next()?.trim();
                // Accept `1.2.3.4`, `1.2.3.4:port`, `[::1]:port` and `::1`.
                last.parse::<IpAddr>().ok().or_else(|| last.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
            }
        }
    }
}

/// When cookies get the `Secure` attribute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecureCookies {
    /// Always, except when the request's `Host` is a loopback name or address (`localhost`,
    /// `127.0.0.1`, `[::1]`), where browsers may serve plain HTTP.
    #[default]
    Auto,
    /// Always.
    Always,
}

/// The router's settings. [`Settings::new`] takes the cookie keys; the rest has defaults.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Settings {
    /// The keys sealing the order cookie: the first seals, all open (rotation: put the new key
    /// first, keep the old one until the longest cookie has expired).
    pub keys: Vec<Key>,
    /// Where `endUserIp` comes from (default: the socket).
    pub ip_source: IpSource,
    /// The order cookie's name (default `bankid_order`).
    pub cookie_name: String,
    /// The device identifier cookie's name (default `bankid_device`).
    pub device_cookie_name: String,
    /// The cookies' `Path` (default `/`).
    pub cookie_path: String,
    /// When cookies are `Secure` (default: except on loopback).
    pub secure_cookies: SecureCookies,
    /// The origins allowed to call the state-changing endpoints, e.g. `https://rp.example`.
    /// Empty (the default): the origin must name the request's own `Host`.
    pub allowed_origins: Vec<String>,
    /// `web.referringDomain`; `None` (the default): the request's `Host` without its port,
    /// when it is a valid domain.
    pub referring_domain: Option<String>,
    /// The language of the user messages when the page asks for none (default English).
    pub language: Language,
    /// How many times an order is restarted after `startFailed` (default 3).
    pub max_restarts: u32,
    /// How many orders one browser session may start within [`Settings::session_window`]
    /// (default 10; restarts do not count).
    pub max_orders_per_session: u32,
    /// The window of [`Settings::max_orders_per_session`] (default 15 minutes).
    pub session_window: Duration,
    /// How long an order may run before the router cancels it (default 5 minutes; BankID's
    /// own orders end sooner).
    pub order_lifetime: Duration,
}

impl Settings {
    /// Settings with these cookie keys (the first seals) and the defaults.
    #[must_use]
    pub fn new(keys: Vec<Key>) -> Self {
        Self {
            keys,
            ip_source: IpSource::Socket,
            cookie_name: "bankid_order".to_owned(),
            device_cookie_name: "bankid_device".to_owned(),
            cookie_path: "/".to_owned(),
            secure_cookies: SecureCookies::Auto,
            allowed_origins: Vec::new(),
            referring_domain: None,
            language: Language::En,
            max_restarts: 3,
            max_orders_per_session: 10,
            session_window: Duration::from_secs(15 * 60),
            order_lifetime: Duration::from_secs(5 * 60),
        }
    }

    /// Sets where `endUserIp` comes from.
    #[must_use]
    pub fn ip_source(mut self, source: IpSource) -> Self {
        self.ip_source = source;
        self
    }

    /// Sets the allowed origins (e.g. `https://rp.example`).
    #[must_use]
    pub fn allowed_origins(mut self, origins: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the cookies' path.
    #[must_use]
    pub fn cookie_path(mut self, path: impl Into<String>) -> Self {
        self.cookie_path = path.into();
        self
    }

    /// Sets `web.referringDomain`.
    #[must_use]
    pub fn referring_domain(mut self, domain: impl Into<String>) -> Self {
        self.referring_domain = Some(domain.into());
        self
    }

    /// Sets the default language.
    #[must_use]
    pub fn language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// Sets how many restarts after `startFailed` are made.
    #[must_use]
    pub fn max_restarts(mut self, restarts: u32) -> Self {
        self.max_restarts = restarts;
        self
    }

    /// Sets how many orders one session may start within the window.
    #[must_use]
    pub fn max_orders_per_session(mut self, orders: u32) -> Self {
        self.max_orders_per_session = orders;
        self
    }

    /// Sets when cookies are `Secure`.
    #[must_use]
    pub fn secure_cookies(mut self, secure: SecureCookies) -> Self {
        self.secure_cookies = secure;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_source_takes_the_last_hop() {
        let source = IpSource::Header(HeaderName::from_static("x-forwarded-for"));
        let mut headers = HeaderMap::new();
        let extensions = http::Extensions::new();
        assert_eq!(source.resolve(&headers, &extensions), None);
        headers.insert("x-forwarded-for", "198.51.100.1, 203.0.113.7".parse().unwrap());
        assert_eq!(source.resolve(&headers, &extensions), Some("203.0.113.7".parse().unwrap()));
        headers.insert("x-forwarded-for", "[2001:db8::1]:443".parse().unwrap());
        assert_eq!(source.resolve(&headers, &extensions), Some("2001:db8::1".parse().unwrap()));
        headers.insert("x-forwarded-for", "nonsense".parse().unwrap());
        assert_eq!(source.resolve(&headers, &extensions), None);
        assert_eq!(IpSource::Socket.resolve(&headers, &extensions), None);
        let mut extensions = http::Extensions::new();
        extensions.insert(ConnectInfo::<SocketAddr>("192.0.2.4:5000".parse().unwrap()));
        assert_eq!(IpSource::Socket.resolve(&headers, &extensions), Some("192.0.2.4".parse().unwrap()));
    }
}
