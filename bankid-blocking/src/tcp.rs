//! The TCP transport under ureq's rustls connector, in place of ureq's `TcpConnector`: the same
//! connection setup, with less work per request on a pooled connection.
//!
//! - **One write per request.** What the layer above transmits (the request's TLS record, and
//!   on a new connection the end of the TLS handshake before it) is kept until the transport is
//!   asked for input, and then written with one `send`. Whoever waits for input has sent all
//!   it means to send before it (an HTTP/1.1 client reads the answer after the request, or the
//!   `100 Continue` after the head; a TLS handshake reads after each flight), so nothing waits
//!   on what is kept; a full buffer is written at once.
//! - **One liveness check, no mode switches.** Whether a pooled connection is still usable is
//!   one `recv(MSG_PEEK | MSG_DONTWAIT)` (data waiting or end of stream: not usable) instead of
//!   switching the socket to non-blocking mode and back. ureq checks a connection when it
//!   returns to the pool and again when it is taken out; a check made less than
//!   [`CHECK_FRESH`] ago with no I/O since stands for the second.
//! - **Socket timeouts set only when they must change.** The request timeout is a deadline for
//!   the whole request; each blocking call on the socket must end by it. The socket's timeout
//!   (`SO_RCVTIMEO`, `SO_SNDTIMEO`) is left as it is while it lies between half the time left
//!   and the time left plus [`TIMEOUT_SLACK`]; otherwise it is set to the time left. A call
//!   that times out before the deadline is made again with the time then left. So a call never
//!   blocks past the deadline by more than [`TIMEOUT_SLACK`], and on a pooled connection whose
//!   requests answer quickly the timeouts are set once, not three times a request.
//!
//! Worst case: a request that hits its deadline ends at most [`TIMEOUT_SLACK`] after it, plus
//! the thread's scheduling delay (ureq checks the deadline before each step, and every blocking
//! call here ends by the deadline plus the slack).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use ureq::Timeout;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, ShutdownHandle, Transport,
};

/// How much longer than the time left until the deadline a socket timeout may be, so that the
/// timeout need not be set again for every call (see the module docs).
pub(crate) const TIMEOUT_SLACK: Duration = Duration::from_millis(20);

/// How long a liveness check that found the connection usable stands, when no I/O happened on
/// the connection since: ureq checks a connection when it goes back to the pool and again when
/// it is taken out, often microseconds apart.
pub(crate) const CHECK_FRESH: Duration = Duration::from_millis(1);

/// The most a TCP transport buffers each way: a few TLS records (at most 16 KiB and a few bytes
/// each). ureq's own buffer sizes (128 KiB each way by default) are for the layer that holds
/// whole response heads; memory per connection stays below what ureq's own chain took.
const SOCKET_BUFFER: usize = 32 * 1024;

/// Each address of a host but the last gets at least this much of the connect budget.
const MIN_PER_ADDRESS: Duration = Duration::from_millis(10);

/// Opens the TCP connection (the first connector of the chain; ureq's rustls connector wraps
/// what it opens in TLS).
#[derive(Debug, Default)]
pub(crate) struct TcpConnector;

impl Connector<()> for TcpConnector {
    type Out = TcpTransport;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        _chained: Option<()>,
    ) -> Result<Option<TcpTransport>, ureq::Error> {
        let deadline = Deadline::new(details.timeout);
        let stream = connect(&details.addrs, deadline, details.timeout.reason)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let config = details.config;
        let transport = TcpTransport::new(
            stream,
            config.input_buffer_size().min(SOCKET_BUFFER),
            config.output_buffer_size().min(SOCKET_BUFFER),
        );
        (details.register_shutdown)(Arc::downgrade(&transport.stream) as Weak<dyn ShutdownHandle>)?;
        Ok(Some(transport))
    }
}

