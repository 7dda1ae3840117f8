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

use crate::devlink::attrs::{DEVLINK_GENL_MCGRP_CONFIG_NAME, DEVLINK_GENL_NAME};
use crate::devlink::parse::{
    emit_port_dump_request, parse_port_dump_payload, parse_port_payload, PortEvent,
};
use crate::netlink::genl::{self, FamilyInfo};
use crate::netlink::socket::{self, NetlinkSocket, Transport, RECV_BUF_LEN};
use crate::netlink::wire::{self, ParseError};
use crate::os::FileWatch;
use crate::port::{DevHandle, DevlinkPort, Flavour, Link, PortId};
use crate::rtnl::parse::{
    emit_getlink_dump_request, parse_link_payload, LinkEvent, LinkInfo, RTNLGRP_LINK,
};
use crate::rtnl::settled::UdevProbe;
use crate::smartnic::SmartNicReader;
use crate::table::Table;

/// A change to apply to the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// devlink PORT_NEW (or a dump entry): the full state of a port.
    PortNew(DevlinkPort),
    /// devlink PORT_DEL.
    PortDel(PortId),
    /// RTM_NEWLINK, with the settled rule already applied.
    LinkNew(Link),
    /// RTM_DELLINK.
    LinkDel(u32),
}

impl From<PortEvent> for Event {
    fn from(e: PortEvent) -> Event {
        match e {
            PortEvent::New(p) => Event::PortNew(p),
            PortEvent::Del(id) => Event::PortDel(id),
        }
    }
}

/// Applies one event; pure (no I/O).  Returns whether the table changed.
pub fn apply(table: &mut Table, event: Event) -> bool {
    match event {
        Event::PortNew(p) => table.upsert_port(p),
        Event::PortDel(id) => table.remove_port(&id),
        Event::LinkNew(l) => table.upsert_link(l),
        Event::LinkDel(i) => table.remove_link(i),
    }
}

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

/// Watches `<udev root>/data` when it exists (udev runs); none otherwise.
fn udev_watch(udev_root: &std::path::Path) -> Option<FileWatch> {
    let data = udev_root.join("data");
    if !data.is_dir() {
        return None;
    }
    match FileWatch::directory(&data) {
        Ok(w) => Some(w),
        Err(e) => {
            log::warn!(
                "{}: no inotify watch ({e}); netdevs udev finishes with are noticed at the next event",
                data.display()
            );
            None
        }
    }
}

/// The two monitor sockets.
#[derive(Clone, Copy)]
enum Monitor {
    Devlink,
    Rtnl,
}

/// Which of the four sockets a transport is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// Generic netlink requests: nlctrl, `PORT_GET` dumps.
    DevlinkReq,
    /// devlink `config` multicast group.
    DevlinkMon,
    /// rtnetlink requests: `RTM_GETLINK` dumps.
    RtnlReq,
    /// rtnetlink `RTNLGRP_LINK`.
    RtnlMon,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::DevlinkReq => "devlink-req",
            Channel::DevlinkMon => "devlink-mon",
            Channel::RtnlReq => "rtnl-req",
            Channel::RtnlMon => "rtnl-mon",
        }
    }
}

