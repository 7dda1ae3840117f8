//! udev settling (module docs of [`super`], "Which names are handed out";
//! the rules are [`crate::rtnl::settled`]'s): which links wait for udev,
//! the settle timeout, and the recheck on the provider's miss path.

use std::time::Instant;

use super::{apply::refresh_smartnic, Event, KernelSource, SMARTNIC_RECHECK_INTERVAL};
use crate::netlink::socket::Transport;
use crate::os::FileWatch;
use crate::rtnl::parse::LinkEvent;
use crate::table::Table;

/// Watches `<udev root>/data` when it exists (udev runs); none otherwise.
pub(super) fn udev_watch(udev_root: &std::path::Path) -> Option<FileWatch> {
    let data = udev_root.join("data");
    if !data.is_dir() {
        return None;
    }
    match FileWatch::directory(&data) {
        Ok(w) => Some(w),
        Err(e) => {
            log::warn!(
                "{}: no inotify watch ({e}); netdevs udev finishes with are noticed at the next event",
                data.display()
            );
            None
        }
    }
}

impl<T: Transport> KernelSource<T> {
    /// Rule 3 of `rtnl::settled`: `true` when the link has waited for udev
    /// for the settle timeout; the give-up is logged naming the link.
    pub(super) fn give_up_on_udev(
        &mut self,
        ifindex: u32,
        name: &str,
        since: Instant,
        now: Instant,
    ) -> bool {
        if !self.udev.timed_out(since, now) {
            return false;
        }
        self.stats.settle_timeouts += 1;
        log::warn!(
            "netdev {name} (ifindex {ifindex}): udev is running but has not finished with it \
             after {:?} (no final {}/data/n{ifindex}); giving up on udev: its name is handed \
             out as the kernel reports it",
            self.udev.timeout(),
            self.udev.root().display()
        );
        true
    }

    /// Applies the settled rule to a link event.  udev's database is read
    /// now, while the events that follow this one (udev's rename among
    /// them, if udev finished) are still queued: the name is final once
    /// the drain has applied them (module docs).
    pub(super) fn link_event(&mut self, table: &Table, ev: LinkEvent) -> Event {
        match ev {
            LinkEvent::New(info) => {
                let ifindex = info.ifindex;
                // Once settled, a link stays settled (later renames are
                // final names too): no stat for it.
                let settled = table.link(ifindex).is_some_and(|l| l.settled) || {
                    let now = self.now();
                    let since = *self.unsettled.entry(ifindex).or_insert(now);
                    self.udev.is_settled(ifindex)
                        || self.give_up_on_udev(ifindex, &info.name, since, now)
                };
                if settled {
                    self.unsettled.remove(&ifindex);
                }
                Event::LinkNew(info.into_link(settled))
            }
            LinkEvent::Del(i) => {
                self.unsettled.remove(&i);
                Event::LinkDel(i)
            }
        }
    }

    /// Re-stats links whose name was not final (provider's miss path), and
    /// at most once a second re-reads the smart_nic files (a host PF MAC may
    /// appear later).  Returns whether a decision may have changed (as
    /// for [`KernelSource::drain`]).
    pub fn recheck_unsettled(&mut self, table: &mut Table) -> bool {
        let decisions = table.decisions();
        self.recheck(table);
        table.decisions() != decisions
    }

    fn recheck(&mut self, table: &mut Table) {
        let now = self.now();
        let mut newly = Vec::new();
        // Called on every miss of a port whose name is not final: at most
        // one pass per RECHECK_INTERVAL, and one directory listing instead
        // of two stats per link when many links wait for udev.
        let recheck_due = match self.last_recheck {
            Some(t) => now.saturating_duration_since(t) >= self.recheck_interval,
            None => true,
        };
        let pending: Vec<(u32, Instant)> = if recheck_due {
            self.last_recheck = Some(now);
            self.unsettled.iter().map(|(i, t)| (*i, *t)).collect()
        } else {
            Vec::new()
        };
        let snap = (pending.len() > 4).then(|| {
            self.udev
                .snapshot_where(|i| pending.binary_search_by_key(&i, |(k, _)| *k).is_ok())
        });
        for (ifindex, since) in pending {
            match table.link(ifindex) {
                Some(l) if !l.settled => {
                    let udev_done = match &snap {
                        Some(snap) => snap.is_settled(ifindex),
                        None => self.udev.is_settled(ifindex),
                    };
                    let name = l.name.clone();
                    if udev_done || self.give_up_on_udev(ifindex, &name, since, now) {
                        newly.push(ifindex);
                    }
                }
                _ => {
                    self.unsettled.remove(&ifindex);
                }
            }
        }
        if !newly.is_empty() {
            // udev renames a netdev *before* it writes its database file,
            // and the kernel queued the rename's RTM_NEWLINK on our socket
            // at rename time: apply pending link events first, so that the
            // name we declare final is the final one.
            let dirty = self.drain_links(table);
            self.publish_behind(table);
            if self.need_resync {
                if let Err(e) = self.resync(table) {
                    log::warn!("recheck: {e}");
                }
                self.publish_behind(table);
                return;
            }
            if dirty {
                refresh_smartnic(&self.smartnic, table, &mut self.smartnic_set);
            }
            for ifindex in newly {
                self.unsettled.remove(&ifindex);
                if let Some(l) = table.link(ifindex).filter(|l| !l.settled) {
                    let mut l = l.clone();
                    l.settled = true;
                    table.upsert_link(l);
                }
            }
        }
        let due = match self.last_smartnic_check {
            Some(t) => now.saturating_duration_since(t) >= SMARTNIC_RECHECK_INTERVAL,
            None => true,
        };
        if due {
            self.last_smartnic_check = Some(now);
            refresh_smartnic(&self.smartnic, table, &mut self.smartnic_set);
        }
    }

    /// Whether any link waits for udev (only then is [`Self::udev_fd`]
    /// worth a wakeup).
    pub fn waits_for_udev(&self) -> bool {
        !self.unsettled.is_empty()
    }

    /// How long until a link waiting for udev can be given up on (its
    /// settle timeout passed, and a recheck is due then): the earliest
    /// such moment still ahead.  `None` when no link waits, or when every
    /// waiting link can be given up on now (the next miss rechecks it; a
    /// timer already due would spin the host's loop).
    pub fn settle_timer(&self) -> Option<std::time::Duration> {
        let now = self.now();
        let recheck = self.last_recheck.map(|t| t + self.recheck_interval);
        self.unsettled
            .values()
            .map(|&since| {
                let give_up = since + self.udev.timeout();
                recheck.map_or(give_up, |r| give_up.max(r))
            })
            .filter(|&at| at > now)
            .min()
            .map(|at| at - now)
    }

    /// Links currently waiting for udev.
    pub fn unsettled(&self) -> Vec<u32> {
        self.unsettled.keys().copied().collect()
    }
}
