//! The hasher of the table's and the claims' maps, chosen here once:
//! foldhash's fast hasher with a fixed seed (the `foldhash` crate, pinned
//! in Cargo.toml).
//!
//! The lookup hit path hashes a MAC (u64) and a PF key (three integers) on
//! every `prepare` call; std's SipHash costs ~20 ns per key.  foldhash
//! gathers up to 128 bits of integer input and mixes them with one folded
//! 64×64→128-bit multiply, so hashbrown's bucket index (low bits) and tag
//! (top 7 bits) both vary for sequential keys (VF numbers, ifindexes, port
//! indexes): the tests below check it.  It replaced a hand-written FxHash
//! variant; rustc-hash 2.x (FxHash, one multiply per integer) was tried
//! too and spreads sequential integer keys worse (56 distinct tags of 128
//! for 256 sequential keys, 1,998 buckets of 4,096 for 4,096 keys: below
//! what a random function gives, ~110 and ~2,590).  BENCHMARKS.md, "Issue
//! 13", gives the hit path's instructions before and after.
//!
//! HashDoS: a hasher whose seed is known lets whoever chooses the keys
//! make them collide.  Every key these maps *store* comes from the kernel
//! (devlink port indexes, PF/VF/SF and controller numbers, ifindexes, the
//! PF MACs devlink and the uplinks report, device handles) or is an lport
//! name from OVN's southbound database (claims); none is chosen by a
//! tenant or a remote peer, and the maps are bounded by the number of
//! devlink ports and plugged lports.  Requests from OVN (`pf-mac`,
//! `vf-num`) are only looked up, never inserted, so they cannot build a
//! collision chain.  Whoever can choose port numbers, MACs or southbound
//! lport names can already plug or unplug anything.  A fixed seed also
//! keeps iteration order, and so every test and benchmark, the same from
//! run to run.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

/// How the maps build their hasher (see the module docs).
pub type FastState = foldhash::fast::FixedState;

pub type FastMap<K, V> = HashMap<K, V, FastState>;

/// The hash of one value, as the maps compute it.
#[inline]
pub fn hash_one<T: Hash>(t: T) -> u64 {
    FastState::default().hash_one(t)
}

#[cfg(test)]
mod tests {
    use super::hash_one as hash;

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

    /// hashbrown's bucket index is the low bits: sequential keys must not
    /// pile into a few buckets of a 4,096-bucket table.
    #[test]
    fn low_bits_spread_sequential_keys() {
        let buckets: std::collections::HashSet<u64> =
            (0u32..4096).map(|i| hash(i) & 4095).collect();
        assert!(buckets.len() > 2048, "only {} buckets", buckets.len());
    }
}
