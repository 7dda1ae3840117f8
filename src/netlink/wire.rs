//! Netlink framing shared by the devlink and rtnetlink code, on neli's
//! types: message headers are read with neli's `nlmsghdr` type
//! ([`NlmsghdrAck`]), acks, errors and `NLMSG_DONE` with [`Nlmsghdr`] /
//! [`NlPayload`] / `Nlmsgerr` ([`NlMsg::control`]), and [`MsgBuilder`]
//! emits messages through neli's [`Nlmsghdr`] and [`Nlattr`] (requests,
//! and byte fixtures in tests).  The numbers come from `libc`.
//!
//! Two things stay hand-written here, each for a reason:
//! - the length checks before neli sees a message: neli's deserializers
//!   subtract length fields without checking them (`nl_len - 16`, the
//!   echoed header of an `nlmsgerr`), which panics (debug) or asks for a
//!   huge buffer (release) on a bad length.  Every length field is checked
//!   here against the slice it comes from first, and neli only ever reads
//!   a slice that holds exactly one message;
//! - the attribute walk [`attrs`] and its strict typed getters: neli copies
//!   every attribute into its own `Vec` (`GenlBuffer<_, Buffer>`,
//!   `RtBuffer<_, Buffer>`), which costs more than 2x.  `benches/netlink.rs`
//!   on the same bytes in one run (2026-12-01, ns per message, hand /
//!   neli headers + this walk / neli attributes): 65,536-port dump 434 /
//!   450 / 1,969 (neli attributes 4.5x); one 6.1 `PORT_NEW` 382 / 543 /
//!   1,876 (4.9x); one 6.1 `RTM_NEWLINK` 289 / 413 / 4,402 (15x).  neli's
//!   headers stay within 2x (1.0–1.5x), so they are neli's.  Figures and
//!   method: `BENCHMARKS.md`, "Netlink parsing: neli against the
//!   hand-written walk".
//!
//! Nothing here trusts a length field: a violation is a [`ParseError`]
//! naming what was being read.

use std::fmt;
use std::io::Cursor;

use neli::consts::nl::{NlType, NlmF};
use neli::err::NlmsghdrAck;
use neli::genl::{AttrType, Nlattr, NlattrBuilder};
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::types::Buffer;
use neli::{FromBytes, ToBytes};

/// `struct nlmsghdr` is 16 bytes; messages and attributes are 4-aligned.
pub const NLMSG_HDRLEN: usize = 16;
pub const NLA_HDRLEN: usize = 4;
/// The flag bits of `nla_type` (`NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`).
pub const NLA_TYPE_MASK: u16 = libc::NLA_TYPE_MASK as u16;
pub const NLA_F_NESTED: u16 = libc::NLA_F_NESTED as u16;

pub const NLMSG_NOOP: u16 = libc::NLMSG_NOOP as u16;
pub const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;
pub const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
pub const NLMSG_OVERRUN: u16 = libc::NLMSG_OVERRUN as u16;

pub const NLM_F_REQUEST: u16 = libc::NLM_F_REQUEST as u16;
pub const NLM_F_MULTI: u16 = libc::NLM_F_MULTI as u16;
pub const NLM_F_ACK: u16 = libc::NLM_F_ACK as u16;
pub const NLM_F_DUMP_INTR: u16 = libc::NLM_F_DUMP_INTR as u16;
pub const NLM_F_DUMP: u16 = libc::NLM_F_DUMP as u16;

/// `IFNAMSIZ` including the NUL: the table's, the crate's one copy.
pub use crate::table::IFNAMSIZ;
/// `MAX_ADDR_LEN` (`linux/netdevice.h`): the longest hardware address a
/// link or a port function reports.
pub const MAX_ADDR_LEN: usize = 32;

pub const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// What went wrong while reading a message, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The attribute or structure being read, e.g. `DEVLINK_ATTR_PORT_INDEX`.
    pub what: &'static str,
    pub kind: ParseErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Fewer bytes than the header or the length field promises.
    Truncated { need: usize, have: usize },
    /// A fixed-size attribute with the wrong payload length.
    BadLength { expected: usize, got: usize },
    /// A length field smaller than the header it includes.
    BadHeaderLength(usize),
    /// A string attribute that is not NUL-terminated UTF-8.
    BadString,
    /// A required attribute is absent.
    Missing,
    /// A value outside the range the field allows.
    BadValue(u64),
}

