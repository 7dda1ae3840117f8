//! The provider's state and decisions, in safe Rust: a [`Table`], the
//! [`Source`] that keeps it fresh (the kernel, or a snapshot file), and the
//! rules for when to look at the source.  The C entry points (the `ffi`
//! layer, which this module does not import) are a thin shell around this.
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
//! - The full path (a miss, a new plug) always drains once before its
//!   first lookup (a new lport must not get a name freed since the last
//!   drain, whatever the host's loop does), and after a miss retries,
//!   re-checking udev settling for a port whose name is not final.
//!
//! ## Wakeups
//! The host's poll loop is asked to wake us ([`Provider::wakeup`]) only for
//! a descriptor this call (or `run`) has just drained: a descriptor that is
//! readable and undrained makes `poll()` return at once, every iteration,
//! and ovn-controller spins at 100% CPU.  So a port declined for bad
//! options (which no kernel event can fix, and which returns before any
//! drain) registers nothing.  udev's database watch is registered only
//! while a link waits for udev (`KernelSource`'s `Source::fds`), and then
//! with a timer at the earliest udev settle timeout
//! ([`Wakeup::ReadableUntil`]): no event marks it, yet the port plugs then.
//!
//! ## When the source is unavailable (an [`Outage`])
//! The source may not be open (a kernel without devlink, a missing
//! snapshot), its first load may have failed (`init` then still succeeds),
//! a resynchronisation after lost events may have failed, or reloading
//! after a caught panic may have failed.  In each case the table is not
//! known to match the kernel: a name served from it could belong to a
//! representor that was deleted or renamed in the gap, which is a wrong
//! plug.  So during an outage **every CREATE is declined** (refusal
//! `source-unavailable`) and the hit path is closed; REMOVE stays allowed.
//! One exception: the lport that holds a function (src/claims.rs) and asks
//! for it with the request it was answered for gets that answer again if
//! the name still is the same netdev (`if_nametoindex(name)` equals the
//! ifindex recorded when it was answered; an ifindex is not reused while
//! its netdev lives).  ovn-patch 0007 unplugs a plugged port whose prepare
//! declines, which would free its function for a contender; its contract
//! asks a provider that cannot answer for a moment for its previous
//! answer.  The same exception holds while the table is behind
//! (`events-pending`); when the table no longer plugs that netdev for the
//! function (deleted by an event already applied, the netdev still
//! named), the answer rests on the kernel's name alone, which no table
//! decision tracks, so until `run` next reports, every change the table
//! applies is reported (ovn-patch 0008 asks a plugged lport only then):
//! the name given to another function's netdev would otherwise stay
//! plugged for the holder until the table caught up.  One syscall per
//! such call, only then.  Declining everyone else is safe: OVN (with
//! ovn-patch's crash fix) plugs nothing new, and a holder whose netdev
//! was deleted or renamed is declined (and unplugged, 0007) when next
//! asked, so the cost is delay or downtime, and a wrong port at most
//! until the host asks the holder again (below).  The provider retries
//! (re-opens, reloads or resynchronises) at most once per back-off step,
//! 1 s doubling to 60 s ([`crate::outage`]), on the next `run` or
//! `prepare` after the step is due; hosted, the vtable registers a timer
//! for it instead of the source's descriptors (when there is simply
//! nothing to plug, e.g. no devlink, only once some port asked for a
//! representor: a host without representor ports is never woken up for
//! us).  The first successful retry serves again at once.  A failed
//! retry is reported by `run` while some lport holds a function: a holder
//! answered from its grant is checked against the kernel only when asked,
//! and OVN with ovn-patch 0008 asks a plugged lport only after `run`
//! reported a change, so without it a netdev deleted or renamed during
//! the outage would stay plugged until the source comes back (however
//! long that takes); with it, for at most one back-off step (a full pass
//! per step, one syscall per holder).

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;

use crate::claims::{self, Claims, Decision, LportId};
use crate::logging::untrusted;
use crate::lookup::{self, Found, Refusal};
use crate::options::{self, Request};
use crate::outage::Outage;
use crate::ratelimit::RateLimit;
use crate::table::{NetdevName, Table};

/// Longest a hit may serve without looking at the source, on hosts that
/// never call `run`.
pub const STALE_AFTER_MS: u64 = 100;

/// Most lports whose last refusal is remembered (to log a repeat at debug
/// level).  An lport refused and then deleted before it ever plugged gets
/// no REMOVE, so its entry would stay for good: at the cap, the half
/// refused least recently is forgotten (one refused again is logged again,
/// through the rate limiter).  Names are kept to [`claims::NAME_KEEP`]
/// bytes plus a digest.
pub const MAX_REFUSED: usize = 4096;

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
    /// Milliseconds (> 0) until a name waiting for udev can be handed out
    /// anyway (its settle timeout), if one waits: no descriptor becomes
    /// readable then, so the host needs a timer.
    fn settle_timer_ms(&self) -> Option<u64> {
        None
    }
    /// False while the table may miss changes the source cannot replay:
    /// not open or not loaded yet, or events lost and not resynchronised.
    /// A `drain` is then the source's own retry.
    fn healthy(&self) -> bool {
        true
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
    /// CREATEs refused because another lport holds the function.
    pub claim_refusals: u64,
}

pub struct Provider {
    table: Table,
    source: Box<dyn Source>,
    clock: fn() -> u64,
    last_drain_ms: u64,
    run_seen: bool,
    /// Last refusal code logged per lport: a repeat logs at debug level,
    /// a new reason at info level (through the rate limiter).  At most
    /// [`MAX_REFUSED`] entries.
    refused: HashMap<LportId, Pending>,
    /// One bit per `refused` key (a fast hash of the lport name, mod 64):
    /// a hit whose bit is clear skips the SipHash probe of `refused`
    /// (~250 instructions) while other lports are pending.
    refused_bits: u64,
    limiter: RateLimit,
    /// Which lport each function is handed to (src/claims.rs).
    claims: Claims,
    stats: Stats,
    /// `Some` while the table cannot be trusted (module docs).
    outage: Option<Outage>,
    /// The ifindex a netdev name has now ([`crate::os::ifindex_of`]; a
    /// fake in tests, whose kernels have no real netdevs): asked only to
    /// re-answer a holder during an outage or while the table is behind.
    ifindex_of: fn(&str) -> Option<u32>,
    /// A decision may have changed since `run` last returned (see
    /// [`Provider::run`]), also in a drain or recheck on the miss path of
    /// `prepare`.  `run` reports it, so the host (OVN with ovn-patch 0008
    /// reconsiders plugged lports only when their rows change or `run`
    /// returns true) never misses a change that a `prepare` consumed.
    unreported: bool,
    /// A holder was answered from its grant while the table was behind,
    /// with a name the table does not plug for its function (module docs,
    /// "When the source is unavailable"): that answer rests on the
    /// kernel's name alone, so until `run` next reports, any change the
    /// table applies is reported.
    grant_unbacked: bool,
}

