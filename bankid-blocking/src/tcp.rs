//! The TCP layer under the TLS transport (see `tls`): connection setup, and the socket calls of
//! a request, each bounded by the request's deadline.
//!
//! - **One write per flight.** The TLS transport hands over everything it has to send at once
//!   (see `tls`); [`Tcp::write_tls`] writes what rustls holds with one `send` (one `writev` when
//!   rustls holds several records, as when the end of the handshake goes out with the first
//!   request).
//! - **One liveness check, no mode switches.** Whether a pooled connection is still usable is
//!   one `recv(MSG_PEEK | MSG_DONTWAIT)` (data waiting or end of stream: not usable) instead of
//!   switching the socket to non-blocking mode and back.
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
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rustls::ClientConnection;
use ureq::Timeout;
use ureq::unversioned::transport::{ConnectionDetails, NextTimeout, ShutdownHandle};

/// How much longer than the time left until the deadline a socket timeout may be, so that the
/// timeout need not be set again for every call (see the module docs).
pub(crate) const TIMEOUT_SLACK: Duration = Duration::from_millis(20);

/// Each address of a host but the last gets at least this much of the connect budget.
const MIN_PER_ADDRESS: Duration = Duration::from_millis(10);

/// A TCP connection, with the timeouts its socket has (see the module docs).
pub(crate) struct Tcp {
    /// Shared (weakly) with ureq, so that `Agent::shutdown` can interrupt a blocked call.
    stream: Arc<Socket>,
    read_timeout: SocketTimeout,
    write_timeout: SocketTimeout,
}

impl Tcp {
    /// Opens the connection to one of `details.addrs` by `deadline` and registers it with ureq
    /// (for `Agent::shutdown`).
    pub(crate) fn connect(details: &ConnectionDetails<'_>, deadline: Deadline) -> Result<Self, ureq::Error> {
        let stream = connect(&details.addrs, deadline)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let tcp = Self {
            stream: Arc::new(Socket(stream)),
            read_timeout: SocketTimeout::default(),
            write_timeout: SocketTimeout::default(),
        };
        (details.register_shutdown)(Arc::downgrade(&tcp.stream) as Weak<dyn ShutdownHandle>)?;
        Ok(tcp)
    }

    /// Writes all that `tls` has to send, by `deadline`; `left` is the time left now (known
    /// without reading the clock at the first call). Each call hands all of it to the kernel
    /// at once: one `send`, or one `writev` for several records.
    pub(crate) fn write_tls(
        &mut self,
        tls: &mut ClientConnection,
        mut left: Option<Duration>,
        deadline: Deadline,
    ) -> Result<(), ureq::Error> {
        while tls.wants_write() {
            if let Some(timeout) = self.write_timeout.change_for(left) {
                self.stream.0.set_write_timeout(timeout)?;
                self.write_timeout = SocketTimeout(timeout);
            }
            match tls.write_tls(&mut Sender(&self.stream.0)) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(_) => {}
                // Interrupted, or the socket's timeout ended the call before the deadline: again.
                Err(error) if is_retry(&error, deadline) => {}
                Err(error) => return Err(io_error(error, deadline.reason)),
            }
            if tls.wants_write() {
                left = deadline.left()?;
            }
        }
        Ok(())
    }

    /// Reads what has arrived into `buf` (waiting for it by `deadline`; `left` is the time left
    /// now): the number of bytes, 0 at the end of the stream.
    pub(crate) fn read(
        &mut self,
        buf: &mut [u8],
        mut left: Option<Duration>,
        deadline: Deadline,
    ) -> Result<usize, ureq::Error> {
        loop {
            if let Some(timeout) = self.read_timeout.change_for(left) {
                self.stream.0.set_read_timeout(timeout)?;
                self.read_timeout = SocketTimeout(timeout);
            }
            match (&self.stream.0).read(buf) {
                Ok(amount) => return Ok(amount),
                Err(error) if is_retry(&error, deadline) => left = deadline.left()?,
                Err(error) => return Err(io_error(error, deadline.reason)),
            }
        }
    }

    /// Whether the peer has sent nothing more (no stray bytes, no TLS alert, no end of stream):
    /// one `recv(MSG_PEEK | MSG_DONTWAIT)`.
    pub(crate) fn is_quiet(&self) -> bool {
        matches!(peek_nonblocking(&self.stream.0), Err(error) if error.kind() == io::ErrorKind::WouldBlock)
    }
}

impl fmt::Debug for Tcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The peer's address is not shown (it may identify the relying party's network).
        f.debug_struct("Tcp")
            .field("read_timeout", &self.read_timeout.0)
            .field("write_timeout", &self.write_timeout.0)
            .finish_non_exhaustive()
    }
}

/// What rustls writes goes to the socket with one call: `send` for one record, `writev` for
/// several (rustls hands all it holds to `write_vectored`, one slice a record).
struct Sender<'a>(&'a TcpStream);

impl Write for Sender<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match bufs {
            [one] => self.0.write(one),
            several => self.0.write_vectored(several),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Tries the addresses in turn: each but the last gets half of the time left (at least
/// [`MIN_PER_ADDRESS`]), the last all of it. Errors that concern one address (refused,
/// unreachable, timed out before the deadline) move on to the next; the last one is returned.
fn connect(addrs: &[SocketAddr], deadline: Deadline) -> Result<TcpStream, ureq::Error> {
    let mut last_error = None;
    for (i, addr) in addrs.iter().enumerate() {
        let left = deadline.left()?;
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
                deadline.left()?;
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
/// counted from `start`, and which of ureq's timeouts it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    start: Instant,
    after: Option<Duration>,
    reason: Timeout,
}

impl Deadline {
    /// The deadline of ureq's timeout, counted from now.
    pub(crate) fn new(timeout: NextTimeout) -> Self {
        let after = (!timeout.after.is_not_happening()).then_some(*timeout.after);
        Self { start: Instant::now(), after, reason: timeout.reason }
    }

    /// The time left when the deadline was made (`None`: no deadline), without reading the
    /// clock again.
    pub(crate) fn after(self) -> Option<Duration> {
        self.after
    }

    /// The time left (`None`: no deadline); ureq's timeout error once it has passed.
    pub(crate) fn left(self) -> Result<Option<Duration>, ureq::Error> {
        match self.after {
            None => Ok(None),
            Some(after) => match after.checked_sub(self.start.elapsed()) {
                Some(left) if !left.is_zero() => Ok(Some(left)),
                _ => Err(self.timed_out()),
            },
        }
    }

    /// ureq's error for this deadline having passed.
    pub(crate) fn timed_out(self) -> ureq::Error {
        ureq::Error::Timeout(self.reason)
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
