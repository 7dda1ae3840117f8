//! The provider's state and decisions, in safe Rust: a [`Table`], the
//! [`Source`] that keeps it fresh (the kernel, or a snapshot file), and the
//! rules for when to look at the source.  `ffi::vtable` is a thin shell
//! around this.
//!
//! ## Freshness without syscalls on the hit path
//! ovn-controller calls `prepare` for every plugged port on every main-loop
//! iteration, so a hit must be cheap, yet a hit must not serve a stale name
//! forever after a rename or a delete.  The rule:
//! - Once the host has called `run` (OVN with our ovn-patch calls it every
//!   main-loop iteration, and `run` registers our sockets with the poll
//!   loop, so any kernel event wakes the loop and is drained before the
//!   next `prepare`), `prepare` never drains on a hit.
//! - On a host that never calls `run` (stock OVN), `prepare` drains at most
//!   once per [`STALE_AFTER_MS`], measured with the coarse monotonic clock
//!   (vDSO, no kernel entry): ~0 syscalls per call, bounded staleness.
//! - A miss drains once (if nothing was drained in this call) and retries,
//!   re-checking udev settling for a port whose name is not final.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::io;
use std::os::fd::RawFd;

use crate::fasthash::FastHasher;
use crate::lookup::{self, Refusal};
use crate::options::{self, Request};
use crate::ratelimit::RateLimit;
use crate::table::{NetdevName, Table};

/// Longest a hit may serve without looking at the source, on hosts that
/// never call `run`.
pub const STALE_AFTER_MS: u64 = 100;

/// Where the table comes from.
pub trait Source: Send {
    /// A full, fresh table.
    fn load(&mut self) -> io::Result<Table>;
    /// Applies pending changes without blocking; `Ok(true)` if the table
    /// changed.  A source that lost events rebuilds the table itself.
    fn drain(&mut self, table: &mut Table) -> io::Result<bool>;
    /// Re-checks names that were not final; `true` if any became final.
    fn recheck_unsettled(&mut self, _table: &mut Table) -> bool {
        false
    }
    /// Descriptors that become readable when there is something to drain.
    fn fds(&self) -> Vec<RawFd> {
        Vec::new()
    }
    /// For `show` and logs, e.g. "kernel (devlink + rtnetlink)".
    fn describe(&self) -> String;
}

/// Counters shown by `vif-plug-representor/show` and the benchmarks.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub prepares: u64,
    pub hits: u64,
    pub refusals: u64,
    pub drains: u64,
    pub drain_errors: u64,
    pub runs: u64,
    pub removes: u64,
}

pub struct Provider {
    table: Table,
    source: Box<dyn Source>,
    clock: fn() -> u64,
    last_drain_ms: u64,
    run_seen: bool,
    /// Last refusal code logged per lport: a repeat logs at debug level,
    /// a new reason at info level (through the rate limiter).
    refused: HashMap<String, &'static str>,
    /// One bit per `refused` key (a fast hash of the lport name, mod 64):
    /// a hit whose bit is clear skips the SipHash probe of `refused`
    /// (~250 instructions) while other lports are pending.
    refused_bits: u64,
    limiter: RateLimit,
    stats: Stats,
    /// The table changed since `run` last returned: a drain or recheck on
    /// the miss path of `prepare`, or a reload.  `run` reports it, so the
    /// host (OVN with ovn-patch 0008 reconsiders plugged lports only when
    /// their rows change or `run` returns true) never misses a change that
    /// a `prepare` consumed.
    unreported: bool,
}

