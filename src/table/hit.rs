//! The hit index (module docs of `table`): per PF, the plug-ready names of
//! its PCI_PF, VF and SF representors inline, so that a hit hashes two
//! small keys and reads one cache line of names.

use super::*;

/// The hit index: kept in line with the PF/VF/SF indexes and the names
/// they show; read by the hit path.
impl Table {
    /// The name a hit on `slot` plugs, as the hit index stores it: empty
    /// unless [`crate::lookup::lookup`] would return that name.
    pub(super) fn hit_name_of(&self, slot: Option<u32>) -> NetdevName {
        slot.map(|s| self.shown(s))
            .filter(|(_, settled)| *settled)
            .and_then(|(name, _)| name)
            .and_then(NetdevName::new)
            .unwrap_or(NetdevName::EMPTY)
    }

    /// Brings the hit index in line with `key`'s slot and that entry's
    /// name.  Called wherever either changes.
    pub(super) fn sync_hit(&mut self, key: IndexKey) {
        let (k, which) = match key {
            IndexKey::Pf(k) => (k, HitKey::Pf),
            IndexKey::Vf(k, n) => (k, HitKey::Vf(n)),
            IndexKey::Sf(k, n) => (k, HitKey::Sf(n)),
            IndexKey::Phys(..) => return,
        };
        let name = self.hit_name_of(self.indexed(key));
        if name.is_empty() {
            if let Some(h) = self.hits.get_mut(&k) {
                h.clear(which);
                if h.is_empty() {
                    self.hits.remove(&k);
                }
            }
        } else {
            self.hits.entry(k).or_default().set(which, name);
        }
    }

    /// The hit path: the name [`crate::lookup::lookup`] would plug for
    /// (PF MAC, function), from the inline hit index — `None` whenever the
    /// full lookup must decide (a refusal, or a name the index does not
    /// hold inline).  Touches `by_mac` and `hits` (a few entries per device,
    /// hot) and one cache line of a PF's VF/SF names.  Nothing while the
    /// table is behind the kernel.
    #[inline]
    pub fn hit(&self, mac: Mac, function: Function) -> Option<(PfKey, &NetdevName)> {
        if self.behind {
            return None;
        }
        let PfSet::One(k) = self.by_mac.get(&mac.as_u64())? else {
            return None;
        };
        let h = self.hits.get(k)?;
        let name = match function {
            Function::Pf => Some(&h.pf),
            Function::Vf(n) => h.vf.get(u32::from(n)),
            Function::Sf(n) => h.sf.get(n),
        }?;
        (!name.is_empty()).then_some((*k, name))
    }

    /// (dense chunks, sparse entries) of the hit index: memory stays
    /// proportional to the number of ports whatever the VF/SF numbers.
    pub fn hit_index_footprint(&self) -> (usize, usize) {
        self.hits.values().fold((0, 0), |(c, s), h| {
            let (c1, s1) = h.vf.footprint();
            let (c2, s2) = h.sf.footprint();
            (c + c1 + c2, s + s1 + s2)
        })
    }
}

/// Which function of a PF a hit-index entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum HitKey {
    Pf,
    Vf(u16),
    Sf(u32),
}

/// The hit index of one PF.
#[derive(Clone, Debug, Default)]
pub(super) struct PfHits {
    pub(super) pf: NetdevName,
    pub(super) vf: NumIndex,
    pub(super) sf: NumIndex,
}

impl PfHits {
    pub(super) fn set(&mut self, k: HitKey, name: NetdevName) {
        match k {
            HitKey::Pf => self.pf = name,
            HitKey::Vf(n) => self.vf.set(u32::from(n), name),
            HitKey::Sf(n) => self.sf.set(n, name),
        }
    }

