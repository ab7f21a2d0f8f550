//! Verifying what BankID signed (with `bankid-verify`): the `bankid verify` command, and the
//! check that `auth`, `sign`, `payment`, `phone-auth` and `phone-sign` run on the completion
//! data they receive.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use bankid_core::Operation as _;
use bankid_verify::{Environment, Expectations, Timestamp, TrustAnchors, Verified, VerifyError};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::Value;

use crate::args::EnvName;
use crate::output::{EXIT_ERROR, EXIT_FAILED, EXIT_OK, Report};
use crate::server::Server;
use crate::start::{Start, StartRequest};

/// Whose signature root to trust.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum VerifyEnv {
    /// BankID's test service ("Test BankID Root CA v1 Test").
    Test,
    /// BankID's production service ("BankID Root CA v1"), the default.
    #[value(alias = "production")]
    Prod,
}

/// `bankid verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The completion signature: a file holding the base64 `signature` string exactly as BankID
    /// returned it, or a collect response (or `bankid ... --json` output) with `completionData`;
    /// `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub(crate) signature: PathBuf,
    /// The base64 `ocspResponse` (taken from the signature file's `completionData` when it has one).
    #[arg(long, value_name = "FILE")]
    pub(crate) ocsp: Option<PathBuf>,
    /// Trust BankID's signature root of this environment.
    #[arg(long, value_name = "ENV", default_value = "prod", conflicts_with = "root")]
    pub(crate) env: VerifyEnv,
    /// Trust these root certificates instead (PEM), e.g. a simulator's signature-root.pem.
    #[arg(long, value_name = "PEM")]
    pub(crate) root: Option<PathBuf>,
    /// The personal number the signature must carry.
    #[arg(long, value_name = "PNR")]
    pub(crate) personal_number: Option<String>,
    /// The text the user must have seen (userVisibleData as sent, before base64).
    #[arg(long, value_name = "TEXT")]
    pub(crate) text: Option<String>,
    /// Judge certificate validity at this time (RFC 3339) instead of the OCSP producedAt (needed
    /// without an OCSP response).
    #[arg(long, value_name = "RFC3339")]
    pub(crate) at: Option<String>,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The outcome of a verification, as printed. (`Debug` shows no personal data.)
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Outcome {
    /// Whether every check held.
    pub(crate) verified: bool,
    personal_number: Option<String>,
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    surname: Option<String>,
    func_id: Option<String>,
    user_visible_data: Option<String>,
    /// `usrNonVisibleData`, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_non_visible_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rp_name: Option<String>,
    /// When the validity was judged: the OCSP producedAt (when the user signed) unless `--at`.
    signed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ocsp_status: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    chain: Vec<String>,
    /// The check that failed (a stable code, e.g. `digest-mismatch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
    /// What did not hold, or why nothing was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcome")
            .field("verified", &self.verified)
            .field("failure", &self.failure)
            .field("signed_at", &self.signed_at)
            .finish_non_exhaustive()
    }
}

impl Outcome {
    fn from_result(result: Result<Verified, VerifyError>) -> Self {
        match result {
            Ok(v) => Self {
                verified: true,
                personal_number: Some(v.personal_number().to_owned()),
                name: v.name().map(str::to_owned),
                given_name: v.given_name().map(str::to_owned),
                surname: v.surname().map(str::to_owned),
                func_id: Some(v.func_id().to_owned()),
                user_visible_data: v.user_visible_data().map(str::to_owned),
                user_non_visible_data: v.user_non_visible_data().map(|d| B64.encode(d)),
                rp_name: v.rp_name().map(str::to_owned),
                signed_at: Some(v.judged_at().to_string()),
                ocsp_status: v.ocsp().map(|o| format!("{:?}", o.status).to_lowercase()),
                chain: v.chain().iter().map(|c| c.subject().to_owned()).collect(),
                failure: None,
                message: None,
            },
            Err(e) => Self { failure: Some(e.code().to_owned()), message: Some(e.to_string()), ..Self::skipped("") },
        }
    }

    /// Nothing verified, for `reason`.
    fn skipped(reason: &str) -> Self {
        Self {
            verified: false,
            personal_number: None,
            name: None,
            given_name: None,
            surname: None,
            func_id: None,
            user_visible_data: None,
            user_non_visible_data: None,
            rp_name: None,
            signed_at: None,
            ocsp_status: None,
            chain: Vec::new(),
            failure: None,
            message: Some(reason.to_owned()).filter(|r| !r.is_empty()),
        }
    }