impl ParseError {
    pub fn new(what: &'static str, kind: ParseErrorKind) -> ParseError {
        ParseError { what, kind }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ParseErrorKind::Truncated { need, have } => {
                write!(f, "{}: truncated ({have} bytes, need {need})", self.what)
            }
            ParseErrorKind::BadLength { expected, got } => {
                write!(
                    f,
                    "{}: payload of {got} bytes, expected {expected}",
                    self.what
                )
            }
            ParseErrorKind::BadHeaderLength(l) => {
                write!(
                    f,
                    "{}: length field {l} is shorter than its header",
                    self.what
                )
            }
            ParseErrorKind::BadString => {
                write!(f, "{}: not a NUL-terminated UTF-8 string", self.what)
            }
            ParseErrorKind::Missing => write!(f, "{}: required attribute missing", self.what),
            ParseErrorKind::BadValue(v) => write!(f, "{}: value {v} out of range", self.what),
        }
    }
}

impl std::error::Error for ParseError {}

pub type Result<T> = std::result::Result<T, ParseError>;

/// One netlink message: header fields plus its payload (after the header,
/// before padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NlMsg<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
    pub payload: &'a [u8],
}

/// What an `NLMSG_ERROR` or `NLMSG_DONE` message says, as neli reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// `NLMSG_ERROR` with error 0: the request succeeded.
    Ack,
    /// `NLMSG_ERROR` with a negative errno (stored here as the kernel sends
    /// it, e.g. `-ENOENT`).
    Error(i32),
    /// `NLMSG_DONE`: the end of a dump, with its error code (0, or a
    /// negative errno when the dump failed part way).
    Done(i32),
}

impl NlMsg<'_> {
    /// The ack, error or end of dump this message carries (`Ok(None)` for
    /// any other type).  neli's [`Nlmsghdr`] / [`NlPayload`] decode it,
    /// after the length checks neli itself does not make: its `nlmsgerr`
    /// reader subtracts the echoed header's length without checking it.
    /// `NLMSG_DONE` without `NLM_F_MULTI` (not the end of a dump) is
    /// `Done(0)`, as is one without payload.
    pub fn control(&self) -> Result<Option<Control>> {
        if self.ty != NLMSG_ERROR && self.ty != NLMSG_DONE {
            return Ok(None);
        }
        let what = if self.ty == NLMSG_ERROR {
            "nlmsgerr"
        } else {
            "NLMSG_DONE"
        };
        let p = self.payload;
        if (self.ty == NLMSG_ERROR || !p.is_empty()) && p.len() < 4 {
            return Err(truncated(what, 4, p.len()));
        }
        if self.ty == NLMSG_ERROR {
            // int error, then the request's header (and, for an error, its
            // payload: NETLINK_CAP_ACK is not set).
            if p.len() < 4 + NLMSG_HDRLEN {
                return Err(truncated(what, 4 + NLMSG_HDRLEN, p.len()));
            }
            let echoed = u32::from_ne_bytes([p[4], p[5], p[6], p[7]]) as usize;
            let code = i32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
            if code != 0 && (echoed < NLMSG_HDRLEN || 4 + align4(echoed) > p.len()) {
                return Err(ParseError::new(
                    "nlmsgerr echoed header",
                    ParseErrorKind::BadValue(echoed as u64),
                ));
            }
        }
        // neli reads exactly this message, padded as the kernel pads it.
        let mut bytes = Vec::with_capacity(align4(NLMSG_HDRLEN + p.len()));
        let len = (NLMSG_HDRLEN + p.len()) as u32;
        bytes.extend_from_slice(&len.to_ne_bytes());
        bytes.extend_from_slice(&self.ty.to_ne_bytes());
        bytes.extend_from_slice(&self.flags.to_ne_bytes());
        bytes.extend_from_slice(&self.seq.to_ne_bytes());
        bytes.extend_from_slice(&self.pid.to_ne_bytes());
        bytes.extend_from_slice(p);
        bytes.resize(align4(bytes.len()), 0);
        let m = Nlmsghdr::<u16, Buffer>::from_bytes(&mut Cursor::new(&bytes[..])).map_err(|e| {
            log::debug!("netlink {what}: neli: {e}");
            ParseError::new(what, ParseErrorKind::BadValue(u64::from(len)))
        })?;
        Ok(Some(match m.nl_payload() {
            NlPayload::Ack(_) => Control::Ack,
            NlPayload::Err(e) => Control::Error(*e.error()),
            NlPayload::DumpExtAck(e) => Control::Done(*e.error()),
            NlPayload::Payload(_) | NlPayload::Empty => Control::Done(0),
        }))
    }
}

