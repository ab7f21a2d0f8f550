//! All orders, in a sharded map, with indexes by token and personal number.
//!
//! Lock order (never taken the other way round): the personal-number index, then one order
//! shard, then one token shard. No lock is ever held across an `.await`: every function here
//! is synchronous. What an order does lives in [`crate::order`]; the store finds the order,
//! settles it on the server's clock, purges it when its time is over, and keeps the indexes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use uuid::Uuid;

use crate::fault::{Fault, lock};
use crate::order::{CollectView, Ctx, Order, OrderInfo, PhoneError, Tokens};
use crate::qr;
use crate::validate::ApiError;

const SHARDS: usize = 32;

type Shard<K, V> = Mutex<HashMap<K, V>>;

/// All orders.
#[derive(Debug)]
pub(crate) struct Store {
    orders: Vec<Shard<Uuid, Order>>,
    /// QR start tokens and autostart tokens -> order.
    tokens: Vec<Shard<String, Uuid>>,
    /// Personal number -> the last order created for it (may be stale: checked on use, cleaned
    /// by the sweeper).
    by_pnr: Mutex<HashMap<String, Uuid>>,
}

fn shard_of(key: &[u8]) -> usize {
    key.iter().fold(0usize, |acc, b| acc.wrapping_mul(31).wrapping_add(usize::from(*b))) % SHARDS
}

impl Default for Store {
    fn default() -> Self {
        Self {
            orders: (0..SHARDS).map(|_| Mutex::default()).collect(),
            tokens: (0..SHARDS).map(|_| Mutex::default()).collect(),
            by_pnr: Mutex::default(),
        }
    }
}

impl Store {
    fn shard(&self, id: &Uuid) -> &Shard<Uuid, Order> {
        &self.orders[shard_of(id.as_bytes())]
    }

    fn token_shard(&self, token: &str) -> &Shard<String, Uuid> {
        &self.tokens[shard_of(token.as_bytes())]
    }

    fn forget_tokens(&self, tokens: &Tokens) {
        for t in [&tokens.qr_start_token, &tokens.auto_start_token] {
            lock(self.token_shard(t)).remove(t);
        }
    }

    /// Stores a new order, or refuses it with `alreadyInProgress` (failing the pending order
    /// for the same personal number with `cancelled`).
    pub(crate) fn create(&self, ctx: &Ctx, order: Order) -> Result<(), ApiError> {
        let id = order.order_ref();
        let tokens = order.tokens().cloned();
        if let Some(pnr) = order.personal_number().map(str::to_owned) {
            let mut idx = lock(&self.by_pnr);
            if let Some(prev) = idx.get(&pnr).copied() {
                let mut shard = lock(self.shard(&prev));
                if let Some(o) = shard.get_mut(&prev) {
                    let now = ctx.clock.now();
                    if o.settle(now, ctx) && o.cancel_for_new_order(now) {
                        // [observed] (spec §2.3)
                        return Err(ApiError::new(400, "alreadyInProgress", "Order already in progress for pno"));
                    }
                }
            }
            idx.insert(pnr, id);
            lock(self.shard(&id)).insert(id, order);
        } else {
            lock(self.shard(&id)).insert(id, order);
        }
        if let Some(t) = tokens {
            for token in [t.qr_start_token, t.auto_start_token] {
                lock(self.token_shard(&token)).insert(token, id);
            }
        }
        Ok(())
    }

    /// Runs `f` on a settled, live order; purges it if its time is over.
    fn with_order<R>(&self, ctx: &Ctx, id: &Uuid, f: impl FnOnce(&mut Order, Instant) -> R) -> Option<R> {
        let now = ctx.clock.now();
        let dead = {
            let mut shard = lock(self.shard(id));
            let order = shard.get_mut(id)?;
            if order.settle(now, ctx) {
                return Some(f(order, now));
            }
            shard.remove(id)
        };
        if let Some(t) = dead.and_then(|mut o| o.take_tokens()) {
            self.forget_tokens(&t);
        }
        None
    }

    fn with_ref<R>(&self, ctx: &Ctx, order_ref: &str, f: impl FnOnce(&mut Order, Instant) -> R) -> Option<R> {
        let id = Uuid::try_parse(order_ref).ok()?;
        self.with_order(ctx, &id, f)
    }

    fn remove(&self, id: &Uuid) {
        let removed = lock(self.shard(id)).remove(id);
        if let Some(t) = removed.and_then(|mut o| o.take_tokens()) {
            self.forget_tokens(&t);
        }
    }

    /// Collect, for the RP with certificate `rp`.
    pub(crate) fn collect(&self, ctx: &Ctx, rp: &[u8; 32], order_ref: &str) -> Result<CollectView, ApiError> {
        self.with_ref(ctx, order_ref, |o, _| o.belongs_to(rp).then(|| o.collect()))
            .flatten()
            .unwrap_or_else(|| Err(ApiError::no_such_order()))
    }