/// Resolves the devlink family and checks it has the `config` group.  A
/// kernel without devlink gives `ErrorKind::NotFound` saying so.
pub fn resolve_devlink<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    seq: u32,
) -> io::Result<FamilyInfo> {
    let family = match genl::resolve_family(t, buf, seq, DEVLINK_GENL_NAME) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "this kernel has no devlink: generic netlink family \"{DEVLINK_GENL_NAME}\" \
                     not found ({e}); is CONFIG_NET_DEVLINK enabled?"
                ),
            ))
        }
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("resolving generic netlink family \"{DEVLINK_GENL_NAME}\": {e}"),
            ))
        }
    };
    if family.group(DEVLINK_GENL_MCGRP_CONFIG_NAME).is_none() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "generic netlink family \"{DEVLINK_GENL_NAME}\" has no multicast group \
                 \"{DEVLINK_GENL_MCGRP_CONFIG_NAME}\""
            ),
        ));
    }
    Ok(family)
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

    /// Rule 3 of `rtnl::settled`: `true` when the link has waited for udev
    /// for the settle timeout; the give-up is logged naming the link.
    fn give_up_on_udev(&mut self, ifindex: u32, name: &str, since: Instant, now: Instant) -> bool {
        if !self.udev.timed_out(since, now) {
            return false;
        }
        self.stats.settle_timeouts += 1;
        log::warn!(
            "netdev {name} (ifindex {ifindex}): udev is running but has not finished with it \
             after {:?} (no final {}/data/n{ifindex}); giving up on udev: its name is handed \
             out as the kernel reports it",
            self.udev.timeout(),
            self.udev.root().display()
        );
        true
    }

    /// The resolved devlink family id and groups.
    pub fn family(&self) -> &FamilyInfo {
        &self.family
    }

    /// The monitor fds (devlink, rtnetlink), for `poll_fd_wait`.
    pub fn fds(&self) -> [RawFd; 2] {
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

    /// Applies the settled rule to a link event.  udev's database is read
    /// now, while the events that follow this one (udev's rename among
    /// them, if udev finished) are still queued: the name is final once
    /// the drain has applied them (module docs).
    fn link_event(&mut self, table: &Table, ev: LinkEvent) -> Event {
        match ev {
            LinkEvent::New(info) => {
                let ifindex = info.ifindex;
                // Once settled, a link stays settled (later renames are
                // final names too): no stat for it.
                let settled = table.link(ifindex).is_some_and(|l| l.settled) || {
                    let now = self.now();
                    let since = *self.unsettled.entry(ifindex).or_insert(now);
                    self.udev.is_settled(ifindex)
                        || self.give_up_on_udev(ifindex, &info.name, since, now)
                };
                if settled {
                    self.unsettled.remove(&ifindex);
                }
                Event::LinkNew(info.into_link(settled))
            }
            LinkEvent::Del(i) => {
                self.unsettled.remove(&i);
                Event::LinkDel(i)
            }
        }
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

    /// Re-stats links whose name was not final (provider's miss path), and
    /// at most once a second re-reads the smart_nic files (a host PF MAC may
    /// appear later).  Returns whether a decision may have changed (as
    /// for [`KernelSource::drain`]).
    pub fn recheck_unsettled(&mut self, table: &mut Table) -> bool {
        let decisions = table.decisions();
        self.recheck(table);
        table.decisions() != decisions
    }

    fn recheck(&mut self, table: &mut Table) {
        let now = self.now();
        let mut newly = Vec::new();
        // Called on every miss of a port whose name is not final: at most
        // one pass per RECHECK_INTERVAL, and one directory listing instead
        // of two stats per link when many links wait for udev.
        let recheck_due = match self.last_recheck {
            Some(t) => now.saturating_duration_since(t) >= self.recheck_interval,
            None => true,
        };
        let pending: Vec<(u32, Instant)> = if recheck_due {
            self.last_recheck = Some(now);
            self.unsettled.iter().map(|(i, t)| (*i, *t)).collect()
        } else {
            Vec::new()
        };
        let snap = (pending.len() > 4).then(|| {
            self.udev
                .snapshot_where(|i| pending.binary_search_by_key(&i, |(k, _)| *k).is_ok())
        });
        for (ifindex, since) in pending {
            match table.link(ifindex) {
                Some(l) if !l.settled => {
                    let udev_done = match &snap {
                        Some(snap) => snap.is_settled(ifindex),
                        None => self.udev.is_settled(ifindex),
                    };
                    let name = l.name.clone();
                    if udev_done || self.give_up_on_udev(ifindex, &name, since, now) {
                        newly.push(ifindex);
                    }
                }
                _ => {
                    self.unsettled.remove(&ifindex);
                }
            }
        }
        if !newly.is_empty() {
            // udev renames a netdev *before* it writes its database file,
            // and the kernel queued the rename's RTM_NEWLINK on our socket
            // at rename time: apply pending link events first, so that the
            // name we declare final is the final one.
            let dirty = self.drain_links(table);
            self.publish_behind(table);
            if self.need_resync {
                if let Err(e) = self.resync(table) {
                    log::warn!("recheck: {e}");
                }
                self.publish_behind(table);
                return;
            }
            if dirty {
                refresh_smartnic(&self.smartnic, table, &mut self.smartnic_set);
            }
            for ifindex in newly {
                self.unsettled.remove(&ifindex);
                if let Some(l) = table.link(ifindex).filter(|l| !l.settled) {
                    let mut l = l.clone();
                    l.settled = true;
                    table.upsert_link(l);
                }
            }
        }
        let due = match self.last_smartnic_check {
            Some(t) => now.saturating_duration_since(t) >= SMARTNIC_RECHECK_INTERVAL,
            None => true,
        };
        if due {
            self.last_smartnic_check = Some(now);
            refresh_smartnic(&self.smartnic, table, &mut self.smartnic_set);
        }
    }

    /// Whether events were lost and the resynchronisation that must follow
    /// has not succeeded yet (the table may miss changes).
    pub fn needs_resync(&self) -> bool {
        self.need_resync
    }

    /// Whether any link waits for udev (only then is [`Self::udev_fd`]
    /// worth a wakeup).
    pub fn waits_for_udev(&self) -> bool {
        !self.unsettled.is_empty()
    }

    /// How long until a link waiting for udev can be given up on (its
    /// settle timeout passed, and a recheck is due then): the earliest
    /// such moment still ahead.  `None` when no link waits, or when every
    /// waiting link can be given up on now (the next miss rechecks it; a
    /// timer already due would spin the host's loop).
    pub fn settle_timer(&self) -> Option<std::time::Duration> {
        let now = self.now();
        let recheck = self.last_recheck.map(|t| t + self.recheck_interval);
        self.unsettled
            .values()
            .map(|&since| {
                let give_up = since + self.udev.timeout();
                recheck.map_or(give_up, |r| give_up.max(r))
            })
            .filter(|&at| at > now)
            .min()
            .map(|at| at - now)
    }

    /// Links currently waiting for udev.
    pub fn unsettled(&self) -> Vec<u32> {
        self.unsettled.keys().copied().collect()
    }
}

/// One dump's result: entries parsed, entries rejected, and whether the
/// kernel flagged it `NLM_F_DUMP_INTR` (redo it).
#[derive(Debug)]
pub struct Dump<I> {
    pub items: Vec<I>,
    pub errors: Vec<ParseError>,
    pub interrupted: bool,
}

/// One `RTM_GETLINK` dump on a request socket.
pub fn dump_links<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    seq: u32,
) -> io::Result<Dump<LinkInfo>> {
    let req = emit_getlink_dump_request(seq);
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let interrupted = socket::dump(t, buf, seq, &req, |m| {
        match parse_link_payload(m.ty, m.payload) {
            Ok(Some(LinkEvent::New(l))) => items.push(l),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    })?;
    Ok(Dump {
        items,
        errors,
        interrupted,
    })
}

/// One `DEVLINK_CMD_PORT_GET` dump on a generic netlink request socket.
pub fn dump_ports<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    seq: u32,
    family: u16,
) -> io::Result<Dump<DevlinkPort>> {
    let req = emit_port_dump_request(family, seq);
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let interrupted = socket::dump(t, buf, seq, &req, |m| {
        if m.ty != family {
            return;
        }
        match parse_port_dump_payload(m.payload) {
            Ok(Some(PortEvent::New(p))) => items.push(p),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    })?;
    Ok(Dump {
        items,
        errors,
        interrupted,
    })
}

/// Does a port event change a PF-MAC input (a PHYSICAL or PCI_PF port)?
fn touches_pf_mac(table: &Table, ev: &PortEvent) -> bool {
    let is_pf = |f: Flavour| matches!(f, Flavour::Physical | Flavour::PciPf);
    match ev {
        PortEvent::New(p) => is_pf(p.flavour) || table.flavour_by_id(&p.id).is_some_and(is_pf),
        PortEvent::Del(id) => table.flavour_by_id(id).is_some_and(is_pf),
    }
}

/// Reads `smart_nic/pf/config` for every candidate uplink and feeds the
/// table; clears values fed earlier for pairs that are no longer candidates.
pub fn refresh_smartnic(
    reader: &SmartNicReader,
    table: &mut Table,
    set: &mut BTreeSet<(DevHandle, u16)>,
) -> bool {
    let mut changed = false;
    let mut now_set = BTreeSet::new();
    for (handle, pfnum, netdev) in table.smartnic_candidates() {
        let mac = reader.read_pf_mac(&netdev);
        if let Some(m) = mac {
            log::debug!("{handle} pf{pfnum}: host PF MAC {m} from {netdev}'s smart_nic/pf/config");
            now_set.insert((handle.clone(), pfnum));
        }
        changed |= table.set_smartnic_pf_mac(&handle, pfnum, mac);
    }
    for (handle, pfnum) in set.difference(&now_set) {
        changed |= table.set_smartnic_pf_mac(handle, *pfnum, None);
    }
    *set = now_set;
    changed
}

/// A transport wrapper that records every received datagram (capture mode:
/// real-kernel bytes become fixtures).
pub struct Tap<T> {
    inner: T,
    channel: Channel,
    sink: CaptureSink,
}

/// Datagrams received, in order, with the socket they came from.
pub type CaptureSink = std::sync::Arc<std::sync::Mutex<Vec<(Channel, Vec<u8>)>>>;

impl<T> Tap<T> {
    pub fn new(inner: T, channel: Channel, sink: CaptureSink) -> Tap<T> {
        Tap {
            inner,
            channel,
            sink,
        }
    }
}

impl<T: Transport> Transport for Tap<T> {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        self.inner.send(msg)
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.recv(buf)?;
        let d = buf[..n.min(buf.len())].to_vec();
        self.sink
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((self.channel, d));
        Ok(n)
    }

    fn raw_fd(&self) -> RawFd {
        self.inner.raw_fd()
    }
}

