//! The transport ureq runs requests on: TLS of this crate's own, straight over a
//! [`rustls::ClientConnection`] configured by the core ([`bankid_core::Config::rustls_client_config`],
//! the configuration the async transports use), over the TCP layer of `tcp`.
//!
//! - **One TLS record, one `send` per request.** What ureq transmits (the request head, then
//!   the body) is kept until ureq waits for input, then encrypted at once (one record up to
//!   16 KiB) and written with one `send`; on a new connection the end of the TLS handshake goes
//!   out with it (one `writev`). ureq waits for input only once the whole request is out (or,
//!   when a request asks for `100-continue`, the head, which then goes out); a full buffer goes
//!   out at once.
//! - **One read per answer** (of up to 32 KiB, as it arrives). The socket is read into a buffer
//!   of its own, which rustls takes its records from; the plaintext goes straight into ureq's
//!   input buffer.
//! - **One liveness check.** A pooled connection is usable when nothing is kept or buffered,
//!   rustls has neither plaintext nor a `close_notify` waiting, and the peer has sent nothing
//!   (see `tcp`). ureq checks a connection when it returns to the pool and again when it is
//!   taken out; a check made less than [`CHECK_FRESH`] ago with no I/O since stands for the
//!   second.
//! - **How a connection ends.** The server's `close_notify` ends the stream (ureq then decides
//!   whether the answer was whole: a body shorter than its `Content-Length` is an error); an end
//!   of the TCP stream without it, or a reset, is an I/O error of a kind ureq does not take for
//!   the end of a body (see [`unclean_end`]), so that a cut body never reads as whole, even one
//!   that ends with the connection. TLS failures (a certificate not trusted, an alert
//!   from the server such as a refused client certificate) are `rustls` errors, which the client
//!   reports as TLS errors; the alert rustls owes the server on such a failure is sent if the
//!   socket takes it.

use std::fmt;
use std::io::{self, Read as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport};

use crate::tcp::{Deadline, Tcp};

/// How long a liveness check that found the connection usable stands, when no I/O happened on
/// the connection since: ureq checks a connection when it goes back to the pool and again when
/// it is taken out, often microseconds apart.
pub(crate) const CHECK_FRESH: Duration = Duration::from_millis(1);

/// The most plaintext kept before it is encrypted: what one TLS record carries.
const RECORD: usize = 16 * 1024;

/// The most read from the socket at once: a few TLS records (at most 16 KiB and a few bytes
/// each).
const SOCKET_BUFFER: usize = 32 * 1024;

/// Opens a connection: TCP, then the TLS handshake, both by ureq's connect deadline.
pub(crate) struct TlsConnector {
    config: Arc<ClientConfig>,
}

impl TlsConnector {
    /// A connector with the TLS configuration `config`.
    pub(crate) fn new(config: Arc<ClientConfig>) -> Self {
        Self { config }
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector").finish_non_exhaustive()
    }
}

impl Connector<()> for TlsConnector {
    type Out = TlsTransport;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        _chained: Option<()>,
    ) -> Result<Option<TlsTransport>, ureq::Error> {
        if !details.needs_tls() {
            return Err(ureq::Error::TlsRequired);
        }
        let name = server_name(details.uri)?;
        let deadline = Deadline::new(details.timeout);
        let tcp = Tcp::connect(details, deadline)?;
        let tls = ClientConnection::new(self.config.clone(), name)?;
        let mut transport = TlsTransport {
            tcp,
            tls,
            buffers: KeptBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size().min(RECORD),
            ),
            received: Received::default(),
            checked_open: None,
        };
        transport.handshake(deadline)?;
        Ok(Some(transport))
    }
}

/// The server's name for TLS: the URL's host, an IP address or a DNS name.
fn server_name(uri: &http::Uri) -> Result<ServerName<'static>, ureq::Error> {
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|_| ureq::Error::Tls("the URL's host is not a valid TLS server name"))
}

