//! The result of a command: one [`Report`], printed as text or as one JSON document, and the
//! exit code; and [`Failure`], an error explained in one line.

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::io::Write as _;

use bankid_core::{
    CancelReason, CollectResponse, CollectStatus, CompletionData, DeviceKind, Error, Event, Language, Rfa, StartMode,
    TransportErrorKind,
};
use serde::Serialize;

use crate::args::OutputArgs;

/// Exit code: the order completed (or the command did what it was asked).
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code: the order failed or was cancelled.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit code: an error (bad flags, unreachable server, TLS, an error answer from BankID).
pub(crate) const EXIT_ERROR: u8 = 2;

/// Where an order ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Status {
    /// Completed: `completionData` holds the result.
    Complete,
    /// Still going (`bankid collect` only).
    Pending,
    /// Failed at BankID: `hintCode` says why.
    Failed,
    /// Cancelled at BankID (Ctrl-C, the deadline, or `bankid cancel`).
    Cancelled,
    /// Something else went wrong: `error` says what.
    Error,
}

impl Status {
    /// The status as printed: `complete`, `pending`, `failed`, `cancelled` or `error`.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Error => "error",
        }
    }
}

/// An error explained for the user: one line, plus BankID's error code and details when the
/// error is an answer from BankID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Failure {
    /// BankID's `errorCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error_code: Option<String>,
    /// BankID's `details`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) details: Option<String>,
    /// What went wrong, in one line.
    pub(crate) message: String,
}

impl Failure {
    /// A failure that is not an answer from BankID.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { error_code: None, details: None, message: message.into() }
    }

    /// `error`, which happened talking to the server at `url`.
    pub(crate) fn from_error(error: &Error, url: &str) -> Self {
        let mut failure = Self::new(describe(error, url));
        if let Error::Api(api) = error {
            failure.error_code = Some(api.code.to_string());
            failure.details = Some(api.details.clone()).filter(|details| !details.is_empty());
        }
        failure
    }
}

/// One line saying what went wrong talking to `url`.
pub(crate) fn describe(error: &Error, url: &str) -> String {
    match error {
        Error::Transport(transport) => {
            let cause = root_cause(transport);
            match transport.kind() {
                TransportErrorKind::Connect => format!("cannot connect to {url}: {cause}"),
                TransportErrorKind::Tls => format!("TLS handshake with {url} failed: {cause}"),
                TransportErrorKind::Timeout => format!("no answer from {url} in time (see --timeout)"),
                _ => format!("request to {url} failed: {cause}"),
            }
        }
        Error::Api(api) if api.details.is_empty() => {
            format!("BankID answered {} (HTTP {})", api.code, api.status.as_u16())
        }
        Error::Api(api) => format!("BankID answered {} (HTTP {}): {}", api.code, api.status.as_u16(), api.details),
        Error::UnexpectedResponse(unexpected) => format!("{url} does not answer like BankID: {unexpected}"),
        Error::Identity(identity) => format!("unusable TLS material: {identity}"),
        other => other.to_string(),
    }
}

/// The innermost error of a chain, as a short lower-case phrase: `connection refused` for
/// `Connection refused (os error 111)`.
pub(crate) fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut error = error;
    while let Some(source) = error.source() {
        error = source;
    }
    let text = error.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => {
            first.to_lowercase().chain(text[first.len_utf8()..].chars()).collect()
        }
        _ => text.to_owned(),
    }
}

/// The result of a command, as printed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Report {
    /// The order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) order_ref: Option<String>,
    /// Where it ended up.
    pub(crate) status: Status,
    /// BankID's hint code (pending and failed orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint_code: Option<String>,
    /// The result of a completed order, exactly as BankID sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) completion_data: Option<Box<CompletionData>>,
    /// What went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<Failure>,
    /// Whether the completion signature verified (`bankid-verify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) verification: Option<crate::verify::Outcome>,
    /// The user message that goes with the status.
    #[serde(skip)]
    pub(crate) message: Option<Rfa>,
    /// A note for the text output.
    #[serde(skip)]
    pub(crate) note: Option<String>,
    /// The exit code.
    #[serde(skip)]
    pub(crate) exit: u8,
}

impl Report {
    fn new(order_ref: Option<String>, status: Status, exit: u8) -> Self {
        Self {
            order_ref,
            status,
            hint_code: None,
            completion_data: None,
            error: None,
            verification: None,
            message: None,
            note: None,
            exit,
        }
    }

    /// An error, before or while running the order `order_ref`.
    pub(crate) fn error(order_ref: Option<String>, failure: Failure) -> Self {
        Self { error: Some(failure), ..Self::new(order_ref, Status::Error, EXIT_ERROR) }
    }

    /// The end of an order driven to its end: `event` is its final event.
    pub(crate) fn from_final_event(order_ref: String, event: Event, url: &str) -> Self {
        let order_ref = Some(order_ref);
        match event {
            Event::Completed(data) => {
                Self { completion_data: Some(data), ..Self::new(order_ref, Status::Complete, EXIT_OK) }
            }
            Event::Failed { hint_code, message } => Self {
                hint_code: Some(hint_code.to_string()),
                message: Some(message),
                ..Self::new(order_ref, Status::Failed, EXIT_FAILED)
            },
            Event::Cancelled { reason, error } => Self {
                note: Some(match reason {
                    CancelReason::Deadline => "no result in time: the order was cancelled at BankID".to_owned(),
                    _ => "the order was cancelled at BankID".to_owned(),
                }),
                error: error.map(|error| Failure::from_error(&error, url)),
                ..Self::new(order_ref, Status::Cancelled, EXIT_FAILED)
            },
            Event::Error(error) => Self::error(order_ref, Failure::from_error(&error, url)),
            other => Self::error(order_ref, Failure::new(format!("the order ended unexpectedly: {other:?}"))),
        }
    }