/// A fake kernel for tests: answers nlctrl, `PORT_GET` and `RTM_GETLINK`
/// dumps from its state, and queues notifications on the monitor
/// transports.  Public so integration tests and benchmarks can drive a
/// [`KernelSource`] without devlink.
pub mod testing {
    use std::collections::{BTreeMap, VecDeque};
    use std::io;
    use std::os::fd::RawFd;
    use std::os::unix::net::UnixDatagram;
    use std::sync::{Arc, Mutex, MutexGuard};

    use super::{KernelOptions, KernelSource};
    use crate::devlink::attrs::*;
    use crate::devlink::parse::emit_port_message;
    use crate::netlink::genl::{emit_family_message, parse_genl_header, FamilyInfo, GENL_ID_CTRL};
    use crate::netlink::socket::{emit_done, emit_error, Transport};
    use crate::netlink::wire::{self, NLM_F_DUMP_INTR, NLM_F_MULTI};
    use crate::port::{DevlinkPort, PortId};
    use crate::rtnl::parse::{emit_dellink, emit_newlink, LinkInfo, RTM_DELLINK, RTM_GETLINK};

    /// The fake's sockets are named like the real ones.
    pub use super::Channel as Role;

    #[derive(Default)]
    pub struct State {
        pub family: Option<FamilyInfo>,
        pub ports: BTreeMap<PortId, DevlinkPort>,
        pub links: BTreeMap<u32, LinkInfo>,
        /// The next N port / link dumps are flagged NLM_F_DUMP_INTR.
        pub interrupt_port_dumps: u32,
        pub interrupt_link_dumps: u32,
        /// Messages per dump datagram.
        pub per_datagram: usize,
        pub port_dumps: u32,
        pub link_dumps: u32,
        /// The next port dump fails with this errno after its first
        /// datagram (the rest of the dump stays queued).
        pub fail_port_dump: Option<i32>,
        /// `recv` calls per role (to check the idle cost of a drain).
        pub recvs: BTreeMap<&'static str, u64>,
        queues: BTreeMap<&'static str, VecDeque<io::Result<Vec<u8>>>>,
        /// Per role, a descriptor readable while the role has something
        /// queued ([`FakeKernel::with_fds`]); none by default.
        /// (reader, writer, readable now).
        fds: BTreeMap<&'static str, (UnixDatagram, UnixDatagram, bool)>,
    }

