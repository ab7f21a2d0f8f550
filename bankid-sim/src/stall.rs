//! A socket wrapper that gives up on a client that stops reading.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Passes reads through; a write, flush or shutdown that makes no progress for `limit` fails
/// with [`io::ErrorKind::TimedOut`], which ends the connection. Without it a client that sends
/// requests but never reads the answers (a 64 MiB oversized body, say) would hold its
/// connection, and the memory of the answer, forever.
#[derive(Debug)]
pub(crate) struct StallGuard<T> {
    inner: T,
    limit: Duration,
    /// Armed while a write is pending; disarmed whenever one makes progress.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<T> StallGuard<T> {
    pub(crate) fn new(inner: T, limit: Duration) -> Self {
        Self { inner, limit, timer: None }
    }

    pub(crate) fn into_inner(self) -> T {
        self.inner
    }

    /// Records the outcome of a write-side poll: progress disarms the timer, `Pending` arms it
    /// (once) and fails when it has run out.
    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        if poll.is_ready() {
            self.timer = None;
            return poll;
        }
        let limit = self.limit;
        let timer = self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.timer = None;
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_reader_that_stops_fails_the_writer_and_one_that_reads_does_not() {
        let (a, _unread) = tokio::io::duplex(1024);
        let mut guarded = StallGuard::new(a, Duration::from_millis(100));
        let big = vec![b'x'; 64 * 1024];
        let err = guarded.write_all(&big).await.expect_err("nobody reads");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);

        let (a, mut b2) = tokio::io::duplex(1024);
        let mut guarded = StallGuard::new(a, Duration::from_millis(100));
        let reader = tokio::spawn(async move {
            let mut sink = Vec::new();
            // A slow but steady reader: never a 100 ms stall.
            let mut chunk = [0u8; 512];
            while let Ok(n) = b2.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                sink.extend_from_slice(&chunk[..n]);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            sink.len()
        });
        guarded.write_all(&big[..16 * 1024]).await.expect("the reader keeps up");
        guarded.shutdown().await.expect("shutdown");
        drop(guarded);
        assert_eq!(reader.await.expect("reader"), 16 * 1024);
    }
}