/// A refusal remembered for an lport.
#[derive(Debug, Clone, Copy)]
struct Pending {
    code: &'static str,
    /// Prepare count when it was last refused (eviction order).
    last: u64,
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
        Ok(Provider::with_table(table, source, clock))
    }

    fn with_table(table: Table, source: Box<dyn Source>, clock: fn() -> u64) -> Provider {
        Provider {
            table,
            last_drain_ms: clock(),
            source,
            clock,
            run_seen: false,
            refused: HashMap::new(),
            refused_bits: 0,
            limiter: RateLimit::new(20, 20),
            claims: Claims::new(),
            stats: Stats::default(),
            outage: None,
            ifindex_of: crate::os::ifindex_of,
            unreported: false,
            grant_unbacked: false,
        }
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Replaces the ifindex check used to re-answer a holder while the
    /// table cannot be trusted (module docs): for tests, whose netdevs are
    /// not real.
    pub fn set_ifindex_of(&mut self, f: fn(&str) -> Option<u32>) {
        self.ifindex_of = f;
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
        if self.outage.is_some() {
            // A recovery loads a new table: `run` reports it.
            let changed = self.retry();
            self.unreported |= changed;
            return changed;
        }
        self.stats.drains += 1;
        self.last_drain_ms = (self.clock)();
        let before = self.table_version();
        match self.source.drain(&mut self.table) {
            Ok(changed) => {
                self.check_healthy();
                self.note_source(changed, before);
                changed
            }
            Err(e) => {
                self.stats.drain_errors += 1;
                self.fail(&io::Error::new(
                    e.kind(),
                    format!("reading representor events failed: {e}"),
                ));
                false
            }
        }
    }

    /// The class's `run`: drain pending events; true if a decision already
    /// given may have changed since the previous `run` returned, in this
    /// drain or in one a `prepare` did in between, and only then: a
    /// function's plug-ready netdev went or changed, a PF's MAC went or
    /// changed or now collides, or the table went behind or caught up
    /// ([`Table::decisions`]; an answer appearing, a link no port shows, a
    /// port function's state, a VF netdev's MAC are none: a declined lport
    /// is asked again anyway); the source became unavailable or available
    /// again, or a retry failed while some lport holds a function; any
    /// table change while a holder's answer rests on an unbacked grant
    /// (module docs, "When the source is unavailable"); a reload.
    pub fn run(&mut self) -> bool {
        self.run_seen = true;
        self.stats.runs += 1;
        self.drain();
        let report = std::mem::take(&mut self.unreported);
        if report {
            // Every plugged lport is asked now: holders still answered
            // from an unbacked grant say so again.
            self.grant_unbacked = false;
        }
        report
    }

    /// Which table, at which change: moves whenever the table does.
    fn table_version(&self) -> (u64, u64) {
        (self.table.instance(), self.table.generation())
    }

    /// After a look at the source: `changed` says a decision may have
    /// changed; while a holder's answer rests on an unbacked grant, any
    /// change of the table since `before` is reported too.
    fn note_source(&mut self, changed: bool, before: (u64, u64)) {
        let moved = self.table_version() != before;
        self.unreported |= changed || (moved && self.grant_unbacked);
    }

    /// Reloads the whole table (after a caught panic, or on request).  The
    /// claims are kept unless the panic left them inconsistent; then they
    /// start afresh, as after a restart (README, "One function, one
    /// lport").  On failure the provider is in an outage (declines,
    /// retries) until a retry loads it.
    pub fn reload(&mut self) -> io::Result<()> {
        if let Err(e) = self.claims.check() {
            log::warn!("function claims inconsistent ({e}): starting them afresh");
            self.claims = Claims::new();
        }
        match self.source.load() {
            Ok(t) => {
                self.table = t;
                self.last_drain_ms = (self.clock)();
                self.outage = None;
                self.unreported = true;
                Ok(())
            }
            Err(e) => {
                self.fail(&e);
                Err(e)
            }
        }
    }

    /// PLUG_OP_REMOVE of `lport`'s Interface `iface` (OVN's
    /// `ctx_in->iface_name`): always allowed (the representor may be gone
    /// already; refusing would leave a stale port in br-int).  The lport's
    /// function is free again (another lport that asks for it gets it)
    /// when the Interface removed is that function's netdev, or the
    /// function is gone, or `iface` is unknown (`None` or empty).  Not
    /// when `iface` is another netdev: with ovn-patch 0005, a changed plug
    /// target is a CREATE for the new netdev and then a REMOVE of the
    /// lport's *old* Interface, and the function just handed to it must
    /// stay its own.
    pub fn prepare_remove(&mut self, lport: &str, iface: Option<&str>) -> bool {
        self.stats.removes += 1;
        self.forget_refusal(lport);
        let keep = match (iface.filter(|i| !i.is_empty()), self.claims.held(lport)) {
            (Some(iface), Some(f)) => {
                matches!(netdev_of(&self.table, f), Some((n, _)) if n != iface)
            }
            _ => false,
        };
        if keep {
            log::debug!(
                "lport {}: unplug of its old interface {} allowed; it keeps its function",
                untrusted(lport),
                untrusted(iface.unwrap_or_default())
            );
            return true;
        }
        match self.claims.release(lport) {
            Some(f) => log::debug!("lport {}: unplug allowed; {f} is free", untrusted(lport)),
            None => log::debug!("lport {}: unplug allowed", untrusted(lport)),
        }
        true
    }

    /// The function claims (src/claims.rs), for `show` and tests.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Number of lports whose refusal is remembered (bounded by
    /// [`MAX_REFUSED`]).
    pub fn pending(&self) -> usize {
        self.refused.len()
    }

    /// Whether `lport` may have what `found` names: claims it, or explains
    /// (and logs, rate-limited) why not.
    fn claim<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        lport: &str,
        req: &Request,
        found: Owned,
        opts: impl IntoIterator<Item = (K, V)>,
    ) -> bool {
        let (pf, name, ifindex) = found;
        let seq = self.stats.prepares;
        let granted = match self.claims.claim(&self.table, pf, req.function, lport, seq) {
            Decision::Granted { moved_from: None } => true,
            Decision::Granted {
                moved_from: Some(old),
            } => {
                log::info!(
                    "lport {}: now asks for {req} ({name}); {old} is free",
                    untrusted(lport)
                );
                true
            }
            Decision::TakenOver { from } => {
                log::info!(
                    "lport {}: takes {} ({name}) over from lport {from}, which stopped asking \
                     ({} asks without one from it)",
                    untrusted(lport),
                    claims::FnId::of(&self.table, pf, req.function),
                    claims::TAKEOVER_ASKS
                );
                // The former holder's answer changed: `run` reports it.
                self.unreported = true;
                true
            }
            Decision::Refused { holder, .. } => {
                self.stats.claim_refusals += 1;
                // A contest ends in a takeover unless the holder asks in
                // between (src/claims.rs).  OVN with ovn-patch 0008 asks a
                // plugged holder only after `run` reported a change, while
                // it retries the declined contender every iteration: left
                // alone, the contender would take a function its holder
                // still uses after a few iterations.  So a pending contest
                // is reported: the next iteration asks every plugged lport
                // (two lports asking for one function is a mistake of the
                // CMS; this costs a full pass per iteration while it lasts).
                self.unreported = true;
                let f = claims::FnId::of(&self.table, pf, req.function);
                self.log_refusal(
                    lport,
                    "function-claimed",
                    |_| {
                        format!(
                            "{req} is {f} (netdev {name}), which is handed to lport {holder}; \
                             one function is handed to one lport at a time (will plug when \
                             lport {holder} is unplugged or stops asking)"
                        )
                    },
                    opts,
                );
                false
            }
        };
        if granted {
            if let Some(ifindex) = ifindex {
                let grant = claims::Grant {
                    req: *req,
                    name,
                    ifindex,
                };
                self.claims.set_grant(lport, grant);
            }
        }
        granted
    }

    /// The answer `lport` was last given, again, while the table cannot be
    /// trusted (an outage, or a table behind the kernel): only for the
    /// holder of a function asking for it with the same request, and only
    /// if the name still is the netdev it named then (same ifindex: an
    /// ifindex is not reused while its netdev lives, so that name is still
    /// that function's representor).  One syscall; never on the hit path.
    fn previous_answer(&mut self, lport: &str, req: &Request) -> Option<String> {
        let seq = self.stats.prepares;
        let (f, grant) = self.claims.held_grant(lport, seq)?;
        if grant.req != *req {
            return None;
        }
        // The table's name for the function if it still knows it under
        // the same netdev (a rename served by a hit since), else the name
        // granted.
        let name = match netdev_of(&self.table, f) {
            Some((n, Some(i))) if i == grant.ifindex => n.to_owned(),
            _ => grant.name.clone(),
        };
        let ifindex = grant.ifindex;
        if (self.ifindex_of)(&name) != Some(ifindex) {
            log::debug!(
                "lport {}: its netdev {name} (ifindex {ifindex}) is gone or renamed",
                untrusted(lport)
            );
            return None;
        }
        // The table's decisions track this answer only if the table plugs
        // that netdev for the function (a change of it is counted); else
        // it rests on the kernel's name alone.
        let backed = entry_of(&self.table, f)
            .is_some_and(|e| e.settled && e.name == Some(&name) && e.ifindex() == Some(ifindex));
        self.grant_unbacked |= !backed;
        Some(name)
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
        // The full path always looks at the source first: a host that never
        // calls `run` may not have drained for up to STALE_AFTER_MS, and a
        // new plug must not get a name freed in that window.
        self.drain();
        if let Some(answer) = self.unavailable(lport, &req, opts.clone()) {
            return answer.map(|n| self.hand_out(lport, &req, &n, plug));
        }
        let first = match lookup::lookup(&self.table, &req) {
            Ok(found) => {
                let found = owned(found);
                return self.claim_and_hand_out(lport, &req, found, opts, plug);
            }
            Err(r) => r,
        };
        // One more look at the source per call, at most.
        if let Refusal::NotSettled { .. } = first {
            let before = self.table_version();
            let changed = self.source.recheck_unsettled(&mut self.table);
            self.note_source(changed, before);
        }
        self.check_healthy();
        if let Some(answer) = self.unavailable(lport, &req, opts.clone()) {
            return answer.map(|n| self.hand_out(lport, &req, &n, plug));
        }
        match lookup::lookup(&self.table, &req) {
            Ok(found) => {
                let found = owned(found);
                self.claim_and_hand_out(lport, &req, found, opts, plug)
            }
            Err(Refusal::EventsPending) => {
                if let Some(n) = self.previous_answer(lport, &req) {
                    return Some(self.hand_out(lport, &req, &n, plug));
                }
                self.refuse(lport, &req, Refusal::EventsPending, opts);
                None
            }
            Err(r) => {
                self.refuse(lport, &req, r, opts);
                None
            }
        }
    }

    /// Hands `name` out to `lport` for `req` on the miss path: counts the
    /// hit (forgetting an earlier refusal), then returns `plug(name)`.
    fn hand_out<R>(
        &mut self,
        lport: &str,
        req: &Request,
        name: &str,
        plug: impl FnOnce(&str) -> R,
    ) -> R {
        self.note_hit(lport, req);
        plug(name)
    }

    /// The miss path's answer for a function the lookup `found`: handed
    /// out if `lport` may claim it ([`Provider::claim`]), else declined.
    fn claim_and_hand_out<K, V, R>(
        &mut self,
        lport: &str,
        req: &Request,
        found: Owned,
        opts: impl IntoIterator<Item = (K, V)>,
        plug: impl FnOnce(&str) -> R,
    ) -> Option<R>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        if !self.claim(lport, req, found.clone(), opts) {
            return None;
        }
        Some(self.hand_out(lport, req, &found.1, plug))
    }

    /// Declines `lport`'s request for `r` (and logs it, as any refusal).
    fn refuse<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        lport: &str,
        req: &Request,
        r: Refusal,
        opts: impl IntoIterator<Item = (K, V)>,
    ) {
        // Still asking for the function it holds (the representor
        // is being re-created or named): it keeps it.
        if let Some(pf) = refused_pf(&self.table, req, &r) {
            self.claims
                .asked(&self.table, pf, req.function, lport, self.stats.prepares);
        }
        let code = r.code();
        let text = |table: &Table| {
            let hint = if r.may_resolve_later() {
                " (will plug when it appears)"
            } else {
                " (needs operator action)"
            };
            format!("{}{hint}", lookup::explain(table, req, &r))
        };
        self.log_refusal(lport, code, text, opts);
    }

    /// The hit path of PLUG_OP_CREATE, for a request the caller already
    /// parsed with [`options::FastOptions`]: `Some(plug(name))` when the
    /// table's hit index resolves it and no drain is due; `None` when
    /// the caller must take [`Provider::prepare_create`] (which then does
    /// everything, counters and logs included, exactly as without this
    /// path).  Serves only the lport that holds the function
    /// (src/claims.rs); a new claim or a contended one takes the full path.
    #[inline]
    pub fn prepare_hit<R>(
        &mut self,
        lport: &str,
        req: &Request,
        plug: impl FnOnce(&NetdevName) -> R,
    ) -> Option<R> {
        if self.drain_due() {
            return None;
        }
        let (pf, name) = lookup::hit(&self.table, req)?;
        let seq = self.stats.prepares;
        if !self
            .claims
            .hit(self.table.instance(), pf, req.function, lport, seq)
        {
            return None;
        }
        let r = plug(name);
        self.stats.prepares += 1;
        self.note_hit(lport, req);
        Some(r)
    }

    /// The freshness rule for hosts that never call `run` (module docs):
    /// a hit may not serve once STALE_AFTER_MS passed since the last drain.
    /// Always due during an outage: the hit path is closed then.
    #[inline]
    fn drain_due(&self) -> bool {
        self.outage.is_some()
            || (!self.run_seen
                && (self.clock)().saturating_sub(self.last_drain_ms) >= STALE_AFTER_MS)
    }

    /// Counts a hit and forgets an earlier refusal of `lport`.
    #[inline]
    fn note_hit(&mut self, lport: &str, req: &Request) {
        self.stats.hits += 1;
        if self.refused_bits == 0 {
            return;
        }
        if self.refused_bits & refused_bit(lport) != 0 && self.forget_refusal(lport) {
            log::info!("lport {}: {req} now resolves", untrusted(lport));
        }
    }

    /// Drops `lport` from `refused`; true if it was there.
    fn forget_refusal(&mut self, lport: &str) -> bool {
        if self.refused.is_empty() || self.refused.remove(&LportId::new(lport)).is_none() {
            return false;
        }
        self.rebuild_refused_bits();
        true
    }

    /// Rare (once per lport that resolves or goes away): rebuild the bits.
    fn rebuild_refused_bits(&mut self) {
        self.refused_bits = self
            .refused
            .keys()
            .fold(0, |b, k| b | refused_bit(k.head()));
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
        let seq = self.stats.prepares;
        let id = LportId::new(lport);
        if let Some(p) = self.refused.get_mut(&id) {
            p.last = seq;
            if p.code == code {
                if log::log_enabled!(log::Level::Debug) {
                    log::debug!(
                        "lport {}: not plugging ({code}): {}; options: {}",
                        untrusted(lport),
                        text(&self.table),
                        shown(opts)
                    );
                }
                return;
            }
        }
        if let Some(suppressed) = self.limiter.allow((self.clock)()) {
            let more = if suppressed > 0 {
                format!(" [{suppressed} similar lines suppressed]")
            } else {
                String::new()
            };
            log::info!(
                "lport {}: not plugging ({code}): {}; options: {}{more}",
                untrusted(lport),
                text(&self.table),
                shown(opts)
            );
            if self.refused.len() >= MAX_REFUSED && !self.refused.contains_key(&id) {
                self.evict_refused();
            }
            self.refused_bits |= refused_bit(id.head());
            self.refused.insert(id, Pending { code, last: seq });
        }
    }

    /// At [`MAX_REFUSED`]: forgets the half refused least recently.
    fn evict_refused(&mut self) {
        let mut last: Vec<u64> = self.refused.values().map(|p| p.last).collect();
        last.sort_unstable();
        let cut = last[last.len() / 2];
        self.refused.retain(|_, p| p.last > cut);
        self.rebuild_refused_bits();
    }
}

