//! The kernel source: devlink ports and rtnetlink links, joined into a
//! [`Table`].
//!
//! - [`KernelSource::open`] resolves the `devlink` generic netlink family and
//!   its `config` multicast group, and opens two monitor sockets (devlink
//!   `config`, rtnetlink `RTNLGRP_LINK`) plus two request sockets for dumps.
//!   The monitors are joined *before* any dump, so no change falls between a
//!   dump and the events that follow it.
//! - [`KernelSource::load`] dumps links and ports into a fresh table.
//! - [`KernelSource::drain`] reads what is pending on both monitors without
//!   blocking (one `recv` returning `EAGAIN` per socket when idle) and
//!   applies it with [`apply`].
//!
//! Here: the source itself (open, load, drain, resync).  Beside it:
//! `apply` (the [`Event`]s and applying them, the SmartNIC PF MAC
//! fallback), `channel` (the four sockets, resolving devlink), `dump` (one
//! full dump of links or ports), `settle` (waiting for udev), `tap`
//! (capture mode).  The fake kernel of the tests is `crate::testing`'s.
//!
//! ## Nothing lost
//! Every notification carries the full state of its port or link, keyed by
//! `bus/dev/index` or ifindex, so applying the events that follow a dump to
//! that dump, in order, yields the current state.  When events may have been
//! lost — `ENOBUFS` (receive queue overflow), a truncated datagram, any
//! other socket error — the next drain rebuilds the table from a full dump
//! into a new [`Table`] (`empty_like`) and swaps it in whole: a lookup never
//! sees a half-built table.  A dump the kernel flags `NLM_F_DUMP_INTR`
//! (changed while dumping) is redone.  Netlink multicast carries no sequence
//! numbers (always 0), so there is no gap to detect beyond `ENOBUFS`.
//!
//! ## Renames
//! 6.1 sends no devlink notification when a netdev is renamed; names come
//! from rtnetlink and the table prefers them.  A link's name is only handed
//! out once settled (see [`crate::rtnl::settled`]).
//!
//! ## Which names are handed out
//! **A name is handed out only if it is the link's current name as of
//! everything the kernel has queued, and udev has finished with that
//! name** (or udev is not running, or we gave up on udev, which is logged
//! naming the link).  Concretely:
//! - A drain reads each monitor until `EAGAIN` (the queue is bounded by the
//!   socket's receive buffer; a fuller queue overflows into `ENOBUFS` and a
//!   resync).  A drain that stops at [`MAX_DATAGRAMS_PER_DRAIN`] instead
//!   (events arriving as fast as we read them) marks the table *behind*
//!   ([`Table::set_behind`]): no name is handed out, neither by the hit
//!   index nor by the lookup, until a drain of both monitors ends at
//!   `EAGAIN` (or a resync replaced the table).
//! - Lost events (`ENOBUFS`, a socket error) make the table behind too
//!   until a resync has completed: one whose dump failed, or whose discard
//!   of the datagrams queued before its dump stopped at [`DISCARD_BOUND`]
//!   (applied after the dump they would undo it), is redone at the next
//!   drain and no name is handed out meanwhile.
//! - udev's verdict is read *before* the events it covers are read: for a
//!   link event, while applying it (everything udev did before that moment,
//!   its rename included, is queued behind it and applied by the same
//!   drain); for a full dump, before the dump; for a recheck, before the
//!   recheck drains the link monitor.  udev's database entry
//!   (`/run/udev/data/n<ifindex>`) does not carry the name, so "udev has
//!   finished with that name" holds for the name the link has once every
//!   queued event is applied — which is why a behind table hands out none.
//! - A link once settled stays settled through later renames (udev does
//!   not rename twice; a later rename is an operator's, and final).
//! - Rule 3 of [`crate::rtnl::settled`] (give up after
//!   [`crate::rtnl::settled::SETTLE_TIMEOUT`]) logs a warning naming the
//!   link and counts `KernelStats::settle_timeouts`; so does a give-up in a
//!   full dump.  The clock is injectable ([`KernelSource::set_clock`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::devlink::attrs::DEVLINK_GENL_MCGRP_CONFIG_NAME;
use crate::devlink::parse::parse_port_payload;
use crate::netlink::genl::FamilyInfo;
use crate::netlink::socket::{NetlinkSocket, Transport, RECV_BUF_LEN};
use crate::netlink::wire::{self, ParseError};
use crate::os::FileWatch;
use crate::port::{DevHandle, DevlinkPort, Flavour};
use crate::rtnl::parse::{parse_link_payload, LinkEvent, LinkInfo, RTNLGRP_LINK};
use crate::rtnl::settled::UdevProbe;
use crate::smartnic::SmartNicReader;
use crate::table::Table;

