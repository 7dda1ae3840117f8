//! Decisions (module docs of `table`): which changes can change the answer
//! a lookup gives, counted by [`Table::decisions`].

use super::*;

/// A function's plug-ready netdev (settled name, ifindex), or a PF's
/// effective MAC, as it was before the running mutator touched it.
#[derive(Clone, Debug)]
pub(super) enum Touched {
    Answer(IndexKey, Option<Answer>),
    Mac(PfKey, Option<Mac>),
}

/// What [`crate::lookup::lookup`] plugs for one index key: the name and
/// the netdev it is (a netdev re-created under the same name is another).
pub(super) type Answer = (AnswerName, Option<u32>);

/// A plug-ready name as a decision remembers it: inline when it fits (no
/// allocation per event), else boxed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum AnswerName {
    Inline(NetdevName),
    Long(Box<str>),
}

impl AnswerName {
    fn new(name: &str) -> AnswerName {
        NetdevName::new(name).map_or_else(|| AnswerName::Long(Box::from(name)), AnswerName::Inline)
    }
}

/// Decisions (module docs): what a mutator touched, compared once it is
/// done; whole-table comparison for tables swapped in.
impl Table {
    /// The answer under a PF/VF/SF key (`None` for PHYSICAL keys, which no
    /// request resolves to).
    fn answer(&self, key: IndexKey) -> Option<Answer> {
        if matches!(key, IndexKey::Phys(..)) {
            return None;
        }
        let slot = self.indexed(key)?;
        let (name, settled) = self.shown(slot);
        let name = name.filter(|_| settled)?;
        Some((AnswerName::new(name), self.stored(slot).ifindex))
    }

    pub(super) fn note_answer(&mut self, key: IndexKey) {
        if matches!(key, IndexKey::Phys(..))
            || self
                .touched
                .iter()
                .any(|t| matches!(t, Touched::Answer(k, _) if *k == key))
        {
            return;
        }
        let before = self.answer(key);
        self.touched.push(Touched::Answer(key, before));
    }

    pub(super) fn note_mac(&mut self, pf: PfKey) {
        if self
            .touched
            .iter()
            .any(|t| matches!(t, Touched::Mac(k, _) if *k == pf))
        {
            return;
        }
        let before = self.pf_mac.get(&pf).map(|m| m.mac);
        self.touched.push(Touched::Mac(pf, before));
    }

    /// Ends a public mutator: bumps [`Table::decisions`] if it changed an
    /// answer some request had (module docs, "Decisions").  Returns whether
    /// it did.
    pub(super) fn settle_decisions(&mut self) -> bool {
        let touched = std::mem::take(&mut self.touched);
        let changed = touched.iter().any(|t| match t {
            // A refusal turning into an answer (a new function, udev done)
            // is no change: no lport holds it, and hosts ask a declined
            // lport again anyway.
            Touched::Answer(k, before) => before.is_some() && self.answer(*k) != *before,
            Touched::Mac(k, before) => match (before, self.pf_mac.get(k).map(|m| m.mac)) {
                (Some(b), now) => now != Some(*b),
                // A new PF MAC changes nothing held unless another PF
                // already had it (the requests it answered become
                // ambiguous).
                (None, Some(m)) => matches!(self.by_mac.get(&m.as_u64()), Some(PfSet::Many(_))),
                (None, None) => false,
            },
        });
        self.touched = touched;
        self.touched.clear();
        if changed {
            self.decisions += 1;
        }
        changed
    }

    /// Everything a decision depends on, independent of interning and
    /// insertion order.
    fn decision_view(&self) -> DecisionView {
        let pk = |k: &PfKey| (self.dev_handle(k.dev).clone(), k.controller, k.pfnum);
        let mut answers = BTreeMap::new();
        let keys = self
            .pf_port
            .keys()
            .map(|k| IndexKey::Pf(*k))
            .chain(self.vf.keys().map(|(k, n)| IndexKey::Vf(*k, *n)))
            .chain(self.sf.keys().map(|(k, n)| IndexKey::Sf(*k, *n)));
        for key in keys {
            let (k, which) = match key {
                IndexKey::Pf(k) => (k, HitKey::Pf),
                IndexKey::Vf(k, n) => (k, HitKey::Vf(n)),
                IndexKey::Sf(k, n) => (k, HitKey::Sf(n)),
                IndexKey::Phys(..) => continue,
            };
            if let Some(a) = self.answer(key) {
                answers.insert((pk(&k), which), a);
            }
        }
        DecisionView {
            behind: self.behind,
            macs: self.pf_mac.iter().map(|(k, m)| (pk(k), m.mac)).collect(),
            answers,
        }
    }

    /// Whether going from this table to `after` changes a decision (module
    /// docs, "Decisions"): an answer gone or different, a PF MAC gone or
    /// different, a new PF MAC another PF also has, or the behind state
    /// flipped.  The whole-table form of what the mutators count.
    pub fn decision_changed(&self, after: &Table) -> bool {
        let (old, new) = (self.decision_view(), after.decision_view());
        let mac_shared = |m: &Mac| new.macs.values().filter(|x| *x == m).count() > 1;
        old.behind != new.behind
            || old
                .answers
                .iter()
                .any(|(k, a)| new.answers.get(k) != Some(a))
            || old.macs.iter().any(|(k, m)| new.macs.get(k) != Some(m))
            || new
                .macs
                .iter()
                .any(|(k, m)| !old.macs.contains_key(k) && mac_shared(m))
    }

    /// Swaps in a table built afresh (a resync, a re-read snapshot),
    /// carrying [`Table::decisions`] on: bumped once if that changes a
    /// decision ([`Table::decision_changed`]).  Returns whether it was.
    pub fn replace_with(&mut self, mut fresh: Table) -> bool {
        let changed = self.decision_changed(&fresh);
        fresh.decisions = self.decisions + u64::from(changed);
        *self = fresh;
        changed
    }
}

#[derive(Debug, PartialEq, Eq)]
struct DecisionView {
    behind: bool,
    macs: BTreeMap<PkView, Mac>,
    answers: BTreeMap<(PkView, HitKey), Answer>,
}
