//! A fake kernel: answers nlctrl, `PORT_GET` and `RTM_GETLINK` dumps from
//! its state, and queues notifications on the monitor transports, so
//! integration tests, benchmarks and the fuzzer can drive a
//! [`KernelSource`] without devlink.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::devlink::attrs::*;
use crate::devlink::parse::emit_port_message;
use crate::kernel::{KernelOptions, KernelSource};
use crate::netlink::genl::{emit_family_message, parse_genl_header, FamilyInfo, GENL_ID_CTRL};
use crate::netlink::socket::{emit_done, emit_error, Transport};
use crate::netlink::wire::{self, NLM_F_DUMP_INTR, NLM_F_MULTI};
use crate::port::{DevlinkPort, PortId};
use crate::rtnl::parse::{emit_dellink, emit_newlink, LinkInfo, RTM_DELLINK, RTM_GETLINK};

/// The fake's sockets are the real ones' channels.
pub use crate::kernel::Channel;

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
    /// `recv` calls per channel (to check the idle cost of a drain).
    pub recvs: BTreeMap<&'static str, u64>,
    queues: BTreeMap<&'static str, VecDeque<io::Result<Vec<u8>>>>,
    /// Per channel, a descriptor readable while the channel has something
    /// queued ([`FakeKernel::with_fds`]); none by default.
    /// (reader, writer, readable now).
    fds: BTreeMap<&'static str, (UnixDatagram, UnixDatagram, bool)>,
}

fn key(c: Channel) -> &'static str {
    c.name()
}

impl State {
    fn queue(&mut self, c: Channel) -> &mut VecDeque<io::Result<Vec<u8>>> {
        self.queues.entry(key(c)).or_default()
    }

    /// Datagrams (and errors) still queued on a transport.
    pub fn queued(&self, c: Channel) -> usize {
        self.queues.get(key(c)).map_or(0, VecDeque::len)
    }