/// The bit of `lport` in `Provider::refused_bits` (of the part of the name
/// an [`LportId`] keeps).  Not a security boundary: a colliding name only
/// costs the SipHash probe it skips.
fn refused_bit(lport: &str) -> u64 {
    let h = crate::fasthash::hash_one(claims::head(lport, claims::NAME_KEEP));
    1 << (h & 63)
}

/// The PF a refused request still names a function of (the function
/// exists, or existed, and is refused for a moment): `None` when the
/// pf-mac names no PF, or several.
fn refused_pf(table: &Table, req: &Request, r: &Refusal) -> Option<crate::table::PfKey> {
    match r {
        Refusal::NoPf { .. } | Refusal::AmbiguousPf { .. } => None,
        Refusal::PfWithoutRepresentor { pf } | Refusal::NoFunction { pf, .. } => Some(*pf),
        Refusal::NoNetdev { .. } | Refusal::NotSettled { .. } | Refusal::EventsPending => {
            match table.pfs_with_mac(req.pf_mac)? {
                crate::table::PfSet::One(k) => Some(*k),
                crate::table::PfSet::Many(_) => None,
            }
        }
    }
}

/// What the host's poll loop should wait for after a `run`, or after a
/// declined `prepare` ([`Provider::wakeup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wakeup {
    /// Nothing to register.
    Nothing,
    /// The source's descriptors, all drained by this call.
    Readable(Vec<RawFd>),
    /// The same descriptors, and a timer in ms (> 0): a link waits for udev
    /// and its settle timeout comes then (no event marks it).
    ReadableUntil(Vec<RawFd>, u64),
    /// A timer: the next retry of an unavailable source, in ms (> 0).
    Timer(u64),
}

