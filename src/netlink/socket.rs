//! Netlink socket I/O shared by devlink (generic netlink) and rtnetlink,
//! factored behind [`Transport`] so that tests can replay kernel messages
//! (`crate::testing::FakeKernel`).
//!
//! The real transport is neli's low-level [`NlSocket`] (no router thread, no
//! blocking receive): the fd is `O_NONBLOCK` and every `recv` also passes
//! `MSG_DONTWAIT | MSG_TRUNC`, so a receive never blocks and a datagram
//! larger than our buffer is detected (and treated as lost: resync), never
//! silently cut.
//!
//! On top of it: [`dump`] (request + collect until `NLMSG_DONE`, reporting
//! `NLM_F_DUMP_INTR`, which neli does not handle; an ack also ends it).
//! Acks, errors and `NLMSG_DONE` are decoded by neli ([`NlMsg::control`]),
//! and the fakes' [`emit_error`] / [`emit_done`] are built with neli's
//! `Nlmsgerr`; the generic netlink family lookup is in [`super::genl`].

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use neli::consts::nl::NlmF;
use neli::consts::socket::{Msg, NlFamily};
use neli::err::{NlmsgerrBuilder, NlmsghdrAckBuilder, NlmsghdrErrBuilder};
use neli::nl::NlPayload;
use neli::socket::NlSocket;
use neli::types::Buffer;
use neli::utils::Groups;

use super::wire::{self, emit_nl, BuildResult, Control, NlMsg};

/// Receive buffer size: larger than any netlink datagram the kernel
/// builds for a dump (it caps them at 32 KiB) or a notification.
pub const RECV_BUF_LEN: usize = 64 * 1024;

/// One netlink socket's datagram I/O.
pub trait Transport {
    /// Sends one request.
    fn send(&mut self, msg: &[u8]) -> io::Result<()>;
    /// Receives one datagram into `buf` without blocking.  Returns the
    /// datagram's real length, which exceeds `buf.len()` when it was
    /// truncated; `ErrorKind::WouldBlock` when nothing is pending.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// The fd to poll (`-1` for fakes).
    fn raw_fd(&self) -> RawFd;
}

/// A real netlink socket (neli [`NlSocket`]), non-blocking.
pub struct NetlinkSocket {
    sock: NlSocket,
}

impl NetlinkSocket {
    /// Opens a socket of `family`, joins the multicast `groups` (group
    /// numbers, not a bitmask) and sets it non-blocking.  `rcvbuf` sets
    /// `SO_RCVBUF` (the kernel doubles it and caps it at `rmem_max`).
    pub fn open(
        family: NlFamily,
        groups: &[u32],
        rcvbuf: Option<usize>,
    ) -> io::Result<NetlinkSocket> {
        let sock = NlSocket::connect(family, None, Groups::new_groups(groups))?;
        sock.nonblock()?;
        if let Some(n) = rcvbuf {
            sock.set_recv_buffer_size(n)?;
        }
        Ok(NetlinkSocket { sock })
    }

    pub fn generic(groups: &[u32], rcvbuf: Option<usize>) -> io::Result<NetlinkSocket> {
        NetlinkSocket::open(NlFamily::Generic, groups, rcvbuf)
    }

    pub fn route(groups: &[u32], rcvbuf: Option<usize>) -> io::Result<NetlinkSocket> {
        NetlinkSocket::open(NlFamily::Route, groups, rcvbuf)
    }

    pub fn join(&self, group: u32) -> io::Result<()> {
        self.sock.add_mcast_membership(Groups::new_groups(&[group]))
    }
}