impl Provider {
    /// Loads the table from `source`.
    pub fn new(mut source: Box<dyn Source>, clock: fn() -> u64) -> io::Result<Provider> {
        let table = source.load()?;
        log::info!(
            "representor table loaded from {}: {} devlink ports",
            source.describe(),
            table.len()
        );
        Ok(Provider {
            table,
            last_drain_ms: clock(),
            source,
            clock,
            run_seen: false,
            refused: HashMap::new(),
            refused_bits: 0,
            limiter: RateLimit::new(20, 20),
            stats: Stats::default(),
            unreported: false,
        })
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn source(&self) -> &dyn Source {
        &*self.source
    }

    pub fn fds(&self) -> Vec<RawFd> {
        self.source.fds()
    }

    /// Whether hits trust `run` for freshness (see the module docs).
    pub fn run_seen(&self) -> bool {
        self.run_seen
    }

    fn drain(&mut self) -> bool {
        self.stats.drains += 1;
        self.last_drain_ms = (self.clock)();
        match self.source.drain(&mut self.table) {
            Ok(changed) => {
                self.unreported |= changed;
                changed
            }
            Err(e) => {
                self.stats.drain_errors += 1;
                if self.limiter.allow((self.clock)()).is_some() {
                    log::warn!(
                        "reading representor events from {} failed: {e}",
                        self.source.describe()
                    );
                }
                false
            }
        }
    }

    /// The class's `run`: drain pending events; true if the table changed
    /// since the previous `run` returned, in this drain or in one a
    /// `prepare` did in between.
    pub fn run(&mut self) -> bool {
        self.run_seen = true;
        self.stats.runs += 1;
        self.drain();
        std::mem::take(&mut self.unreported)
    }

    /// Reloads the whole table (after a caught panic, or on request).
    pub fn reload(&mut self) -> io::Result<()> {
        self.table = self.source.load()?;
        self.last_drain_ms = (self.clock)();
        self.unreported = true;
        Ok(())
    }

    /// PLUG_OP_REMOVE: always allowed (the representor may be gone already;
    /// refusing would leave a stale port in br-int).
    pub fn prepare_remove(&mut self, lport: &str) -> bool {
        self.stats.removes += 1;
        self.forget_refusal(lport);
        log::debug!("lport {lport}: unplug allowed");
        true
    }

    /// PLUG_OP_CREATE: which netdev to plug for `lport`, given its options.
    /// On a hit returns `plug(name)`, called while the table is borrowed
    /// (the C shell copies the name out there), so a hit costs one lookup;
    /// `None` declines.
    ///
    /// `parsed`: the request when the caller already parsed `opts` with
    /// [`options::FastOptions`] (whose `Some` is [`options::parse`]'s
    /// `Ok`), so a miss after the hit path does not parse twice.
    pub fn prepare_create<K, V, R>(
        &mut self,
        lport: &str,
        opts: impl IntoIterator<Item = (K, V)> + Clone,
        parsed: Option<Request>,
        plug: impl FnOnce(&str) -> R,
    ) -> Option<R>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.stats.prepares += 1;
        let req = match parsed.map_or_else(|| options::parse(opts.clone()), Ok) {
            Ok(r) => r,
            Err(e) => {
                self.log_refusal(
                    lport,
                    "bad-options",
                    |_| format!("invalid options: {e}"),
                    opts,
                );
                return None;
            }
        };
        let mut drained = false;
        if self.drain_due() {
            self.drain();
            drained = true;
        }
        let first = match lookup::lookup(&self.table, &req) {
            Ok(found) => {
                let r = plug(found.name);
                self.note_hit(|| Cow::Borrowed(lport), &req);
                return Some(r);
            }
            Err(r) => r,
        };
        // One more look at the source per call, at most.
        if let Refusal::NotSettled { .. } = first {
            self.unreported |= self.source.recheck_unsettled(&mut self.table);
        }
        if !drained {
            self.drain();
        }
        match lookup::lookup(&self.table, &req) {
            Ok(found) => {
                let r = plug(found.name);
                self.note_hit(|| Cow::Borrowed(lport), &req);
                Some(r)
            }
            Err(r) => {
                let code = r.code();
                let text = |table: &Table| {
                    let hint = if r.may_resolve_later() {
                        " (will plug when it appears)"
                    } else {
                        " (needs operator action)"
                    };
                    format!("{}{hint}", lookup::explain(table, &req, &r))
                };
                self.log_refusal(lport, code, text, opts);
                None
            }
        }
    }