    /// Queues a dump reply on `c`: `msgs` (made with `flags`, see
    /// [`dump_flags`]) and NLMSG_DONE, [`State::per_datagram`] messages
    /// a datagram; the DONE carries `flags`' `NLM_F_DUMP_INTR`.
    fn queue_dump(&mut self, c: Channel, msgs: Vec<Vec<u8>>, seq: u32, flags: u16) {
        let per = self.per_datagram.max(1);
        let mut all = msgs;
        all.push(emit_done(seq, flags & NLM_F_DUMP_INTR));
        let q = self.queue(c);
        for chunk in all.chunks(per) {
            q.push_back(Ok(chunk.concat()));
        }
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

    pub fn transport(&self, channel: Channel) -> FakeTransport {
        FakeTransport {
            kernel: self.clone(),
            channel,
        }
    }

    /// A source over this fake, with the given udev/sysfs roots.
    pub fn source(&self, opts: KernelOptions) -> io::Result<KernelSource<FakeTransport>> {
        KernelSource::with_transports(
            self.transport(Channel::DevlinkReq),
            self.transport(Channel::DevlinkMon),
            self.transport(Channel::RtnlReq),
            self.transport(Channel::RtnlMon),
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
    pub fn push(&self, channel: Channel, d: io::Result<Vec<u8>>) {
        self.state().queue(channel).push_back(d);
    }

    /// Notifies PORT_NEW for `port` and records it.
    pub fn port_new(&self, port: &DevlinkPort) {
        let b = emit_port_message(self.family_id(), 0, 0, DEVLINK_CMD_PORT_NEW, port);
        let mut s = self.state();
        s.ports.insert(port.id.clone(), port.clone());
        s.queue(Channel::DevlinkMon).push_back(Ok(b));
    }

    /// Notifies PORT_DEL (the port as last known, without netdev).
    pub fn port_del(&self, id: &PortId) {
        let port = self.state().ports.remove(id);
        if let Some(mut p) = port {
            p.netdev = None;
            let b = emit_port_message(self.family_id(), 0, 0, DEVLINK_CMD_PORT_DEL, &p);
            self.push(Channel::DevlinkMon, Ok(b));
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
        s.queue(Channel::RtnlMon).push_back(Ok(b));
    }

    pub fn link_del(&self, ifindex: u32) {
        let l = self.state().links.remove(&ifindex);
        if let Some(l) = l {
            self.push(Channel::RtnlMon, Ok(emit_dellink(ifindex, &l.name)));
        }
    }

    /// The receive queue overflowed: pending notifications are lost and
    /// the next recv fails with ENOBUFS.
    pub fn overflow(&self, channel: Channel) {
        let mut s = self.state();
        let q = s.queue(channel);
        q.clear();
        q.push_back(Err(io::Error::from_raw_os_error(libc::ENOBUFS)));
    }

    /// The receive queue overflowed the way the kernel does it: the
    /// datagrams already queued stay, the next recv fails with ENOBUFS
    /// first, and whatever the caller changes in the state afterwards
    /// without notifying (see `link_del_lost`) is the lost event.
    pub fn overflow_keeping_queued(&self, channel: Channel) {
        self.state()
            .queue(channel)
            .push_front(Err(io::Error::from_raw_os_error(libc::ENOBUFS)));
    }

    /// A link goes away and its RTM_DELLINK is lost (overflow).
    pub fn link_del_lost(&self, ifindex: u32) {
        self.state().links.remove(&ifindex);
    }

    /// Datagrams (and errors) queued on a transport, not read yet.
    pub fn pending(&self, channel: Channel) -> usize {
        self.state().queues.get(key(channel)).map_or(0, |q| q.len())
    }

    pub fn recvs(&self, channel: Channel) -> u64 {
        self.state().recvs.get(key(channel)).copied().unwrap_or(0)
    }

    fn answer(&self, channel: Channel, req: &[u8]) -> io::Result<()> {
        let Some(Ok(m)) = wire::messages(req).next() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "fake: bad request",
            ));
        };
        let seq = m.seq;
        let mut s = self.state();
        match channel {
            Channel::DevlinkReq if m.ty == GENL_ID_CTRL => {
                let reply = match &s.family {
                    Some(f) => emit_family_message(f, DEVLINK_GENL_NAME, seq),
                    None => emit_error(libc::ENOENT, seq),
                };
                s.queue(channel).push_back(Ok(reply));
            }
            Channel::DevlinkReq => {
                let cmd = parse_genl_header(m.payload).map(|(h, _)| h.cmd);
                let fam = s.family.as_ref().map(|f| f.id);
                if fam != Some(m.ty) || cmd != Ok(DEVLINK_CMD_PORT_GET) {
                    s.queue(channel)
                        .push_back(Ok(emit_error(libc::EOPNOTSUPP, seq)));
                    return Ok(());
                }
                if !s.queue(channel).is_empty() {
                    // Like the kernel: a dump is still running.
                    s.queue(channel).push_back(Ok(emit_error(libc::EBUSY, seq)));
                    return Ok(());
                }
                s.port_dumps += 1;
                let flags = dump_flags(&mut s.interrupt_port_dumps);
                let msgs: Vec<Vec<u8>> = s
                    .ports
                    .values()
                    // Like 6.1: dump replies say DEVLINK_CMD_NEW.
                    .map(|p| emit_port_message(m.ty, flags, seq, DEVLINK_CMD_NEW, p))
                    .collect();
                s.queue_dump(channel, msgs, seq, flags);
                if let Some(errno) = s.fail_port_dump.take() {
                    let q = s.queue(channel);
                    if !q.is_empty() {
                        q.insert(1, Err(io::Error::from_raw_os_error(errno)));
                    }
                }
            }
            Channel::RtnlReq => {
                if m.ty != RTM_GETLINK {
                    s.queue(channel)
                        .push_back(Ok(emit_error(libc::EOPNOTSUPP, seq)));
                    return Ok(());
                }
                s.link_dumps += 1;
                let flags = dump_flags(&mut s.interrupt_link_dumps);
                let msgs: Vec<Vec<u8>> = s
                    .links
                    .values()
                    .map(|l| emit_newlink(l, flags, seq))
                    .collect();
                s.queue_dump(channel, msgs, seq, flags);
            }
            Channel::DevlinkMon | Channel::RtnlMon => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "fake: request on a monitor socket",
                ))
            }
        }
        Ok(())
    }
}

