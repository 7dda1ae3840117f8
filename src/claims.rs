//! One function, one lport: which lport a representor (a PF, VF or SF
//! function) is handed to.  Pure logic.
//!
//! Two Logical_Switch_Ports with the same `pf-mac` and `vf-num` resolve to
//! the same netdev.  If both were answered, ovn-controller would rewrite
//! that Interface's `external_ids:iface-id` between them on every
//! iteration (controller/vif-plug.c: `consider_plug_lport` finds the
//! Interface by name and updates it), and the VM's traffic would alternate
//! between two tenants' ports.  So a function is handed to one lport at a
//! time:
//! - the first lport that resolves to a free function holds it;
//! - the holder keeps it until its PLUG_OP_REMOVE, or until it stops
//!   asking; any other lport is refused (`function-claimed`);
//! - "stops asking": ovn-controller calls prepare(CREATE) for every plugged
//!   lport in every `vif_plug_run`, so a holder that is still plugged asks
//!   once per run in which any contender asks.  A contender that asked
//!   [`TAKEOVER_ASKS`] times without the holder asking once in between has
//!   seen a whole run without the holder (the run between its first and
//!   last ask), whatever order OVN walks the lports in: the holder was
//!   deleted without a REMOVE, or its vif-plug options were withdrawn (OVN
//!   issue 312, which ovn-patch 0006 turns into a REMOVE), or its request
//!   names another function or none (another pf-mac, invalid options).  On
//!   that ask the contender takes the function over.  A holder refused for
//!   a moment while its request still names the function (the representor
//!   is being re-created, or udev is naming it) is still asking.
//!   OVN with ovn-patch 0008 asks a plugged lport only after `run`
//!   reported a change, so the provider reports each refusal of a
//!   contender and each takeover (`Provider::claim`): the next iteration
//!   asks every plugged lport, the holder among them.
//!
//! Claims are keyed by the function's identity (devlink device, controller,
//! PF number, VF/SF number), never by netdev name, and survive a rebuilt
//! table.  They live in memory: after ovn-controller restarts, the first
//! lport to ask gets the function, and ovn-controller's `vif_plug_run`
//! walks the Interfaces already in br-int before the Port_Bindings, so the
//! lport whose Interface carries the netdev asks first and keeps it.
//!
//! Bounded: at most [`MAX_CLAIMS`] claims (more lports than that hold
//! functions only if holders vanish without a REMOVE; then the claims whose
//! holders have not asked for the longest are dropped, with a warning), at
//! most [`MAX_CONTESTS`] pending contenders, and an lport name is kept to
//! its first [`NAME_KEEP`] bytes plus a keyed digest of the rest.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use crate::fasthash::FastMap;
use crate::logging::untrusted;
use crate::options::Function;
use crate::port::DevHandle;
use crate::table::{PfKey, Table};

/// A contender takes a function over on its this-many-th ask without the
/// holder asking in between (module docs).
pub const TAKEOVER_ASKS: u32 = 3;
/// Most claims kept.
pub const MAX_CLAIMS: usize = 1 << 18;
/// Most pending contenders kept.
pub const MAX_CONTESTS: usize = 4096;
/// Bytes of an lport name kept verbatim; a longer name is kept as these
/// bytes, its length and a keyed digest of the whole.
pub const NAME_KEEP: usize = 256;

/// An lport's identity, bounded in size: the name itself up to
/// [`NAME_KEEP`] bytes, else its first bytes, its length and a SipHash
/// digest with a per-process random key (a crafted name cannot collide
/// with another on purpose).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LportId {
    head: Box<str>,
    len: usize,
    digest: u64,
}

fn digest_of(name: &str) -> u64 {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    KEY.get_or_init(RandomState::new).hash_one(name)
}

