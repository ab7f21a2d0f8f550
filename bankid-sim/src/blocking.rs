//! The simulator for blocking code: it runs on its own tokio runtime threads.

use std::ops::Deref;

use crate::Error;
use crate::config::SimConfig;
use crate::simulator::{SimHandle, Simulator};

/// A simulator running on its own runtime (two worker threads), for tests and programs without
/// async. Dereferences to [`SimHandle`]. Dropping it stops the server.
#[derive(Debug)]
pub struct BlockingSimulator {
    handle: SimHandle,
    sim: Option<Simulator>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BlockingSimulator {
    /// Starts a simulator on a new runtime. Fails (instead of panicking) when called from
    /// inside an async runtime: use [`Simulator::start`] there.
    pub fn start(config: SimConfig) -> Result<Self, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::InsideAsyncRuntime);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bankid-sim")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let sim = runtime.block_on(Simulator::start(config))?;
        Ok(Self { handle: sim.handle(), sim: Some(sim), runtime: Some(runtime) })
    }

    /// Graceful shutdown: lets requests in flight finish, then stops the runtime.
    pub fn shutdown(mut self) {
        if let (Some(sim), Some(rt)) = (self.sim.take(), self.runtime.as_ref()) {
            if tokio::runtime::Handle::try_current().is_err() {
                rt.block_on(sim.shutdown());
            } else {
                let _guard = rt.enter();
                drop(sim);
            }
        }
    }
}

impl Deref for BlockingSimulator {
    type Target = SimHandle;

    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

impl Drop for BlockingSimulator {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            {
                let _guard = rt.enter();
                drop(self.sim.take());
            }
            rt.shutdown_background();
        }
    }
}
