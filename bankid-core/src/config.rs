//! Where requests go and with which TLS material: [`Config`].

use std::fmt;
use std::time::Duration;

pub use crate::codes::API_PREFIX;
use crate::codes::Endpoint;
use crate::error::{Error, InvalidInput};
use crate::tls::{Identity, Roots};

/// The production server.
pub const PRODUCTION_URL: &str = "https://appapi2.bankid.com";

/// The test server ("kundtest").
pub const TEST_URL: &str = "https://appapi2.test.bankid.com";

/// The request timeout when none is configured (PyBankID's default).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest response body a transport should accept. BankID's answers are small, but a
/// completed sign order's `signature` carries the RP's `userVisibleData` (up to 40 000 base64
/// characters) and `userNonVisibleData` (up to 200 000), so 1 MiB leaves ample room.
pub const MAX_RESPONSE_BODY: usize = 1 << 20;

/// How many connections to BankID a client keeps open at most, by default
/// ([`Config::with_max_connections`]). BankID answers in milliseconds, so 32 connections carry
/// thousands of concurrent orders.
pub const DEFAULT_MAX_CONNECTIONS: usize = 32;

/// The `User-Agent` header of every request: this crate and its version.
pub const USER_AGENT: &str = concat!("bankid-rs/", env!("CARGO_PKG_VERSION"));

/// Which BankID service a [`Config`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Environment {
    /// `appapi2.bankid.com`, trusting the production root.
    Production,
    /// `appapi2.test.bankid.com`, trusting the test root.
    Test,
    /// Any other server (a simulator, a proxy), with roots given by the caller.
    Custom,
}

/// Everything a transport needs to reach BankID: base URL, trusted roots, client identity and
/// request timeout. Cheap to clone.
///
/// ```
/// use bankid_core::{Config, Environment};
///
/// let config = Config::test();
/// assert_eq!(config.environment(), Environment::Test);
/// assert_eq!(
///     config.endpoint_url(bankid_core::Endpoint::PhoneAuth),
///     "https://appapi2.test.bankid.com/rp/v6.0/phone/auth"
/// );
/// ```
#[derive(Clone)]
pub struct Config {
    environment: Environment,
    base_url: String,
    /// The URL of each endpoint, parsed once (in [`Endpoint::ALL`]'s order): building a request
    /// then clones it instead of formatting and parsing a string.
    uris: std::sync::Arc<[http::Uri; 8]>,
    roots: Roots,
    identity: Option<Identity>,
    request_timeout: Duration,
    max_connections: usize,
}

impl Config {
    /// BankID's production service, with the RP's own identity.
    #[must_use]
    pub fn production(identity: Identity) -> Self {
        Self::new(Environment::Production, PRODUCTION_URL.to_owned(), Roots::production(), Some(identity))
    }

    /// BankID's test service with the embedded public test identity ("FP Testcert 5").
    #[must_use]
    pub fn test() -> Self {
        Self::new(Environment::Test, TEST_URL.to_owned(), Roots::test(), Some(Identity::test()))
    }

    /// Any BankID-compatible server at `base_url` (`https://host[:port]`, optionally followed by
    /// `/rp/v6.0`), trusting exactly `roots`. Add an identity with [`Config::with_identity`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the URL is not an absolute `https` URL without query.
    pub fn custom(base_url: &str, roots: Roots) -> Result<Self, Error> {
        let base_url = normalize_base_url(base_url)?;
        Ok(Self::new(Environment::Custom, base_url, roots, None))
    }

