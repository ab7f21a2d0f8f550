//! The `/sim/` control endpoints: the simulated phone and test controls over HTTP.

use std::time::Duration;

use http::Method;
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::endpoint::Endpoint;
use crate::fault::{Fault, FaultRule};
use crate::http::{Resp, json_response, read_body};
use crate::order::PhoneError;
use crate::simulator::SimHandle;

const MAX_SIM_BODY: usize = 64 * 1024;

fn bad(msg: impl std::fmt::Display) -> Resp {
    json_response(400, &json!({ "error": msg.to_string() }))
}

fn field<'a>(body: &'a Value, key: &str) -> Result<&'a str, String> {
    body.get(key).and_then(Value::as_str).ok_or_else(|| format!("missing string field {key:?}"))
}

fn phone<T>(r: Result<T, PhoneError>, ok: impl FnOnce(T) -> Value) -> Resp {
    match r {
        Ok(v) => json_response(200, &ok(v)),
        Err(e) => bad(e),
    }
}

/// Answers a `/sim/` request (the caller has checked that the control API may be used).
pub(crate) async fn handle(sim: &SimHandle, method: &Method, path: &str, body: Incoming) -> Resp {
    if method != Method::POST {
        return json_response(405, &json!({ "error": "use POST" }));
    }
    let deadline = sim.shared().ctx.timings.request_timeout;
    let body = match read_body(body, MAX_SIM_BODY, deadline).await {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => json!({}),
        Ok(b) => match serde_json::from_slice::<Value>(&b) {
            Ok(v) if v.is_object() => v,
            _ => return bad("the body must be a JSON object"),
        },
        Err(e) => return bad(e.details),
    };
    route(sim, path, &body).unwrap_or_else(bad)
}

/// Every route is `/sim/` + the name of the [`SimHandle`] method it calls, in kebab case.
fn route(sim: &SimHandle, path: &str, body: &Value) -> Result<Resp, String> {
    let order_ref = || field(body, "orderRef");
    let done = |()| json!({});
    Ok(match path {
        "/sim/scan-qr" => phone(sim.scan_qr(field(body, "qr")?), |r| json!({ "orderRef": r })),
        "/sim/use-autostart" => phone(sim.use_autostart(field(body, "autoStartToken")?), |r| json!({ "orderRef": r })),
        "/sim/open-app" => phone(sim.open_app(order_ref()?), |h| json!({ "hintCode": h })),
        "/sim/next-step" => phone(sim.next_step(order_ref()?), |h| json!({ "hintCode": h })),
        "/sim/approve" => phone(sim.approve(order_ref()?), done),
        "/sim/user-cancel" => phone(sim.user_cancel(order_ref()?), done),
        "/sim/fail-order" => phone(sim.fail_order(order_ref()?, field(body, "hintCode")?), done),
        "/sim/current-qr" => phone(sim.current_qr(order_ref()?), |q| json!({ "qr": q })),
        "/sim/order" => match sim.order(order_ref()?) {
            Some(info) => json_response(200, &info.to_json()),
            None => bad(PhoneError::NoSuchOrder),
        },
        "/sim/inject-fault" => {
            let (fault, times) = fault(body)?;
            phone(sim.inject_fault(order_ref()?, fault, times.unwrap_or(1)), done)
        }
        "/sim/add-fault" => {
            let (fault, times) = fault(body)?;
            let mut rule = FaultRule::new(fault);
            if let Some(ep) = body.get("endpoint").and_then(Value::as_str) {
                rule = rule.on(ep.parse::<Endpoint>().map_err(|e| e.to_string())?);
            }
            if let Some(n) = times {
                rule = rule.times(n);
            }
            sim.add_fault(rule);
            json_response(200, &json!({}))
        }
        "/sim/clear-faults" => {
            sim.clear_faults();
            json_response(200, &json!({}))
        }
        "/sim/advance-clock" => {
            let ms = body.get("advanceMs").and_then(Value::as_u64).ok_or("missing number field \"advanceMs\"")?;
            sim.advance_clock(Duration::from_millis(ms));
            json_response(200, &json!({}))
        }
        "/sim/status" => {
            let status = sim.status();
            json_response(200, &json!({ "orders": status.orders, "connections": status.connections }))
        }
        _ => json_response(404, &json!({ "error": "unknown /sim/ endpoint" })),
    })
}

/// The fault of `/sim/inject-fault` and `/sim/add-fault`, and its `times`.
fn fault(body: &Value) -> Result<(Fault, Option<u32>), String> {
    let delay = Duration::from_millis(body.get("delayMs").and_then(Value::as_u64).unwrap_or(1000));
    let location = body.get("location").and_then(Value::as_str);
    let fault = match Fault::from_name(field(body, "fault")?, delay, location).ok_or("unknown fault")? {
        Fault::Html { status } => Fault::Html { status: html_status(body.get("status"), status)? },
        Fault::Oversized(size) => Fault::Oversized(oversized_bytes(body.get("bytes"), size)?),
        fault => fault,
    };
    let times = match body.get("times") {
        None | Some(Value::Null) => None,
        Some(v) => {
            Some(v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or("\"times\" must be a non-negative integer")?)
        }
    };
    Ok((fault, times))
}

/// The `status` of an `html` fault: absent or `null` is `default`, else an integer 200-599.
fn html_status(value: Option<&Value>, default: u16) -> Result<u16, String> {
    match value {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|&n| Fault::is_html_status(n))
            .ok_or_else(|| "\"status\" must be an HTTP status from 200 to 599".to_owned()),
    }
}

/// The `bytes` of an `oversized` fault: absent or `null` is `default`, else an integer up to
/// [`Fault::MAX_OVERSIZED`].
fn oversized_bytes(value: Option<&Value>, default: usize) -> Result<usize, String> {
    match value {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= Fault::MAX_OVERSIZED)
            .ok_or_else(|| format!("\"bytes\" must be a number of bytes up to {}", Fault::MAX_OVERSIZED)),
    }
}