fn truncated(what: &'static str, need: usize, have: usize) -> ParseError {
    ParseError::new(what, ParseErrorKind::Truncated { need, have })
}

/// Iterates the messages of one datagram.  Stops after the first error.
pub struct Messages<'a> {
    rest: &'a [u8],
    failed: bool,
}

pub fn messages(buf: &[u8]) -> Messages<'_> {
    Messages {
        rest: buf,
        failed: false,
    }
}

/// The header of the message at the start of `b`, read by neli
/// ([`NlmsghdrAck`] is neli's bare `nlmsghdr`), and its length, checked
/// against `b` (neli does not check it).
fn header(b: &[u8]) -> Result<(NlmsghdrAck<u16>, usize)> {
    let Some(h) = b.get(..NLMSG_HDRLEN) else {
        return Err(truncated("nlmsghdr", NLMSG_HDRLEN, b.len()));
    };
    let hdr = NlmsghdrAck::<u16>::from_bytes(&mut Cursor::new(h))
        .map_err(|_| truncated("nlmsghdr", NLMSG_HDRLEN, b.len()))?;
    let len = *hdr.nl_len() as usize;
    if len < NLMSG_HDRLEN {
        return Err(ParseError::new(
            "nlmsghdr",
            ParseErrorKind::BadHeaderLength(len),
        ));
    }
    if len > b.len() {
        return Err(truncated("nlmsghdr", len, b.len()));
    }
    Ok((hdr, len))
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<NlMsg<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let b = self.rest;
        let (hdr, len) = match header(b) {
            Ok(h) => h,
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        };
        let msg = NlMsg {
            ty: *hdr.nl_type(),
            flags: u16::from(*hdr.nl_flags()),
            seq: *hdr.nl_seq(),
            pid: *hdr.nl_pid(),
            payload: &b[NLMSG_HDRLEN..len],
        };
        self.rest = &b[align4(len).min(b.len())..];
        Some(Ok(msg))
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

/// Iterates the attributes of a payload (the hand-written walk: see the
/// module docs for why).  Yields `(type & NLA_TYPE_MASK,
/// payload)`; stops after the first error.
#[derive(Clone)]
pub struct Attrs<'a> {
    rest: &'a [u8],
    ctx: &'static str,
    failed: bool,
}

/// `ctx` names the attribute set in errors (e.g. `devlink message`).
pub fn attrs<'a>(buf: &'a [u8], ctx: &'static str) -> Attrs<'a> {
    Attrs {
        rest: buf,
        ctx,
        failed: false,
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let b = self.rest;
        let err = |kind| Some(Err(ParseError::new(self.ctx, kind)));
        if b.len() < NLA_HDRLEN {
            self.failed = true;
            return err(ParseErrorKind::Truncated {
                need: NLA_HDRLEN,
                have: b.len(),
            });
        }
        let len = u16_at(b, 0) as usize;
        if len < NLA_HDRLEN {
            self.failed = true;
            return err(ParseErrorKind::BadHeaderLength(len));
        }
        if len > b.len() {
            self.failed = true;
            return err(ParseErrorKind::Truncated {
                need: len,
                have: b.len(),
            });
        }
        let ty = u16_at(b, 2) & NLA_TYPE_MASK;
        let payload = &b[NLA_HDRLEN..len];
        self.rest = &b[align4(len).min(b.len())..];
        Some(Ok((ty, payload)))
    }
}

// ---- typed attribute payloads (parse side) ----

pub fn get_u8(what: &'static str, p: &[u8]) -> Result<u8> {
    match p {
        [v] => Ok(*v),
        _ => Err(bad_len(what, 1, p.len())),
    }
}

pub fn get_u16(what: &'static str, p: &[u8]) -> Result<u16> {
    <[u8; 2]>::try_from(p)
        .map(u16::from_ne_bytes)
        .map_err(|_| bad_len(what, 2, p.len()))
}

pub fn get_u32(what: &'static str, p: &[u8]) -> Result<u32> {
    <[u8; 4]>::try_from(p)
        .map(u32::from_ne_bytes)
        .map_err(|_| bad_len(what, 4, p.len()))
}