/// The longest prefix of `s` of at most `max` bytes ending on a character
/// boundary.
pub fn head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl LportId {
    pub fn new(name: &str) -> LportId {
        let h = head(name, NAME_KEEP);
        LportId {
            head: h.into(),
            len: name.len(),
            digest: if h.len() == name.len() {
                0
            } else {
                digest_of(name)
            },
        }
    }

    /// The kept part of the name (all of it up to [`NAME_KEEP`] bytes).
    pub fn head(&self) -> &str {
        &self.head
    }

    /// Whether this is `name`'s identity; for a name of at most
    /// [`NAME_KEEP`] bytes, one length check and one comparison.
    #[inline]
    pub fn is(&self, name: &str) -> bool {
        name.len() == self.len
            && name.as_bytes().starts_with(self.head.as_bytes())
            && (self.head.len() == self.len || digest_of(name) == self.digest)
    }
}

impl fmt::Display for LportId {
    /// The name for logs ([`untrusted`]: escaped and capped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = head(&self.head, crate::logging::UNTRUSTED_MAX);
        f.write_str(&untrusted(shown))?;
        if shown.len() < self.len {
            write!(f, "…[+{} bytes]", self.len - shown.len())?;
        }
        Ok(())
    }
}

/// A function's identity, stable across table rebuilds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FnId {
    pub dev: DevHandle,
    pub controller: u32,
    pub pfnum: u16,
    pub function: Function,
}

impl FnId {
    pub fn of(table: &Table, pf: PfKey, function: Function) -> FnId {
        FnId {
            dev: table.dev_handle(pf.dev).clone(),
            controller: pf.controller,
            pfnum: pf.pfnum,
            function,
        }
    }
}

impl fmt::Display for FnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = format!("c{}pf{}", self.controller, self.pfnum);
        match self.function {
            Function::Pf => write!(f, "{} {p}", self.dev),
            Function::Vf(n) => write!(f, "{} {p}vf{n}", self.dev),
            Function::Sf(n) => write!(f, "{} {p}sf{n}", self.dev),
        }
    }
}

/// The hit path's key: a function in the current table's terms.
type HotKey = (PfKey, Function);

/// Bytes of the holder's name the hit index keeps inline.
const HOT_NAME: usize = 40;

/// The hit path's record of a claim: the slot, and the holder's name inline
/// (up to [`HOT_NAME`] bytes; a longer one is compared in the slot), so a
/// hit touches the index entry only.  `seen` is the holder's last ask while
/// the entry exists (the slot's `seen` may be older: [`Claims::seen`]).
#[derive(Debug, Clone, Copy)]
struct Hot {
    slot: u32,
    len: u32,
    seen: u64,
    name: [u8; HOT_NAME],
}

impl Hot {
    fn new(slot: u32, holder: &LportId, seen: u64) -> Hot {
        let mut name = [0u8; HOT_NAME];
        let n = holder.head.len().min(HOT_NAME);
        name[..n].copy_from_slice(&holder.head.as_bytes()[..n]);
        Hot {
            slot,
            len: holder.len as u32,
            seen,
            name,
        }
    }
}

#[derive(Debug)]
struct Claim {
    holder: LportId,
    id: FnId,
    /// The provider's prepare count at the holder's last ask.
    seen: u64,
    /// Its key in `hot`, when entered there for the current table.
    hot: Option<HotKey>,
    /// What the holder was last answered on the full path.
    grant: Option<Grant>,
}

/// The answer a holder was last given on the full path: its request, the
/// netdev name and that netdev's ifindex.  During an outage or while the
/// table is behind, the provider answers the holder with it again if that
/// name still is that netdev (src/provider.rs, "When the source is
/// unavailable").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub req: crate::options::Request,
    pub name: String,
    pub ifindex: u32,
}

#[derive(Debug)]
struct Contest {
    id: FnId,
    /// The holder's `seen` when this contender started counting.
    holder_seen: u64,
    asks: u32,
    /// Prepare count at this contender's last ask (eviction order).
    last: u64,
}

