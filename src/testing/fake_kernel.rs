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
use crate::devlink::parse::{
    emit_family_message, emit_port_message, parse_genl_header, FamilyInfo,
};
use crate::devlink::socket::{emit_done, emit_error, Transport};
use crate::devlink::wire::{self, NLM_F_DUMP_INTR, NLM_F_MULTI};
use crate::kernel::{KernelOptions, KernelSource};
use crate::port::{DevlinkPort, PortId};
use crate::rtnl::parse::{emit_dellink, emit_newlink, LinkInfo};

/// The fake's sockets are named like the real ones.
pub use crate::kernel::Channel as Role;

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