    /// Whether a check failed (as opposed to verified, or not attempted).
    pub(crate) fn failed(&self) -> bool {
        self.failure.is_some()
    }

    /// One line for the text output of an order.
    pub(crate) fn summary(&self) -> String {
        match (&self.failure, &self.message) {
            _ if self.verified => format!(
                "verified (signed {}, OCSP {}, root {})",
                self.signed_at.as_deref().unwrap_or("?"),
                self.ocsp_status.as_deref().unwrap_or("none"),
                self.chain.last().map_or("?", String::as_str)
            ),
            (Some(code), Some(message)) => format!("NOT VERIFIED: {code}: {message}"),
            (_, Some(message)) => format!("not verified: {message}"),
            _ => "not verified".to_owned(),
        }
    }

    fn text(&self) -> String {
        let mut out = String::new();
        _ = writeln!(out, "{}", if self.verified { "verified" } else { "not verified" });
        let mut field = |name: &str, value: Option<&str>| {
            if let Some(value) = value {
                // Continuation lines of a multi-line text line up under the first.
                let value = value.trim_end().replace('\n', &format!("\n{:19}", ""));
                _ = writeln!(out, "  {name:<16} {value}");
            }
        };
        field("failed check", self.failure.as_deref());
        field("reason", self.message.as_deref());
        field("name", self.name.as_deref());
        field("personal number", self.personal_number.as_deref());
        field("funcId", self.func_id.as_deref());
        field("signed at", self.signed_at.as_deref());
        field("OCSP", self.ocsp_status.as_deref());
        field("RP", self.rp_name.as_deref());
        field("text", self.user_visible_data.as_deref());
        for (i, subject) in self.chain.iter().enumerate() {
            field(if i == 0 { "chain" } else { "" }, Some(subject));
        }
        out
    }
}

/// An input error of `bankid verify` (exit 2).
fn input_error(message: String, json: bool) -> u8 {
    if json {
        println!("{}", serde_json::json!({ "verified": false, "error": message }));
    }
    eprintln!("error: {message}");
    EXIT_ERROR
}

fn read_input(path: &Path) -> Result<String, String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }
}

/// The base64 string in a file, or the field of `completionData` in a JSON document (a collect
/// response, or the output of `bankid ... --json`).
fn extract(text: &str, field: &str) -> Result<(String, Option<String>), String> {
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return Ok((trimmed.to_owned(), None));
    }
    let v: Value = serde_json::from_str(trimmed).map_err(|e| format!("not a base64 string nor JSON: {e}"))?;
    let data = v.get("completionData").unwrap_or(&v);
    let get = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
    let value = get(field).ok_or_else(|| format!("the JSON has no completionData.{field}"))?;
    Ok((value, get("ocspResponse")))
}

/// `bankid verify`: exit 0 verified, 1 a check failed, 2 an input error.
pub(crate) fn run(args: &VerifyArgs) -> u8 {
    let json = args.json;
    let text = match read_input(&args.signature) {
        Ok(text) => text,
        Err(e) => return input_error(e, json),
    };
    let (signature, embedded_ocsp) = match extract(&text, "signature") {
        Ok(found) => found,
        Err(e) => return input_error(e, json),
    };
    let ocsp = match &args.ocsp {
        Some(path) if args.signature == Path::new("-") && path == Path::new("-") => {
            return input_error("--signature and --ocsp cannot both read standard input".into(), json);
        }
        Some(path) => match read_input(path).and_then(|t| extract(&t, "ocspResponse")) {
            Ok((ocsp, _)) => Some(ocsp),
            Err(e) => return input_error(e, json),
        },
        None => embedded_ocsp,
    };
    let anchors = match &args.root {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(pem) => match TrustAnchors::from_pem(&pem) {
                Ok(anchors) => anchors,
                Err(e) => return input_error(format!("{}: {e}", path.display()), json),
            },
            Err(e) => return input_error(format!("cannot read {}: {e}", path.display()), json),
        },
        None => TrustAnchors::bankid(match args.env {
            VerifyEnv::Test => Environment::Test,
            VerifyEnv::Prod => Environment::Production,
        }),
    };
    let mut expect = Expectations::new(anchors);
    if let Some(pnr) = &args.personal_number {
        expect = expect.personal_number(pnr.clone());
    }
    if let Some(text) = &args.text {
        expect = expect.user_visible_data(B64.encode(text));
    }
    if let Some(at) = &args.at {
        match Timestamp::parse_rfc3339(at) {
            Some(t) => expect = expect.at(t),
            None => return input_error(format!("--at {at:?} is not an RFC 3339 time"), json),
        }
    }
    let outcome = Outcome::from_result(bankid_verify::verify(&signature, ocsp.as_deref(), &expect));
    if json {
        println!("{}", serde_json::to_string(&outcome).unwrap_or_default());
    } else {
        print!("{}", outcome.text());
    }
    if outcome.verified { EXIT_OK } else { EXIT_FAILED }
}

