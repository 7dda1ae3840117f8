//! The netdev name type: at most 15 bytes plus NUL, stored inline.

use std::fmt;

/// Linux `IFNAMSIZ`: a netdev name is at most 15 bytes plus its NUL.  The
/// crate's one copy: the netlink parsers use it too (netlink/wire.rs
/// re-exports it; devlink/attrs.rs checks it against the kernel's headers).
pub const IFNAMSIZ: usize = 16;

/// A netdev name stored inline, NUL-padded to [`IFNAMSIZ`] bytes: exactly
/// the C string a hit hands to OVN, copied in one 16-byte move.  Empty
/// means "no plug-ready name" in the hit index.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct NetdevName([u8; IFNAMSIZ]);

impl NetdevName {
    pub const EMPTY: NetdevName = NetdevName([0; IFNAMSIZ]);

    /// `None` for a name a kernel never reports (longer than 15 bytes, or
    /// with a NUL): such a name stays out of the hit index, and the full
    /// lookup serves it.
    pub fn new(name: &str) -> Option<NetdevName> {
        let b = name.as_bytes();
        if b.len() >= IFNAMSIZ || b.contains(&0) {
            return None;
        }
        let mut out = [0u8; IFNAMSIZ];
        out[..b.len()].copy_from_slice(b);
        Some(NetdevName(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0[0] == 0
    }

    /// The name as text (made from a `&str` without NUL, so it is valid).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The name plus NUL padding: a valid C string of `IFNAMSIZ` bytes.
    pub fn as_c_bytes(&self) -> &[u8; IFNAMSIZ] {
        &self.0
    }

    pub fn as_bytes(&self) -> &[u8] {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
        &self.0[..len]
    }

    /// The name as text (it was made from a `&str`, so this is lossless).
    pub fn to_text(&self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }
}

impl fmt::Debug for NetdevName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_text(), f)
    }
}
