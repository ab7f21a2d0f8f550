//! Faults on demand: per run (rules matched against each `/rp/` request) and per order.

use std::sync::Mutex;
use std::time::Duration;

use crate::endpoint::Endpoint;

/// Something that goes wrong on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 503 `{"errorCode":"maintenance",...}`.
    Maintenance,
    /// HTTP 500 `{"errorCode":"internalError",...}`.
    InternalError,
    /// HTTP 408 `{"errorCode":"requestTimeout",...}`.
    RequestTimeout,
    /// An HTML error page (`Content-Type: text/html`) with this status, as a proxy or load
    /// balancer would send: 502 (the default of the CLI and `/sim/fault`) or e.g. 503. Statuses
    /// outside 200-599 are answered as 502.
    Html {
        /// The HTTP status, 200-599.
        status: u16,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Close the connection without any answer.
    Drop,
    /// Answer normally, but close the connection halfway through the body (the
    /// `Content-Length` header announces the whole body).
    Truncate,
    /// Answer normally, but with `Content-Type: text/plain`.
    WrongContentType,
    /// HTTP 302 with this `Location`.
    Redirect(String),
    /// HTTP 200, `Content-Type: application/json`, and a body that is not valid JSON (it stops
    /// after `"status": `; the body itself is complete, as its `Content-Length` says).
    MalformedJson,
    /// HTTP 200, `Content-Type: application/json` and `Content-Length: N`, with a body of
    /// exactly N bytes (`{"padding":"xxx..."}`, or N spaces if N is under 14): for a client's
    /// limit on the size of an answer. At most [`Fault::MAX_OVERSIZED`] bytes are sent.
    Oversized(usize),
    /// A collect is answered with **another order's** answer: HTTP 200, `status: complete`, an
    /// `orderRef` that is not the one asked about (a fresh reference of an order that was never
    /// started), and completion data of a different person ([`TestPerson::foreign`](crate::TestPerson::foreign)),
    /// signed like every other completion. What a confused proxy or a hostile server would send;
    /// a client must refuse it instead of reporting that person under its own order. The order
    /// asked about is not touched (it stays collectable). Only collect answers name an order:
    /// start and cancel requests hit by this fault are answered normally.
    ForeignOrderRef,
}

impl Fault {
    /// The status of [`Fault::Html`] when none is given: 502 Bad Gateway.
    pub const DEFAULT_HTML_STATUS: u16 = 502;
    /// The size of [`Fault::Oversized`] when none is given: 2 MiB, twice the usual 1 MiB cap of
    /// a client.
    pub const DEFAULT_OVERSIZED: usize = 2 << 20;
    /// The largest body [`Fault::Oversized`] sends (64 MiB); larger sizes are sent as this.
    pub const MAX_OVERSIZED: usize = 64 << 20;

    /// `true` for the statuses [`Fault::Html`] can answer with: 200-599.
    pub fn is_html_status(status: u16) -> bool {
        (200..=599).contains(&status)
    }

    /// The name used by the CLI and the `/sim/fault` endpoint.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Maintenance => "maintenance",
            Self::InternalError => "internalError",
            Self::RequestTimeout => "requestTimeout",
            Self::Html { .. } => "html",
            Self::Delay(_) => "delay",
            Self::Drop => "drop",
            Self::Truncate => "truncate",
            Self::WrongContentType => "wrongContentType",
            Self::Redirect(_) => "redirect",
            Self::MalformedJson => "malformedJson",
            Self::Oversized(_) => "oversized",
            Self::ForeignOrderRef => "foreignOrderRef",
        }
    }

    /// Builds a fault from its [`name`](Self::name); `delay` takes `delay`, `redirect` takes
    /// `location` (default `https://example.com/moved`). `html` is built with
    /// [`DEFAULT_HTML_STATUS`](Self::DEFAULT_HTML_STATUS) and `oversized` with
    /// [`DEFAULT_OVERSIZED`](Self::DEFAULT_OVERSIZED) bytes: construct [`Fault::Html`] and
    /// [`Fault::Oversized`] directly for others.
    pub fn from_name(name: &str, delay: Duration, location: Option<&str>) -> Option<Self> {
        Some(match name {
            "maintenance" => Self::Maintenance,
            "internalError" | "internal-error" => Self::InternalError,
            "requestTimeout" | "request-timeout" => Self::RequestTimeout,
            "html" => Self::Html { status: Self::DEFAULT_HTML_STATUS },
            "delay" => Self::Delay(delay),
            "drop" => Self::Drop,
            "truncate" => Self::Truncate,
            "wrongContentType" | "wrong-content-type" => Self::WrongContentType,
            "redirect" => Self::Redirect(location.unwrap_or(DEFAULT_REDIRECT).to_owned()),
            "malformedJson" | "malformed-json" => Self::MalformedJson,
            "oversized" => Self::Oversized(Self::DEFAULT_OVERSIZED),
            "foreignOrderRef" | "foreign-order-ref" => Self::ForeignOrderRef,
            _ => return None,
        })
    }
}