/// A TLS connection (see the module docs).
pub(crate) struct TlsTransport {
    tcp: Tcp,
    tls: ClientConnection,
    /// ureq's side: the plaintext it transmits, kept, and the plaintext it reads.
    buffers: KeptBuffers,
    /// What was read from the socket and not yet taken by rustls.
    received: Received,
    /// When a liveness check last found the connection usable, if no I/O happened since.
    checked_open: Option<Instant>,
}

impl TlsTransport {
    /// Runs the TLS handshake by `deadline`. What the client sends last (its `Finished`, in
    /// TLS 1.3 with its certificate) is kept in rustls and goes out with the first request.
    fn handshake(&mut self, deadline: Deadline) -> Result<(), ureq::Error> {
        let mut left = deadline.left()?;
        while self.tls.is_handshaking() {
            if self.tls.wants_write() {
                self.tcp.write_tls(&mut self.tls, left, deadline)?;
            } else if !self.receive(left, deadline)? {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the TLS handshake").into());
            }
            left = deadline.left()?;
        }
        Ok(())
    }

    /// Hands rustls what was received, reading the socket first if nothing is: false at the end
    /// of the TCP stream (which rustls then knows of) or after the server's `close_notify`.
    fn receive(&mut self, left: Option<Duration>, deadline: Deadline) -> Result<bool, ureq::Error> {
        if self.received.is_empty() {
            let amount = self.tcp.read(self.received.space(), left, deadline)?;
            self.received.end = amount;
            if amount == 0 {
                // Tells rustls of the end of the stream.
                self.tls.read_tls(&mut io::empty())?;
                return Ok(false);
            }
        }
        let taken = self.tls.read_tls(&mut self.received.filled())?;
        self.received.start += taken;
        if let Err(error) = self.tls.process_new_packets() {
            // The alert rustls owes the server, if the socket takes it in the time left.
            if let Ok(left) = deadline.left() {
                let _ = self.tcp.write_tls(&mut self.tls, left, deadline);
            }
            return Err(error.into());
        }
        // rustls takes nothing more once the server's `close_notify` has come: the end.
        Ok(taken > 0)
    }

    /// Encrypts what ureq transmitted and writes it (and anything else rustls holds).
    fn flush(&mut self, left: Option<Duration>, deadline: Deadline) -> Result<(), ureq::Error> {
        let mut done = 0;
        while done < self.buffers.pending {
            let taken = self.tls.writer().write(&self.buffers.out[done..self.buffers.pending])?;
            done += taken;
            if done < self.buffers.pending {
                // rustls's buffer is full: write it out.
                self.tcp.write_tls(&mut self.tls, deadline.left()?, deadline)?;
            }
        }
        self.buffers.pending = 0;
        self.tcp.write_tls(&mut self.tls, left, deadline)
    }
}

impl Transport for TlsTransport {
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
            self.flush(deadline.after(), deadline)?;
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.read_plaintext(timeout).map_err(unclean_end)
    }

    /// Usable when nothing is kept or buffered, rustls holds no plaintext and has seen no end,
    /// and the peer has sent nothing (no stray bytes, no TLS alert, no end of stream).
    fn is_open(&mut self) -> bool {
        if self.buffers.pending > 0
            || !self.buffers.input.input().is_empty()
            || !self.received.is_empty()
            || self.tls.wants_write()
            || !matches!(self.tls.reader().into_first_chunk(), Err(error) if error.kind() == io::ErrorKind::WouldBlock)
        {
            return false;
        }
        let now = Instant::now();
        if self.checked_open.is_some_and(|at| now.duration_since(at) < CHECK_FRESH) {
            return true;
        }
        let open = self.tcp.is_quiet();
        self.checked_open = open.then_some(now);
        open
    }

    fn is_tls(&self) -> bool {
        true
    }
}