    /// Cancel, for the RP with certificate `rp`: the order is gone afterwards.
    pub(crate) fn cancel(&self, ctx: &Ctx, rp: &[u8; 32], order_ref: &str) -> Result<(), ApiError> {
        let id = Uuid::try_parse(order_ref).map_err(|_| ApiError::no_such_order())?;
        match self.with_order(ctx, &id, |o, _| o.belongs_to(rp)) {
            Some(true) => {
                self.remove(&id);
                Ok(())
            }
            _ => Err(ApiError::no_such_order()),
        }
    }

    /// The next queued per-order fault, if the order exists and belongs to `rp`.
    pub(crate) fn take_fault(&self, ctx: &Ctx, rp: &[u8; 32], order_ref: &str) -> Option<Fault> {
        self.with_ref(ctx, order_ref, |o, _| if o.belongs_to(rp) { o.take_fault() } else { None }).flatten()
    }

    pub(crate) fn inject_fault(&self, ctx: &Ctx, order_ref: &str, fault: Fault, times: u32) -> Result<(), PhoneError> {
        self.with_ref(ctx, order_ref, |o, _| o.inject_fault(fault, times)).ok_or(PhoneError::NoSuchOrder)
    }

    fn order_for_token(&self, token: &str) -> Option<Uuid> {
        lock(self.token_shard(token)).get(token).copied()
    }

    pub(crate) fn scan(&self, ctx: &Ctx, content: &str) -> Result<String, PhoneError> {
        let scanned = qr::parse(content.trim()).ok_or(PhoneError::InvalidQr)?;
        let id = self.order_for_token(scanned.token).ok_or(PhoneError::UnknownToken)?;
        self.with_order(ctx, &id, |o, now| o.scan(&scanned, now, ctx)).ok_or(PhoneError::NoSuchOrder)?
    }

    pub(crate) fn use_autostart(&self, ctx: &Ctx, token: &str) -> Result<String, PhoneError> {
        let id = self.order_for_token(token).ok_or(PhoneError::UnknownToken)?;
        self.with_order(ctx, &id, |o, now| o.use_autostart(token, now)).ok_or(PhoneError::NoSuchOrder)?
    }

    pub(crate) fn open(&self, ctx: &Ctx, order_ref: &str) -> Result<String, PhoneError> {
        self.with_ref(ctx, order_ref, |o, now| o.open_app(now)).ok_or(PhoneError::NoSuchOrder)?
    }

    pub(crate) fn advance(&self, ctx: &Ctx, order_ref: &str) -> Result<String, PhoneError> {
        self.with_ref(ctx, order_ref, |o, now| o.next_step(now)).ok_or(PhoneError::NoSuchOrder)?
    }

    pub(crate) fn approve(&self, ctx: &Ctx, order_ref: &str) -> Result<(), PhoneError> {
        self.with_ref(ctx, order_ref, |o, now| o.approve(now, ctx)).ok_or(PhoneError::NoSuchOrder)?
    }

    pub(crate) fn fail(&self, ctx: &Ctx, order_ref: &str, hint: &str) -> Result<(), PhoneError> {
        self.with_ref(ctx, order_ref, |o, now| o.fail_with(now, hint)).ok_or(PhoneError::NoSuchOrder)?
    }

    /// What the RP's screen shows now for a QR order.
    pub(crate) fn current_qr(&self, ctx: &Ctx, order_ref: &str) -> Result<String, PhoneError> {
        self.with_ref(ctx, order_ref, |o, now| o.current_qr(now)).ok_or(PhoneError::NoSuchOrder)?
    }

    pub(crate) fn info(&self, ctx: &Ctx, order_ref: &str) -> Option<OrderInfo> {
        self.with_ref(ctx, order_ref, |o, _| o.info())
    }

    pub(crate) fn count(&self) -> usize {
        self.orders.iter().map(|s| lock(s).len()).sum()
    }

    /// Settles every order and purges the finished ones past their window.
    pub(crate) fn sweep(&self, ctx: &Ctx) {
        let now = ctx.clock.now();
        for shard in &self.orders {
            let mut dead = Vec::new();
            lock(shard).retain(|_, o| {
                let alive = o.settle(now, ctx);
                if !alive {
                    dead.extend(o.take_tokens());
                }
                alive
            });
            for t in &dead {
                self.forget_tokens(t);
            }
        }
        let mut idx = lock(&self.by_pnr);
        idx.retain(|_, id| lock(self.shard(id)).get(id).is_some_and(Order::is_pending));
    }
}