/// Outages: an unavailable source (module docs, "When the source is
/// unavailable").
impl Provider {
    /// Starts serving `source`, also when it cannot be loaded yet: the
    /// provider then starts in an outage (declines everything, retries on
    /// the back-off) instead of failing, since OVN never calls `init` again.
    pub fn start(mut source: Box<dyn Source>, clock: fn() -> u64) -> Provider {
        match source.load() {
            Ok(table) => {
                log::info!(
                    "representor table loaded from {}: {} devlink ports",
                    source.describe(),
                    table.len()
                );
                Provider::with_table(table, source, clock)
            }
            Err(e) => {
                let mut p = Provider::with_table(
                    Table::new(crate::table::LinkPolicy::RequireLink),
                    source,
                    clock,
                );
                p.fail(&e);
                p
            }
        }
    }

    /// The current outage, if any.
    pub fn outage(&self) -> Option<&Outage> {
        self.outage.as_ref()
    }

    /// `show`'s state line.
    pub fn state_text(&self) -> String {
        match &self.outage {
            // Behind (table module docs): the kernel has queued or lost
            // events not applied yet, so no name is handed out; an operator
            // asking why a port waits should see it here, not only in logs.
            None if self.table.behind() => {
                "serving, behind: kernel events pending; no name is handed out until \
                 they are applied"
                    .to_owned()
            }
            None => "serving".to_owned(),
            Some(o) => o.describe((self.clock)()),
        }
    }