/// Where the redirect fault points by default.
pub(crate) const DEFAULT_REDIRECT: &str = "https://example.com/moved";

/// A fault for the whole run: applies to requests on `endpoint` (all `/rp/` endpoints if
/// `None`), `times` times (every time if `None`). Rules are tried in order; the first one that
/// matches and is not used up applies.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultRule {
    /// The fault.
    pub fault: Fault,
    /// Only requests to this endpoint; `None`: all.
    pub endpoint: Option<Endpoint>,
    /// How many requests get it; `None`: all of them.
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule that applies `fault` to every `/rp/` request.
    pub fn new(fault: Fault) -> Self {
        Self { fault, endpoint: None, times: None }
    }

    /// Only requests to `endpoint`.
    pub fn on(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Only the next `n` matching requests; then the service recovers.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
}

/// The run's fault rules with their remaining counts.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    rules: Mutex<Vec<FaultRule>>,
}

impl FaultTable {
    pub(crate) fn new(rules: Vec<FaultRule>) -> Self {
        Self { rules: Mutex::new(rules) }
    }

    pub(crate) fn add(&self, rule: FaultRule) {
        lock(&self.rules).push(rule);
    }

    pub(crate) fn clear(&self) {
        lock(&self.rules).clear();
    }

    /// The fault for the next request to `endpoint`, if any (consumes one use).
    pub(crate) fn take(&self, endpoint: Endpoint) -> Option<Fault> {
        let mut rules = lock(&self.rules);
        if rules.is_empty() {
            return None;
        }
        let pos =
            rules.iter().position(|r| r.endpoint.is_none_or(|e| e == endpoint) && r.times.is_none_or(|n| n > 0))?;
        let rule = &mut rules[pos];
        let fault = rule.fault.clone();
        if let Some(n) = &mut rule.times {
            *n -= 1;
            if *n == 0 {
                rules.remove(pos);
            }
        }
        Some(fault)
    }
}

/// Locks a mutex, recovering from poisoning (state stays consistent: every critical section
/// leaves it valid before anything can panic).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_count_down() {
        let t = FaultTable::new(vec![
            FaultRule::new(Fault::Maintenance).times(2),
            FaultRule::new(Fault::Html { status: 503 }).on(Endpoint::Cancel),
        ]);
        assert_eq!(t.take(Endpoint::Collect), Some(Fault::Maintenance));
        assert_eq!(t.take(Endpoint::Auth), Some(Fault::Maintenance));
        assert_eq!(t.take(Endpoint::Collect), None);
        assert_eq!(t.take(Endpoint::Cancel), Some(Fault::Html { status: 503 }));
        assert_eq!(t.take(Endpoint::Cancel), Some(Fault::Html { status: 503 }));
        t.clear();
        assert_eq!(t.take(Endpoint::Cancel), None);
        for n in [
            "maintenance",
            "internalError",
            "requestTimeout",
            "html",
            "delay",
            "drop",
            "truncate",
            "wrongContentType",
            "redirect",
            "malformedJson",
            "oversized",
            "foreignOrderRef",
        ] {
            assert_eq!(Fault::from_name(n, Duration::ZERO, None).map(|f| f.name()), Some(n));
        }
        assert_eq!(Fault::from_name("html", Duration::ZERO, None), Some(Fault::Html { status: 502 }));
        assert_eq!(Fault::from_name("malformed-json", Duration::ZERO, None), Some(Fault::MalformedJson));
        assert_eq!(Fault::from_name("foreign-order-ref", Duration::ZERO, None), Some(Fault::ForeignOrderRef));
        assert_eq!(Fault::from_name("oversized", Duration::ZERO, None), Some(Fault::Oversized(2 << 20)));
        assert!(Fault::is_html_status(200) && Fault::is_html_status(599));
        assert!(!Fault::is_html_status(199) && !Fault::is_html_status(600));
    }
}