    fn new(environment: Environment, base_url: String, roots: Roots, identity: Option<Identity>) -> Self {
        // The base URL was validated, so every endpoint URL parses.
        let uris = std::sync::Arc::new(
            Endpoint::ALL.map(|endpoint| format!("{base_url}{}", endpoint.path()).parse().unwrap_or_default()),
        );
        Self {
            environment,
            base_url,
            uris,
            roots,
            identity,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// Uses `identity` as the client certificate.
    #[must_use]
    pub fn with_identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Presents no client certificate (BankID then answers `unauthorized`; useful in tests).
    #[must_use]
    pub fn without_identity(mut self) -> Self {
        self.identity = None;
        self
    }

    /// Trusts exactly `roots` instead of the environment's.
    #[must_use]
    pub fn with_roots(mut self, roots: Roots) -> Self {
        self.roots = roots;
        self
    }

    /// Sets the timeout of one request (connect, send and receive); 5 s by default.
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets how many connections a client keeps open at most ([`DEFAULT_MAX_CONNECTIONS`];
    /// at least 1). Requests beyond it wait for a connection; the async clients enforce it,
    /// the blocking one keeps at most this many idle connections (its concurrency is the
    /// caller's threads).
    #[must_use]
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How many connections a client keeps open at most.
    #[must_use]
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// The environment.
    #[must_use]
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The base URL, `https://host[:port]` without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The full URL of an endpoint, parsed once when the configuration was made.
    #[must_use]
    pub fn endpoint_uri(&self, endpoint: Endpoint) -> http::Uri {
        let index = Endpoint::ALL.iter().position(|e| *e == endpoint).unwrap_or_default();
        self.uris[index].clone()
    }

    /// The full URL of an endpoint, as a string.
    #[must_use]
    pub fn endpoint_url(&self, endpoint: Endpoint) -> String {
        self.endpoint_uri(endpoint).to_string()
    }

    /// The trusted roots.
    #[must_use]
    pub fn roots(&self) -> &Roots {
        &self.roots
    }

    /// The client identity, if any.
    #[must_use]
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// The timeout of one request.
    #[must_use]
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// A `rustls` client configuration that trusts only [`Config::roots`], speaks TLS 1.2 and
    /// 1.3 with `ring`, and presents the identity. Transports share it.
    ///
    /// # Errors
    /// [`Error::Identity`] when rustls rejects the roots or the identity.
    #[cfg(feature = "rustls")]
    pub fn rustls_client_config(&self) -> Result<std::sync::Arc<rustls::ClientConfig>, Error> {
        Ok(crate::tls::client_config(&self.roots, self.identity.as_ref())?)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("base_url", &self.base_url)
            .field("roots", &self.roots.certificates().len())
            .field("identity", &self.identity.as_ref().map(|_| "[redacted]"))
            .field("request_timeout", &self.request_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

fn normalize_base_url(url: &str) -> Result<String, InvalidInput> {
    let bad = |why: &str| InvalidInput::new("base_url", why.to_owned());
    let uri: http::Uri = url.parse().map_err(|_| bad("not a valid URL"))?;
    if uri.scheme_str() != Some("https") {
        return Err(bad("must be an https URL (BankID requires mutual TLS)"));
    }
    let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
    if uri.query().is_some() {
        return Err(bad("must not have a query"));
    }
    let path = uri.path().trim_end_matches('/');
    if !path.is_empty() && path != API_PREFIX.trim_end_matches('/') {
        return Err(bad("path must be empty or /rp/v6.0"));
    }
    Ok(format!("https://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        for url in ["https://127.0.0.1:8443", "https://127.0.0.1:8443/", "https://127.0.0.1:8443/rp/v6.0/"] {
            let config = Config::custom(url, Roots::test()).unwrap();
            assert_eq!(config.endpoint_url(Endpoint::Collect), "https://127.0.0.1:8443/rp/v6.0/collect");
        }
        for url in ["http://example.com", "example.com", "https://example.com/other", "https://e.com/?a=b", ""] {
            assert!(Config::custom(url, Roots::test()).is_err(), "{url}");
        }
    }

    #[test]
    fn debug_hides_identity() {
        let text = format!("{:?}", Config::test());
        assert!(text.contains("[redacted]"));
        assert!(text.contains("appapi2.test.bankid.com"));
    }
}