    /// What to ask the host's poll loop for after a `run` or a declined
    /// `prepare`; `drains_before` is [`Stats::drains`] read before the
    /// call.  During an outage: a timer for the next retry, unless it is
    /// due (no attempt was made in this call, e.g. bad options: a timer
    /// that has already expired would spin) or there is nothing to plug
    /// and no port asked ([`Outage::needs_timer`]).  Otherwise: the source's
    /// descriptors if this call drained them (with a timer at the earliest
    /// udev settle timeout while a link waits for udev), else nothing (an
    /// undrained descriptor may be readable, and would spin).
    pub fn wakeup(&self, drains_before: u64) -> Wakeup {
        if let Some(o) = &self.outage {
            return match o.retry_in_ms((self.clock)()) {
                0 => Wakeup::Nothing,
                _ if !o.needs_timer() => Wakeup::Nothing,
                ms => Wakeup::Timer(ms),
            };
        }
        if self.stats.drains > drains_before {
            let fds = self.source.fds();
            match self.source.settle_timer_ms() {
                Some(ms) => Wakeup::ReadableUntil(fds, ms.max(1)),
                None => Wakeup::Readable(fds),
            }
        } else {
            Wakeup::Nothing
        }
    }

    /// Enters (or prolongs) an outage because of `e`, logging the reason
    /// once: at info level when there is simply nothing to plug (no
    /// devlink, no snapshot file), as a warning otherwise; repeats of the
    /// same reason at debug level.
    fn fail(&mut self, e: &io::Error) {
        let now = (self.clock)();
        let (new_reason, o) = match self.outage.take() {
            None => {
                // The table's names become unavailable: `run` reports it
                // (an empty table, e.g. a failed first load, had none).
                self.unreported |= !self.table.is_empty();
                (true, Outage::new(now, e))
            }
            Some(mut o) => (o.failed_again(now, e), o),
        };
        let first = o.attempts() == 1;
        let line = format!(
            "representor source {}: {}: declining every port; retrying in {} s",
            if first {
                "unavailable"
            } else {
                "still unavailable"
            },
            o.last_error(),
            o.retry_in_ms(now).div_ceil(1000)
        );
        if !new_reason {
            log::debug!("{line}");
        } else if o.nothing_to_plug() {
            log::info!("{line}");
        } else {
            log::warn!("{line}");
        }
        self.outage = Some(o);
    }

    /// Enters an outage if the source says its table may miss changes
    /// (a resynchronisation failed inside a drain or a recheck).
    fn check_healthy(&mut self) {
        if self.outage.is_none() && !self.source.healthy() {
            self.fail(&io::Error::other(
                "events were lost and resynchronising failed (see the log)",
            ));
        }
    }

    /// One retry during an outage, if the back-off step is due: the
    /// source's own recovery (`drain`: open and load, or resynchronise)
    /// when it is not healthy, else a full `load`.  On success serves
    /// again at once; returns whether the table changed.
    fn retry(&mut self) -> bool {
        let now = (self.clock)();
        if !self.outage.as_ref().is_some_and(|o| o.due(now)) {
            return false;
        }
        self.stats.drains += 1;
        self.last_drain_ms = now;
        let result = if self.source.healthy() {
            self.source.load().map(|t| {
                self.table = t;
                true
            })
        } else {
            self.source.drain(&mut self.table)
        };
        let result = result.and_then(|changed| {
            if self.source.healthy() {
                Ok(changed)
            } else {
                Err(io::Error::other(
                    "events were lost and resynchronising failed (see the log)",
                ))
            }
        });
        match result {
            Ok(_) => {
                let attempts = self.outage.take().map_or(0, |o| o.attempts());
                log::info!(
                    "representor source available again after {attempts} failed attempts: \
                     {} devlink ports from {}",
                    self.table.len(),
                    self.source.describe()
                );
                // Events queued while loading are applied now, so the
                // descriptors handed to the poll loop are drained.
                self.drain();
                true
            }
            Err(e) => {
                self.fail(&e);
                // Holders are answered from their grants, which only an ask
                // checks against the kernel: have them asked again (module
                // docs, "When the source is unavailable").
                self.unreported |= !self.claims.is_empty();
                false
            }
        }
    }

    /// While the source is unavailable: `Some(Some(name))` for a holder
    /// given its previous answer again ([`Provider::previous_answer`]),
    /// `Some(None)` for anyone else, declined (and logged, as any
    /// refusal); `None` when the source is available.
    fn unavailable<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        lport: &str,
        req: &Request,
        opts: impl IntoIterator<Item = (K, V)>,
    ) -> Option<Option<String>> {
        self.outage.as_ref()?;
        if let Some(n) = self.previous_answer(lport, req) {
            return Some(Some(n));
        }
        let o = self.outage.as_mut()?;
        o.note_declined();
        let why = format!(
            "the representor table is not available ({}) (will plug when it loads)",
            o.last_error()
        );
        self.log_refusal(lport, "source-unavailable", |_| why, opts);
        Some(None)
    }
}

/// A found function: its PF, its netdev name and ifindex.
type Owned = (crate::table::PfKey, String, Option<u32>);

/// A found function with its name copied out of the table (the claim
/// check needs the table while the name is shown).
fn owned(f: Found<'_>) -> Owned {
    (f.pf, f.name.to_owned(), f.entry.ifindex())
}

/// The netdev name (and ifindex) `table` has for the function `f`; `None`
/// when the table has no such function, or it has no netdev.
fn netdev_of<'t>(table: &'t Table, f: &claims::FnId) -> Option<(&'t str, Option<u32>)> {
    let e = entry_of(table, f)?;
    Some((e.name?, e.ifindex()))
}

