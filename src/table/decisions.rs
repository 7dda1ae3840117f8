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

    /// Ends a public mutator: bumps [`Table::decisions`] if anything it
    /// touched differs from before.  Returns whether it did.
    pub(super) fn settle_decisions(&mut self) -> bool {
        let touched = std::mem::take(&mut self.touched);
        let changed = touched.iter().any(|t| match t {
            Touched::Answer(k, before) => self.answer(*k) != *before,
            Touched::Mac(k, before) => self.pf_mac.get(k).map(|m| m.mac) != *before,
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

    /// Whether every request gets the same answer from both tables.
    pub fn same_decisions(&self, other: &Table) -> bool {
        self.decision_view() == other.decision_view()
    }

    /// Swaps in a table built afresh (a resync, a re-read snapshot),
    /// carrying [`Table::decisions`] on: bumped once if some request gets
    /// another answer from `fresh`.  Returns whether it was.
    pub fn replace_with(&mut self, mut fresh: Table) -> bool {
        let changed = !self.same_decisions(&fresh);
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
