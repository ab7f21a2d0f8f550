//! The server's clock: real time plus an offset that tests can advance.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Upper bound on how far the clock can be advanced (keeps `Instant` arithmetic in range).
const MAX_OFFSET: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `Instant::now()` plus an offset. Advancing it makes every time rule (`startFailed` after 30 s,
/// collect windows, purging) fire without waiting.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_nanos: AtomicU64,
}

impl Clock {
    fn offset(&self) -> Duration {
        Duration::from_nanos(self.offset_nanos.load(Ordering::Relaxed))
    }

    /// The server's monotonic now.
    pub(crate) fn now(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(self.offset()).unwrap_or(now)
    }

    /// The server's wall-clock now (for `producedAt` and the like).
    pub(crate) fn system_now(&self) -> SystemTime {
        let now = SystemTime::now();
        now.checked_add(self.offset()).unwrap_or(now)
    }

    /// Moves the clock forward by `by` (saturating at a century).
    pub(crate) fn advance(&self, by: Duration) {
        let by = u64::try_from(by.min(MAX_OFFSET).as_nanos()).unwrap_or(u64::MAX);
        let max = u64::try_from(MAX_OFFSET.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .offset_nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| Some(o.saturating_add(by).min(max)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances() {
        let c = Clock::default();
        let a = c.now();
        c.advance(Duration::from_secs(31));
        assert!(c.now() >= a + Duration::from_secs(31));
        c.advance(Duration::MAX);
        c.advance(Duration::MAX);
        let _ = c.now();
        let _ = c.system_now();
    }
}