    pub(super) fn clear(&mut self, k: HitKey) {
        match k {
            HitKey::Pf => self.pf = NetdevName::EMPTY,
            HitKey::Vf(n) => self.vf.clear(u32::from(n)),
            HitKey::Sf(n) => self.sf.clear(n),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pf.is_empty() && self.vf.is_empty() && self.sf.is_empty()
    }
}

/// Names per function number: VF and SF numbers are small and dense in
/// practice, so numbers below [`DENSE_LIMIT`] live in chunks of
/// [`CHUNK`] inline names (a hit reads one cache line, no hashing, no
/// probe); a chunk exists only while one of its names is set.  Larger
/// numbers (a hostile or odd kernel, user-chosen SF numbers) go to a hash
/// map.  Memory is at most ~1.5 KB per stored name whatever the numbers
/// (one chunk, plus the chunk table of at most `DENSE_LIMIT / CHUNK`
/// pointers), and 16 bytes per name when they are dense.
#[derive(Clone, Debug, Default)]
pub(super) struct NumIndex {
    dense: Vec<Option<Box<[NetdevName; CHUNK]>>>,
    sparse: FastMap<u32, NetdevName>,
}

const CHUNK: usize = 64;
const DENSE_LIMIT: u32 = 4096;

impl NumIndex {
    #[inline]
    pub(super) fn get(&self, n: u32) -> Option<&NetdevName> {
        if n < DENSE_LIMIT {
            let c = self.dense.get(n as usize / CHUNK)?.as_ref()?;
            Some(&c[n as usize % CHUNK])
        } else {
            self.sparse.get(&n)
        }
    }

    pub(super) fn set(&mut self, n: u32, name: NetdevName) {
        if n >= DENSE_LIMIT {
            self.sparse.insert(n, name);
            return;
        }
        let ci = n as usize / CHUNK;
        if self.dense.len() <= ci {
            self.dense.resize(ci + 1, None);
        }
        self.dense[ci].get_or_insert_with(|| Box::new([NetdevName::EMPTY; CHUNK]))
            [n as usize % CHUNK] = name;
    }

    pub(super) fn clear(&mut self, n: u32) {
        if n >= DENSE_LIMIT {
            self.sparse.remove(&n);
            return;
        }
        let ci = n as usize / CHUNK;
        let Some(Some(c)) = self.dense.get_mut(ci) else {
            return;
        };
        c[n as usize % CHUNK] = NetdevName::EMPTY;
        if c.iter().all(NetdevName::is_empty) {
            self.dense[ci] = None;
            while matches!(self.dense.last(), Some(None)) {
                self.dense.pop();
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.dense.is_empty() && self.sparse.is_empty()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (u32, NetdevName)> + '_ {
        let dense = self.dense.iter().enumerate().flat_map(|(ci, c)| {
            c.iter().flat_map(move |c| {
                c.iter()
                    .enumerate()
                    .filter(|(_, n)| !n.is_empty())
                    .map(move |(i, n)| ((ci * CHUNK + i) as u32, *n))
            })
        });
        dense.chain(self.sparse.iter().map(|(&n, &name)| (n, name)))
    }

    pub(super) fn footprint(&self) -> (usize, usize) {
        (self.dense.iter().flatten().count(), self.sparse.len())
    }

    /// No empty chunk, no trailing empty chunk slot, nothing sparse that
    /// belongs dense, no empty sparse name.
    pub(super) fn check(&self) -> Result<(), String> {
        if matches!(self.dense.last(), Some(None)) {
            return Err("trailing empty chunk slot".into());
        }
        if self.dense.len() > DENSE_LIMIT as usize / CHUNK {
            return Err("chunk table beyond the dense limit".into());
        }
        for (ci, c) in self.dense.iter().enumerate() {
            if c.as_ref()
                .is_some_and(|c| c.iter().all(NetdevName::is_empty))
            {
                return Err(format!("empty chunk {ci}"));
            }
        }
        for (&n, name) in &self.sparse {
            if n < DENSE_LIMIT || name.is_empty() {
                return Err(format!("sparse entry {n} {name:?}"));
            }
        }
        Ok(())
    }
}