mod apply;
mod channel;
mod dump;
mod settle;
mod tap;

pub use apply::{apply, refresh_smartnic, Event};
pub use channel::{resolve_devlink, Channel};
pub use dump::{dump_links, dump_ports, Dump};
pub use tap::{CaptureSink, Tap};

use apply::touches_pf_mac;
use settle::udev_watch;

/// Counters for `show`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// devlink port notifications applied.
    pub port_events: u64,
    /// rtnetlink link notifications applied.
    pub link_events: u64,
    /// Full re-dumps after lost events.
    pub resyncs: u64,
    /// Of which caused by `ENOBUFS`.
    pub overflows: u64,
    /// Dumps redone because the kernel flagged them `NLM_F_DUMP_INTR`.
    pub dump_retries: u64,
    /// Messages (or dump entries) rejected by a parser.
    pub parse_errors: u64,
    /// The last parse error or socket error, for `show`.
    pub last_error: Option<String>,
    /// Links whose name was taken without udev finishing with it, after
    /// the settle timeout (rule 3 of `rtnl::settled`).
    pub settle_timeouts: u64,
    /// Drains that stopped at `MAX_DATAGRAMS_PER_DRAIN` (table behind).
    pub behind_drains: u64,
}

impl KernelStats {
    pub fn events(&self) -> u64 {
        self.port_events + self.link_events
    }
}

/// Knobs, mostly for tests and the VM test bed.
#[derive(Clone, Debug)]
pub struct KernelOptions {
    /// `SO_RCVBUF` of the two monitor sockets (`None`: the kernel default;
    /// default [`DEFAULT_MONITOR_RCVBUF`]).
    pub rcvbuf: Option<usize>,
    /// udev's run directory (`/run/udev`).
    pub udev_root: PathBuf,
    /// sysfs root (`/sys`), for `smart_nic/pf/config`.
    pub sysfs_root: PathBuf,
    /// `recheck_unsettled` looks at udev's database at most this often (it
    /// runs on the provider's miss path, once per declined `prepare`).
    pub recheck_interval: Duration,
    /// Datagrams read per monitor per drain at most (default
    /// [`MAX_DATAGRAMS_PER_DRAIN`]); a resync discards at most four times
    /// as many.  Tests set a small bound to reach the "behind" rule with
    /// small bursts.
    pub max_datagrams_per_drain: usize,
}

/// Default `SO_RCVBUF` of the monitors: room for a burst of a few thousand
/// port notifications (the kernel caps it at `net.core.rmem_max`; an
/// overflow costs a full re-dump, never a lost event).
pub const DEFAULT_MONITOR_RCVBUF: usize = 4 << 20;

impl Default for KernelOptions {
    fn default() -> Self {
        KernelOptions {
            rcvbuf: Some(DEFAULT_MONITOR_RCVBUF),
            udev_root: PathBuf::from("/run/udev"),
            sysfs_root: PathBuf::from("/sys"),
            recheck_interval: Duration::from_millis(50),
            max_datagrams_per_drain: MAX_DATAGRAMS_PER_DRAIN,
        }
    }
}

