use std::ops::ControlFlow;
use std::time::Instant;
use bankid_core::{AuthRequest, Config, Operation, Order, StartMode};
fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _g = rt.enter();
    let client = bankid_hyper::Client::new(Config::test()).unwrap();
    let start = bankid_core::AuthRequest::parse(http::Response::builder().header("content-type","application/json").body(r#"{"orderRef":"131daac9-16c6-4618-beb0-365768f37288","autoStartToken":"a","qrStartToken":"q","qrStartSecret":"s"}"#.as_bytes().to_vec()).unwrap()).unwrap();
    let order = Order::new(&start, StartMode::Qr, Instant::now());
    println!("Order {}", std::mem::size_of_val(&order));
    let fut = client.wait(order, |_| ControlFlow::Continue(()));
    println!("wait future {}", std::mem::size_of_val(&fut));
    let c2 = client.clone();
    let task = async move {
        let start = c2.authenticate(&AuthRequest::new("192.0.2.1".parse().unwrap())).await?;
        let order = Order::new(&start, StartMode::Qr, Instant::now());
        Ok::<_, bankid_core::Error>(c2.wait(order, |_| ControlFlow::Continue(())).await)
    };
    println!("task future {}", std::mem::size_of_val(&task));
    let exec = client.execute(http::Request::new(vec![]));
    println!("execute future {}", std::mem::size_of_val(&exec));
    let rq = bankid_reqwest::Client::new(Config::test()).unwrap();
    let exec = rq.execute(http::Request::new(vec![]));
    println!("reqwest execute future {}", std::mem::size_of_val(&exec));
    let order = Order::new(&start, StartMode::Qr, Instant::now());
    let fut = rq.wait(order, |_| ControlFlow::Continue(()));
    println!("reqwest wait future {}", std::mem::size_of_val(&fut));
}
