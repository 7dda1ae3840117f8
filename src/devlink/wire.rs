//! Netlink framing shared by the devlink and rtnetlink code: bounds-checked
//! views over received bytes (`nlmsghdr`, `nlattr`) and a small builder
//! that emits the same layout (requests, and byte fixtures in tests).
//!
//! Nothing here trusts a length field: every read is checked against the
//! slice it comes from, and a violation is a [`ParseError`] naming what was
//! being read.

use std::fmt;

/// `struct nlmsghdr` is 16 bytes; messages and attributes are 4-aligned.
pub const NLMSG_HDRLEN: usize = 16;
pub const NLA_HDRLEN: usize = 4;
/// The flag bits of `nla_type` (`NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`).
pub const NLA_TYPE_MASK: u16 = 0x3fff;
pub const NLA_F_NESTED: u16 = 0x8000;

pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_DUMP: u16 = 0x300;

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

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
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

impl<'a> Iterator for Messages<'a> {
    type Item = Result<NlMsg<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let b = self.rest;
        let fail = |s: &mut Self, e: ParseError| {
            s.failed = true;
            Some(Err(e))
        };
        if b.len() < NLMSG_HDRLEN {
            let e = ParseError::new(
                "nlmsghdr",
                ParseErrorKind::Truncated {
                    need: NLMSG_HDRLEN,
                    have: b.len(),
                },
            );
            return fail(self, e);
        }
        let len = u32_at(b, 0) as usize;
        if len < NLMSG_HDRLEN {
            return fail(
                self,
                ParseError::new("nlmsghdr", ParseErrorKind::BadHeaderLength(len)),
            );
        }
        if len > b.len() {
            let e = ParseError::new(
                "nlmsghdr",
                ParseErrorKind::Truncated {
                    need: len,
                    have: b.len(),
                },
            );
            return fail(self, e);
        }
        let msg = NlMsg {
            ty: u16_at(b, 4),
            flags: u16_at(b, 6),
            seq: u32_at(b, 8),
            pid: u32_at(b, 12),
            payload: &b[NLMSG_HDRLEN..len],
        };
        self.rest = &b[align4(len).min(b.len())..];
        Some(Ok(msg))
    }
}

/// Iterates the attributes of a payload.  Yields `(type & NLA_TYPE_MASK,
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

/// The errno of an `NLMSG_ERROR` payload (`struct nlmsgerr`: int error +
/// the offending header); 0 is an ACK.
pub fn error_code(payload: &[u8]) -> Result<i32> {
    if payload.len() < 4 {
        return Err(ParseError::new(
            "nlmsgerr",
            ParseErrorKind::Truncated {
                need: 4,
                have: payload.len(),
            },
        ));
    }
    Ok(i32::from_ne_bytes([
        payload[0], payload[1], payload[2], payload[3],
    ]))
}

// ---- emit side ----

/// Builds one netlink message.  Attribute helpers mirror the `get_*`
/// parsers above byte for byte.
#[derive(Clone, Debug, Default)]
pub struct MsgBuilder {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl MsgBuilder {
    pub fn new(ty: u16, flags: u16, seq: u32, pid: u32) -> MsgBuilder {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&ty.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&pid.to_ne_bytes());
        MsgBuilder {
            buf,
            nests: Vec::new(),
        }
    }

    /// Raw bytes after the header (a family header such as genlmsghdr or
    /// ifinfomsg), padded to 4.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    pub fn attr(&mut self, ty: u16, payload: &[u8]) -> &mut Self {
        let len = (NLA_HDRLEN + payload.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        self.pad();
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

    pub fn str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut p = Vec::with_capacity(s.len() + 1);
        p.extend_from_slice(s.as_bytes());
        p.push(0);
        self.attr(ty, &p)
    }

    /// Opens a nested attribute (`NLA_F_NESTED` set, as the kernel's
    /// `nla_nest_start` does); close it with [`MsgBuilder::end_nest`].
    pub fn begin_nest(&mut self, ty: u16) -> &mut Self {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        self
    }

    pub fn end_nest(&mut self) -> &mut Self {
        if let Some(at) = self.nests.pop() {
            let len = (self.buf.len() - at) as u16;
            self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    /// The finished message (length field filled in).
    pub fn finish(&mut self) -> Vec<u8> {
        while !self.nests.is_empty() {
            self.end_nest();
        }
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        std::mem::take(&mut self.buf)
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
