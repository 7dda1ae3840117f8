//! Reading OVS `struct smap`s by their layout.
//!
//! How the library reaches OVS's smap functions: it does not.  An smap is a
//! plain hmap of `smap_node`s whose layout is part of OVS's stable headers,
//! so we walk the buckets read-only instead of calling `smap_get()` from the
//! host executable.  That keeps the provider loadable by any host (our tests
//! `dlopen` it from plain C without libopenvswitch), costs no symbol lookups,
//! and needs no hash function: the options maps hold a handful of entries,
//! so a walk is as cheap as a hashed get.  We never write OVS containers:
//! `ctx_out->iface_options` stays the empty map OVN initialised (this
//! provider maintains no Interface options), so no OVS allocator is needed.

use std::borrow::Cow;
use std::ffi::CStr;

use super::types::{hmap_node, smap, smap_node};

/// Walks an smap's nodes in bucket order.  Cloning before the first
/// `next` gives a second walk of the whole map.
#[derive(Clone)]
pub struct Nodes<'a> {
    buckets: &'a [*mut hmap_node],
    bucket: usize,
    node: *const hmap_node,
    /// Nodes still allowed: a corrupted chain cannot loop forever.
    budget: usize,
}

/// # Safety
/// `map` must be NULL or point to an initialised `struct smap` (as built by
/// `smap_init` / `smap_clone`) that stays unmodified for `'a`; its keys and
/// values must be NULL or NUL-terminated strings.
pub unsafe fn nodes<'a>(map: *const smap) -> Nodes<'a> {
    let mut it = Nodes {
        buckets: &[],
        bucket: 0,
        node: std::ptr::null(),
        budget: 0,
    };
    // SAFETY: the caller guarantees `map` is valid or NULL.
    let Some(m) = (unsafe { map.as_ref() }) else {
        return it;
    };
    let h = &m.map;
    if h.buckets.is_null() || h.n == 0 {
        return it;
    }
    // SAFETY: an initialised hmap has `mask + 1` bucket pointers at
    // `buckets` (for mask 0 that is `&one`), alive as long as the map.
    it.buckets = unsafe { std::slice::from_raw_parts(h.buckets.cast_const(), h.mask + 1) };
    it.budget = h.n;
    it
}

impl<'a> Iterator for Nodes<'a> {
    type Item = &'a smap_node;

    fn next(&mut self) -> Option<&'a smap_node> {
        while self.node.is_null() {
            if self.bucket >= self.buckets.len() || self.budget == 0 {
                return None;
            }
            self.node = self.buckets[self.bucket];
            self.bucket += 1;
        }
        if self.budget == 0 {
            return None;
        }
        self.budget -= 1;
        // SAFETY: every node in an smap's hmap is the first member of an
        // `smap_node` (OVS's SMAP layout), valid for 'a per `nodes`'s
        // contract.
        let node = unsafe { &*self.node.cast::<smap_node>() };
        self.node = node.node.next;
        Some(node)
    }
}

/// The (key, value) pairs of an smap as text.
///
/// # Safety
/// As [`nodes`].
pub unsafe fn iter<'a>(
    map: *const smap,
) -> impl Iterator<Item = (Cow<'a, str>, Cow<'a, str>)> + Clone {
    // SAFETY: per this function's contract.
    unsafe { nodes(map) }.map(|n| {
        // SAFETY: smap keys and values are NUL-terminated strings owned by
        // the node (xstrdup'ed by smap_add), valid for 'a per `nodes`.
        unsafe { (cstr(n.key), cstr(n.value)) }
    })
}

/// A C string as text: NULL reads as "", invalid UTF-8 is replaced (and so
/// never parses as an option value).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for `'a`.
pub unsafe fn cstr<'a>(p: *const std::os::raw::c_char) -> Cow<'a, str> {
    if p.is_null() {
        return Cow::Borrowed("");
    }
    // SAFETY: per the function's contract.
    text_of(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// Bytes as text, borrowing when they are valid UTF-8.  ASCII (every real
/// option and lport name) is recognised with a few word compares, cheaper
/// than `from_utf8_lossy`'s per-character walk on the hot path.
pub fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        return Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ovs as testing;

    fn collect(m: *const smap) -> Vec<(String, String)> {
        // SAFETY: test maps are built by `testing::build` and outlive the call.
        let mut v: Vec<(String, String)> = unsafe { iter(m) }
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn walks_every_bucket_and_chain() {
        let pairs = [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")];
        for mask in [0usize, 1, 3, 7] {
            let m = testing::build(&pairs, mask);
            let got = collect(&*m.map);
            let want: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, want, "mask {mask}");
        }
    }

    #[test]
    fn null_and_empty_maps_are_empty() {
        assert!(collect(std::ptr::null()).is_empty());
        let m = testing::build::<&str, &str>(&[], 0);
        assert!(collect(&*m.map).is_empty());
    }

    #[test]
    fn a_lying_count_cannot_loop_forever() {
        let mut bad = testing::build(&[("a", "1"), ("b", "2")], 0);
        // Make the chain circular; n still says 2.
        // SAFETY: test-only manipulation of a map we own.
        unsafe {
            let head = *bad.map.map.buckets;
            let second = (*head).next;
            (*second).next = head;
        }
        assert_eq!(collect(&*bad.map).len(), 2);
        bad.map.map.n = 5;
        assert_eq!(collect(&*bad.map).len(), 5, "bounded by n, never infinite");
    }
}