/// A dump redone this many times in a row (the kernel kept changing while
/// we read) is given up on with an error; the next drain tries again.
const MAX_DUMP_ATTEMPTS: u32 = 8;
/// Datagrams read per monitor per drain at most.  A drain reads until
/// `EAGAIN`, which a queue the socket buffer bounds reaches long before
/// this; the bound only stops a storm of events arriving as fast as we
/// read them from holding a drain (and ovn-controller's main loop)
/// forever.  A drain that stops here leaves the table behind (module docs).
pub const MAX_DATAGRAMS_PER_DRAIN: usize = 16 * 1024;
/// Datagrams a resync discards per monitor at most (those queued before
/// its dump); one that stops here resyncs again at the next drain.
pub const DISCARD_BOUND: usize = DISCARD_FACTOR * MAX_DATAGRAMS_PER_DRAIN;
/// [`DISCARD_BOUND`] in drain bounds.
const DISCARD_FACTOR: usize = 4;
/// `recheck_unsettled` re-reads the smart_nic files at most this often.
const SMARTNIC_RECHECK_INTERVAL: Duration = Duration::from_secs(1);

/// See the module documentation.
pub struct KernelSource<T: Transport = NetlinkSocket> {
    dl_req: T,
    dl_mon: T,
    rt_req: T,
    rt_mon: T,
    family: FamilyInfo,
    seq: u32,
    buf: Vec<u8>,
    udev: UdevProbe,
    smartnic: SmartNicReader,
    /// Links seen unsettled, and since when.
    unsettled: BTreeMap<u32, Instant>,
    /// (device, pfnum) we fed a smart_nic MAC for.
    smartnic_set: BTreeSet<(DevHandle, u16)>,
    last_smartnic_check: Option<Instant>,
    /// inotify on udev's database directory: udev finishing with a netdev
    /// wakes the host's poll loop (there is no netlink event for it).
    udev_watch: Option<FileWatch>,
    /// Last pass of `recheck_unsettled` over the unsettled links.
    last_recheck: Option<Instant>,
    recheck_interval: Duration,
    /// [`KernelOptions::max_datagrams_per_drain`] (at least 1).
    max_datagrams: usize,
    need_resync: bool,
    /// The last drain of the devlink / rtnetlink monitor stopped at
    /// `MAX_DATAGRAMS_PER_DRAIN` (the table is behind while either is).
    dl_behind: bool,
    rt_behind: bool,
    /// Time source for settle timeouts and recheck intervals.
    clock: Box<dyn Fn() -> Instant + Send>,
    stats: KernelStats,
}

impl KernelSource<NetlinkSocket> {
    /// Opens the sockets and resolves devlink.  On a kernel without devlink
    /// the error is `ErrorKind::NotFound` with a message saying so.
    pub fn open() -> io::Result<KernelSource> {
        KernelSource::open_with(KernelOptions::default())
    }

    pub fn open_with(opts: KernelOptions) -> io::Result<KernelSource> {
        KernelSource::open_wrapped(opts, |s, _| s)
    }
}

/// Parses every message of one monitor datagram with `parse` (which
/// returns `Ok(None)` for messages it ignores).  A broken message header
/// ends the datagram: what follows it cannot be framed.
fn parse_datagram<E>(
    bytes: &[u8],
    mut parse: impl FnMut(&wire::NlMsg<'_>) -> Result<Option<E>, ParseError>,
) -> (Vec<E>, Vec<ParseError>) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for m in wire::messages(bytes) {
        match m.map(|m| parse(&m)) {
            Ok(Ok(Some(ev))) => events.push(ev),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => errors.push(e),
            Err(e) => {
                errors.push(e);
                break;
            }
        }
    }
    (events, errors)
}

/// The two monitor sockets.
#[derive(Clone, Copy)]
enum Monitor {
    Devlink,
    Rtnl,
}