/// The port `table` indexes for the function `f`, if any.
fn entry_of<'t>(table: &'t Table, f: &claims::FnId) -> Option<crate::table::Entry<'t>> {
    let pf = crate::table::PfKey {
        dev: table.dev_index(&f.dev)?,
        controller: f.controller,
        pfnum: f.pfnum,
    };
    match f.function {
        options::Function::Pf => table.pf_entry(&pf),
        options::Function::Vf(n) => table.vf_entry(&pf, n),
        options::Function::Sf(n) => table.sf_entry(&pf, n),
    }
}

/// The provider's options of an lport, for a log line.
fn shown<K: AsRef<str>, V: AsRef<str>>(opts: impl IntoIterator<Item = (K, V)>) -> String {
    opts.into_iter()
        .filter(|(k, _)| {
            let k = k.as_ref();
            k.starts_with(options::OPT_PREFIX) || options::is_near_miss(k.as_bytes())
        })
        .take(8)
        .map(|(k, v)| format!("{}={}", untrusted(k.as_ref()), untrusted(v.as_ref())))
        .collect::<Vec<String>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A source whose table never changes (shared by the test modules below).
    pub(super) struct Fixed(pub(super) Table);

    impl Source for Fixed {
        fn load(&mut self) -> io::Result<Table> {
            Ok(self.0.clone())
        }
        fn drain(&mut self, _: &mut Table) -> io::Result<bool> {
            Ok(false)
        }
        fn describe(&self) -> String {
            "fixed".into()
        }
    }

    /// A clock that moves a minute per reading: the log rate limiter never
    /// holds a refusal back, so every refused lport is remembered.
    pub(super) fn fast_clock() -> u64 {
        static NOW: AtomicU64 = AtomicU64::new(0);
        NOW.fetch_add(60_000, Ordering::Relaxed)
    }

    fn provider() -> Provider {
        let snap = "port pci/0000:03:00.0/2 flavour pcipf controller 1 pfnum 0 external \
                    hw_addr 00:53:00:00:10:00 netdev c1pf0 ifindex 12\n";
        let t = crate::snapshot::parse(snap, crate::table::LinkPolicy::TrustDevlink).unwrap();
        let mut p = Provider::new(Box::new(Fixed(t)), fast_clock).unwrap();
        p.run();
        p
    }

    /// `show`'s state line says when the table is behind (names withheld),
    /// not only the logs.
    #[test]
    fn the_state_line_says_when_the_table_is_behind() {
        let mut p = provider();
        assert_eq!(p.state_text(), "serving");
        p.table.set_behind(true);
        assert!(
            p.state_text()
                .starts_with("serving, behind: kernel events pending"),
            "{}",
            p.state_text()
        );
        p.table.set_behind(false);
        assert_eq!(p.state_text(), "serving");
    }

    /// Issue 12 item 7: lports refused and deleted before they ever plug
    /// get no REMOVE; on 7c4cb1c each kept its entry, full name included,
    /// for good.
    #[test]
    fn refusal_bookkeeping_is_bounded() {
        let mut p = provider();
        let opts = [
            ("vif-plug:representor:pf-mac", "00:53:00:00:10:00"),
            ("vif-plug:representor:vf-num", "7"),
        ];
        let long = "n".repeat(1 << 12);
        for i in 0..(MAX_REFUSED * 3) {
            let lport = format!("gone-{i}-{long}");
            assert!(p.prepare_create(&lport, opts, None, |_| ()).is_none());
            assert!(p.pending() <= MAX_REFUSED, "{} pending", p.pending());
        }
        assert!(p.pending() >= MAX_REFUSED / 2);
        let kept: usize = p.refused.keys().map(|k| k.head().len()).sum();
        assert!(
            kept <= MAX_REFUSED * claims::NAME_KEEP,
            "{kept} bytes of names"
        );
        // A remembered lport that resolves is forgotten.
        let pf = [("vif-plug:representor:pf-mac", "00:53:00:00:10:00")];
        let last = format!("gone-{}-{long}", MAX_REFUSED * 3 - 1);
        assert!(p.refused.contains_key(&LportId::new(&last)));
        assert_eq!(
            p.prepare_create(&last, pf, None, |n| n.to_owned())
                .as_deref(),
            Some("c1pf0")
        );
        assert!(!p.refused.contains_key(&LportId::new(&last)));
        assert!(p.prepare_remove(&last, None));
        assert!(p.claims().is_empty());
    }

    /// A contender's refusal names both lports; REMOVE frees the function.
    #[test]
    fn contender_is_refused_until_the_holder_goes() {
        let mut p = provider();
        let pf = [("vif-plug:representor:pf-mac", "00:53:00:00:10:00")];
        let req = options::parse(pf).unwrap();
        assert!(p.prepare_create("a", pf, None, |_| ()).is_some());
        assert!(p.prepare_hit("a", &req, |_| ()).is_some());
        assert!(p.prepare_hit("b", &req, |_| ()).is_none());
        assert!(p.prepare_create("b", pf, None, |_| ()).is_none());
        assert_eq!(p.stats().claim_refusals, 1);
        assert!(p.prepare_hit("a", &req, |_| ()).is_some());
        assert!(p.prepare_remove("a", None));
        assert!(p.prepare_hit("b", &req, |_| ()).is_none());
        assert!(p.prepare_create("b", pf, None, |_| ()).is_some());
        assert!(p.prepare_hit("b", &req, |_| ()).is_some());
        p.claims().check().unwrap();
    }

    /// A source whose next load is set by the test.
    struct Swapped(std::sync::Arc<std::sync::Mutex<Table>>);

    impl Source for Swapped {
        fn load(&mut self) -> io::Result<Table> {
            Ok(self.0.lock().unwrap().clone())
        }
        fn drain(&mut self, _: &mut Table) -> io::Result<bool> {
            Ok(false)
        }
        fn describe(&self) -> String {
            "swapped".into()
        }
    }

    /// Which refusals still count as asking for the held function: one for
    /// that very function (its representor is being re-created) does; a
    /// request that names no PF any more does not.
    #[test]
    fn a_holder_keeps_its_function_only_while_it_asks_for_it() {
        const WITH: &str = "port pci/0000:03:00.0/2 flavour pcipf controller 1 pfnum 0 external \
                            hw_addr 00:53:00:00:10:00 netdev c1pf0 ifindex 12\n\
                            port pci/0000:03:00.0/4 flavour pcivf controller 1 pfnum 0 vfnum 3 \
                            external netdev c1pf0vf3 ifindex 14\n";
        let with = crate::snapshot::parse(WITH, crate::table::LinkPolicy::TrustDevlink).unwrap();
        let without = crate::snapshot::parse(
            WITH.lines().next().unwrap(),
            crate::table::LinkPolicy::TrustDevlink,
        )
        .unwrap();
        let next = std::sync::Arc::new(std::sync::Mutex::new(with.clone()));
        let mut p = Provider::new(Box::new(Swapped(next.clone())), fast_clock).unwrap();
        p.run();
        let vf3 = [
            ("vif-plug:representor:pf-mac", "00:53:00:00:10:00"),
            ("vif-plug:representor:vf-num", "3"),
        ];
        let moved = [
            ("vif-plug:representor:pf-mac", "00:53:00:00:99:99"),
            ("vif-plug:representor:vf-num", "3"),
        ];
        let ask = |p: &mut Provider, lport: &str, o: [(&str, &str); 2]| {
            p.prepare_create(lport, o, None, |n| n.to_owned())
        };
        assert_eq!(ask(&mut p, "a", vf3).as_deref(), Some("c1pf0vf3"));
        // VF 3 is re-created: gone for a while, "a" keeps asking for it.
        *next.lock().unwrap() = without;
        p.reload().unwrap();
        for _ in 0..5 {
            assert_eq!(ask(&mut p, "a", vf3), None);
            assert_eq!(ask(&mut p, "b", vf3), None);
        }
        *next.lock().unwrap() = with;
        p.reload().unwrap();
        for _ in 0..5 {
            assert_eq!(ask(&mut p, "b", vf3), None);
            assert_eq!(ask(&mut p, "b", vf3), None);
            assert_eq!(ask(&mut p, "a", vf3).as_deref(), Some("c1pf0vf3"));
        }
        // "a" now names a PF that does not exist: it no longer asks for
        // VF 3, and "b" gets it on its third ask.
        assert_eq!(ask(&mut p, "b", vf3), None);
        assert_eq!(ask(&mut p, "a", moved), None);
        assert_eq!(ask(&mut p, "b", vf3), None);
        assert_eq!(ask(&mut p, "a", moved), None);
        assert_eq!(ask(&mut p, "b", vf3).as_deref(), Some("c1pf0vf3"));
        assert_eq!(ask(&mut p, "a", vf3), None);
        p.claims().check().unwrap();
    }
}