    /// The answer to one collect. The messages are those for a QR order on a computer: one
    /// collect does not tell how the order was started.
    pub(crate) fn from_collect(response: CollectResponse) -> Self {
        let order_ref = Some(response.order_ref);
        let (mode, device) = (StartMode::Qr, DeviceKind::Computer);
        match response.status {
            CollectStatus::Complete(data) => {
                Self { completion_data: Some(data), ..Self::new(order_ref, Status::Complete, EXIT_OK) }
            }
            CollectStatus::Failed { hint_code } => Self {
                message: Some(Rfa::for_failed(&hint_code, mode, device)),
                hint_code: Some(hint_code.to_string()),
                ..Self::new(order_ref, Status::Failed, EXIT_FAILED)
            },
            CollectStatus::Pending { hint_code } => Self {
                message: Some(Rfa::for_pending(&hint_code, mode, device)),
                hint_code: Some(hint_code.to_string()),
                ..Self::new(order_ref, Status::Pending, EXIT_OK)
            },
            CollectStatus::Unknown { status, hint_code } => Self {
                hint_code,
                note: Some(format!("status {status:?} is not known to this version")),
                ..Self::new(order_ref, Status::Pending, EXIT_OK)
            },
            _ => Self::error(order_ref, Failure::new("a collect status this version cannot show")),
        }
    }

    /// `bankid cancel` did what it was asked.
    pub(crate) fn cancelled(order_ref: String) -> Self {
        Self {
            note: Some("the order was cancelled at BankID".to_owned()),
            ..Self::new(Some(order_ref), Status::Cancelled, EXIT_OK)
        }
    }

    /// The report as text, for stdout.
    pub(crate) fn text(&self, lang: Language) -> String {
        let mut out = String::new();
        let status = self.status.as_str();
        match &self.hint_code {
            Some(hint) => _ = writeln!(out, "{status}: {hint}"),
            None => _ = writeln!(out, "{status}"),
        }
        if let Some(message) = self.message {
            _ = writeln!(out, "{}", message.text(lang));
        }
        if let Some(note) = &self.note {
            _ = writeln!(out, "{note}");
        }
        let mut field = |name: &str, value: &str| _ = writeln!(out, "  {name:<16} {value}");
        if let Some(data) = &self.completion_data {
            field("name", &data.user.name);
            field("personal number", &data.user.personal_number);
            field("device IP", &data.device.ip_address);
            field("BankID issued", &data.bank_id_issue_date);
            if let Some(mrtd) = data.step_up.as_ref().and_then(|step_up| step_up.mrtd) {
                field("ID document", if mrtd { "checked" } else { "check failed" });
            }
            if let Some(risk) = &data.risk {
                field("risk", risk.as_str());
            }
        }
        if let Some(verification) = &self.verification {
            field("signature", &verification.summary());
        }
        if let Some(order_ref) = &self.order_ref {
            field("order", order_ref);
        }
        out
    }

    /// Prints the report - as one JSON document on stdout with `--json`, as text otherwise, an
    /// error as one line on stderr either way - and returns the exit code.
    pub(crate) fn print(&self, output: &OutputArgs) -> u8 {
        let text = if output.json {
            serde_json::to_string(self).map(|json| json + "\n").unwrap_or_default()
        } else if self.status == Status::Error {
            String::new()
        } else {
            self.text(output.lang)
        };
        let mut stdout = std::io::stdout().lock();
        _ = stdout.write_all(text.as_bytes());
        _ = stdout.flush();
        if let Some(error) = &self.error {
            eprintln!("error: {}", error.message);
        }
        self.exit
    }
}

#[cfg(test)]
mod tests {
    use bankid_core::{FailedHintCode, TransportError};

    use super::*;

    #[test]
    fn transport_errors_name_the_server_and_the_cause() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused (os error 111)");
        let error = Error::Transport(TransportError::new(TransportErrorKind::Connect, refused));
        assert_eq!(
            describe(&error, "https://127.0.0.1:9"),
            "cannot connect to https://127.0.0.1:9: connection refused"
        );
    }

    #[test]
    fn failed_orders_exit_1_and_serialise_without_empty_fields() {
        let event = Event::Failed { hint_code: FailedHintCode::UserCancel, message: Rfa::Rfa6 };
        let report = Report::from_final_event("a1".into(), event, "https://x");
        assert_eq!(report.exit, EXIT_FAILED);
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"orderRef":"a1","status":"failed","hintCode":"userCancel"}"#
        );
        assert_eq!(report.text(Language::En), "failed: userCancel\nThe action was cancelled.\n  order            a1\n");
    }

    #[test]
    fn statuses_print_as_they_serialise() {
        for status in [Status::Complete, Status::Pending, Status::Failed, Status::Cancelled, Status::Error] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }

    #[test]
    fn errors_carry_the_bankid_error_code() {
        let report = Report::error(
            Some("a1".into()),
            Failure {
                error_code: Some("invalidParameters".into()),
                details: Some("No such order".into()),
                message: "m".into(),
            },
        );
        assert_eq!(report.exit, EXIT_ERROR);
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"orderRef":"a1","status":"error","error":{"errorCode":"invalidParameters","details":"No such order","message":"m"}}"#
        );
        assert_eq!(Report::cancelled("a1".into()).exit, EXIT_OK);
    }
}
