//! A small multiplicative hasher for the table's integer keys.
//!
//! The lookup hit path hashes a MAC (u64) and a (PF, function number) pair on
//! every `prepare` call.  std's SipHash costs ~20 ns per key and protects
//! against HashDoS, which does not apply here: keys are kernel port numbers
//! and MACs the kernel reports, not attacker-chosen strings, and the maps
//! are bounded by the number of devlink ports.  This is the FxHash scheme
//! (rustc's), with a final avalanche so that sequential VF numbers spread
//! over hashbrown's top-7-bit control bytes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // Fold the high bits down: hashbrown uses the top 7 bits as a tag and
        // the low bits as the bucket index.
        let h = self.0;
        h ^ (h >> 29) ^ (h >> 47)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64)
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64)
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64)
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i)
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64)
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash>(t: T) -> u64 {
        BuildHasherDefault::<FastHasher>::default().hash_one(t)
    }

    #[test]
    fn distinct_small_keys_hash_apart() {
        let mut seen = std::collections::HashSet::new();
        for vf in 0u16..4096 {
            assert!(
                seen.insert(hash((7u32, 1u32, 0u16, vf))),
                "collision at {vf}"
            );
        }
    }

    #[test]
    fn top_bits_vary_for_sequential_keys() {
        let tags: std::collections::HashSet<u64> = (0u32..256).map(|i| hash(i) >> 57).collect();
        assert!(tags.len() > 64, "only {} distinct tags", tags.len());
    }
}