#[cfg(test)]
mod claims_through_outages {
    //! ovn-patch 0007 unplugs a plugged lport whose provider declines it;
    //! its contract: a provider that cannot answer for a moment gives its
    //! previous answer instead.
    use super::*;
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    const WITH: &str = "port pci/0000:03:00.0/2 flavour pcipf controller 1 pfnum 0 external \
                        hw_addr 00:53:00:00:10:00 netdev c1pf0 ifindex 12\n\
                        port pci/0000:03:00.0/4 flavour pcivf controller 1 pfnum 0 vfnum 3 \
                        external netdev c1pf0vf3 ifindex 14\n";

    /// A kernel source whose resynchronisation fails while `fail` is set
    /// (e.g. a dump interrupted more than MAX_DUMP_ATTEMPTS times after an
    /// ENOBUFS): the table itself never changes.
    struct Flaky(Table, Arc<AtomicBool>);

    impl Source for Flaky {
        fn load(&mut self) -> io::Result<Table> {
            Ok(self.0.clone())
        }
        fn drain(&mut self, _: &mut Table) -> io::Result<bool> {
            if self.1.load(Ordering::Relaxed) {
                Err(io::Error::other("resync: dump interrupted 8 times"))
            } else {
                Ok(false)
            }
        }
        fn healthy(&self) -> bool {
            !self.1.load(Ordering::Relaxed)
        }
        fn describe(&self) -> String {
            "flaky".into()
        }
    }

    use super::tests::fast_clock as clock;

    thread_local! {
        /// The fake kernel's c1pf0vf3 netdev: its ifindex, `None` once
        /// deleted (or renamed away).
        static VF3_IFINDEX: Cell<Option<u32>> = const { Cell::new(Some(14)) };
    }

    fn fake_ifindex(name: &str) -> Option<u32> {
        match name {
            "c1pf0" => Some(12),
            "c1pf0vf3" => VF3_IFINDEX.with(Cell::get),
            _ => None,
        }
    }

    const VF3: [(&str, &str); 2] = [
        ("vif-plug:representor:pf-mac", "00:53:00:00:10:00"),
        ("vif-plug:representor:vf-num", "3"),
    ];

    fn setup() -> (Provider, Arc<AtomicBool>) {
        VF3_IFINDEX.with(|c| c.set(Some(14)));
        let t = crate::snapshot::parse(WITH, crate::table::LinkPolicy::TrustDevlink).unwrap();
        let fail = Arc::new(AtomicBool::new(false));
        let mut p = Provider::new(Box::new(Flaky(t, fail.clone())), clock).unwrap();
        p.set_ifindex_of(fake_ifindex);
        p.run();
        (p, fail)
    }

    fn ask(p: &mut Provider, lport: &str) -> Option<String> {
        p.prepare_create(lport, VF3, None, |n| n.to_owned())
    }

    /// A plugged holder whose function and netdev never changed keeps its
    /// answer while a resync fails (on c6b4950 it was declined, so 0007
    /// unplugged every VIF on the host); a new plug is still declined.
    #[test]
    fn a_plugged_holder_is_not_declined_while_a_resync_fails() {
        let (mut p, fail) = setup();
        assert_eq!(ask(&mut p, "lsp-a").as_deref(), Some("c1pf0vf3"));
        fail.store(true, Ordering::Relaxed);
        p.run();
        assert!(p.outage().is_some());
        for _ in 0..3 {
            assert_eq!(
                ask(&mut p, "lsp-a").as_deref(),
                Some("c1pf0vf3"),
                "plugged, healthy port declined during an outage (0007 unplugs it)"
            );
            assert_eq!(ask(&mut p, "lsp-new"), None, "a new plug during an outage");
        }
    }