    /// The hit path of PLUG_OP_CREATE, for a request the caller already
    /// parsed with [`options::FastOptions`]: `Some(plug(name))` when the
    /// table's hit index resolves it and no drain is due; `None` when
    /// the caller must take [`Provider::prepare_create`] (which then does
    /// everything, counters and logs included, exactly as without this
    /// path).  `lport` is read only if another lport is pending (to forget
    /// its refusal), so a hit does not touch the name's memory.
    #[inline]
    pub fn prepare_hit<'n, R>(
        &mut self,
        lport: impl FnOnce() -> Cow<'n, str>,
        req: &Request,
        plug: impl FnOnce(&NetdevName) -> R,
    ) -> Option<R> {
        if self.drain_due() {
            return None;
        }
        let name = lookup::hit(&self.table, req)?;
        let r = plug(name);
        self.stats.prepares += 1;
        self.note_hit(lport, req);
        Some(r)
    }

    /// The freshness rule for hosts that never call `run` (module docs):
    /// a hit may not serve once STALE_AFTER_MS passed since the last drain.
    #[inline]
    fn drain_due(&self) -> bool {
        !self.run_seen && (self.clock)().saturating_sub(self.last_drain_ms) >= STALE_AFTER_MS
    }

    /// Counts a hit and forgets an earlier refusal of `lport`; the name is
    /// read only when some lport is pending (a hit then never touches it).
    #[inline]
    fn note_hit<'n>(&mut self, lport: impl FnOnce() -> Cow<'n, str>, req: &Request) {
        self.stats.hits += 1;
        if self.refused_bits == 0 {
            return;
        }
        let lport = lport();
        if self.refused_bits & refused_bit(&lport) != 0 && self.forget_refusal(&lport) {
            log::info!("lport {lport}: {req} now resolves");
        }
    }

    /// Drops `lport` from `refused`; true if it was there.
    fn forget_refusal(&mut self, lport: &str) -> bool {
        if self.refused.remove(lport).is_none() {
            return false;
        }
        // Rare (once per lport that resolves or goes away): rebuild the bits.
        self.refused_bits = self.refused.keys().fold(0, |b, k| b | refused_bit(k));
        true
    }

    /// The decision for a request without logging (CLI, appctl lookup).
    pub fn lookup_explained(&self, req: &Request) -> Result<String, String> {
        match lookup::lookup(&self.table, req) {
            Ok(f) => Ok(format!(
                "{req}: plug {} ({})",
                f.name,
                lookup::describe_port(f.entry)
            )),
            Err(r) => Err(format!(
                "{req}: {} — {}",
                r.code(),
                lookup::explain(&self.table, req, &r)
            )),
        }
    }

    /// Logs a refusal: at info level (rate-limited) when the reason is new
    /// for this lport, else at debug level.  The sentence (`text`, given the
    /// table) and the options shown are built only when a line is actually
    /// emitted: a port that stays pending is refused on every main-loop
    /// iteration, and building `explain`'s sentence for a debug line nobody
    /// reads cost ~20,000 instructions per call.
    fn log_refusal<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        lport: &str,
        code: &'static str,
        text: impl FnOnce(&Table) -> String,
        opts: impl IntoIterator<Item = (K, V)>,
    ) {
        self.stats.refusals += 1;
        let repeat = self.refused.get(lport) == Some(&code);
        if repeat {
            if log::log_enabled!(log::Level::Debug) {
                log::debug!(
                    "lport {lport}: not plugging ({code}): {}; options: {}",
                    text(&self.table),
                    shown(opts)
                );
            }
            return;
        }
        if let Some(suppressed) = self.limiter.allow((self.clock)()) {
            let more = if suppressed > 0 {
                format!(" [{suppressed} similar lines suppressed]")
            } else {
                String::new()
            };
            log::info!(
                "lport {lport}: not plugging ({code}): {}; options: {}{more}",
                text(&self.table),
                shown(opts)
            );
            self.refused.insert(lport.to_owned(), code);
            self.refused_bits |= refused_bit(lport);
        }
    }
}

/// The bit of `lport` in `Provider::refused_bits`.  Not a security
/// boundary: a colliding name only costs the SipHash probe it skips.
fn refused_bit(lport: &str) -> u64 {
    let h = BuildHasherDefault::<FastHasher>::default().hash_one(lport);
    1 << (h & 63)
}

/// The provider's options of an lport, for a log line.
fn shown<K: AsRef<str>, V: AsRef<str>>(opts: impl IntoIterator<Item = (K, V)>) -> String {
    opts.into_iter()
        .filter(|(k, _)| k.as_ref().starts_with(options::OPT_PREFIX))
        .map(|(k, v)| format!("{}={}", k.as_ref(), v.as_ref()))
        .collect::<Vec<String>>()
        .join(" ")
}