impl TlsTransport {
    /// [`Transport::await_input`]: sends what is kept, then reads until there is plaintext (or
    /// the server's `close_notify`: false).
    fn read_plaintext(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.checked_open = None;
        let timeout = timeout.for_read();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let deadline = Deadline::new(timeout);
        // The first call gets all of ureq's time left; the clock is read again only after a call,
        // and only when another one follows.
        let mut left = deadline.after();
        if self.buffers.pending > 0 || self.tls.wants_write() {
            self.flush(left, deadline)?;
            left = deadline.left()?;
        }
        let mut left_is_current = true;
        loop {
            let room = self.buffers.input.input_append_buf();
            if room.is_empty() {
                // ureq asks for more only when it has room; nothing can be added.
                return Ok(false);
            }
            match self.tls.reader().read(room) {
                // Plaintext, or 0 once the server's `close_notify` has come.
                Ok(amount) => {
                    self.buffers.input.input_appended(amount);
                    return Ok(amount > 0);
                }
                // Nothing yet: more from the socket.
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                // The TCP stream ended without `close_notify`.
                Err(error) => return Err(error.into()),
            }
            if !left_is_current {
                left = deadline.left()?;
            }
            // The stream's end is seen by rustls, whose reader then tells how it ended.
            self.receive(left, deadline)?;
            left_is_current = false;
            // rustls may owe the server a message (a key update).
            if self.tls.wants_write() {
                self.tcp.write_tls(&mut self.tls, deadline.left()?, deadline)?;
            }
        }
    }
}

/// An end of the connection other than the server's `close_notify` (the TCP stream's end, a
/// reset) as an error that ureq takes for one: ureq takes those kinds for the end of a body that
/// ends with the connection, which would let a cut connection pass for a whole answer.
fn unclean_end(error: ureq::Error) -> ureq::Error {
    match error {
        ureq::Error::Io(error)
            if matches!(
                error.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            ) =>
        {
            ureq::Error::Io(io::Error::other(UncleanEnd(error)))
        }
        other => other,
    }
}

/// The connection ended without the server's `close_notify`: what was read may be cut short.
#[derive(Debug)]
struct UncleanEnd(io::Error);

impl fmt::Display for UncleanEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the connection ended without the server's close_notify")
    }
}

impl std::error::Error for UncleanEnd {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport")
            .field("tcp", &self.tcp)
            .field("pending", &self.buffers.pending)
            .finish_non_exhaustive()
    }
}

/// What was read from the socket: `buf[start..end]` is not yet taken by rustls. Allocated at
/// first use.
#[derive(Default)]
struct Received {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Received {
    fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The whole buffer, to read into (only when it is empty).
    fn space(&mut self) -> &mut [u8] {
        if self.buf.is_empty() {
            self.buf.resize(SOCKET_BUFFER, 0);
        }
        self.start = 0;
        self.end = 0;
        &mut self.buf
    }

    /// What rustls has not yet taken.
    fn filled(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }
}

/// ureq's buffers: its input (plaintext read), and output kept until ureq waits for input
/// (ureq writes at [`Buffers::output`], which starts after what is kept).
#[derive(Debug)]
struct KeptBuffers {
    /// Input (ureq's buffers; their output side is one unused byte).
    input: LazyBuffers,
    /// Output kept so far: `out[..pending]`; allocated at first use.
    out: Vec<u8>,
    pending: usize,
    out_size: usize,
}

impl KeptBuffers {
    fn new(input_size: usize, output_size: usize) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_name_is_the_urls_host() {
        let name = |url: &str| server_name(&url.parse().unwrap()).map(|name| name.to_str().into_owned());
        assert_eq!(name("https://appapi2.bankid.com/rp/v6.0/auth").unwrap(), "appapi2.bankid.com");
        assert_eq!(name("https://127.0.0.1:8443/").unwrap(), "127.0.0.1");
        assert_eq!(name("https://[::1]:8443/").unwrap(), "::1");
        assert!(matches!(server_name(&"https://bad_name!/".parse().unwrap()), Err(ureq::Error::Tls(_))));
    }
}
