//! From the order flags to the core's typed start requests. The core validates every field
//! before anything is sent, so nothing is checked twice here.

use bankid_core::{
    AuthRequest, Error, Money, OrderResponse, PaymentRequest, PhoneAuthRequest, PhoneOrderResponse, PhoneSignRequest,
    Requirement, SignRequest, StartMode, UserVisibleTransaction,
};
use bankid_hyper::Client;

use crate::args::{
    AuthArgs, LaunchArgs, OutputArgs, PaymentArgs, PhoneAuthArgs, PhoneSignArgs, RequirementArgs, ServerArgs, SignArgs,
    TransactionArgs,
};

/// An order to start, where, and how to show it.
#[derive(Debug)]
pub(crate) struct Start {
    /// The start request.
    pub(crate) request: StartRequest,
    /// How the order reaches the app.
    pub(crate) mode: StartMode,
    /// Where it goes.
    pub(crate) server: ServerArgs,
    /// How the result is printed.
    pub(crate) output: OutputArgs,
}

/// One of the start requests.
#[derive(Debug)]
pub(crate) enum StartRequest {
    /// `auth`.
    Auth(AuthRequest),
    /// `sign`.
    Sign(SignRequest),
    /// `payment`.
    Payment(PaymentRequest),
    /// `phone/auth`.
    PhoneAuth(PhoneAuthRequest),
    /// `phone/sign`.
    PhoneSign(PhoneSignRequest),
}

/// The start response.
#[derive(Debug)]
pub(crate) enum Started {
    /// Of an order started on the user's device (QR code or autostart).
    Device(OrderResponse),
    /// Of a phone order.
    Phone(PhoneOrderResponse),
}

impl StartRequest {
    /// Sends the request.
    pub(crate) async fn send(&self, client: &Client) -> Result<Started, Error> {
        Ok(match self {
            Self::Auth(request) => Started::Device(client.authenticate(request).await?),
            Self::Sign(request) => Started::Device(client.sign(request).await?),
            Self::Payment(request) => Started::Device(client.payment(request).await?),
            Self::PhoneAuth(request) => Started::Phone(client.phone_authenticate(request).await?),
            Self::PhoneSign(request) => Started::Phone(client.phone_sign(request).await?),
        })
    }
}

/// Applies the flags every start request shares (the core generates these setters per type).
macro_rules! texts {
    ($request:expr, $texts:expr, $requirement:expr) => {{
        let mut request = $request.requirement($requirement);
        if let Some(data) = &$texts.non_visible_data {
            request = request.user_non_visible_data(data.as_bytes());
        }
        if $texts.markdown { request.markdown() } else { request }
    }};
}

/// Applies the flags of orders started on the user's device.
macro_rules! launch {
    ($request:expr, $launch:expr) => {{
        let request = $request.return_risk($launch.return_risk);
        match &$launch.return_url {
            Some(url) => request.return_url(url.clone()),
            None => request,
        }
    }};
}

/// `bankid auth`.
pub(crate) fn auth(args: AuthArgs) -> Start {
    let mut request = AuthRequest::new(args.launch.end_user_ip);
    if let Some(text) = args.text {
        request = request.user_visible_data(text);
    }
    let request = texts!(request, args.texts, requirement(&args.requirement, args.personal_number));
    let request = launch!(request, args.launch);
    Start { request: StartRequest::Auth(request), mode: mode(&args.launch), server: args.server, output: args.output }
}

/// `bankid sign`.
pub(crate) fn sign(args: SignArgs) -> Start {
    let request = SignRequest::new(args.launch.end_user_ip, args.text);
    let request = texts!(request, args.texts, requirement(&args.requirement, args.personal_number));
    let request = launch!(request, args.launch);
    Start { request: StartRequest::Sign(request), mode: mode(&args.launch), server: args.server, output: args.output }
}

/// `bankid payment`.
pub(crate) fn payment(args: PaymentArgs) -> Start {
    let mut request = PaymentRequest::new(args.launch.end_user_ip, transaction(&args.transaction));
    for flag in &args.transaction.risk_flags {
        request = request.risk_flag(*flag);
    }
    if let Some(text) = args.text {
        request = request.user_visible_data(text);
    }
    let request = texts!(request, args.texts, requirement(&args.requirement, args.personal_number));
    let request = launch!(request, args.launch);
    Start {
        request: StartRequest::Payment(request),
        mode: mode(&args.launch),
        server: args.server,
        output: args.output,
    }
}

/// `bankid phone-auth`.
pub(crate) fn phone_auth(args: PhoneAuthArgs) -> Start {
    let mut request = PhoneAuthRequest::new(args.phone.personal_number, args.phone.call_initiator);
    if let Some(text) = args.text {
        request = request.user_visible_data(text);
    }
    let request = texts!(request, args.texts, requirement(&args.requirement, None));
    Start {
        request: StartRequest::PhoneAuth(request),
        mode: StartMode::Phone,
        server: args.server,
        output: args.output,
    }
}

