//! Reading and writing cookies, and the request checks that go with them.

use http::header::{COOKIE, HOST, ORIGIN};
use http::{HeaderMap, HeaderValue};

use crate::settings::{SecureCookies, Settings};

/// The value of the cookie `name` in the request, if any (the first one).
pub(crate) fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure unless on loopback (with
/// [`SecureCookies::Auto`]). `max_age` 0 deletes the cookie.
pub(crate) fn set(settings: &Settings, headers: &HeaderMap, name: &str, value: &str, max_age: u64) -> HeaderValue {
    let secure = match settings.secure_cookies {
        SecureCookies::Always => true,
        SecureCookies::Auto => !is_loopback(headers),
    };
    let text = format!(
        "{name}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        settings.cookie_path,
        if secure { "; Secure" } else { "" }
    );
    // Cookie names, base64url values, numbers and a checked path are visible ASCII.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("bankid_invalid=; Max-Age=0"))
}

/// The request's `Host` without its port, lowercased.
pub(crate) fn host_name(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(HOST)?.to_str().ok()?.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next()?
    } else {
        host.rsplit_once(':')
            .map_or(host, |(name, port)| if port.bytes().all(|b| b.is_ascii_digit()) { name } else { host })
    };
    Some(name.to_ascii_lowercase())
}

/// Whether the request's `Host` is a loopback name or address.
pub(crate) fn is_loopback(headers: &HeaderMap) -> bool {
    host_name(headers).is_some_and(|name| {
        name == "localhost"
            || name.ends_with(".localhost")
            || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    })
}

/// Why a state-changing request was refused by the origin check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OriginRefused {
    /// No `Origin` header (every browser sends one with a `POST`).
    Missing,
    /// The origin is not allowed.
    Foreign,
}

/// Checks the `Origin` (and `Sec-Fetch-Site`, when sent) of a state-changing request: the
/// origin must be one of the allowed origins, or, when none are configured, name the request's
/// own `Host`. Returns the origin.
pub(crate) fn check_origin<'a>(settings: &Settings, headers: &'a HeaderMap) -> Result<&'a str, OriginRefused> {
    let origin = headers.get(ORIGIN).and_then(|value| value.to_str().ok()).ok_or(OriginRefused::Missing)?;
    if let Some(site) = headers.get("sec-fetch-site").and_then(|value| value.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return Err(OriginRefused::Foreign);
    }
    let allowed = if settings.allowed_origins.is_empty() {
        let authority = origin.split_once("://").map(|(_, authority)| authority);
        let host = headers.get(HOST).and_then(|value| value.to_str().ok());
        matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
    } else {
        settings.allowed_origins.iter().any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
    };
    if allowed { Ok(origin) } else { Err(OriginRefused::Foreign) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn cookies_are_read_and_written() {
        let h = headers(&[("cookie", "a=1; bankid_order=xyz"), ("cookie", "c=\"q\""), ("host", "rp.example")]);
        assert_eq!(get(&h, "bankid_order"), Some("xyz"));
        assert_eq!(get(&h, "c"), Some("q"));
        assert_eq!(get(&h, "bankid"), None);
        let settings = Settings::new(vec![]);
        let value = set(&settings, &h, "n", "v", 60);
        assert_eq!(value, "n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
        let local = headers(&[("host", "127.0.0.1:8080")]);
        assert_eq!(set(&settings, &local, "n", "v", 0), "n=v; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
        let always = settings.secure_cookies(SecureCookies::Always);
        assert!(set(&always, &local, "n", "v", 0).to_str().unwrap().ends_with("; Secure"));
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "localhost:3000", "127.0.0.1", "127.0.0.2:80", "[::1]:8080", "app.localhost"] {
            assert!(is_loopback(&headers(&[("host", host)])), "{host}");
        }
        for host in ["rp.example", "rp.example:443", "192.0.2.1:80", "[2001:db8::1]"] {
            assert!(!is_loopback(&headers(&[("host", host)])), "{host}");
        }
        assert!(!is_loopback(&HeaderMap::new()));
        assert_eq!(host_name(&headers(&[("host", "RP.Example:8443")])).as_deref(), Some("rp.example"));
    }

    #[test]
    fn origin_check() {
        let settings = Settings::new(vec![]);
        let same = headers(&[("host", "rp.example:8080"), ("origin", "http://rp.example:8080")]);
        assert_eq!(check_origin(&settings, &same), Ok("http://rp.example:8080"));
        let foreign = headers(&[("host", "rp.example:8080"), ("origin", "https://evil.example")]);
        assert_eq!(check_origin(&settings, &foreign), Err(OriginRefused::Foreign));
        let null = headers(&[("host", "rp.example"), ("origin", "null")]);
        assert_eq!(check_origin(&settings, &null), Err(OriginRefused::Foreign));
        assert_eq!(check_origin(&settings, &headers(&[("host", "rp.example")])), Err(OriginRefused::Missing));
        let cross_site =
            headers(&[("host", "rp.example"), ("origin", "https://rp.example"), ("sec-fetch-site", "cross-site")]);
        assert_eq!(check_origin(&settings, &cross_site), Err(OriginRefused::Foreign));
        let listed = settings.allowed_origins(["https://rp.example/"]);
        let proxied = headers(&[("host", "10.0.0.5:8080"), ("origin", "https://rp.example")]);
        assert_eq!(check_origin(&listed, &proxied), Ok("https://rp.example"));
        assert_eq!(check_origin(&listed, &same), Err(OriginRefused::Foreign));
    }
}
