//! The command line: subcommands and their flags (clap derive).
//!
//! Flags are grouped in small structs shared by the subcommands that take them: where the server
//! is ([`ServerArgs`]), how the result is printed ([`OutputArgs`]), and the parts of an order
//! ([`LaunchArgs`], [`TextArgs`], [`RequirementArgs`], [`TransactionArgs`]).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use bankid_core::{CallInitiator, CardReader, Language, RiskFlag, TransactionType};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Swedish BankID from the terminal: identify, sign, approve payments, collect and cancel orders, \
                     check QR codes, run a BankID simulator.";

const AFTER_HELP: &str = "\
Where requests go:
  (no flags)                      an embedded simulator on 127.0.0.1; its phone scans the QR code after a
                                  few seconds and approves
  --env test                      BankID's test service with the public test identity (FP Testcert 5)
  --env prod --p12 F --password P BankID's production service with your identity
  --base-url URL --ca PEM ...     any BankID-compatible server, with --cert/--key or --p12/--password

Exit codes: 0 the order completed, 1 it failed or was cancelled (or its signature did not verify),
2 an error (bad flags, unreachable server, TLS, an error answer from BankID).";

/// The `bankid` command.
#[derive(Debug, Parser)]
#[command(name = "bankid", version, about = ABOUT, after_help = AFTER_HELP, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Identify a user (auth) and wait for the result.
    Auth(AuthArgs),
    /// Have a user sign a text (sign) and wait for the result.
    Sign(SignArgs),
    /// Have a user approve a payment (payment) and wait for the result.
    Payment(PaymentArgs),
    /// Identify a user you are on the phone with (phone/auth) and wait for the result.
    PhoneAuth(PhoneAuthArgs),
    /// Have a user you are on the phone with sign a text (phone/sign) and wait for the result.
    PhoneSign(PhoneSignArgs),
    /// Collect an order once and print its status.
    Collect(OrderRefArgs),
    /// Cancel an order.
    Cancel(OrderRefArgs),
    /// Print the animated QR code's content for a QR start token, secret and time.
    Qr(QrArgs),
    /// Run the BankID simulator in the foreground until Ctrl-C (same flags as `bankid-sim`).
    Sim(bankid_sim::cli::SimArgs),
    /// Serve a demo web site: log in with BankID, sign a text, see the result, log out.
    Web(WebArgs),
    /// Verify a completion signature and its OCSP response offline (exit 0 verified, 1 a check
    /// failed, 2 an error).
    Verify(crate::verify::VerifyArgs),
}

/// `bankid web`.
#[derive(Debug, Args)]
pub(crate) struct WebArgs {
    /// Where the site listens (port 0: any free port; the URL is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) listen: std::net::SocketAddr,
    /// A key sealing the order cookies, 64 hex digits (repeatable: the first seals, all open).
    /// Give every instance behind one load balancer the same keys. Default: a random key.
    #[arg(long, value_name = "HEX", env = "BANKID_WEB_COOKIE_KEY", hide_env_values = true, value_delimiter = ',')]
    pub(crate) cookie_key: Vec<String>,
    /// Take the user's IP address from the last value of this header set by your reverse
    /// proxy (e.g. X-Forwarded-For) instead of the TCP peer.
    #[arg(long, value_name = "NAME")]
    pub(crate) ip_header: Option<String>,
    /// Language of the user messages.
    #[arg(long, value_name = "LANG", default_value = "en", value_parser = one_of(Language::ALL, Language::as_str))]
    pub(crate) lang: Language,
    /// Verify completion signatures against this root (PEM) instead of the server's known one
    /// (the embedded simulator's, or BankID's for --env test and --env prod).
    #[arg(long, value_name = "PEM")]
    pub(crate) signature_root: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
}

