//! The last connector of the chain, over ureq's rustls transport: what ureq transmits (the
//! request head, then the body) is kept until ureq waits for input, and then handed to TLS at
//! once, so that a request is one TLS record instead of two (and, with the TCP transport's own
//! keeping, one `send`). ureq waits for input only once the whole request is out (or, when a
//! request asks for `100-continue`, the head, which is then handed on); a full buffer is
//! handed on at once.

use std::fmt;

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

use crate::tcp::KeptBuffers;

/// The most plaintext a TLS record carries.
const RECORD: usize = 16 * 1024;

/// Wraps the transport the chain made so far in a [`Coalesce`].
#[derive(Debug, Default)]
pub(crate) struct CoalesceConnector;

impl<In: Transport> Connector<In> for CoalesceConnector {
    type Out = Coalesce<In>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Coalesce<In>>, ureq::Error> {
        // ureq needs a whole response head in the input; the output is handed to TLS, whose
        // records carry at most 16 KiB each.
        let (input, output) = (details.config.input_buffer_size(), details.config.output_buffer_size().min(RECORD));
        Ok(chained.map(|inner| Coalesce { inner, buffers: KeptBuffers::new(input, output) }))
    }
}

/// A transport that keeps what is transmitted until input is awaited (see the module docs).
pub(crate) struct Coalesce<T> {
    inner: T,
    buffers: KeptBuffers,
}

impl<T: Transport> Coalesce<T> {
    /// Hands what is kept to the inner transport.
    fn flush(&mut self, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let mut sent = 0;
        let kept = self.buffers.kept();
        while sent < kept.len() {
            let output = self.inner.buffers().output();
            let n = output.len().min(kept.len() - sent);
            output[..n].copy_from_slice(&kept[sent..sent + n]);
            self.inner.transmit_output(n, timeout)?;
            sent += n;
        }
        self.buffers.clear_kept();
        Ok(())
    }
}

impl<T: Transport> Transport for Coalesce<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.buffers.keep(amount) {
            self.flush(timeout)?;
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        if !self.buffers.kept().is_empty() {
            self.flush(timeout)?;
        }
        // What the inner transport read and this one had no room for comes first.
        if self.inner.buffers().input().is_empty() && !self.inner.await_input(timeout)? {
            return Ok(false);
        }
        let input = self.inner.buffers().input();
        let room = self.buffers.input_mut().input_append_buf();
        let n = input.len().min(room.len());
        room[..n].copy_from_slice(&input[..n]);
        self.buffers.input_mut().input_appended(n);
        self.inner.buffers().input_consume(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        self.buffers.is_idle() && self.inner.buffers().input().is_empty() && self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

impl<T: Transport> fmt::Debug for Coalesce<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coalesce").field("inner", &self.inner).finish_non_exhaustive()
    }
}