/// A NUL-terminated string (`NLA_NUL_STRING` / `NLA_STRING` as the kernel
/// emits it with `nla_put_string`): the bytes before the first NUL.
pub fn get_str<'a>(what: &'static str, p: &'a [u8]) -> Result<&'a str> {
    let Some(nul) = p.iter().position(|&c| c == 0) else {
        return Err(ParseError::new(what, ParseErrorKind::BadString));
    };
    std::str::from_utf8(&p[..nul]).map_err(|_| ParseError::new(what, ParseErrorKind::BadString))
}

fn bad_len(what: &'static str, expected: usize, got: usize) -> ParseError {
    ParseError::new(what, ParseErrorKind::BadLength { expected, got })
}

// ---- emit side ----

/// What neli's builders and serializers return here: their error types
/// differ, `?` boxes them.
pub type BuildResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// One neli message (`nlmsghdr` + `payload`) as bytes.  Nothing can fail
/// building complete messages into memory; an error anyway is logged
/// (naming `what`) and gives an empty message, which the kernel and every
/// parser here reject.
pub fn emit_nl<T, P>(
    what: &str,
    (ty, flags, seq, pid): (T, NlmF, u32, u32),
    payload: BuildResult<NlPayload<T, P>>,
) -> Vec<u8>
where
    T: NlType,
    P: neli::Size + ToBytes,
{
    let bytes = || -> BuildResult<Vec<u8>> {
        let m = NlmsghdrBuilder::default()
            .nl_type(ty)
            .nl_flags(flags)
            .nl_seq(seq)
            .nl_pid(pid)
            .nl_payload(payload?)
            .build()?;
        let mut c = Cursor::new(Vec::new());
        m.to_bytes(&mut c)?;
        Ok(c.into_inner())
    };
    bytes().unwrap_or_else(|e| {
        log::error!("netlink: building {what} failed: {e}");
        Vec::new()
    })
}

/// Builds one netlink message on neli's types: the header is a neli
/// [`Nlmsghdr`], every attribute a neli [`Nlattr`] (nested ones through
/// [`Nlattr::nest`]), so lengths, flags and padding are neli's.  The
/// attribute helpers mirror the `get_*` parsers above byte for byte.
#[derive(Clone, Debug)]
pub struct MsgBuilder {
    ty: u16,
    flags: u16,
    seq: u32,
    pid: u32,
    /// The serialized payload so far (family header, top-level attributes).
    body: Cursor<Vec<u8>>,
    /// Open nests, innermost last.
    nests: Vec<Nlattr<u16, Buffer>>,
    /// The first serialization error (none can happen with in-memory
    /// buffers and complete builders; kept, not unwrapped).
    failed: Option<String>,
}

impl MsgBuilder {
    pub fn new(ty: u16, flags: u16, seq: u32, pid: u32) -> MsgBuilder {
        MsgBuilder {
            ty,
            flags,
            seq,
            pid,
            body: Cursor::new(Vec::with_capacity(256)),
            nests: Vec::new(),
            failed: None,
        }
    }

    fn fail(&mut self, e: impl fmt::Display) {
        if self.failed.is_none() {
            self.failed = Some(e.to_string());
        }
    }