/// `bankid phone-sign`.
pub(crate) fn phone_sign(args: PhoneSignArgs) -> Start {
    let request = PhoneSignRequest::new(args.phone.personal_number, args.phone.call_initiator, args.text);
    let request = texts!(request, args.texts, requirement(&args.requirement, None));
    Start {
        request: StartRequest::PhoneSign(request),
        mode: StartMode::Phone,
        server: args.server,
        output: args.output,
    }
}

fn mode(launch: &LaunchArgs) -> StartMode {
    if launch.autostart { StartMode::AutoStart } else { StartMode::Qr }
}

fn requirement(args: &RequirementArgs, personal_number: Option<String>) -> Requirement {
    let mut requirement = Requirement::new();
    if args.pin_code {
        requirement = requirement.pin_code(true);
    }
    if args.mrtd {
        requirement = requirement.mrtd(true);
    }
    if let Some(reader) = args.card_reader {
        requirement = requirement.card_reader(reader);
    }
    for oid in &args.certificate_policies {
        requirement = requirement.certificate_policy(oid.clone());
    }
    if let Some(personal_number) = personal_number {
        requirement = requirement.personal_number(personal_number);
    }
    requirement
}

fn transaction(args: &TransactionArgs) -> UserVisibleTransaction {
    let mut transaction = UserVisibleTransaction::new(args.transaction_type, args.recipient.clone());
    if let Some(amount) = &args.amount {
        transaction = transaction.money(Money::new(amount.clone(), args.currency.clone()));
    }
    if let Some(warning) = &args.risk_warning {
        transaction = transaction.risk_warning(warning.clone());
    }
    transaction
}

#[cfg(test)]
mod tests {
    use bankid_core::{Config, Operation};
    use clap::Parser;

    use crate::args::{Cli, Command};

    fn body(line: &[&str]) -> serde_json::Value {
        let start = match Cli::try_parse_from(line).unwrap().command {
            Command::Auth(args) => super::auth(args),
            Command::Sign(args) => super::sign(args),
            Command::Payment(args) => super::payment(args),
            Command::PhoneAuth(args) => super::phone_auth(args),
            Command::PhoneSign(args) => super::phone_sign(args),
            _ => unreachable!(),
        };
        let config = Config::test();
        let request = match &start.request {
            super::StartRequest::Auth(request) => request.to_http(&config),
            super::StartRequest::Sign(request) => request.to_http(&config),
            super::StartRequest::Payment(request) => request.to_http(&config),
            super::StartRequest::PhoneAuth(request) => request.to_http(&config),
            super::StartRequest::PhoneSign(request) => request.to_http(&config),
        };
        serde_json::from_slice(request.unwrap().body()).unwrap()
    }

    #[test]
    fn flags_become_request_fields() {
        let auth = body(&[
            "bankid",
            "auth",
            "--end-user-ip",
            "192.0.2.1",
            "--text",
            "*hi*",
            "--markdown",
            "--non-visible-data",
            "n",
            "--personal-number",
            "199001011239",
            "--pin-code",
            "--mrtd",
            "--certificate-policy",
            "1.2.752.78.1.5",
            "--certificate-policy",
            "1.2.752.78.1.2",
            "--card-reader",
            "class2",
            "--return-url",
            "https://example.com/r",
            "--return-risk",
        ]);
        assert_eq!(
            auth,
            serde_json::json!({
                "endUserIp": "192.0.2.1",
                "userVisibleData": "KmhpKg==",
                "userNonVisibleData": "bg==",
                "userVisibleDataFormat": "simpleMarkdownV1",
                "requirement": {
                    "pinCode": true, "mrtd": true, "cardReader": "class2",
                    "certificatePolicies": ["1.2.752.78.1.5", "1.2.752.78.1.2"],
                    "personalNumber": "199001011239"
                },
                "returnUrl": "https://example.com/r",
                "returnRisk": true
            })
        );
        let payment = body(&[
            "bankid",
            "payment",
            "--recipient",
            "Shop",
            "--amount",
            "9,50",
            "--currency",
            "EUR",
            "--risk-warning",
            "new shop",
            "--risk-flag",
            "newCard",
        ]);
        assert_eq!(
            payment["userVisibleTransaction"]["money"],
            serde_json::json!({"amount": "9,50", "currency": "EUR"})
        );
        assert_eq!(payment["userVisibleTransaction"]["transactionType"], "card");
        assert_eq!(payment["riskFlags"], serde_json::json!(["newCard"]));
        let phone = body(&["bankid", "phone-sign", "--personal-number", "199001011239", "--text", "x"]);
        assert_eq!(phone["callInitiator"], "user");
        assert_eq!(phone["personalNumber"], "199001011239");
        assert!(phone.get("endUserIp").is_none());
    }
}