/// `bankid auth`.
#[derive(Debug, Args)]
pub(crate) struct AuthArgs {
    /// Text shown to the user in the app (userVisibleData).
    #[arg(long, value_name = "TEXT", help_heading = "Order")]
    pub(crate) text: Option<String>,
    /// Only the BankID of this personal number (YYYYMMDDNNNN) may complete the order
    /// (requirement.personalNumber).
    #[arg(long, value_name = "PNR", help_heading = "Order")]
    pub(crate) personal_number: Option<String>,
    #[command(flatten)]
    pub(crate) launch: LaunchArgs,
    #[command(flatten)]
    pub(crate) texts: TextArgs,
    #[command(flatten)]
    pub(crate) requirement: RequirementArgs,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `bankid sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The text the user signs (userVisibleData).
    #[arg(long, value_name = "TEXT", help_heading = "Order")]
    pub(crate) text: String,
    /// Only the BankID of this personal number (YYYYMMDDNNNN) may sign (requirement.personalNumber).
    #[arg(long, value_name = "PNR", help_heading = "Order")]
    pub(crate) personal_number: Option<String>,
    #[command(flatten)]
    pub(crate) launch: LaunchArgs,
    #[command(flatten)]
    pub(crate) texts: TextArgs,
    #[command(flatten)]
    pub(crate) requirement: RequirementArgs,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `bankid payment`.
#[derive(Debug, Args)]
pub(crate) struct PaymentArgs {
    #[command(flatten)]
    pub(crate) transaction: TransactionArgs,
    /// Text shown besides the transaction (userVisibleData).
    #[arg(long, value_name = "TEXT", help_heading = "Order")]
    pub(crate) text: Option<String>,
    /// Only the BankID of this personal number (YYYYMMDDNNNN) may approve (requirement.personalNumber).
    #[arg(long, value_name = "PNR", help_heading = "Order")]
    pub(crate) personal_number: Option<String>,
    #[command(flatten)]
    pub(crate) launch: LaunchArgs,
    #[command(flatten)]
    pub(crate) texts: TextArgs,
    #[command(flatten)]
    pub(crate) requirement: RequirementArgs,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `bankid phone-auth`.
#[derive(Debug, Args)]
pub(crate) struct PhoneAuthArgs {
    #[command(flatten)]
    pub(crate) phone: PhoneArgs,
    /// Text shown to the user in the app (userVisibleData).
    #[arg(long, value_name = "TEXT", help_heading = "Order")]
    pub(crate) text: Option<String>,
    #[command(flatten)]
    pub(crate) texts: TextArgs,
    #[command(flatten)]
    pub(crate) requirement: RequirementArgs,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `bankid phone-sign`.
#[derive(Debug, Args)]
pub(crate) struct PhoneSignArgs {
    #[command(flatten)]
    pub(crate) phone: PhoneArgs,
    /// The text the user signs (userVisibleData).
    #[arg(long, value_name = "TEXT", help_heading = "Order")]
    pub(crate) text: String,
    #[command(flatten)]
    pub(crate) texts: TextArgs,
    #[command(flatten)]
    pub(crate) requirement: RequirementArgs,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `bankid collect` and `bankid cancel`.
#[derive(Debug, Args)]
pub(crate) struct OrderRefArgs {
    /// The order reference (orderRef) from the start response.
    #[arg(value_name = "ORDER_REF")]
    pub(crate) order_ref: String,
    #[command(flatten)]
    pub(crate) server: ServerArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// `bankid qr`.
#[derive(Debug, Args)]
pub(crate) struct QrArgs {
    /// The qrStartToken of the start response.
    #[arg(long, value_name = "TOKEN")]
    pub(crate) token: String,
    /// The qrStartSecret of the start response.
    #[arg(long, value_name = "SECRET")]
    pub(crate) secret: String,
    /// Whole seconds since the start response arrived.
    #[arg(long, value_name = "N")]
    pub(crate) seconds: u64,
}

/// Which well-known server to talk to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum EnvName {
    /// An embedded simulator on 127.0.0.1 (the default).
    Sim,
    /// BankID's test service (appapi2.test.bankid.com) with the public test identity.
    Test,
    /// BankID's production service (appapi2.bankid.com); needs your identity.
    #[value(alias = "production")]
    Prod,
}

/// Where requests go and with which TLS material.
#[derive(Debug, Args)]
#[command(next_help_heading = "Server")]
pub(crate) struct ServerArgs {
    /// The BankID service to talk to [default: sim, unless --base-url is given].
    #[arg(long, value_enum, value_name = "ENV")]
    pub(crate) env: Option<EnvName>,
    /// Any BankID-compatible server, e.g. https://127.0.0.1:8443 (needs --ca).
    #[arg(long, value_name = "URL", conflicts_with = "env", requires = "ca")]
    pub(crate) base_url: Option<String>,
    /// The server's root certificate(s) to trust, PEM (replaces the environment's roots).
    #[arg(long, value_name = "PEM")]
    pub(crate) ca: Option<PathBuf>,
    /// Client certificate, PEM (with --key).
    #[arg(long, value_name = "PEM", requires = "key", conflicts_with = "p12")]
    pub(crate) cert: Option<PathBuf>,
    /// Client private key, PEM (PKCS#8, encrypted or not; with --cert).
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    /// Password of an encrypted --key.
    #[arg(long, value_name = "PASSWORD")]
    pub(crate) key_password: Option<String>,
    /// Client identity, PKCS#12 (.p12/.pfx; with --password).
    #[arg(long, value_name = "FILE")]
    pub(crate) p12: Option<PathBuf>,
    /// Password of the --p12 file.
    #[arg(long, value_name = "PASSWORD", env = "BANKID_P12_PASSWORD", hide_env_values = true)]
    pub(crate) password: Option<String>,
    /// Timeout of one request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub(crate) timeout: Duration,
    #[command(flatten)]
    pub(crate) phone: SimPhoneArgs,
}

/// What the embedded simulator's phone does (hidden: for tests and demos).
#[derive(Clone, Debug, Args)]
pub(crate) struct SimPhoneArgs {
    /// Embedded simulator: the phone picks the order up (scans the QR code, uses the autostart
    /// token or opens the pushed order) after MS milliseconds.
    #[arg(long, hide = true, value_name = "MS", env = "BANKID_SIM_PICKUP_AFTER_MS", default_value_t = 3000)]
    pub(crate) sim_pickup_after: u64,
    /// Embedded simulator: each later step, and the approval, takes MS milliseconds.
    #[arg(long, hide = true, value_name = "MS", env = "BANKID_SIM_APPROVE_AFTER_MS", default_value_t = 2000)]
    pub(crate) sim_approve_after: u64,
    /// Embedded simulator: what the user does in the app.
    #[arg(long, hide = true, value_enum, env = "BANKID_SIM_PHONE", default_value = "approve")]
    pub(crate) sim_phone: PhoneScript,
}

/// What the embedded simulator's user does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum PhoneScript {
    /// Picks the order up and approves it.
    Approve,
    /// Picks the order up and cancels it in the app (userCancel).
    Cancel,
    /// Never picks the order up (a QR or autostart order fails with startFailed after 30 s, a
    /// phone order with expiredTransaction when it expires).
    Ignore,
}

/// How the result is printed.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// Print exactly one JSON document on stdout (orderRef, status, hintCode, completionData and
    /// verification, or error) and nothing else there.
    #[arg(long)]
    pub(crate) json: bool,
    /// Language of the user messages.
    #[arg(long, value_name = "LANG", default_value = "en", value_parser = one_of(Language::ALL, Language::as_str))]
    pub(crate) lang: Language,
    /// No progress output (QR code, messages); only the result.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Do not verify the completion signature of an order (auth, sign, payment, phone-auth,
    /// phone-sign verify it by default and exit 1 if a check fails).
    #[arg(long)]
    pub(crate) no_verify: bool,
}

/// How the order reaches the user's app, and where the user goes afterwards (auth, sign, payment).
#[derive(Debug, Args)]
#[command(next_help_heading = "Order")]
pub(crate) struct LaunchArgs {
    /// The user's IP address as your service sees it (endUserIp).
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub(crate) end_user_ip: IpAddr,
    /// Show the animated QR code, to scan with the BankID app on another device (the default).
    #[arg(long, conflicts_with = "autostart")]
    pub(crate) qr: bool,
    /// Print the launch URL (bankid:///?autostarttoken=...) that starts the app on this device,
    /// instead of a QR code.
    #[arg(long)]
    pub(crate) autostart: bool,
    /// Where the app sends the user when the order completes (returnUrl).
    #[arg(long, value_name = "URL")]
    pub(crate) return_url: Option<String>,
    /// Ask for BankID's risk assessment in the result (returnRisk).
    #[arg(long)]
    pub(crate) return_risk: bool,
}

/// The texts besides userVisibleData.
#[derive(Debug, Args)]
#[command(next_help_heading = "Order")]
pub(crate) struct TextArgs {
    /// Data not shown to the user that ends up in the signature (userNonVisibleData).
    #[arg(long, value_name = "TEXT")]
    pub(crate) non_visible_data: Option<String>,
    /// The --text is Simple Markdown v1 (userVisibleDataFormat).
    #[arg(long)]
    pub(crate) markdown: bool,
}

/// How the order must be performed (`requirement`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Order")]
pub(crate) struct RequirementArgs {
    /// The user must confirm with the security code, not biometrics (requirement.pinCode).
    #[arg(long)]
    pub(crate) pin_code: bool,
    /// The user must scan a passport or ID card (requirement.mrtd).
    #[arg(long)]
    pub(crate) mrtd: bool,
    /// An OID the user's certificate must carry (requirement.certificatePolicies; repeatable).
    #[arg(long = "certificate-policy", value_name = "OID")]
    pub(crate) certificate_policies: Vec<String>,
    /// The card reader a smart-card BankID must use (requirement.cardReader).
    #[arg(long, value_name = "CLASS", value_parser = one_of(CardReader::ALL, CardReader::as_str))]
    pub(crate) card_reader: Option<CardReader>,
}

/// The transaction of a payment (`userVisibleTransaction`, `riskFlags`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Payment")]
pub(crate) struct TransactionArgs {
    /// Who is paid (userVisibleTransaction.recipient.name); for card payments, the merchant.
    #[arg(long, value_name = "NAME")]
    pub(crate) recipient: String,
    /// The amount, digits with an optional comma decimal part, e.g. 249,00 (not with npa).
    #[arg(long, value_name = "AMOUNT")]
    pub(crate) amount: Option<String>,
    /// The currency of --amount (ISO 4217).
    #[arg(long, value_name = "CODE", default_value = "SEK", requires = "amount")]
    pub(crate) currency: String,
    /// `card`: a card payment; `npa`: a non-payment authentication (no amount).
    #[arg(long, value_name = "TYPE", default_value = "card",
          value_parser = one_of(TransactionType::ALL, TransactionType::as_str))]
    pub(crate) transaction_type: TransactionType,
    /// Tells the user the payment is unusual (userVisibleTransaction.riskWarning).
    #[arg(long, value_name = "TEXT")]
    pub(crate) risk_warning: Option<String>,
    /// A signal to BankID's risk engine (riskFlags; repeatable).
    #[arg(long = "risk-flag", value_name = "FLAG", value_parser = one_of(RiskFlag::ALL, RiskFlag::as_str))]
    pub(crate) risk_flags: Vec<RiskFlag>,
}

/// Who the phone order is for.
#[derive(Debug, Args)]
#[command(next_help_heading = "Order")]
pub(crate) struct PhoneArgs {
    /// The user's personal number, YYYYMMDDNNNN (personalNumber).
    #[arg(long, value_name = "PNR")]
    pub(crate) personal_number: String,
    /// Who called whom: `user` (the user called you) or `RP` (you called the user).
    #[arg(long, value_name = "WHO", default_value = "user",
          value_parser = one_of(CallInitiator::ALL, CallInitiator::as_str))]
    pub(crate) call_initiator: CallInitiator,
}

/// A value parser accepting exactly the wire names of a closed core enum, listed in `--help`:
/// the names come from the core, so the CLI never keeps its own copy of them.
fn one_of<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(all.iter().map(|value| name(*value)))
        .map(move |chosen| all.iter().copied().find(|value| name(*value) == chosen).unwrap_or(all[0]))
}

/// Parses a number of seconds (`5`, `0.5`) into a positive duration.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn wire_names_parse_into_core_values() {
        let cli = Cli::try_parse_from([
            "bankid",
            "payment",
            "--recipient",
            "Shop",
            "--amount",
            "10,00",
            "--transaction-type",
            "npa",
            "--risk-flag",
            "newCard",
            "--risk-flag",
            "largeAmount",
            "--lang",
            "sv",
        ])
        .unwrap();
        let Command::Payment(payment) = cli.command else { panic!("not a payment") };
        assert_eq!(payment.transaction.transaction_type, TransactionType::Npa);
        assert_eq!(payment.transaction.risk_flags, [RiskFlag::NewCard, RiskFlag::LargeAmount]);
        assert_eq!(payment.transaction.currency, "SEK");
        assert_eq!(payment.output.lang, Language::Sv);
        assert!(Cli::try_parse_from(["bankid", "payment", "--recipient", "x", "--risk-flag", "nope"]).is_err());
        let cli = Cli::try_parse_from(["bankid", "phone-auth", "--personal-number", "1", "--call-initiator", "RP"]);
        let Command::PhoneAuth(phone) = cli.unwrap().command else { panic!("not phone-auth") };
        assert_eq!(phone.phone.call_initiator, CallInitiator::Rp);
    }

    #[test]
    fn sign_needs_text_and_base_url_needs_ca() {
        assert!(Cli::try_parse_from(["bankid", "sign"]).is_err());
        assert!(Cli::try_parse_from(["bankid", "auth", "--base-url", "https://x"]).is_err());
        assert!(
            Cli::try_parse_from(["bankid", "auth", "--base-url", "https://x", "--env", "test", "--ca", "c"]).is_err()
        );
        assert!(Cli::try_parse_from(["bankid", "auth", "--qr", "--autostart"]).is_err());
        assert!(Cli::try_parse_from(["bankid", "auth", "--timeout", "0"]).is_err());
        let cli = Cli::try_parse_from(["bankid", "auth", "--timeout", "0.5"]).unwrap();
        let Command::Auth(auth) = cli.command else { panic!("not auth") };
        assert_eq!(auth.server.timeout, Duration::from_millis(500));
        assert_eq!(auth.launch.end_user_ip.to_string(), "127.0.0.1");
    }
}