/// A dump reply's message flags: `NLM_F_MULTI`, and `NLM_F_DUMP_INTR`
/// while `interrupt` (the next N dumps are interrupted) counts down.
fn dump_flags(interrupt: &mut u32) -> u16 {
    let intr = *interrupt > 0;
    *interrupt = interrupt.saturating_sub(1);
    NLM_F_MULTI | if intr { NLM_F_DUMP_INTR } else { 0 }
}

/// One fake socket.
pub struct FakeTransport {
    kernel: FakeKernel,
    channel: Channel,
}

impl Transport for FakeTransport {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        self.kernel.answer(self.channel, msg)
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut s = self.kernel.state();
        *s.recvs.entry(key(self.channel)).or_default() += 1;
        let r = match s.queue(self.channel).pop_front() {
            None => Err(io::Error::from(io::ErrorKind::WouldBlock)),
            Some(Err(e)) => Err(e),
            Some(Ok(d)) => {
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                Ok(d.len())
            }
        };
        sync_fd(&mut s, self.channel);
        r
    }

    fn raw_fd(&self) -> RawFd {
        let mut s = self.kernel.state();
        sync_fd(&mut s, self.channel)
    }
}

// --- For the model-based oracle (tests/oracle.rs): descriptors whose
// readability is the queue's, lost and bridge events, renames.

/// Makes `channel`'s descriptor readable exactly while its queue is not
/// empty; returns it (-1 without [`FakeKernel::with_fds`]).
fn sync_fd(s: &mut State, channel: Channel) -> RawFd {
    use std::os::fd::AsRawFd;
    let pending = s.queues.get(key(channel)).is_some_and(|q| !q.is_empty());
    let Some((reader, writer, readable)) = s.fds.get_mut(key(channel)) else {
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

const CHANNELS: [Channel; 4] = [
    Channel::DevlinkReq,
    Channel::DevlinkMon,
    Channel::RtnlReq,
    Channel::RtnlMon,
];

impl FakeKernel {
    /// Gives every channel a real descriptor (one end of a datagram socket
    /// pair) that is readable exactly while the channel has something
    /// queued, as a netlink socket is: kept in step by every `recv`,
    /// every `raw_fd` and [`FakeKernel::sync_fds`].  Without it
    /// `raw_fd` is -1.
    pub fn with_fds(self) -> io::Result<FakeKernel> {
        for channel in CHANNELS {
            let (reader, writer) = UnixDatagram::pair()?;
            reader.set_nonblocking(true)?;
            writer.set_nonblocking(true)?;
            self.state()
                .fds
                .insert(key(channel), (reader, writer, false));
        }
        self.sync_fds();
        Ok(self)
    }

    /// Brings every channel's descriptor in step with its queue (after the
    /// test queued something directly).
    pub fn sync_fds(&self) {
        let mut s = self.state();
        for channel in CHANNELS {
            sync_fd(&mut s, channel);
        }
    }

    /// The channel a descriptor of [`FakeKernel::with_fds`] belongs to.
    pub fn channel_of(&self, fd: RawFd) -> Option<Channel> {
        use std::os::fd::AsRawFd;
        let s = self.state();
        CHANNELS
            .into_iter()
            .find(|r| s.fds.get(key(*r)).is_some_and(|f| f.0.as_raw_fd() == fd))
    }

    /// Datagrams (and errors) queued on `channel`.
    pub fn queue_len(&self, channel: Channel) -> usize {
        self.state().queues.get(key(channel)).map_or(0, |q| q.len())
    }

    /// The sockets are closed and opened again (a provider restart):
    /// whatever was queued on them is gone, a dump that was being
    /// read included.
    pub fn reopen(&self) {
        let mut s = self.state();
        s.queues.clear();
        for channel in CHANNELS {
            sync_fd(&mut s, channel);
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
        self.push(Channel::RtnlMon, Ok(b.finish()));
    }
}
