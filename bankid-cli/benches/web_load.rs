//! Load: many concurrent browser sessions, each polling `bankid web` once a second, against
//! one server process and bankid-sim (run in this process, its orders left waiting for a scan:
//! every poll draws a QR code, every other one collects).
//!
//! `cargo bench -p bankid-cli --bench web_load` runs 1,000 sessions for 30 s (the measurement
//! window starts after a 10 s ramp-up); `BANKID_LOAD_SESSIONS` and `BANKID_LOAD_SECONDS`
//! change that. Under `cargo test --benches` it runs 20 sessions for 3 s as a smoke test.
//!
//! Reported: polls per second, the server process's CPU time per poll (from /proc), its
//! resident memory (current and peak), and the poll latency (p50, p99, max) seen by the
//! sessions. Needs one file descriptor per session (`ulimit -n`).

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_bankid");

fn main() {
    let bench = std::env::args().any(|arg| arg == "--bench");
    let env_or = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let sessions = env_or("BANKID_LOAD_SESSIONS", if bench { 1000 } else { 20 });
    let seconds = env_or("BANKID_LOAD_SECONDS", if bench { 30 } else { 3 });
    let ramp = Duration::from_secs(if bench { 10 } else { 2 });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(run(sessions, Duration::from_secs(seconds), ramp));
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Default)]
struct Stats {
    latencies: Vec<Duration>,
    errors: u64,
}

async fn run(sessions: u64, window: Duration, ramp: Duration) {
    let dir = std::env::temp_dir().join(format!("bankid-web-load-{}", std::process::id()));
    let mut timings = bankid_sim::Timings::default();
    // Orders wait for a scan for the whole run.
    timings.start_failed = Duration::from_secs(3600);
    timings.order_lifetime = Duration::from_secs(3600);
    let sim = bankid_sim::Simulator::builder()
        .bind("127.0.0.1:0")
        .client_identities(1)
        .timings(timings)
        .write_pki_to(&dir)
        .start()
        .await
        .expect("starts the simulator");
    let file = |name: &str| dir.join(name).display().to_string();
    let mut child = Command::new(BIN)
        .args(["web", "--listen", "127.0.0.1:0", "--base-url", sim.base_url(), "--ca", &file("ca.pem")])
        .args(["--cert", &file("rp-1.cert.pem"), "--key", &file("rp-1.key.pem")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts bankid web");
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let first = lines.next().and_then(Result::ok).expect("the URL line");
    std::thread::spawn(move || lines.for_each(drop));
    let addr = first
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://"))
        .expect("a URL")
        .trim_end_matches('/')
        .to_owned();

    let begin = Instant::now() + Duration::from_millis(200);
    let measure_from = begin + ramp;
    let end = measure_from + window;
    let stats = Arc::new(Mutex::new(Stats::default()));
    let mut tasks = Vec::new();
    for i in 0..sessions {
        let (addr, stats) = (addr.clone(), Arc::clone(&stats));
        // Sessions start spread over the first second, then each polls once a second.
        let offset = Duration::from_micros(i * 1_000_000 / sessions);
        tasks.push(tokio::spawn(session(addr, begin + offset, measure_from, end, stats)));
    }
    tokio::time::sleep_until((measure_from).into()).await;
    let cpu_before = cpu_ticks(pid);
    tokio::time::sleep_until(end.into()).await;
    let cpu_after = cpu_ticks(pid);
    let memory = memory_kib(pid);
    for task in tasks {
        let _ = task.await;
    }
    let (mut latencies, errors) = {
        let stats = stats.lock().unwrap_or_else(PoisonError::into_inner);
        (stats.latencies.clone(), stats.errors)
    };
    latencies.sort();
    let polls = latencies.len();
    let ticks_per_second = clock_ticks();
    let cpu = Duration::from_secs_f64((cpu_after - cpu_before) as f64 / ticks_per_second);
    let percentile = |p: f64| latencies.get(((polls as f64 * p) as usize).min(polls.saturating_sub(1))).copied();
    println!("web_load: {sessions} sessions polling every second for {window:?} (after a {ramp:?} ramp-up)");
    println!("  polls in the window     {polls} ({:.0}/s), errors {}", polls as f64 / window.as_secs_f64(), errors);
    println!(
        "  server CPU              {cpu:?} in {window:?} = {:.1} % of one core, {:.1} µs per poll",
        cpu.as_secs_f64() / window.as_secs_f64() * 100.0,
        cpu.as_secs_f64() * 1e6 / polls.max(1) as f64
    );
    println!("  server memory           VmRSS {} KiB, VmHWM {} KiB", memory.0, memory.1);
    println!(
        "  poll latency            p50 {:?}, p99 {:?}, max {:?}",
        percentile(0.50).unwrap_or_default(),
        percentile(0.99).unwrap_or_default(),
        latencies.last().copied().unwrap_or_default()
    );
    assert!(polls > 0, "no polls measured");
    assert_eq!(errors, 0, "failed polls");
    drop(server);
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// One browser: starts an order, then polls status once a second until `end`.
async fn session(addr: String, start: Instant, measure_from: Instant, end: Instant, stats: Arc<Mutex<Stats>>) {
    tokio::time::sleep_until(start.into()).await;
    let Ok(stream) = TcpStream::connect(&addr).await else {
        stats.lock().unwrap_or_else(PoisonError::into_inner).errors += 1;
        return;
    };
    let mut stream = BufReader::new(stream);
    let mut cookies = String::new();
    if request(&mut stream, &addr, "/bankid/auth", &mut cookies).await != Some(200) {
        stats.lock().unwrap_or_else(PoisonError::into_inner).errors += 1;
        return;
    }
    let mut next = start + Duration::from_secs(1);
    while next < end {
        tokio::time::sleep_until(next.into()).await;
        let sent = Instant::now();
        let status = request(&mut stream, &addr, "/bankid/status", &mut cookies).await;
        let latency = sent.elapsed();
        if sent >= measure_from {
            let mut stats = stats.lock().unwrap_or_else(PoisonError::into_inner);
            if status == Some(200) { stats.latencies.push(latency) } else { stats.errors += 1 }
        }
        next += Duration::from_secs(1);
    }
}

/// One keep-alive HTTP/1.1 POST with the cookies; keeps the cookies it sets. The status code.
async fn request(stream: &mut BufReader<TcpStream>, host: &str, path: &str, cookies: &mut String) -> Option<u16> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) \
         Chrome/126.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\nCookie: {cookies}\r\n\r\n{{}}"
    );
    stream.get_mut().write_all(head.as_bytes()).await.ok()?;
    let mut line = String::new();
    stream.read_line(&mut line).await.ok()?;
    let status = line.split_whitespace().nth(1)?.parse().ok()?;
    let mut length = 0;
    loop {
        line.clear();
        stream.read_line(&mut line).await.ok()?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().ok()?;
        } else if name.eq_ignore_ascii_case("set-cookie") {
            let pair = value.trim().split(';').next()?;
            let name = pair.split('=').next()?;
            let mut kept: Vec<&str> =
                cookies.split("; ").filter(|c| !c.is_empty() && !c.starts_with(&format!("{name}="))).collect();
            kept.push(pair);
            *cookies = kept.join("; ");
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(status)
}

/// The process's user + system CPU time, in clock ticks (/proc/PID/stat fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields after the name start at field 3 (state): utime is field 14, stime field 15.
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(14) + field(15)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// VmRSS and VmHWM of the process, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
