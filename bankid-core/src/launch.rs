//! URLs that launch the BankID app on the user's device with an order's `autoStartToken`
//! (spec §7).
//!
//! ```
//! use bankid_core::launch::{launch_url, LaunchScheme};
//!
//! let token = "46f6aa68-4c5f-4b3b-9dc5-5c9c1a2b7c1d";
//! assert_eq!(
//!     launch_url(LaunchScheme::BankId, token, None),
//!     "bankid:///?autostarttoken=46f6aa68-4c5f-4b3b-9dc5-5c9c1a2b7c1d&redirect=null"
//! );
//! assert_eq!(
//!     launch_url(LaunchScheme::AppLink, token, Some("https://rp.example/done?s=1")),
//!     "https://app.bankid.com/?autostarttoken=46f6aa68-4c5f-4b3b-9dc5-5c9c1a2b7c1d\
//!      &redirect=https%3A%2F%2Frp.example%2Fdone%3Fs%3D1"
//! );
//! ```
//!
//! # Which URL, and which redirect, on which platform
//!
//! Summarised from BankID's guidelines and the reference clients (spec §7.2):
//!
//! - **Desktop** (the Windows or macOS BankID app): [`LaunchScheme::BankId`] with no redirect
//!   (`redirect=null`), set as `window.location.href` so the page does not navigate away.
//! - **Mobile browsers**: [`LaunchScheme::AppLink`] (`https://app.bankid.com/`, a universal link
//!   on iOS and an App Link on Android).
//! - **iOS**: a redirect brings the user back after the app finishes. In Safari, use the page's
//!   own URL (Safari reloads the page on return; a fragment such as `#initiated=true` tells the
//!   page it is a return). Chrome, Firefox and other browsers would come back to Safari, so
//!   redirect to the browser's own scheme instead: `googlechrome://` (some clients use
//!   `googlechromes://`), `firefox://`; Opera Touch takes the page URL with `http` replaced by
//!   `touch-http`.
//! - **Android**: no redirect (`redirect=null`), as BankID's guidelines recommend: the app
//!   returns to the previous app by itself. The app link works in Chrome and Edge on Android 6
//!   and later; elsewhere fall back on [`LaunchScheme::BankId`]. Chrome, Edge, Samsung Internet
//!   and Brave only launch the app from a user gesture (a tap on a link or button).
//! - **Native apps**: open the same URL. On iOS, redirect to your app's universal link or URL
//!   scheme; on Android, use an `ACTION_VIEW` intent without a package and `redirect=null`.
//!
//! # Prefer `returnUrl`
//!
//! Since 2024 BankID prefers the `returnUrl` field of the auth, sign and payment requests over
//! the `redirect` launch parameter: when the API request has a `returnUrl`, the app calls it
//! when the order completes and ignores any `redirect` in the launch URL. It should carry a
//! nonce bound to the user's session, and the page behind it should check that the order
//! completed and that the returning device is the one that started the order.
//!
//! Sending `redirect` as well does **not** rescue older apps: BankID's text says that "if the
//! user has a version of the BankID app that does not support getting the returnUrl from the
//! server, the order will be cancelled and the user will be asked to update their app" - the
//! order fails with `notSupportedByUserApp` (spec §7.3). A `redirect` next to a `returnUrl` is
//! ignored by apps that support `returnUrl`, so pass `None` here when the request carries one.

use crate::codes::DeviceKind;

/// Which URL form launches the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LaunchScheme {
    /// `bankid:///` - for the desktop apps, and the fallback on Android browsers that do not
    /// open app links.
    BankId,
    /// `https://app.bankid.com/` - for mobile browsers and apps (a universal link on iOS, an
    /// App Link on Android).
    AppLink,
}

impl LaunchScheme {
    /// The URL that the query string is appended to: `bankid:///` (three slashes) or
    /// `https://app.bankid.com/`.
    #[must_use]
    pub const fn base(self) -> &'static str {
        match self {
            Self::BankId => "bankid:///",
            Self::AppLink => "https://app.bankid.com/",
        }
    }
}

/// The scheme that suits the user's device: [`LaunchScheme::BankId`] on a computer,
/// [`LaunchScheme::AppLink`] on a phone or tablet.
#[must_use]
pub fn recommended_scheme(device: DeviceKind) -> LaunchScheme {
    match device {
        DeviceKind::Mobile => LaunchScheme::AppLink,
        _ => LaunchScheme::BankId,
    }
}