/// What [`Claims::claim`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The lport holds the function (already, or from now on).
    Granted {
        /// A function it held before and gave up by asking for this one.
        moved_from: Option<FnId>,
    },
    /// The lport took the function over from a holder that stopped asking.
    TakenOver { from: LportId },
    /// Another lport holds it.
    Refused { holder: LportId, asks: u32 },
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Claims {
    slab: Vec<Option<Claim>>,
    free: Vec<u32>,
    by_fn: HashMap<FnId, u32>,
    by_lport: HashMap<LportId, u32>,
    /// The hit path's index, valid for table instance `hot_table`.
    hot: FastMap<HotKey, Hot>,
    hot_table: u64,
    contests: HashMap<LportId, Contest>,
}

impl Claims {
    pub fn new() -> Claims {
        Claims::default()
    }

    pub fn len(&self) -> usize {
        self.by_fn.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_fn.is_empty()
    }

    pub fn contests(&self) -> usize {
        self.contests.len()
    }

    /// The hit path: true when `lport` holds `function` of `pf` in the table
    /// `table_instance` (recording the ask at `seq`); false means "ask
    /// [`Claims::claim`]".
    #[inline]
    pub fn hit(
        &mut self,
        table_instance: u64,
        pf: PfKey,
        function: Function,
        lport: &str,
        seq: u64,
    ) -> bool {
        if table_instance != self.hot_table {
            return false;
        }
        let Some(h) = self.hot.get_mut(&(pf, function)) else {
            return false;
        };
        let len = h.len as usize;
        let holder = if len <= HOT_NAME {
            lport.len() == len && h.name[..len] == *lport.as_bytes()
        } else {
            matches!(self.slab.get(h.slot as usize), Some(Some(c)) if c.holder.is(lport))
        };
        if holder {
            h.seen = seq;
        }
        holder
    }

    /// The holder's last ask for the claim in `slot`.
    fn seen(&self, slot: u32) -> u64 {
        let Some(Some(c)) = self.slab.get(slot as usize) else {
            return 0;
        };
        match c.hot.and_then(|k| self.hot.get(&k)) {
            Some(h) if h.slot == slot => c.seen.max(h.seen),
            _ => c.seen,
        }
    }

    /// Empties the hit index (a new table), keeping what it knew.
    fn clear_hot(&mut self) {
        for h in self.hot.values() {
            if let Some(Some(c)) = self.slab.get_mut(h.slot as usize) {
                c.seen = c.seen.max(h.seen);
            }
        }
        self.hot.clear();
        for c in self.slab.iter_mut().flatten() {
            c.hot = None;
        }
    }

    /// Drops the hit index entry of `slot`, keeping its `seen`.
    fn unhot(&mut self, slot: u32) {
        let Some(Some(c)) = self.slab.get_mut(slot as usize) else {
            return;
        };
        if let Some(k) = c.hot.take() {
            if let Some(h) = self.hot.get(&k) {
                if h.slot == slot {
                    c.seen = c.seen.max(h.seen);
                    self.hot.remove(&k);
                }
            }
        }
    }