    fn key(r: Role) -> &'static str {
        r.name()
    }

    impl State {
        fn queue(&mut self, r: Role) -> &mut VecDeque<io::Result<Vec<u8>>> {
            self.queues.entry(key(r)).or_default()
        }

        /// Datagrams (and errors) still queued on a transport.
        pub fn queued(&self, r: Role) -> usize {
            self.queues.get(key(r)).map_or(0, VecDeque::len)
        }
    }

    #[derive(Clone)]
    pub struct FakeKernel(Arc<Mutex<State>>);

    impl Default for FakeKernel {
        fn default() -> Self {
            FakeKernel::new()
        }
    }

    /// The devlink family id the fake reports (the real one is dynamic).
    pub const FAKE_DEVLINK_FAMILY: u16 = 0x15;
    pub const FAKE_CONFIG_GROUP: u32 = 4;

    impl FakeKernel {
        pub fn new() -> FakeKernel {
            let s = State {
                family: Some(FamilyInfo {
                    id: FAKE_DEVLINK_FAMILY,
                    groups: vec![("config".into(), FAKE_CONFIG_GROUP)],
                }),
                per_datagram: 3,
                ..State::default()
            };
            FakeKernel(Arc::new(Mutex::new(s)))
        }

        /// A kernel without devlink (nlctrl answers ENOENT).
        pub fn without_devlink() -> FakeKernel {
            let k = FakeKernel::new();
            k.state().family = None;
            k
        }

        pub fn state(&self) -> MutexGuard<'_, State> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }

        pub fn transport(&self, role: Role) -> FakeTransport {
            FakeTransport {
                kernel: self.clone(),
                role,
            }
        }

        /// A source over this fake, with the given udev/sysfs roots.
        pub fn source(&self, opts: KernelOptions) -> io::Result<KernelSource<FakeTransport>> {
            KernelSource::with_transports(
                self.transport(Role::DevlinkReq),
                self.transport(Role::DevlinkMon),
                self.transport(Role::RtnlReq),
                self.transport(Role::RtnlMon),
                opts,
            )
        }

        fn family_id(&self) -> u16 {
            self.state()
                .family
                .as_ref()
                .map_or(FAKE_DEVLINK_FAMILY, |f| f.id)
        }

        /// Queues raw bytes (or an error) on a transport.
        pub fn push(&self, role: Role, d: io::Result<Vec<u8>>) {
            self.state().queue(role).push_back(d);
        }

        /// Notifies PORT_NEW for `port` and records it.
        pub fn port_new(&self, port: &DevlinkPort) {
            let b = emit_port_message(self.family_id(), 0, 0, DEVLINK_CMD_PORT_NEW, port);
            let mut s = self.state();
            s.ports.insert(port.id.clone(), port.clone());
            s.queue(Role::DevlinkMon).push_back(Ok(b));
        }

        /// Notifies PORT_DEL (the port as last known, without netdev).
        pub fn port_del(&self, id: &PortId) {
            let port = self.state().ports.remove(id);
            if let Some(mut p) = port {
                p.netdev = None;
                let b = emit_port_message(self.family_id(), 0, 0, DEVLINK_CMD_PORT_DEL, &p);
                self.push(Role::DevlinkMon, Ok(b));
            }
        }

        /// 6.1's add sequence: PORT_NEW (notset, no netdev), then PORT_NEW
        /// (eth + netdev).
        pub fn add_port_61(&self, port: &DevlinkPort) {
            let mut bare = port.clone();
            bare.netdev = None;
            self.port_new(&bare);
            self.port_new(port);
        }

        /// 6.1's delete sequence: PORT_NEW (notset), then PORT_DEL.
        pub fn remove_port_61(&self, id: &PortId) {
            let port = self.state().ports.get(id).cloned();
            if let Some(mut p) = port {
                p.netdev = None;
                self.port_new(&p);
                self.port_del(id);
            }
        }

        pub fn link_new(&self, l: &LinkInfo) {
            let b = emit_newlink(l, 0, 0);
            let mut s = self.state();
            s.links.insert(l.ifindex, l.clone());
            s.queue(Role::RtnlMon).push_back(Ok(b));
        }

        pub fn link_del(&self, ifindex: u32) {
            let l = self.state().links.remove(&ifindex);
            if let Some(l) = l {
                self.push(Role::RtnlMon, Ok(emit_dellink(ifindex, &l.name)));
            }
        }

        /// The receive queue overflowed: pending notifications are lost and
        /// the next recv fails with ENOBUFS.
        pub fn overflow(&self, role: Role) {
            let mut s = self.state();
            let q = s.queue(role);
            q.clear();
            q.push_back(Err(io::Error::from_raw_os_error(libc::ENOBUFS)));
        }

        /// The receive queue overflowed the way the kernel does it: the
        /// datagrams already queued stay, the next recv fails with ENOBUFS
        /// first, and whatever the caller changes in the state afterwards
        /// without notifying (see `link_del_lost`) is the lost event.
        pub fn overflow_keeping_queued(&self, role: Role) {
            self.state()
                .queue(role)
                .push_front(Err(io::Error::from_raw_os_error(libc::ENOBUFS)));
        }

        /// A link goes away and its RTM_DELLINK is lost (overflow).
        pub fn link_del_lost(&self, ifindex: u32) {
            self.state().links.remove(&ifindex);
        }

        /// Datagrams (and errors) queued on a transport, not read yet.
        pub fn pending(&self, role: Role) -> usize {
            self.state().queues.get(key(role)).map_or(0, |q| q.len())
        }

        pub fn recvs(&self, role: Role) -> u64 {
            self.state().recvs.get(key(role)).copied().unwrap_or(0)
        }

        fn answer(&self, role: Role, req: &[u8]) -> io::Result<()> {
            let Some(Ok(m)) = wire::messages(req).next() else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "fake: bad request",
                ));
            };
            let seq = m.seq;
            let mut s = self.state();
            match role {
                Role::DevlinkReq if m.ty == GENL_ID_CTRL => {
                    let reply = match &s.family {
                        Some(f) => emit_family_message(f, DEVLINK_GENL_NAME, seq),
                        None => emit_error(libc::ENOENT, seq),
                    };
                    s.queue(role).push_back(Ok(reply));
                }
                Role::DevlinkReq => {
                    let cmd = parse_genl_header(m.payload).map(|(h, _)| h.cmd);
                    let fam = s.family.as_ref().map(|f| f.id);
                    if fam != Some(m.ty) || cmd != Ok(DEVLINK_CMD_PORT_GET) {
                        s.queue(role)
                            .push_back(Ok(emit_error(libc::EOPNOTSUPP, seq)));
                        return Ok(());
                    }
                    if !s.queue(role).is_empty() {
                        // Like the kernel: a dump is still running.
                        s.queue(role).push_back(Ok(emit_error(libc::EBUSY, seq)));
                        return Ok(());
                    }
                    s.port_dumps += 1;
                    let intr = s.interrupt_port_dumps > 0;
                    s.interrupt_port_dumps = s.interrupt_port_dumps.saturating_sub(1);
                    let flags = NLM_F_MULTI | if intr { NLM_F_DUMP_INTR } else { 0 };
                    let msgs: Vec<Vec<u8>> = s
                        .ports
                        .values()
                        // Like 6.1: dump replies say DEVLINK_CMD_NEW.
                        .map(|p| emit_port_message(m.ty, flags, seq, DEVLINK_CMD_NEW, p))
                        .collect();
                    let per = s.per_datagram.max(1);
                    queue_dump(
                        s.queue(role),
                        msgs,
                        per,
                        seq,
                        if intr { NLM_F_DUMP_INTR } else { 0 },
                    );
                    if let Some(errno) = s.fail_port_dump.take() {
                        let q = s.queue(role);
                        if !q.is_empty() {
                            q.insert(1, Err(io::Error::from_raw_os_error(errno)));
                        }
                    }
                }
                Role::RtnlReq => {
                    if m.ty != RTM_GETLINK {
                        s.queue(role)
                            .push_back(Ok(emit_error(libc::EOPNOTSUPP, seq)));
                        return Ok(());
                    }
                    s.link_dumps += 1;
                    let intr = s.interrupt_link_dumps > 0;
                    s.interrupt_link_dumps = s.interrupt_link_dumps.saturating_sub(1);
                    let flags = NLM_F_MULTI | if intr { NLM_F_DUMP_INTR } else { 0 };
                    let msgs: Vec<Vec<u8>> = s
                        .links
                        .values()
                        .map(|l| emit_newlink(l, flags, seq))
                        .collect();
                    let per = s.per_datagram.max(1);
                    queue_dump(
                        s.queue(role),
                        msgs,
                        per,
                        seq,
                        if intr { NLM_F_DUMP_INTR } else { 0 },
                    );
                }
                Role::DevlinkMon | Role::RtnlMon => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "fake: request on a monitor socket",
                    ))
                }
            }
            Ok(())
        }
    }

    fn queue_dump(
        q: &mut VecDeque<io::Result<Vec<u8>>>,
        msgs: Vec<Vec<u8>>,
        per: usize,
        seq: u32,
        done_flags: u16,
    ) {
        let mut all = msgs;
        all.push(emit_done(seq, done_flags));
        for chunk in all.chunks(per) {
            q.push_back(Ok(chunk.concat()));
        }
    }

    /// One fake socket.
    pub struct FakeTransport {
        kernel: FakeKernel,
        role: Role,
    }

    impl Transport for FakeTransport {
        fn send(&mut self, msg: &[u8]) -> io::Result<()> {
            self.kernel.answer(self.role, msg)
        }

        fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut s = self.kernel.state();
            *s.recvs.entry(key(self.role)).or_default() += 1;
            let r = match s.queue(self.role).pop_front() {
                None => Err(io::Error::from(io::ErrorKind::WouldBlock)),
                Some(Err(e)) => Err(e),
                Some(Ok(d)) => {
                    let n = d.len().min(buf.len());
                    buf[..n].copy_from_slice(&d[..n]);
                    Ok(d.len())
                }
            };
            sync_fd(&mut s, self.role);
            r
        }

        fn raw_fd(&self) -> RawFd {
            let mut s = self.kernel.state();
            sync_fd(&mut s, self.role)
        }
    }

    // --- For the model-based oracle (tests/oracle.rs): descriptors whose
    // readability is the queue's, lost and bridge events, renames.

    /// Makes `role`'s descriptor readable exactly while its queue is not
    /// empty; returns it (-1 without [`FakeKernel::with_fds`]).
    fn sync_fd(s: &mut State, role: Role) -> RawFd {
        use std::os::fd::AsRawFd;
        let pending = s.queues.get(key(role)).is_some_and(|q| !q.is_empty());
        let Some((reader, writer, readable)) = s.fds.get_mut(key(role)) else {
            return -1;
        };
        if *readable != pending {
            let mut b = [0u8; 1];
            while reader.recv(&mut b).is_ok() {}
            if pending {
                // One datagram: the pair's queue is empty here.
                let _ = writer.send(&[1]);
            }
            *readable = pending;
        }
        reader.as_raw_fd()
    }

    const ROLES: [Role; 4] = [
        Role::DevlinkReq,
        Role::DevlinkMon,
        Role::RtnlReq,
        Role::RtnlMon,
    ];

    impl FakeKernel {
        /// Gives every role a real descriptor (one end of a datagram socket
        /// pair) that is readable exactly while the role has something
        /// queued, as a netlink socket is: kept in step by every `recv`,
        /// every `raw_fd` and [`FakeKernel::sync_fds`].  Without it
        /// `raw_fd` is -1.
        pub fn with_fds(self) -> io::Result<FakeKernel> {
            for role in ROLES {
                let (reader, writer) = UnixDatagram::pair()?;
                reader.set_nonblocking(true)?;
                writer.set_nonblocking(true)?;
                self.state().fds.insert(key(role), (reader, writer, false));
            }
            self.sync_fds();
            Ok(self)
        }

        /// Brings every role's descriptor in step with its queue (after the
        /// test queued something directly).
        pub fn sync_fds(&self) {
            let mut s = self.state();
            for role in ROLES {
                sync_fd(&mut s, role);
            }
        }

        /// The role a descriptor of [`FakeKernel::with_fds`] belongs to.
        pub fn role_of(&self, fd: RawFd) -> Option<Role> {
            use std::os::fd::AsRawFd;
            let s = self.state();
            ROLES
                .into_iter()
                .find(|r| s.fds.get(key(*r)).is_some_and(|f| f.0.as_raw_fd() == fd))
        }

        /// Datagrams (and errors) queued on `role`.
        pub fn queue_len(&self, role: Role) -> usize {
            self.state().queues.get(key(role)).map_or(0, |q| q.len())
        }

        /// The sockets are closed and opened again (a provider restart):
        /// whatever was queued on them is gone, a dump that was being
        /// read included.
        pub fn reopen(&self) {
            let mut s = self.state();
            s.queues.clear();
            for role in ROLES {
                sync_fd(&mut s, role);
            }
        }

        /// A port changes (or appears) and its notification is lost.
        pub fn port_new_lost(&self, port: &DevlinkPort) {
            self.state().ports.insert(port.id.clone(), port.clone());
        }

        /// A port goes away and its notification is lost.
        pub fn port_del_lost(&self, id: &PortId) {
            self.state().ports.remove(id);
        }

        /// A link changes (or appears) and its notification is lost.
        pub fn link_new_lost(&self, l: &LinkInfo) {
            self.state().links.insert(l.ifindex, l.clone());
        }

        /// A port of bridge `master` leaves it: RTM_DELLINK with
        /// `ifi_family` AF_BRIDGE for a netdev that still exists (the
        /// link's state is unchanged).
        pub fn bridge_dellink(&self, ifindex: u32) {
            use crate::rtnl::parse::{IfInfo, LinkAttr, ARPHRD_ETHER};
            let name = self.state().links.get(&ifindex).map(|l| l.name.clone());
            let Some(name) = name else {
                return;
            };
            let mut b = wire::MsgBuilder::new(RTM_DELLINK, 0, 0, 0);
            let hdr = IfInfo {
                family: libc::AF_BRIDGE as u8,
                ty: ARPHRD_ETHER,
                index: ifindex as i32,
                ..IfInfo::default()
            };
            b.raw(&hdr.to_bytes());
            LinkAttr::IfName(&name).emit(&mut b);
            self.push(Role::RtnlMon, Ok(b.finish()));
        }
    }
}