/// After an order: verifies the completion data in `report` (if any) against what `start` sent
/// and the signature root of `server`, and records the outcome in the report; a failed check
/// makes the command exit 1.
pub(crate) fn check_order(report: &mut Report, start: &Start, server: &Server) {
    if start.output.no_verify {
        return;
    }
    let Some(data) = &report.completion_data else { return };
    let anchors = match (&server.sim, start.server.env, &start.server.base_url) {
        (Some(sim), _, _) => TrustAnchors::from_pem(sim.signature_root_pem()).ok(),
        (None, Some(EnvName::Test), None) => Some(TrustAnchors::bankid(Environment::Test)),
        (None, Some(EnvName::Prod), None) => Some(TrustAnchors::bankid(Environment::Production)),
        _ => None,
    };
    let Some(anchors) = anchors else {
        report.verification = Some(Outcome::skipped(
            "no signature root is known for this server (check it with bankid verify --root PEM)",
        ));
        return;
    };
    // The funcId of payment signatures is not documented (spec §9.1): not expected.
    let (func_id, body) = match &start.request {
        StartRequest::Auth(r) => (Some("Identification"), r.body()),
        StartRequest::Sign(r) => (Some("Signing"), r.body()),
        StartRequest::Payment(r) => (None, r.body()),
        StartRequest::PhoneAuth(r) => (Some("Identification"), r.body()),
        StartRequest::PhoneSign(r) => (Some("Signing"), r.body()),
    };
    let sent: Value = body.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    // The personal number in the certificate must be the one completionData names.
    let mut expect = Expectations::new(anchors).personal_number(data.user.personal_number.clone());
    if let Some(func_id) = func_id {
        expect = expect.func_id(func_id);
    }
    if let Some(v) = sent["userVisibleData"].as_str() {
        expect = expect.user_visible_data(v);
    }
    if let Some(v) = sent["userNonVisibleData"].as_str() {
        expect = expect.user_non_visible_data(v);
    }
    let outcome = Outcome::from_result(bankid_verify::verify(&data.signature, Some(&data.ocsp_response), &expect));
    if outcome.failed() {
        report.exit = EXIT_FAILED;
    }
    report.verification = Some(outcome);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_from_a_string_or_completion_data() {
        assert_eq!(extract("  QUJD\n", "signature"), Ok(("QUJD".to_owned(), None)));
        let collect =
            r#"{"orderRef":"a","status":"complete","completionData":{"signature":"QUJD","ocspResponse":"REVG"}}"#;
        assert_eq!(extract(collect, "signature"), Ok(("QUJD".to_owned(), Some("REVG".to_owned()))));
        assert_eq!(extract(collect, "ocspResponse").map(|f| f.0), Ok("REVG".to_owned()));
        assert!(extract(r#"{"status":"failed"}"#, "signature").is_err());
        assert!(extract("{not json", "signature").is_err());
    }

    #[test]
    fn outcomes_summarise() {
        let failed = Outcome::from_result(Err(VerifyError::SignatureInvalid));
        assert!(failed.failed() && !failed.verified);
        assert!(failed.summary().starts_with("NOT VERIFIED: signature-invalid"));
        let skipped = Outcome::skipped("why");
        assert!(!skipped.failed());
        assert_eq!(skipped.summary(), "not verified: why");
        assert_eq!(
            serde_json::to_string(&skipped).unwrap(),
            r#"{"verified":false,"personalNumber":null,"name":null,"funcId":null,"userVisibleData":null,"signedAt":null,"message":"why"}"#
        );
    }
}