impl<T: Transport> KernelSource<T> {
    /// Opens real sockets, each wrapped by `wrap` (e.g. a [`Tap`] that
    /// records received datagrams).  The devlink family is resolved first,
    /// then the monitors join their groups, before any dump.
    pub fn open_wrapped(
        opts: KernelOptions,
        mut wrap: impl FnMut(NetlinkSocket, Channel) -> T,
    ) -> io::Result<KernelSource<T>> {
        let mut buf = vec![0u8; RECV_BUF_LEN];
        let mut dl_req = NetlinkSocket::generic(&[], None)?;
        let family = resolve_devlink(&mut dl_req, &mut buf, 1)?;
        let group = family
            .group(DEVLINK_GENL_MCGRP_CONFIG_NAME)
            .unwrap_or_default();
        let dl_mon = NetlinkSocket::generic(&[group], opts.rcvbuf)?;
        let rt_mon = NetlinkSocket::route(&[RTNLGRP_LINK], opts.rcvbuf)?;
        let rt_req = NetlinkSocket::route(&[], None)?;
        Ok(KernelSource::from_parts(
            wrap(dl_req, Channel::DevlinkReq),
            wrap(dl_mon, Channel::DevlinkMon),
            wrap(rt_req, Channel::RtnlReq),
            wrap(rt_mon, Channel::RtnlMon),
            family,
            buf,
            opts,
        ))
    }

    /// Builds a source over any transports (tests use fakes), resolving
    /// the devlink family on `dl_req`; `dl_mon` must already receive the
    /// `config` group.
    pub fn with_transports(
        mut dl_req: T,
        dl_mon: T,
        rt_req: T,
        rt_mon: T,
        opts: KernelOptions,
    ) -> io::Result<KernelSource<T>> {
        let mut buf = vec![0u8; RECV_BUF_LEN];
        let family = resolve_devlink(&mut dl_req, &mut buf, 1)?;
        Ok(KernelSource::from_parts(
            dl_req, dl_mon, rt_req, rt_mon, family, buf, opts,
        ))
    }

    fn from_parts(
        dl_req: T,
        dl_mon: T,
        rt_req: T,
        rt_mon: T,
        family: FamilyInfo,
        buf: Vec<u8>,
        opts: KernelOptions,
    ) -> KernelSource<T> {
        KernelSource {
            dl_req,
            dl_mon,
            rt_req,
            rt_mon,
            family,
            seq: 1,
            buf,
            udev_watch: udev_watch(&opts.udev_root),
            udev: UdevProbe::new(opts.udev_root),
            smartnic: SmartNicReader::new(opts.sysfs_root),
            unsettled: BTreeMap::new(),
            smartnic_set: BTreeSet::new(),
            last_smartnic_check: None,
            last_recheck: None,
            recheck_interval: opts.recheck_interval,
            max_datagrams: opts.max_datagrams_per_drain.max(1),
            need_resync: false,
            dl_behind: false,
            rt_behind: false,
            clock: Box::new(Instant::now),
            stats: KernelStats::default(),
        }
    }

    /// Replaces the clock (default `Instant::now`), e.g. to step past the
    /// settle timeout in a test without sleeping.
    pub fn set_clock(&mut self, clock: impl Fn() -> Instant + Send + 'static) {
        self.clock = Box::new(clock);
    }

    fn now(&self) -> Instant {
        (self.clock)()
    }

    /// The resolved devlink family id and groups.
    pub fn family(&self) -> &FamilyInfo {
        &self.family
    }

    /// The two monitors' fds (devlink, rtnetlink); the source's wakeup
    /// descriptors are its [`Source::fds`](crate::provider::Source::fds).
    pub fn monitor_fds(&self) -> [RawFd; 2] {
        [self.dl_mon.raw_fd(), self.rt_mon.raw_fd()]
    }

    /// The inotify fd on udev's database, when udev runs: readable when
    /// udev finished with a netdev, which a `drain` then settles.
    pub fn udev_fd(&self) -> Option<RawFd> {
        self.udev_watch.as_ref().map(FileWatch::fd)
    }