    /// `lport` resolved to `function` of `pf` at prepare number `seq`: may
    /// it have it?
    pub fn claim(
        &mut self,
        table: &Table,
        pf: PfKey,
        function: Function,
        lport: &str,
        seq: u64,
    ) -> Decision {
        if table.instance() != self.hot_table {
            // A new table: its device numbers may differ.
            self.clear_hot();
            self.hot_table = table.instance();
        }
        let id = FnId::of(table, pf, function);
        let hot = (pf, function);
        let who = LportId::new(lport);
        if let Some(&i) = self.by_fn.get(&id) {
            let holder_seen = self.seen(i);
            let c = self.slab[i as usize].as_mut().expect("claim index");
            if c.holder == who {
                c.seen = seq;
                let h = Hot::new(i, &c.holder, seq);
                self.unhot(i);
                let c = self.slab[i as usize].as_mut().expect("claim index");
                c.hot = Some(hot);
                self.hot.insert(hot, h);
                self.contests.remove(&who);
                return Decision::Granted { moved_from: None };
            }
            let holder = c.holder.clone();
            let asks = match self.contests.get_mut(&who) {
                Some(k) if k.id == id && k.holder_seen == holder_seen => {
                    k.asks += 1;
                    k.last = seq;
                    k.asks
                }
                _ => {
                    if self.contests.len() >= MAX_CONTESTS && !self.contests.contains_key(&who) {
                        self.evict_contests();
                    }
                    self.contests.insert(
                        who.clone(),
                        Contest {
                            id: id.clone(),
                            holder_seen,
                            asks: 1,
                            last: seq,
                        },
                    );
                    1
                }
            };
            if asks < TAKEOVER_ASKS {
                return Decision::Refused { holder, asks };
            }
            // The holder stopped asking: hand the function over.
            self.contests.remove(&who);
            let from = holder;
            self.by_lport.remove(&from);
            self.release(lport);
            self.unhot(i);
            let h = Hot::new(i, &who, seq);
            let c = self.slab[i as usize].as_mut().expect("claim index");
            c.holder = who.clone();
            c.seen = seq;
            c.hot = Some(hot);
            c.grant = None;
            self.by_lport.insert(who, i);
            self.hot.insert(hot, h);
            return Decision::TakenOver { from };
        }
        // A free function.
        self.contests.remove(&who);
        let moved_from = self.release(lport);
        if self.by_fn.len() >= MAX_CLAIMS {
            self.evict_claims();
        }
        let claim = Claim {
            holder: who.clone(),
            id: id.clone(),
            seen: seq,
            hot: Some(hot),
            grant: None,
        };
        // A stale entry under this key (its claim was for the function in
        // an older table) must go: the key means this function now.
        if let Some(old) = self.hot.get(&hot).map(|h| h.slot) {
            self.unhot(old);
        }
        let i = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Some(claim);
                i
            }
            None => {
                self.slab.push(Some(claim));
                (self.slab.len() - 1) as u32
            }
        };
        let h = Hot::new(i, &who, seq);
        self.by_fn.insert(id, i);
        self.by_lport.insert(who, i);
        self.hot.insert(hot, h);
        Decision::Granted { moved_from }
    }

    /// `lport` asked for `function` of `pf` but was refused for another
    /// reason (the representor is being re-created, udev has not finished
    /// naming it): if that is the function it holds, it is still asking and
    /// keeps it.  A request that names another function, or none (an
    /// unknown pf-mac, invalid options), is not asking for it.
    pub fn asked(&mut self, table: &Table, pf: PfKey, function: Function, lport: &str, seq: u64) {
        if self.by_lport.is_empty() {
            return;
        }
        if let Some(&i) = self.by_lport.get(&LportId::new(lport)) {
            if let Some(c) = self.slab[i as usize].as_mut() {
                if c.id == FnId::of(table, pf, function) {
                    c.seen = c.seen.max(seq);
                }
            }
        }
    }

    /// The function `lport` holds, if any.
    pub fn held(&self, lport: &str) -> Option<&FnId> {
        let i = *self.by_lport.get(&LportId::new(lport))?;
        self.slab[i as usize].as_ref().map(|c| &c.id)
    }

    /// Records what the holder `lport` was just answered (after a
    /// [`Decision::Granted`] or [`Decision::TakenOver`] for it).
    pub fn set_grant(&mut self, lport: &str, grant: Grant) {
        if let Some(&i) = self.by_lport.get(&LportId::new(lport)) {
            if let Some(c) = self.slab[i as usize].as_mut() {
                c.grant = Some(grant);
            }
        }
    }

    /// The function `lport` holds and its last answer, recording an ask at
    /// `seq` (the holder is still asking while it is answered so).
    pub fn held_grant(&mut self, lport: &str, seq: u64) -> Option<(&FnId, &Grant)> {
        let i = *self.by_lport.get(&LportId::new(lport))?;
        let c = self.slab[i as usize].as_mut()?;
        c.seen = c.seen.max(seq);
        let c = self.slab[i as usize].as_ref()?;
        Some((&c.id, c.grant.as_ref()?))
    }

    /// Drops whatever `lport` holds or contends for (its REMOVE); returns
    /// the function it held.
    pub fn release(&mut self, lport: &str) -> Option<FnId> {
        let who = LportId::new(lport);
        self.contests.remove(&who);
        let i = self.by_lport.remove(&who)?;
        self.unhot(i);
        let c = self.slab[i as usize].take().expect("claim index");
        self.free.push(i);
        self.by_fn.remove(&c.id);
        Some(c.id)
    }

    /// At the cap: drops the eighth of the claims whose holders have not
    /// asked for the longest.  Reached only when holders vanish without a
    /// REMOVE by the hundred thousand.
    fn evict_claims(&mut self) {
        self.clear_hot();
        let mut seen: Vec<(u64, String)> = self
            .slab
            .iter()
            .flatten()
            .map(|c| (c.seen, c.holder.head.to_string()))
            .collect();
        seen.sort_unstable();
        let n = (seen.len() / 8).max(1);
        log::warn!(
            "{} function claims kept (the most): dropping the {n} whose lports have not asked for the longest",
            seen.len()
        );
        let cut = seen[n - 1].0;
        let old: Vec<LportId> = self
            .slab
            .iter()
            .flatten()
            .filter(|c| c.seen <= cut)
            .map(|c| c.holder.clone())
            .collect();
        for who in old {
            if let Some(i) = self.by_lport.remove(&who) {
                if let Some(c) = self.slab[i as usize].take() {
                    self.free.push(i);
                    self.by_fn.remove(&c.id);
                }
            }
        }
    }

    /// At the cap: drops the half of the contenders that asked least
    /// recently (one that asks again starts counting again).
    fn evict_contests(&mut self) {
        let mut last: Vec<u64> = self.contests.values().map(|c| c.last).collect();
        last.sort_unstable();
        let cut = last[last.len() / 2];
        self.contests.retain(|_, c| c.last > cut);
    }

    /// Internal consistency (tests; `Provider::reload` after a caught panic).
    pub fn check(&self) -> Result<(), String> {
        let live = self.slab.iter().flatten().count();
        if live != self.by_fn.len() || live != self.by_lport.len() {
            return Err(format!(
                "{live} claims, {} by function, {} by lport",
                self.by_fn.len(),
                self.by_lport.len()
            ));
        }
        for (i, c) in self.slab.iter().enumerate() {
            let Some(c) = c else { continue };
            let i = i as u32;
            if self.by_fn.get(&c.id) != Some(&i) || self.by_lport.get(&c.holder) != Some(&i) {
                return Err(format!("claim {i} ({}) not indexed", c.id));
            }
        }
        for (k, h) in &self.hot {
            match self.slab.get(h.slot as usize) {
                Some(Some(c))
                    if c.hot == Some(*k)
                        && h.len as usize == c.holder.len
                        && c.holder
                            .head
                            .as_bytes()
                            .starts_with(&h.name[..(h.len as usize).min(HOT_NAME)]) => {}
                _ => return Err(format!("hot entry {k:?} -> {} is stale", h.slot)),
            }
        }
        if self.contests.len() > MAX_CONTESTS || self.by_fn.len() > MAX_CLAIMS {
            return Err("over the bounds".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAP: &str = "\
port pci/0000:03:00.0/2 flavour pcipf controller 1 pfnum 0 external hw_addr 00:53:00:00:10:00 netdev c1pf0 ifindex 12
port pci/0000:03:00.0/4 flavour pcivf controller 1 pfnum 0 vfnum 3 external netdev c1pf0vf3 ifindex 14
port pci/0000:03:00.0/5 flavour pcivf controller 1 pfnum 0 vfnum 4 external netdev c1pf0vf4 ifindex 15
";

    fn table() -> (Table, PfKey) {
        let t = crate::snapshot::parse(SNAP, crate::table::LinkPolicy::TrustDevlink).unwrap();
        let pf = PfKey {
            dev: t.dev_index(&DevHandle::new("pci", "0000:03:00.0")).unwrap(),
            controller: 1,
            pfnum: 0,
        };
        (t, pf)
    }

    fn granted(d: Decision) -> bool {
        matches!(d, Decision::Granted { .. } | Decision::TakenOver { .. })
    }

    #[test]
    fn one_holder_per_function_until_release() {
        let (t, pf) = table();
        let mut c = Claims::new();
        let f = Function::Vf(3);
        assert!(granted(c.claim(&t, pf, f, "a", 1)));
        assert!(c.hit(t.instance(), pf, f, "a", 2));
        assert!(!c.hit(t.instance(), pf, f, "b", 3));
        for seq in 4..20 {
            // The holder asks between every two contending asks.
            assert!(matches!(
                c.claim(&t, pf, f, "b", seq * 2),
                Decision::Refused { .. }
            ));
            assert!(c.hit(t.instance(), pf, f, "a", seq * 2 + 1));
        }
        assert_eq!(
            c.release("a").map(|f| f.to_string()).as_deref(),
            Some("pci/0000:03:00.0 c1pf0vf3")
        );
        assert!(!c.hit(t.instance(), pf, f, "a", 50));
        assert_eq!(
            c.claim(&t, pf, f, "b", 51),
            Decision::Granted { moved_from: None }
        );
        assert!(c.contests() == 0);
        c.check().unwrap();
    }

    #[test]
    fn takeover_needs_three_asks_without_the_holder() {
        let (t, pf) = table();
        let mut c = Claims::new();
        let f = Function::Vf(3);
        assert!(granted(c.claim(&t, pf, f, "a", 1)));
        let refused = |d: Decision| matches!(d, Decision::Refused { .. });
        assert!(refused(c.claim(&t, pf, f, "b", 2)));
        assert!(refused(c.claim(&t, pf, f, "b", 3)));
        // The holder asked for it (and was refused for another reason):
        // the count starts again.
        c.asked(&t, pf, f, "a", 4);
        assert!(refused(c.claim(&t, pf, f, "b", 5)));
        // Asking for another function does not count.
        c.asked(&t, pf, Function::Vf(4), "a", 6);
        assert!(refused(c.claim(&t, pf, f, "b", 7)));
        assert_eq!(
            c.claim(&t, pf, f, "b", 8),
            Decision::TakenOver {
                from: LportId::new("a")
            }
        );
        assert!(c.hit(t.instance(), pf, f, "b", 9));
        assert!(!c.hit(t.instance(), pf, f, "a", 10));
        c.check().unwrap();
        // Two contenders count separately: neither reaches three while the
        // holder asks once per round.
        for round in 0..10 {
            let s = 100 + round * 3;
            assert!(refused(c.claim(&t, pf, f, "x", s)));
            assert!(refused(c.claim(&t, pf, f, "y", s + 1)));
            assert!(c.hit(t.instance(), pf, f, "b", s + 2));
        }
        c.check().unwrap();
    }

    #[test]
    fn moving_frees_the_old_function_and_rebuilt_tables_keep_claims() {
        let (t, pf) = table();
        let mut c = Claims::new();
        assert!(granted(c.claim(&t, pf, Function::Vf(3), "a", 1)));
        assert!(matches!(
            c.claim(&t, pf, Function::Vf(4), "a", 2),
            Decision::Granted {
                moved_from: Some(_)
            }
        ));
        assert!(granted(c.claim(&t, pf, Function::Vf(3), "b", 3)));
        assert_eq!(c.len(), 2);
        // A rebuilt table (new instance): the hit path defers once, the
        // claim itself is kept by function identity.
        let (t2, pf2) = table();
        assert_ne!(t.instance(), t2.instance());
        assert!(!c.hit(t2.instance(), pf2, Function::Vf(3), "b", 4));
        assert!(matches!(
            c.claim(&t2, pf2, Function::Vf(3), "a", 5),
            Decision::Refused { .. }
        ));
        assert!(granted(c.claim(&t2, pf2, Function::Vf(3), "b", 6)));
        assert!(c.hit(t2.instance(), pf2, Function::Vf(3), "b", 7));
        c.check().unwrap();
    }

    #[test]
    fn long_names_are_bounded_and_distinct() {
        let a = "a".repeat(10_000);
        let b = format!("{}b", "a".repeat(9_999));
        let ia = LportId::new(&a);
        assert_eq!(ia.head().len(), NAME_KEEP);
        assert!(ia.is(&a));
        assert!(!ia.is(&b));
        assert_ne!(ia, LportId::new(&b));
        assert_eq!(ia, LportId::new(&a));
        let shown = ia.to_string();
        assert!(shown.len() < 200, "{shown}");
        assert!(shown.ends_with(&format!(
            "…[+{} bytes]",
            10_000 - crate::logging::UNTRUSTED_MAX
        )));
        assert_eq!(LportId::new("x\ny").to_string(), "x\\ny");
        // Multi-byte characters at the cut.
        let e = "é".repeat(NAME_KEEP);
        assert!(LportId::new(&e).is(&e));
    }

    /// Names longer than the hit index keeps inline are compared in full;
    /// asks seen by the hit path count after a table change too.
    #[test]
    fn hit_path_compares_whole_names() {
        let (t, pf) = table();
        let mut c = Claims::new();
        let f = Function::Vf(3);
        let a = format!("{}a", "x".repeat(59));
        let b = format!("{}b", "x".repeat(59));
        assert!(granted(c.claim(&t, pf, f, &a, 1)));
        assert!(c.hit(t.instance(), pf, f, &a, 2));
        assert!(!c.hit(t.instance(), pf, f, &b, 3));
        assert!(!c.hit(t.instance(), pf, f, &a[..40], 4));
        let short = "lsp-0123456789";
        assert!(granted(c.claim(&t, pf, Function::Vf(4), short, 5)));
        assert!(c.hit(t.instance(), pf, Function::Vf(4), short, 6));
        assert!(!c.hit(t.instance(), pf, Function::Vf(4), "lsp-0123456788", 7));
        assert!(!c.hit(t.instance(), pf, Function::Vf(4), "lsp-012345678", 8));
        c.check().unwrap();
        // b contends twice, a asks through the hit path, the table changes:
        // b's count starts again.
        let refused = |d: Decision| matches!(d, Decision::Refused { .. });
        assert!(refused(c.claim(&t, pf, f, &b, 10)));
        assert!(refused(c.claim(&t, pf, f, &b, 11)));
        assert!(c.hit(t.instance(), pf, f, &a, 12));
        let (t2, pf2) = table();
        assert!(refused(c.claim(&t2, pf2, f, &b, 13)));
        assert!(refused(c.claim(&t2, pf2, f, &b, 14)));
        c.check().unwrap();
    }

    #[test]
    fn contenders_are_bounded() {
        let (t, pf) = table();
        let mut c = Claims::new();
        assert!(granted(c.claim(&t, pf, Function::Vf(3), "holder", 0)));
        for i in 0..(MAX_CONTESTS as u64 * 3) {
            let d = c.claim(&t, pf, Function::Vf(3), &format!("gone-{i}"), i + 1);
            assert!(matches!(d, Decision::Refused { .. }));
            assert!(c.contests() <= MAX_CONTESTS);
        }
        c.check().unwrap();
    }
}