impl Transport for NetlinkSocket {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        loop {
            match self.sock.send(msg, Msg::empty()) {
                Ok(n) if n == msg.len() => return Ok(()),
                Ok(n) => {
                    return Err(io::Error::other(format!(
                        "netlink send: {n} of {} bytes sent",
                        msg.len()
                    )))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.sock.recv(&mut *buf, Msg::DONTWAIT | Msg::TRUNC) {
                Ok((n, _)) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

fn invalid(e: wire::ParseError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// The errno of a received `NLMSG_ERROR` (decoded by neli), as an
/// `io::Error`; `Ok` for an ack.
pub fn nlmsg_error(m: &NlMsg<'_>) -> io::Result<()> {
    match m.control().map_err(invalid)? {
        Some(Control::Error(code)) if code != 0 => {
            Err(io::Error::from_raw_os_error(code.saturating_neg()))
        }
        _ => Ok(()),
    }
}

/// How many consecutive `EAGAIN`s a dump tolerates before giving up.  The
/// kernel queues the first batch while handling the request and the next
/// one inside each `recvmsg`, so a dump in progress always has data: an
/// `EAGAIN` means the kernel failed to build a batch.
const DUMP_STALL_LIMIT: u32 = 16;

/// Sends `request` (whose header carries `seq`) and hands every reply
/// message of that sequence to `each`, until `NLMSG_DONE`.  Returns whether
/// the kernel flagged the dump `NLM_F_DUMP_INTR` (the caller must redo it).
/// Messages of other sequence numbers (leftovers of an abandoned request)
/// are skipped.
///
/// On an error the rest of the reply is read and discarded, so that the
/// socket is idle for the next request (the kernel answers `EBUSY` to a
/// dump request while a dump is still running on that socket).
pub fn dump<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    seq: u32,
    request: &[u8],
    each: impl FnMut(&NlMsg<'_>),
) -> io::Result<bool> {
    let r = dump_inner(t, buf, seq, request, each);
    if r.is_err() {
        flush(t, buf);
    }
    r
}

/// Reads and drops whatever is pending (bounded).
pub fn flush<T: Transport + ?Sized>(t: &mut T, buf: &mut [u8]) {
    for _ in 0..100_000 {
        match t.recv(buf) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            // ENOBUFS and the like: the error is consumed, go on.
            Err(_) => {}
        }
    }
}

fn dump_inner<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    seq: u32,
    request: &[u8],
    mut each: impl FnMut(&NlMsg<'_>),
) -> io::Result<bool> {
    t.send(request)?;
    let mut interrupted = false;
    loop {
        let n = recv_reply(t, buf, || {
            "netlink dump stalled (no reply and no NLMSG_DONE)".to_owned()
        })?;
        for m in wire::messages(&buf[..n]) {
            let m = m.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if m.seq != seq {
                log::debug!(
                    "netlink dump: skipping a message of sequence {} (want {seq})",
                    m.seq
                );
                continue;
            }
            if m.flags & wire::NLM_F_DUMP_INTR != 0 {
                interrupted = true;
            }
            match m.control().map_err(invalid)? {
                Some(Control::Done(code)) => {
                    // 0, or a negative errno: the dump failed part way.
                    if code < 0 {
                        return Err(io::Error::from_raw_os_error(code.saturating_neg()));
                    }
                    return Ok(interrupted);
                }
                Some(Control::Error(code)) => {
                    return Err(io::Error::from_raw_os_error(code.saturating_neg()))
                }
                // An ACK ends a non-dump request.
                Some(Control::Ack) => return Ok(interrupted),
                None => {}
            }
            match m.ty {
                wire::NLMSG_NOOP => {}
                wire::NLMSG_OVERRUN => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "netlink dump overrun",
                    ))
                }
                _ => each(&m),
            }
        }
    }
}

/// The next datagram of a reply on a request socket, its length in `buf`.
/// The socket is non-blocking and the kernel answers a request from
/// within `send` or the following `recv`, so an empty queue is retried
/// (yielding) up to [`DUMP_STALL_LIMIT`] times in a row before giving up
/// with `stalled()`'s message.  A truncated datagram is an error.
pub(crate) fn recv_reply<T: Transport + ?Sized>(
    t: &mut T,
    buf: &mut [u8],
    stalled: impl Fn() -> String,
) -> io::Result<usize> {
    let mut stalls = 0;
    loop {
        match t.recv(buf) {
            Ok(n) if n > buf.len() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "netlink reply datagram of {n} bytes truncated to {}",
                        buf.len()
                    ),
                ))
            }
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                stalls += 1;
                if stalls > DUMP_STALL_LIMIT {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, stalled()));
                }
                std::thread::yield_now();
            }
            Err(e) => return Err(e),
        }
    }
}

/// An `NLMSG_ERROR` reply for `seq` (for fakes and fixtures), built with
/// neli's `Nlmsgerr`: `errno` is positive (`ENOENT`), the kernel stores it
/// negated; 0 is an ack.  The echoed request header is an empty one.
pub fn emit_error(errno: i32, seq: u32) -> Vec<u8> {
    let payload = || -> BuildResult<NlPayload<u16, Buffer>> {
        Ok(if errno == 0 {
            let echoed = NlmsghdrAckBuilder::<u16>::default()
                .nl_len(wire::NLMSG_HDRLEN as u32)
                .nl_type(0)
                .nl_flags(NlmF::empty())
                .nl_seq(seq)
                .nl_pid(0)
                .build()?;
            NlPayload::Ack(NlmsgerrBuilder::default().nlmsg(echoed).build()?)
        } else {
            let echoed = NlmsghdrErrBuilder::default()
                .nl_type(0)
                .nl_seq(seq)
                .nl_payload(Buffer::new())
                .build()?;
            let e = NlmsgerrBuilder::default().error(-errno).nlmsg(echoed);
            NlPayload::Err(e.build()?)
        })
    };
    let head = (wire::NLMSG_ERROR, NlmF::empty(), seq, 0);
    emit_nl("NLMSG_ERROR", head, payload())
}

/// `NLMSG_DONE` for `seq`, with the dump's flags (e.g. `NLM_F_DUMP_INTR`)
/// and error code 0, built with neli's `Nlmsgerr` (the kernel's
/// `NLMSG_DONE` carries an `int`).
pub fn emit_done(seq: u32, flags: u16) -> Vec<u8> {
    let flags = NlmF::from_bits_retain(wire::NLM_F_MULTI | flags);
    let payload = NlmsgerrBuilder::default().nlmsg(()).build();
    let payload = payload.map(NlPayload::<u16, Buffer>::DumpExtAck);
    emit_nl(
        "NLMSG_DONE",
        (wire::NLMSG_DONE, flags, seq, 0),
        payload.map_err(Into::into),
    )
}