/// Tries the addresses in turn: each but the last gets half of the time left (at least
/// [`MIN_PER_ADDRESS`]), the last all of it. Errors that concern one address (refused,
/// unreachable, timed out before the deadline) move on to the next; the last one is returned.
fn connect(addrs: &[SocketAddr], deadline: Deadline, reason: Timeout) -> Result<TcpStream, ureq::Error> {
    let mut last_error = None;
    for (i, addr) in addrs.iter().enumerate() {
        let left = deadline.left().map_err(|()| ureq::Error::Timeout(reason))?;
        let budget = match left {
            Some(left) if i + 1 < addrs.len() => Some((left / 2).max(MIN_PER_ADDRESS).min(left)),
            other => other,
        };
        let result = match budget {
            Some(budget) => TcpStream::connect_timeout(addr, budget),
            None => TcpStream::connect(addr),
        };
        match result {
            Ok(stream) => return Ok(stream),
            Err(error) if matches!(error.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                if deadline.left().is_err() {
                    return Err(ureq::Error::Timeout(reason));
                }
                last_error = Some(ureq::Error::Timeout(Timeout::Connect));
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::HostUnreachable
                        | io::ErrorKind::NetworkUnreachable
                        | io::ErrorKind::NetworkDown
                        | io::ErrorKind::AddrNotAvailable
                ) =>
            {
                last_error = Some(error.into());
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::from(io::ErrorKind::ConnectionRefused).into()))
}

/// When a blocking call must have ended: ureq's time left (`after`, `None` for no deadline),
/// counted from `start`.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    start: Instant,
    after: Option<Duration>,
}

impl Deadline {
    /// The deadline of ureq's timeout, counted from now.
    fn new(timeout: NextTimeout) -> Self {
        let after = (!timeout.after.is_not_happening()).then_some(*timeout.after);
        Self { start: Instant::now(), after }
    }

    /// The time left (`None`: no deadline); `Err` once it has passed.
    fn left(self) -> Result<Option<Duration>, ()> {
        match self.after {
            None => Ok(None),
            Some(after) => match after.checked_sub(self.start.elapsed()) {
                Some(left) if !left.is_zero() => Ok(Some(left)),
                _ => Err(()),
            },
        }
    }
}

/// The timeout a socket has for one direction (`None`: blocks for ever), and when to change it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SocketTimeout(Option<Duration>);

impl SocketTimeout {
    /// The timeout to set for a call that must end within `left` (`None`: no deadline), or
    /// `None` when the current one will do: it may end the call early (it is then made again),
    /// but never more than [`TIMEOUT_SLACK`] late.
    fn change_for(self, left: Option<Duration>) -> Option<Option<Duration>> {
        match (self.0, left) {
            (None, None) => None,
            (Some(set), Some(left)) if set <= left.saturating_add(TIMEOUT_SLACK) && set >= left / 2 => None,
            (_, left) => Some(left),
        }
    }
}

/// The socket, shared (weakly) with ureq so that `Agent::shutdown` can interrupt a call blocked
/// on it from another thread.
#[derive(Debug)]
struct Socket(TcpStream);

impl ShutdownHandle for Socket {
    fn shutdown(&self) {
        // An error means the socket is closed or shut down already.
        let _ = self.0.shutdown(Shutdown::Both);
    }
}

/// ureq's input buffers, and output kept until the transport is asked for input: ureq (or the
/// layer above) writes at [`Buffers::output`], which starts after what is kept.
#[derive(Debug)]
pub(crate) struct KeptBuffers {
    /// Input (ureq's buffers; their output side is one unused byte).
    input: LazyBuffers,
    /// Output kept so far: `out[..pending]`; allocated at first use.
    out: Vec<u8>,
    pending: usize,
    out_size: usize,
}

impl KeptBuffers {
    pub(crate) fn new(input_size: usize, output_size: usize) -> Self {
        Self {
            input: LazyBuffers::new(input_size.max(1), 1),
            out: Vec::new(),
            pending: 0,
            out_size: output_size.max(1),
        }
    }

    fn out_free(&mut self) -> &mut [u8] {
        if self.out.len() < self.out_size {
            self.out.resize(self.out_size, 0);
        }
        &mut self.out[self.pending..]
    }