    /// One failed resync must not move a function from its holder to the
    /// duplicate lport the claims exist to refuse (issue 12 item 3): the
    /// holder keeps its answer, so 0007 removes nothing, and the contender
    /// is still refused once the source is back.
    #[test]
    fn a_transient_outage_does_not_hand_the_function_to_the_contender() {
        let (mut p, fail) = setup();
        // Iteration 1: A holds VF 3, B (same pf-mac/vf-num) is refused.
        assert_eq!(ask(&mut p, "lsp-a").as_deref(), Some("c1pf0vf3"));
        assert_eq!(ask(&mut p, "lsp-b"), None);
        // Iterations 2-4: the resync fails; A keeps its answer (had it been
        // declined, 0007 would REMOVE A's Interface and free VF 3).
        fail.store(true, Ordering::Relaxed);
        for _ in 0..3 {
            p.run();
            assert_eq!(ask(&mut p, "lsp-a").as_deref(), Some("c1pf0vf3"));
            assert_eq!(ask(&mut p, "lsp-b"), None);
        }
        // The retry succeeds; B walks first this time.
        fail.store(false, Ordering::Relaxed);
        p.run();
        assert!(p.outage().is_none());
        for _ in 0..3 {
            let b = ask(&mut p, "lsp-b");
            let a = ask(&mut p, "lsp-a");
            assert_eq!(
                (a.as_deref(), b.as_deref()),
                (Some("c1pf0vf3"), None),
                "VF 3 (A's VM) now carries B's iface-id"
            );
        }
        p.claims().check().unwrap();
    }

    /// The holder's netdev was deleted (or renamed, or its name reused by
    /// another netdev with another ifindex) during the outage: its old name
    /// may be another function now, so it is declined like everyone else.
    #[test]
    fn a_holder_whose_netdev_went_away_during_an_outage_is_declined() {
        let (mut p, fail) = setup();
        assert_eq!(ask(&mut p, "lsp-a").as_deref(), Some("c1pf0vf3"));
        fail.store(true, Ordering::Relaxed);
        p.run();
        assert_eq!(ask(&mut p, "lsp-a").as_deref(), Some("c1pf0vf3"));
        // Deleted.
        VF3_IFINDEX.with(|c| c.set(None));
        assert_eq!(ask(&mut p, "lsp-a"), None);
        // The name now belongs to another netdev.
        VF3_IFINDEX.with(|c| c.set(Some(99)));
        assert_eq!(ask(&mut p, "lsp-a"), None);
        // Another request than the one answered: declined too.
        VF3_IFINDEX.with(|c| c.set(Some(14)));
        let vf4 = [
            ("vif-plug:representor:pf-mac", "00:53:00:00:10:00"),
            ("vif-plug:representor:vf-num", "4"),
        ];
        assert_eq!(p.prepare_create("lsp-a", vf4, None, |n| n.to_owned()), None);
        assert_eq!(ask(&mut p, "lsp-a").as_deref(), Some("c1pf0vf3"));
    }

    /// The same while the table is behind the kernel (a drain stopped at
    /// its bound): the holder keeps its answer iff its netdev is unchanged;
    /// others are refused `events-pending`.
    #[test]
    fn a_plugged_holder_keeps_its_answer_while_the_table_is_behind() {
        let (mut p, _fail) = setup();
        assert_eq!(ask(&mut p, "lsp-a").as_deref(), Some("c1pf0vf3"));
        p.table.set_behind(true);
        assert_eq!(ask(&mut p, "lsp-a").as_deref(), Some("c1pf0vf3"));
        assert_eq!(ask(&mut p, "lsp-b"), None);
        VF3_IFINDEX.with(|c| c.set(None));
        assert_eq!(ask(&mut p, "lsp-a"), None);
    }
}

#[cfg(test)]
mod claims_across_replugs {
    use super::*;

    use super::tests::fast_clock as clock;
    use super::tests::Fixed;

    /// ovn-patch 0005: when the provider names another netdev for a plugged
    /// lport, ovn-controller creates the new Interface and calls
    /// prepare(REMOVE) for the *old* one (ctx_in->iface_name = the old
    /// netdev).  On c6b4950 that REMOVE released the function the lport
    /// was just granted: later in the same vif_plug_run, another lport
    /// asking for that function got it too.
    #[test]
    fn a_replug_remove_does_not_free_the_new_function() {
        const SNAP: &str = "\
port pci/0000:03:00.0/2 flavour pcipf controller 1 pfnum 0 external hw_addr 00:53:00:00:10:00 netdev c1pf0 ifindex 12
port pci/0000:03:00.0/4 flavour pcivf controller 1 pfnum 0 vfnum 3 external netdev c1pf0vf3 ifindex 14
port pci/0000:03:00.0/5 flavour pcivf controller 1 pfnum 0 vfnum 4 external netdev c1pf0vf4 ifindex 15
";
        let t = crate::snapshot::parse(SNAP, crate::table::LinkPolicy::TrustDevlink).unwrap();
        let mut p = Provider::new(Box::new(Fixed(t)), clock).unwrap();
        p.run();
        let vf = |n: &'static str| {
            [
                ("vif-plug:representor:pf-mac", "00:53:00:00:10:00"),
                ("vif-plug:representor:vf-num", n),
            ]
        };
        let ask = |p: &mut Provider, lport: &str, n: &'static str| {
            p.prepare_create(lport, vf(n), None, |s| s.to_owned())
        };
        assert_eq!(ask(&mut p, "lsp-a", "3").as_deref(), Some("c1pf0vf3"));
        // The CMS moves lsp-a to VF 4.
        p.run();
        assert_eq!(ask(&mut p, "lsp-a", "4").as_deref(), Some("c1pf0vf4"));
        // 0005: unplug the old Interface c1pf0vf3 of lsp-a ...
        assert!(p.prepare_remove("lsp-a", Some("c1pf0vf3")));
        // ... and create c1pf0vf4 for lsp-a.  Later in the same run:
        assert_eq!(
            ask(&mut p, "lsp-c", "4"),
            None,
            "c1pf0vf4 handed to lsp-c while lsp-a is being plugged on it"
        );
        // VF 3 is free: lsp-a gave it up by asking for VF 4.
        assert_eq!(ask(&mut p, "lsp-c", "3").as_deref(), Some("c1pf0vf3"));
        // The REMOVE of lsp-a's current Interface frees VF 4; so does one
        // without a name (a host that does not say), or an empty one.
        assert!(p.prepare_remove("lsp-a", Some("c1pf0vf4")));
        assert_eq!(ask(&mut p, "lsp-b", "4").as_deref(), Some("c1pf0vf4"));
        assert!(p.prepare_remove("lsp-b", None));
        assert_eq!(ask(&mut p, "lsp-a", "4").as_deref(), Some("c1pf0vf4"));
        assert!(p.prepare_remove("lsp-a", Some("")));
        assert!(p.claims().held("lsp-a").is_none());
        p.claims().check().unwrap();
    }
}