    pub fn stats(&self) -> KernelStats {
        self.stats.clone()
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    fn note_parse_error(&mut self, what: &str, e: &dyn std::fmt::Display) {
        self.stats.parse_errors += 1;
        let msg = format!("{what}: {e}");
        // A kernel (or a fuzzer) can send these by the thousand: rate-limited.
        static WARN: crate::ratelimit::SiteLimit = crate::ratelimit::SiteLimit::new(20, 10);
        if let Some(n) = WARN.allow() {
            log::warn!(
                "{msg}; message ignored{}",
                crate::ratelimit::suppressed_note(n)
            );
        }
        self.stats.last_error = Some(msg);
    }

    /// A full dump (links, ports, smart_nic) into a new table in kernel
    /// mode.
    pub fn load(&mut self) -> io::Result<Table> {
        self.build(Table::new(crate::table::LinkPolicy::RequireLink))
    }

    /// Fills `table` (empty) from full dumps, redoing interrupted ones.
    fn build(&mut self, mut table: Table) -> io::Result<Table> {
        // Before the dump: see crate::rtnl::settled.
        let udev = self.udev.snapshot();
        let links = self.dump_with_retry(|s| s.dump_links())?;
        let ports = self.dump_with_retry(|s| s.dump_ports())?;
        let now = self.now();
        let mut unsettled = BTreeMap::new();
        for info in links {
            let ifindex = info.ifindex;
            let since = self.unsettled.get(&ifindex).copied().unwrap_or(now);
            let settled =
                udev.is_settled(ifindex) || self.give_up_on_udev(ifindex, &info.name, since, now);
            if !settled {
                unsettled.insert(ifindex, since);
            }
            table.upsert_link(info.into_link(settled));
        }
        for p in ports {
            table.upsert_port(p);
        }
        self.unsettled = unsettled;
        let mut set = BTreeSet::new();
        refresh_smartnic(&self.smartnic, &mut table, &mut set);
        self.smartnic_set = set;
        self.last_smartnic_check = Some(now);
        Ok(table)
    }

    fn dump_with_retry<R>(
        &mut self,
        mut f: impl FnMut(&mut Self) -> io::Result<(R, bool)>,
    ) -> io::Result<R> {
        for _ in 0..MAX_DUMP_ATTEMPTS {
            let (r, interrupted) = f(self)?;
            if !interrupted {
                return Ok(r);
            }
            self.stats.dump_retries += 1;
            log::info!(
                "netlink dump interrupted by concurrent changes (NLM_F_DUMP_INTR): redoing it"
            );
        }
        Err(io::Error::other(format!(
            "netlink dump interrupted {MAX_DUMP_ATTEMPTS} times in a row by concurrent changes"
        )))
    }

    fn dump_links(&mut self) -> io::Result<(Vec<LinkInfo>, bool)> {
        let seq = self.next_seq();
        let d = dump_links(&mut self.rt_req, &mut self.buf, seq)?;
        for e in &d.errors {
            self.note_parse_error("rtnetlink link dump entry", e);
        }
        Ok((d.items, d.interrupted))
    }

    fn dump_ports(&mut self) -> io::Result<(Vec<DevlinkPort>, bool)> {
        let seq = self.next_seq();
        let d = dump_ports(&mut self.dl_req, &mut self.buf, seq, self.family.id)?;
        for e in &d.errors {
            self.note_parse_error("devlink port dump entry", e);
        }
        Ok((d.items, d.interrupted))
    }

    /// Applies pending notifications without blocking.  After lost events
    /// (or a failed earlier resync) rebuilds the table from a full dump and
    /// swaps it in.  `Ok(changed)`: whether a decision may have changed
    /// ([`Table::decisions`] moved; a link no port shows, a port function's
    /// state, a VF netdev's MAC are no change).  An error leaves the table
    /// as it was and the next drain retries the resync.
    pub fn drain(&mut self, table: &mut Table) -> io::Result<bool> {
        let decisions = table.decisions();
        let mut smartnic_dirty = false;
        // udev finished with some netdev: settle what waited for it (after
        // the link events below, so a udev rename is applied first).
        let udev_done = match &self.udev_watch {
            Some(w) => w.drain().unwrap_or(true),
            None => false,
        };
        if !self.need_resync {
            smartnic_dirty |= self.drain_devlink(table);
        }
        if !self.need_resync {
            smartnic_dirty |= self.drain_links(table);
        }
        if self.need_resync {
            let r = self.resync(table);
            // A failed (or unfinished) resync leaves a table that missed
            // events: behind, no name handed out.
            self.publish_behind(table);
            r?;
            return Ok(table.decisions() != decisions);
        }
        self.publish_behind(table);
        if smartnic_dirty {
            refresh_smartnic(&self.smartnic, table, &mut self.smartnic_set);
        }
        if udev_done && !self.unsettled.is_empty() {
            self.last_recheck = None;
            self.recheck_unsettled(table);
        }
        Ok(table.decisions() != decisions)
    }

    fn lost_events(&mut self, what: &str, e: &io::Error) {
        if e.raw_os_error() == Some(libc::ENOBUFS) {
            self.stats.overflows += 1;
            log::warn!("{what} monitor overflowed (ENOBUFS): resynchronising from a full dump");
        } else {
            log::warn!("{what} monitor socket error ({e}): resynchronising from a full dump");
        }
        self.stats.last_error = Some(format!("{what} monitor: {e}"));
        self.need_resync = true;
    }

    /// The next datagram of a monitor, its length in `self.buf`; `None`
    /// when nothing is pending, or after a socket error or a truncated
    /// datagram (both lose events: a resync is scheduled).
    fn next_datagram(&mut self, which: Monitor) -> Option<usize> {
        let (mon, what) = match which {
            Monitor::Devlink => (&mut self.dl_mon, "devlink"),
            Monitor::Rtnl => (&mut self.rt_mon, "rtnetlink"),
        };
        match mon.recv(&mut self.buf) {
            Ok(n) if n <= self.buf.len() => Some(n),
            Ok(n) => {
                let e = io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("datagram of {n} bytes truncated"),
                );
                self.lost_events(what, &e);
                None
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            Err(e) => {
                self.lost_events(what, &e);
                None
            }
        }
    }

    /// Marks the table behind while either monitor's last drain stopped at
    /// the bound, or events were lost and no resync has completed since
    /// (module docs); returns whether that changed.
    fn publish_behind(&mut self, table: &mut Table) -> bool {
        let behind = self.dl_behind || self.rt_behind || self.need_resync;
        if behind && !table.behind() {
            if self.need_resync {
                log::warn!(
                    "kernel events were lost and the resynchronisation has not completed: \
                     no netdev name is handed out until it has"
                );
            } else {
                log::info!(
                    "more than {} notifications queued on a monitor: \
                     no netdev name is handed out until they are read",
                    self.max_datagrams
                );
            }
        }
        table.set_behind(behind)
    }

    /// Notes how a monitor's drain ended: at `EAGAIN` (or an error, which
    /// schedules a resync) or at the bound.
    fn note_drain_end(&mut self, which: Monitor, reached_end: bool) {
        if !reached_end {
            self.stats.behind_drains += 1;
        }
        match which {
            Monitor::Devlink => self.dl_behind = !reached_end,
            Monitor::Rtnl => self.rt_behind = !reached_end,
        }
    }

    /// Returns whether smart_nic inputs were touched.
    fn drain_devlink(&mut self, table: &mut Table) -> bool {
        let mut dirty = false;
        let mut reached_end = false;
        for _ in 0..self.max_datagrams {
            let Some(n) = self.next_datagram(Monitor::Devlink) else {
                reached_end = true;
                break;
            };
            let family = self.family.id;
            let (events, errors) = parse_datagram(&self.buf[..n], |m| {
                if m.ty == family {
                    parse_port_payload(m.payload)
                } else {
                    Ok(None)
                }
            });
            for e in errors {
                self.note_parse_error("devlink notification", &e);
            }
            for ev in events {
                self.stats.port_events += 1;
                dirty |= touches_pf_mac(table, &ev);
                log::debug!("devlink event: {ev:?}");
                apply(table, ev.into());
            }
        }
        self.note_drain_end(Monitor::Devlink, reached_end);
        dirty
    }

    /// Returns whether smart_nic inputs were touched.
    fn drain_links(&mut self, table: &mut Table) -> bool {
        let mut dirty = false;
        let mut reached_end = false;
        for _ in 0..self.max_datagrams {
            let Some(n) = self.next_datagram(Monitor::Rtnl) else {
                reached_end = true;
                break;
            };
            let (events, errors) =
                parse_datagram(&self.buf[..n], |m| parse_link_payload(m.ty, m.payload));
            for e in errors {
                self.note_parse_error("rtnetlink notification", &e);
            }
            for ev in events {
                self.stats.link_events += 1;
                let ifindex = match &ev {
                    LinkEvent::New(l) => l.ifindex,
                    LinkEvent::Del(i) => *i,
                };
                dirty |= table.flavour_by_ifindex(ifindex) == Some(Flavour::Physical);
                let event = self.link_event(table, ev);
                log::debug!("rtnetlink event: {event:?}");
                apply(table, event);
            }
        }
        self.note_drain_end(Monitor::Rtnl, reached_end);
        dirty
    }

    /// Rebuilds the table from full dumps and swaps it in; `Ok(changed)`
    /// as for [`KernelSource::drain`].
    fn resync(&mut self, table: &mut Table) -> io::Result<bool> {
        self.stats.resyncs += 1;
        // The kernel reports ENOBUFS *before* the datagrams still queued
        // from before the overflow.  Those are older than the dump we are
        // about to take: applied after it they would resurrect a link or
        // port deleted in the gap (its delete was the event lost).  Drop
        // everything queued now; events from here on postdate the discard
        // and are applied in order after the dump, which is correct.
        let clean = self.discard_pending();
        let fresh = self.build(table.empty_like()).inspect_err(|e| {
            log::warn!("resynchronisation failed ({e}); will retry at the next drain");
            self.stats.last_error = Some(format!("resync: {e}"));
        })?;
        // The discard stopped at its bound: datagrams older than this dump
        // are still queued and, applied after it, would undo it (a deleted
        // link back, an old name over a rename).  Resync again at the next
        // drain; the table is behind meanwhile.
        self.need_resync = !clean;
        if !clean {
            log::warn!(
                "more notifications queued than one resynchronisation discards: \
                 resynchronising again at the next drain"
            );
        }
        self.dl_behind = false;
        self.rt_behind = false;
        let changed = table.replace_with(fresh);
        log::info!(
            "resynchronised from a full dump ({} ports)",
            table.entries().len()
        );
        Ok(changed)
    }

    /// Reads and drops every datagram queued on both monitors (errors
    /// included), bounded so a storm cannot hold us here forever.  Returns
    /// whether both reached `EAGAIN`.
    fn discard_pending(&mut self) -> bool {
        let mut clean = true;
        for mon in [&mut self.dl_mon, &mut self.rt_mon] {
            let mut emptied = false;
            for _ in 0..self.max_datagrams.saturating_mul(DISCARD_FACTOR) {
                match mon.recv(&mut self.buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        emptied = true;
                        break;
                    }
                    _ => {}
                }
            }
            clean &= emptied;
        }
        clean
    }

    /// Whether events were lost and the resynchronisation that must follow
    /// has not succeeded yet (the table may miss changes).
    pub fn needs_resync(&self) -> bool {
        self.need_resync
    }
}