/// The URL that starts the BankID app with `auto_start_token` (spec §7.1):
/// `bankid:///?autostarttoken=<token>&redirect=<redirect>` or the same query on
/// `https://app.bankid.com/`.
///
/// `redirect` is where the app sends the user when it is done; it is percent-encoded here, so
/// pass it as a plain URL. `None` gives `redirect=null`: the app does not redirect. See the
/// [module documentation](self) for which scheme and redirect suit which platform, and why the
/// `returnUrl` request field is preferred over `redirect`.
///
/// The token is percent-encoded too, although BankID's tokens (UUIDs) need no encoding.
#[must_use]
pub fn launch_url(scheme: LaunchScheme, auto_start_token: &str, redirect: Option<&str>) -> String {
    let base = scheme.base();
    let mut url = String::with_capacity(
        base.len() + "?autostarttoken=&redirect=".len() + auto_start_token.len() + redirect.map_or(4, |r| r.len() * 3),
    );
    url.push_str(base);
    url.push_str("?autostarttoken=");
    push_encoded(&mut url, auto_start_token);
    url.push_str("&redirect=");
    match redirect {
        Some(redirect) => push_encoded(&mut url, redirect),
        None => url.push_str("null"),
    }
    url
}

/// Appends `value` percent-encoded as a query component: every byte of its UTF-8 form except
/// the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`.
fn push_encoded(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "7c40b5c9-fa74-49cf-b98c-bfe651f9a7c6";

    #[test]
    fn without_redirect() {
        assert_eq!(
            launch_url(LaunchScheme::BankId, TOKEN, None),
            "bankid:///?autostarttoken=7c40b5c9-fa74-49cf-b98c-bfe651f9a7c6&redirect=null"
        );
        assert_eq!(
            launch_url(LaunchScheme::AppLink, TOKEN, None),
            "https://app.bankid.com/?autostarttoken=7c40b5c9-fa74-49cf-b98c-bfe651f9a7c6\
             &redirect=null"
        );
    }

    #[test]
    fn redirect_is_percent_encoded() {
        let redirect = "https://example.com/return?session=a b&x=å";
        let encoded = "https%3A%2F%2Fexample.com%2Freturn%3Fsession%3Da%20b%26x%3D%C3%A5";
        assert_eq!(
            launch_url(LaunchScheme::AppLink, TOKEN, Some(redirect)),
            format!("https://app.bankid.com/?autostarttoken={TOKEN}&redirect={encoded}")
        );
        assert_eq!(
            launch_url(LaunchScheme::BankId, TOKEN, Some(redirect)),
            format!("bankid:///?autostarttoken={TOKEN}&redirect={encoded}")
        );
        assert_eq!(
            launch_url(LaunchScheme::AppLink, TOKEN, Some("googlechrome://")),
            format!("https://app.bankid.com/?autostarttoken={TOKEN}&redirect=googlechrome%3A%2F%2F")
        );
        assert_eq!(
            launch_url(LaunchScheme::AppLink, TOKEN, Some("https://rp.example/#initiated=true")),
            format!(
                "https://app.bankid.com/?autostarttoken={TOKEN}\
                 &redirect=https%3A%2F%2Frp.example%2F%23initiated%3Dtrue"
            )
        );
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        let mut out = String::new();
        push_encoded(&mut out, "AZaz09-._~ +/%!*'()é€\u{1F600}\0\u{7f}");
        assert_eq!(out, "AZaz09-._~%20%2B%2F%25%21%2A%27%28%29%C3%A9%E2%82%AC%F0%9F%98%80%00%7F");
        let mut empty = String::new();
        push_encoded(&mut empty, "");
        assert_eq!(empty, "");
    }

    #[test]
    fn token_is_encoded_too() {
        assert_eq!(
            launch_url(LaunchScheme::BankId, "a&b=c", Some("")),
            "bankid:///?autostarttoken=a%26b%3Dc&redirect="
        );
    }

    #[test]
    fn schemes() {
        assert_eq!(LaunchScheme::BankId.base(), "bankid:///");
        assert_eq!(LaunchScheme::AppLink.base(), "https://app.bankid.com/");
        assert_eq!(recommended_scheme(DeviceKind::Computer), LaunchScheme::BankId);
        assert_eq!(recommended_scheme(DeviceKind::Mobile), LaunchScheme::AppLink);
        assert_eq!(recommended_scheme(DeviceKind::default()), LaunchScheme::BankId);
    }
}
