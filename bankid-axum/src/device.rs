//! Which device and browser the user is on, from the `User-Agent`, and the launch URL that
//! follows the rules of [`bankid_core::launch`] for it.

use bankid_core::DeviceKind;
use bankid_core::launch::{LaunchScheme, launch_url};
use serde::{Deserialize, Serialize};

/// The user's platform, as far as launching the BankID app is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Platform {
    /// A computer: the desktop app, `bankid:///` with `redirect=null`.
    Desktop,
    /// Android: the app link with `redirect=null` (the app returns to the browser by itself).
    Android,
    /// iOS (iPhone, iPad) in a browser that the app can return to.
    Ios(IosBrowser),
    /// An in-app browser (Facebook, Instagram, LinkedIn, ...): the app cannot return to it;
    /// the app link with `redirect=null`, and the user switches back by hand.
    InApp,
}

/// The browser on iOS, which decides where the app returns to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum IosBrowser {
    /// Safari (and unrecognised browsers): back to the page, through `returnUrl` with a nonce.
    Safari,
    /// Chrome: `googlechrome://`.
    Chrome,
    /// Firefox: `firefox://`.
    Firefox,
    /// Opera Touch: the page's URL with `http` replaced by `touch-http`.
    Opera,
}

impl Platform {
    /// The platform for a `User-Agent` header value.
    #[must_use]
    pub fn from_user_agent(ua: &str) -> Self {
        let has = |needle: &str| ua.contains(needle);
        let in_app = ["FBAN", "FBAV", "Instagram", "LinkedInApp", "Line/", "Snapchat", "TikTok", "; wv)"];
        let ios = has("iPhone") || has("iPad") || has("iPod");
        if (ios || has("Android")) && in_app.iter().any(|marker| has(marker)) {
            return Self::InApp;
        }
        if ios {
            return Self::Ios(if has("CriOS") {
                IosBrowser::Chrome
            } else if has("FxiOS") {
                IosBrowser::Firefox
            } else if has("OPT/") || has("OPiOS") {
                IosBrowser::Opera
            } else {
                IosBrowser::Safari
            });
        }
        if has("Android") {
            return Self::Android;
        }
        Self::Desktop
    }

    /// Computer or mobile, for the user messages.
    #[must_use]
    pub fn kind(self) -> DeviceKind {
        match self {
            Self::Desktop => DeviceKind::Computer,
            _ => DeviceKind::Mobile,
        }
    }

    /// Whether the start request carries `returnUrl` (only where the app can come back to the
    /// very browser the order started in: Safari on iOS).
    #[must_use]
    pub fn uses_return_url(self) -> bool {
        self == Self::Ios(IosBrowser::Safari)
    }

    /// The URL that launches the app with `auto_start_token`; `return_url` is the page to come
    /// back to (with its nonce), used on iOS only.
    #[must_use]
    pub fn launch_url(self, auto_start_token: &str, return_url: Option<&str>) -> String {
        let redirect = match self {
            Self::Desktop | Self::Android | Self::InApp => None,
            Self::Ios(IosBrowser::Safari) => return_url.map(str::to_owned),
            Self::Ios(IosBrowser::Chrome) => Some("googlechrome://".to_owned()),
            Self::Ios(IosBrowser::Firefox) => Some("firefox://".to_owned()),
            Self::Ios(IosBrowser::Opera) => return_url.map(|url| format!("touch-{url}")),
        };
        let scheme = match self {
            Self::Desktop => LaunchScheme::BankId,
            _ => LaunchScheme::AppLink,
        };
        launch_url(scheme, auto_start_token, redirect.as_deref())
    }
}

/// The `User-Agent` cut to at most 256 characters (BankID's limit for `web.userAgent`), on a
/// character boundary; `None` when empty.
#[must_use]
pub fn cut_user_agent(ua: &str) -> Option<String> {
    let ua = ua.trim();
    (!ua.is_empty()).then(|| ua.chars().take(256).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                           Chrome/126.0 Mobile Safari/537.36";
    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
                          Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const TOKEN: &str = "46f6aa68-4c5f-4b3b-9dc5-5c9c1a2b7c1d";

    #[test]
    fn platforms_and_launch_urls() {
        let desktop = Platform::from_user_agent("Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36");
        assert_eq!(desktop, Platform::Desktop);
        assert_eq!(desktop.kind(), DeviceKind::Computer);
        assert_eq!(
            desktop.launch_url(TOKEN, Some("https://x/")),
            format!("bankid:///?autostarttoken={TOKEN}&redirect=null")
        );

        let android = Platform::from_user_agent(ANDROID);
        assert_eq!(android, Platform::Android);
        assert_eq!(android.kind(), DeviceKind::Mobile);
        assert_eq!(
            android.launch_url(TOKEN, Some("https://x/")),
            format!("https://app.bankid.com/?autostarttoken={TOKEN}&redirect=null")
        );

        let safari = Platform::from_user_agent(IPHONE);
        assert_eq!(safari, Platform::Ios(IosBrowser::Safari));
        assert!(safari.uses_return_url());
        assert_eq!(
            safari.launch_url(TOKEN, Some("https://rp.example/#bankid-return=n")),
            format!(
                "https://app.bankid.com/?autostarttoken={TOKEN}&redirect=https%3A%2F%2Frp.example%2F%23bankid-return%3Dn"
            )
        );
        let chrome = Platform::from_user_agent(&IPHONE.replace("Version/17.5", "CriOS/126.0"));
        assert_eq!(chrome, Platform::Ios(IosBrowser::Chrome));
        assert!(!chrome.uses_return_url());
        assert!(chrome.launch_url(TOKEN, None).ends_with("&redirect=googlechrome%3A%2F%2F"));
        let firefox = Platform::from_user_agent(&IPHONE.replace("Version/17.5", "FxiOS/127.0"));
        assert!(firefox.launch_url(TOKEN, None).ends_with("&redirect=firefox%3A%2F%2F"));
        let opera = Platform::from_user_agent(&format!("{IPHONE} OPT/4.3"));
        assert!(opera.launch_url(TOKEN, Some("https://x/")).ends_with("&redirect=touch-https%3A%2F%2Fx%2F"));
        let facebook = Platform::from_user_agent(&format!("{IPHONE} [FBAN/FBIOS;FBAV/470.0]"));
        assert_eq!(facebook, Platform::InApp);
        assert!(facebook.launch_url(TOKEN, Some("https://x/")).ends_with("&redirect=null"));
    }

    #[test]
    fn user_agent_is_cut_on_a_character_boundary() {
        assert_eq!(cut_user_agent("  "), None);
        assert_eq!(cut_user_agent("ua").as_deref(), Some("ua"));
        let long = "å".repeat(300);
        let cut = cut_user_agent(&long).unwrap();
        assert_eq!(cut.chars().count(), 256);
        assert!(long.starts_with(&cut));
    }
}