    /// Raw bytes after the header (a family header such as genlmsghdr or
    /// ifinfomsg, serialized by neli), padded to 4.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        if let Err(e) = bytes.to_bytes(&mut self.body) {
            self.fail(e);
        }
        if let Err(e) = bytes.pad(&mut self.body) {
            self.fail(e);
        }
        self
    }

    /// A neli value (e.g. a `Genlmsghdr` or `Ifinfomsg`) as the family
    /// header, padded to 4.
    pub fn header(&mut self, h: &impl ToBytes) -> &mut Self {
        let r = h
            .to_bytes(&mut self.body)
            .and_then(|()| h.pad(&mut self.body));
        if let Err(e) = r {
            self.fail(e);
        }
        self
    }

    fn build_attr(&mut self, ty: u16, payload: &[u8]) -> Option<Nlattr<u16, Buffer>> {
        // `AttrType::from` splits the flag bits off `ty` (NLA_F_NESTED ...).
        match NlattrBuilder::default()
            .nla_type(AttrType::from(ty))
            .nla_payload(payload)
            .build()
        {
            Ok(a) => Some(a),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    /// Adds a finished attribute to the innermost open nest, or to the body.
    fn push(&mut self, a: Nlattr<u16, Buffer>) {
        let r = match self.nests.pop() {
            Some(parent) => parent.nest(&a).map(|p| self.nests.push(p)),
            None => a.to_bytes(&mut self.body),
        };
        if let Err(e) = r {
            self.fail(e);
        }
    }

    pub fn attr(&mut self, ty: u16, payload: &[u8]) -> &mut Self {
        if let Some(a) = self.build_attr(ty, payload) {
            self.push(a);
        }
        self
    }

    pub fn u8(&mut self, ty: u16, v: u8) -> &mut Self {
        self.attr(ty, &[v])
    }

    pub fn u16(&mut self, ty: u16, v: u16) -> &mut Self {
        self.attr(ty, &v.to_ne_bytes())
    }

    pub fn u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.attr(ty, &v.to_ne_bytes())
    }

    /// A NUL-terminated string, serialized by neli.
    pub fn str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut p = Cursor::new(Vec::with_capacity(s.len() + 1));
        match s.to_bytes(&mut p) {
            Ok(()) => self.attr(ty, p.get_ref()),
            Err(e) => {
                self.fail(e);
                self
            }
        }
    }

    /// Opens a nested attribute (`NLA_F_NESTED` set, as the kernel's
    /// `nla_nest_start` does); close it with [`MsgBuilder::end_nest`].
    pub fn begin_nest(&mut self, ty: u16) -> &mut Self {
        if let Some(a) = self.build_attr(ty | NLA_F_NESTED, &[]) {
            self.nests.push(a);
        }
        self
    }

    pub fn end_nest(&mut self) -> &mut Self {
        if let Some(a) = self.nests.pop() {
            self.push(a);
        }
        self
    }

    /// The finished message (length field filled in by neli).  A
    /// serialization error (none is possible into memory) is logged and
    /// yields an empty message, which the kernel and every parser here
    /// reject.
    pub fn finish(&mut self) -> Vec<u8> {
        while !self.nests.is_empty() {
            self.end_nest();
        }
        let body = std::mem::take(self.body.get_mut());
        self.body.set_position(0);
        let payload = match self.failed.take() {
            None => Ok(NlPayload::<u16, Buffer>::Payload(Buffer::from(body))),
            Some(e) => Err(e.into()),
        };
        let flags = NlmF::from_bits_retain(self.flags);
        emit_nl("a message", (self.ty, flags, self.seq, self.pid), payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_and_iterators_round_trip() {
        let mut b = MsgBuilder::new(20, NLM_F_MULTI, 7, 9);
        b.raw(&[5, 1, 0, 0]).u32(3, 42).str(1, "pci").begin_nest(9);
        b.u8(1, 1).end_nest();
        let bytes = b.finish();
        let msgs: Vec<_> = messages(&bytes).collect::<Result<_>>().unwrap();
        assert_eq!(msgs.len(), 1);
        let m = msgs[0];
        assert_eq!((m.ty, m.flags, m.seq, m.pid), (20, NLM_F_MULTI, 7, 9));
        let a: Vec<_> = attrs(&m.payload[4..], "t").collect::<Result<_>>().unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(get_u32("x", a[0].1), Ok(42));
        assert_eq!(get_str("x", a[1].1), Ok("pci"));
        assert_eq!(a[2].0, 9);
        let inner: Vec<_> = attrs(a[2].1, "t").collect::<Result<_>>().unwrap();
        assert_eq!(inner, vec![(1, &[1u8][..])]);
    }

    #[test]
    fn truncation_is_reported() {
        let mut b = MsgBuilder::new(20, 0, 0, 0);
        b.u32(3, 1);
        let bytes = b.finish();
        for cut in 1..bytes.len() {
            let r: Result<Vec<_>> = messages(&bytes[..cut]).collect();
            assert!(r.is_err(), "cut at {cut}");
        }
        // A bad attribute length inside a good message.
        let mut bad = bytes.clone();
        bad[16] = 200;
        let m = messages(&bad).next().unwrap().unwrap();
        let e = attrs(m.payload, "ctx").next().unwrap().unwrap_err();
        assert_eq!(e.what, "ctx");
        assert!(matches!(e.kind, ParseErrorKind::Truncated { .. }));
        bad[16] = 2;
        let m = messages(&bad).next().unwrap().unwrap();
        let e = attrs(m.payload, "ctx").next().unwrap().unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::BadHeaderLength(2));
    }

    fn one(bytes: &[u8]) -> NlMsg<'_> {
        messages(bytes).next().unwrap().unwrap()
    }

    #[test]
    fn acks_errors_and_done_through_neli() {
        use crate::netlink::socket::{emit_done, emit_error};
        let b = emit_error(0, 5);
        assert_eq!(one(&b).control(), Ok(Some(Control::Ack)));
        let b = emit_error(libc::ENOENT, 5);
        let m = one(&b);
        assert_eq!((m.ty, m.seq), (NLMSG_ERROR, 5));
        assert_eq!(m.control(), Ok(Some(Control::Error(-libc::ENOENT))));
        let b = emit_done(6, NLM_F_DUMP_INTR);
        let m = one(&b);
        assert_eq!(m.flags, NLM_F_MULTI | NLM_F_DUMP_INTR);
        assert_eq!(m.control(), Ok(Some(Control::Done(0))));
        // A dump that failed part way: NLMSG_DONE carrying -ENOBUFS.
        let mut b = MsgBuilder::new(NLMSG_DONE, NLM_F_MULTI, 6, 0);
        b.raw(&(-libc::ENOBUFS).to_ne_bytes());
        assert_eq!(
            one(&b.finish()).control(),
            Ok(Some(Control::Done(-libc::ENOBUFS)))
        );
        // An empty NLMSG_DONE (some families send one).
        let b = MsgBuilder::new(NLMSG_DONE, NLM_F_MULTI, 6, 0).finish();
        assert_eq!(one(&b).control(), Ok(Some(Control::Done(0))));
        // Other types are not control messages.
        let b = MsgBuilder::new(20, 0, 0, 0).finish();
        assert_eq!(one(&b).control(), Ok(None));
    }

    /// The lengths neli would subtract unchecked are refused first: an
    /// error echoing a header shorter than a header, or longer than the
    /// message, and payloads too short to hold the error code.
    #[test]
    fn malformed_control_messages_are_errors() {
        let err = |code: i32, echoed_len: u32, extra: usize| {
            let mut p = code.to_ne_bytes().to_vec();
            p.extend_from_slice(&echoed_len.to_ne_bytes());
            p.extend_from_slice(&[0u8; 12]);
            p.extend(std::iter::repeat(0u8).take(extra));
            let mut b = MsgBuilder::new(NLMSG_ERROR, 0, 1, 0);
            b.raw(&p);
            b.finish()
        };
        for (code, len, extra) in [(-2, 0, 0), (-2, 15, 0), (-2, 17, 0), (-2, 64, 8)] {
            let b = err(code, len, extra);
            let e = one(&b).control().unwrap_err();
            assert_eq!(e.what, "nlmsgerr echoed header", "{code} {len} {extra}");
        }
        // Well-formed: the echoed request with its payload.
        let b = err(-2, 24, 8);
        assert_eq!(one(&b).control(), Ok(Some(Control::Error(-2))));
        // An ack needs only the echoed header.
        let b = err(0, 9999, 0);
        assert_eq!(one(&b).control(), Ok(Some(Control::Ack)));
        for cut in (0..20).step_by(4) {
            let mut b = MsgBuilder::new(NLMSG_ERROR, 0, 1, 0);
            b.raw(&vec![0u8; cut]);
            let bytes = b.finish();
            assert!(one(&bytes).control().is_err(), "cut {cut}");
        }
        let mut b = MsgBuilder::new(NLMSG_DONE, NLM_F_MULTI, 1, 0);
        b.raw(&[1, 2]);
        let bytes = b.finish();
        // (padded to 4 by the builder: an int of 0x0201)
        assert_eq!(one(&bytes).control(), Ok(Some(Control::Done(0x0201))));
    }

    #[test]
    fn typed_getters_check_lengths() {
        assert!(get_u16("a", &[1]).is_err());
        assert!(get_u32("a", &[1, 2, 3, 4, 5]).is_err());
        assert!(get_u8("a", &[]).is_err());
        assert!(get_str("a", b"abc").is_err());
        assert!(get_str("a", &[0xff, 0]).is_err());
        assert_eq!(get_str("a", b"ab\0\0"), Ok("ab"));
    }
}
