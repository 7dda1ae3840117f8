//! Consistency checks: every index against a rebuild of the table from its
//! own ports, and the hit index against the PF/VF/SF indexes.

use super::*;

/// Consistency checks (used by tests after every step).
impl Table {
    /// Verifies every index against the stored ports; used by tests
    /// (property tests call it after each step).  Returns the first
    /// inconsistency found.
    pub fn check(&self) -> Result<(), String> {
        let mut rebuilt = self.empty_like();
        for l in self.links.values() {
            rebuilt.upsert_link(l.clone());
        }
        for e in self.entries() {
            rebuilt.upsert_port(e.port);
        }
        for (&(d, p), &m) in &self.smartnic_mac {
            rebuilt.set_smartnic_pf_mac(self.dev_handle(d), p, Some(m));
        }
        if self.by_id.len() != self.slots.iter().flatten().count() {
            return Err("by_id and slots disagree".into());
        }
        for (&(d, index), &s) in &self.by_id {
            match &self.slots[s as usize] {
                Some(e) if e.dev == d && e.index == index => {}
                _ => {
                    return Err(format!(
                        "by_id[{}/{index}] points at the wrong slot",
                        self.dev_handle(d)
                    ))
                }
            }
        }
        for (s, e) in self.slots.iter().enumerate() {
            let long = self.long_names.get(&(s as u32));
            match e {
                Some(e) if e.long_name != long.is_some() => {
                    return Err(format!("slot {s}: long name flag and map disagree"))
                }
                None if long.is_some() => return Err(format!("free slot {s} has a long name")),
                _ => {}
            }
        }
        let shadowed = self
            .slots
            .iter()
            .enumerate()
            .filter(|(s, e)| {
                e.as_ref().is_some_and(|e| {
                    Self::index_key(e).is_some_and(|k| self.indexed(k) != Some(*s as u32))
                })
            })
            .count();
        if !self.touched.is_empty() {
            return Err("a mutator left touched answers unsettled".into());
        }
        if shadowed != self.shadowed {
            return Err(format!(
                "{} ports counted as shadowed, {shadowed} are",
                self.shadowed
            ));
        }
        self.check_hits()?;
        let ours = self.semantic();
        let theirs = rebuilt.semantic();
        if ours != theirs {
            return Err(format!(
                "indexes differ from a rebuild:\n ours:   {ours:?}\n rebuilt: {theirs:?}"
            ));
        }
        Ok(())
    }

    /// The hit index holds exactly the plug-ready names of the PF/VF/SF
    /// indexes, and no empty PF record or chunk (bounded memory).
    fn check_hits(&self) -> Result<(), String> {
        let mut want: BTreeMap<(PfKey, HitKey), NetdevName> = BTreeMap::new();
        let mut add = |k: PfKey, h: HitKey, slot: u32| {
            let n = self.hit_name_of(Some(slot));
            if !n.is_empty() {
                want.insert((k, h), n);
            }
        };
        for (k, &s) in &self.pf_port {
            add(*k, HitKey::Pf, s);
        }
        for (&(k, n), &s) in &self.vf {
            add(k, HitKey::Vf(n), s);
        }
        for (&(k, n), &s) in &self.sf {
            add(k, HitKey::Sf(n), s);
        }
        let mut have: BTreeMap<(PfKey, HitKey), NetdevName> = BTreeMap::new();
        for (k, h) in &self.hits {
            if h.is_empty() {
                return Err(format!("empty hit record for {k:?}"));
            }
            h.vf.check().map_err(|e| format!("{k:?} VFs: {e}"))?;
            h.sf.check().map_err(|e| format!("{k:?} SFs: {e}"))?;
            if !h.pf.is_empty() {
                have.insert((*k, HitKey::Pf), h.pf);
            }
            for (n, name) in h.vf.iter() {
                have.insert((*k, HitKey::Vf(n as u16)), name);
            }
            for (n, name) in h.sf.iter() {
                have.insert((*k, HitKey::Sf(n)), name);
            }
        }
        if want != have {
            return Err(format!(
                "hit index differs from the PF/VF/SF indexes:\n want: {want:?}\n have: {have:?}"
            ));
        }
        Ok(())
    }

    /// Index contents expressed with port ids and device handles (not slots
    /// or interned numbers), comparable across tables.
    fn semantic(&self) -> Semantic {
        let id = |s: &u32| {
            let (handle, index) = self.slot_id(*s);
            PortId {
                handle: handle.clone(),
                index,
            }
        };
        let pk = |k: &PfKey| (self.dev_handle(k.dev).clone(), k.controller, k.pfnum);
        let mut s = Semantic::default();
        for e in self.entries() {
            s.names
                .push((e.port.id, e.name.map(str::to_owned), e.settled));
        }
        s.names.sort();
        s.pf_port = self.pf_port.iter().map(|(k, v)| (pk(k), id(v))).collect();
        s.physical = self
            .physical
            .iter()
            .map(|((d, p), v)| ((self.dev_handle(*d).clone(), *p), id(v)))
            .collect();
        s.vf = self
            .vf
            .iter()
            .map(|((k, n), v)| ((pk(k), *n), id(v)))
            .collect();
        s.sf = self
            .sf
            .iter()
            .map(|((k, n), v)| ((pk(k), *n), id(v)))
            .collect();
        s.children = self.children.iter().map(|(k, v)| (pk(k), *v)).collect();
        s.pf_mac = self
            .pf_mac
            .iter()
            .map(|(k, m)| (pk(k), (m.mac, m.source.name())))
            .collect();
        s.by_mac = self
            .by_mac
            .iter()
            .map(|(m, set)| {
                // PfSet is sorted by interned device number, which depends
                // on arrival order: compare as sorted handles.
                let mut v: Vec<PkView> = set.keys().iter().map(pk).collect();
                v.sort();
                (*m, v)
            })
            .collect();
        s.ifindex = self.by_ifindex.iter().map(|(i, v)| (*i, id(v))).collect();
        s
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Semantic {
    names: Vec<(PortId, Option<String>, bool)>,
    pf_port: BTreeMap<PkView, PortId>,
    physical: BTreeMap<(DevHandle, u16), PortId>,
    vf: BTreeMap<(PkView, u16), PortId>,
    sf: BTreeMap<(PkView, u32), PortId>,
    children: BTreeMap<PkView, (u32, u32)>,
    pf_mac: BTreeMap<PkView, (Mac, &'static str)>,
    by_mac: BTreeMap<u64, Vec<PkView>>,
    ifindex: BTreeMap<u32, PortId>,
}