    /// Keeps `amount` more bytes written at [`Buffers::output`]; true when the buffer is full.
    pub(crate) fn keep(&mut self, amount: usize) -> bool {
        self.pending += amount.min(self.out.len() - self.pending);
        self.pending == self.out.len()
    }

    /// What is kept.
    pub(crate) fn kept(&self) -> &[u8] {
        &self.out[..self.pending]
    }

    /// Forgets what is kept (it was written).
    pub(crate) fn clear_kept(&mut self) {
        self.pending = 0;
    }

    /// Whether nothing is kept or waiting to be read: the connection may go back to the pool.
    pub(crate) fn is_idle(&self) -> bool {
        self.pending == 0 && self.input.input().is_empty()
    }

    /// ureq's input buffers.
    pub(crate) fn input_mut(&mut self) -> &mut LazyBuffers {
        &mut self.input
    }
}

impl Buffers for KeptBuffers {
    fn output(&mut self) -> &mut [u8] {
        self.out_free()
    }

    fn input(&self) -> &[u8] {
        self.input.input()
    }

    fn input_append_buf(&mut self) -> &mut [u8] {
        self.input.input_append_buf()
    }

    fn input_appended(&mut self, amount: usize) {
        self.input.input_appended(amount);
    }

    fn input_consume(&mut self, amount: usize) {
        self.input.input_consume(amount);
    }

    fn tmp_and_output(&mut self) -> (&mut [u8], &mut [u8]) {
        if self.out.len() < self.out_size {
            self.out.resize(self.out_size, 0);
        }
        let (tmp, _) = self.input.tmp_and_output();
        (tmp, &mut self.out[self.pending..])
    }

    fn can_use_input(&self) -> bool {
        self.input.can_use_input()
    }
}

/// A TCP connection (see the module docs).
pub(crate) struct TcpTransport {
    stream: Arc<Socket>,
    buffers: KeptBuffers,
    read_timeout: SocketTimeout,
    write_timeout: SocketTimeout,
    /// When a liveness check last found the connection usable, if no I/O happened since.
    checked_open: Option<Instant>,
}

impl TcpTransport {
    fn new(stream: TcpStream, input_size: usize, output_size: usize) -> Self {
        Self {
            stream: Arc::new(Socket(stream)),
            buffers: KeptBuffers::new(input_size, output_size),
            read_timeout: SocketTimeout::default(),
            write_timeout: SocketTimeout::default(),
            checked_open: None,
        }
    }

    /// Writes what is kept, by `deadline`; `left` is the time left now (known without reading
    /// the clock at the first call).
    fn flush(&mut self, mut left: Option<Duration>, deadline: Deadline, reason: Timeout) -> Result<(), ureq::Error> {
        let mut written = 0;
        while written < self.buffers.pending {
            if let Some(timeout) = self.write_timeout.change_for(left) {
                self.stream.0.set_write_timeout(timeout)?;
                self.write_timeout = SocketTimeout(timeout);
            }
            match (&self.stream.0).write(&self.buffers.out[written..self.buffers.pending]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => written += n,
                // Interrupted, or the socket's timeout ended the call before the deadline: again.
                Err(error) if is_retry(&error, deadline) => {}
                Err(error) => return Err(io_error(error, reason)),
            }
            if written < self.buffers.pending {
                left = deadline.left().map_err(|()| ureq::Error::Timeout(reason))?;
            }
        }
        self.buffers.pending = 0;
        Ok(())
    }
}

/// Whether a failed call is to be made again: interrupted by a signal, or ended by the socket's
/// timeout while there is a deadline (the loop checks whether it has passed).
fn is_retry(error: &io::Error, deadline: Deadline) -> bool {
    match error.kind() {
        io::ErrorKind::Interrupted => true,
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => deadline.after.is_some(),
        _ => false,
    }
}

/// A socket timeout is ureq's timeout error; everything else is I/O.
fn io_error(error: io::Error, reason: Timeout) -> ureq::Error {
    match error.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ureq::Error::Timeout(reason),
        _ => error.into(),
    }
}

impl Transport for TcpTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.checked_open = None;
        let timeout = timeout.for_write();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        self.buffers.pending += amount.min(self.buffers.out.len() - self.buffers.pending);
        if self.buffers.pending == self.buffers.out.len() {
            let deadline = Deadline::new(timeout);
            self.flush(deadline.after, deadline, timeout.reason)?;
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.checked_open = None;
        let timeout = timeout.for_read();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let deadline = Deadline::new(timeout);
        // The first call gets all of ureq's time left; the clock is read again only after a call.
        let mut left = deadline.after;
        if self.buffers.pending > 0 {
            self.flush(left, deadline, timeout.reason)?;
            left = deadline.left().map_err(|()| ureq::Error::Timeout(timeout.reason))?;
        }
        loop {
            if let Some(change) = self.read_timeout.change_for(left) {
                self.stream.0.set_read_timeout(change)?;
                self.read_timeout = SocketTimeout(change);
            }
            match (&self.stream.0).read(self.buffers.input.input_append_buf()) {
                Ok(amount) => {
                    self.buffers.input.input_appended(amount);
                    return Ok(amount > 0);
                }
                Err(error) if is_retry(&error, deadline) => {
                    left = deadline.left().map_err(|()| ureq::Error::Timeout(timeout.reason))?;
                }
                Err(error) => return Err(io_error(error, timeout.reason)),
            }
        }
    }

    /// Usable when nothing is kept or buffered and the peer has sent nothing (no stray bytes,
    /// no TLS alert, no end of stream).
    fn is_open(&mut self) -> bool {
        if self.buffers.pending > 0 || !self.buffers.input.input().is_empty() {
            return false;
        }
        let now = Instant::now();
        if self.checked_open.is_some_and(|at| now.duration_since(at) < CHECK_FRESH) {
            return true;
        }
        let open = matches!(peek_nonblocking(&self.stream.0), Err(error) if error.kind() == io::ErrorKind::WouldBlock);
        self.checked_open = open.then_some(now);
        open
    }
}

/// Peeks at one byte without blocking: `WouldBlock` when none is waiting.
#[cfg(unix)]
fn peek_nonblocking(stream: &TcpStream) -> io::Result<usize> {
    let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
    socket2::SockRef::from(stream).recv_with_flags(&mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT)
}

/// Peeks at one byte without blocking: `WouldBlock` when none is waiting.
#[cfg(not(unix))]
fn peek_nonblocking(stream: &TcpStream) -> io::Result<usize> {
    stream.set_nonblocking(true)?;
    let result = stream.peek(&mut [0]);
    stream.set_nonblocking(false)?;
    result
}

impl fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The peer's address is not shown (it may identify the relying party's network).
        f.debug_struct("TcpTransport").field("pending", &self.buffers.pending).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn socket_timeouts_change_only_when_they_must() {
        // Never set: set it.
        assert_eq!(SocketTimeout(None).change_for(Some(1000 * MS)), Some(Some(1000 * MS)));
        // Within the window: keep it.
        assert_eq!(SocketTimeout(Some(1000 * MS)).change_for(Some(1000 * MS)), None);
        assert_eq!(SocketTimeout(Some(1000 * MS)).change_for(Some(990 * MS)), None);
        assert_eq!(SocketTimeout(Some(1000 * MS)).change_for(Some(1000 * MS - TIMEOUT_SLACK)), None);
        assert_eq!(SocketTimeout(Some(1000 * MS)).change_for(Some(2000 * MS)), None);
        // Would block past the deadline by more than the slack: lower it.
        assert_eq!(SocketTimeout(Some(1000 * MS)).change_for(Some(900 * MS)), Some(Some(900 * MS)));
        // Far shorter than the time left: raise it.
        assert_eq!(SocketTimeout(Some(100 * MS)).change_for(Some(1000 * MS)), Some(Some(1000 * MS)));
        // No deadline: block for ever.
        assert_eq!(SocketTimeout(Some(100 * MS)).change_for(None), Some(None));
        assert_eq!(SocketTimeout(None).change_for(None), None);
    }
}
