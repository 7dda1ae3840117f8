//! `Provider::run` reports every change of the table since it last
//! returned, including changes a `prepare` drained in between: OVN with
//! ovn-patch 0008 reconsiders a plugged lport only when its database rows
//! change or `run` returns true, so a change swallowed by a `prepare` would
//! leave a plugged lport on a stale decision.

use std::io;
use std::sync::{Arc, Mutex};

use ovn_vif_rs::provider::{Provider, Source};
use ovn_vif_rs::snapshot;
use ovn_vif_rs::table::{LinkPolicy, Table};

const PF: &str = "port pci/0000:03:00.0/2 flavour pcipf controller 1 pfnum 0 external \
                  hw_addr 00:53:00:00:10:00 netdev pf0hpf ifindex 11\n";
const VF3: &str = "port pci/0000:03:00.0/3 flavour pcivf controller 1 pfnum 0 vfnum 3 \
                   external netdev pf0vf3 ifindex 12\n";

fn table(text: &str) -> Table {
    snapshot::parse(text, LinkPolicy::TrustDevlink).expect("snapshot")
}

/// A source whose next drain swaps in whatever table the test queued.
struct Queued {
    initial: String,
    next: Arc<Mutex<Option<Table>>>,
}

impl Source for Queued {
    fn load(&mut self) -> io::Result<Table> {
        Ok(table(&self.initial))
    }

    fn drain(&mut self, table: &mut Table) -> io::Result<bool> {
        match self.next.lock().unwrap().take() {
            Some(t) => {
                let changed = t.canonical() != table.canonical();
                *table = t;
                Ok(changed)
            }
            None => Ok(false),
        }
    }

    fn describe(&self) -> String {
        "queued test tables".into()
    }
}

fn provider() -> (Provider, Arc<Mutex<Option<Table>>>) {
    let next = Arc::new(Mutex::new(None));
    let source = Queued {
        initial: PF.to_string(),
        next: Arc::clone(&next),
    };
    (Provider::new(Box::new(source), || 0).expect("load"), next)
}

fn vf3_request() -> Vec<(&'static str, &'static str)> {
    vec![
        ("vif-plug-type", "representor"),
        ("vif-plug:representor:pf-mac", "00:53:00:00:10:00"),
        ("vif-plug:representor:vf-num", "3"),
    ]
}

#[test]
fn run_reports_a_change_drained_by_prepare() {
    let (mut p, next) = provider();
    assert!(!p.run(), "nothing pending, nothing to report");

    // VF 3 appears; the miss path of the next prepare drains it.
    *next.lock().unwrap() = Some(table(&format!("{PF}{VF3}")));
    let name = p.prepare_create("lsp1", vf3_request(), None, |n| n.to_string());
    assert_eq!(name.as_deref(), Some("pf0vf3"));

    // The table changed since the last run: run must say so once, although
    // its own drain finds nothing new.
    assert!(
        p.run(),
        "a change drained by prepare must be reported by run"
    );
    assert!(!p.run(), "reported once");
}

#[test]
fn run_reports_its_own_drain_once() {
    let (mut p, next) = provider();
    assert!(!p.run());
    *next.lock().unwrap() = Some(table(&format!("{PF}{VF3}")));
    assert!(p.run());
    assert!(!p.run());
}

#[test]
fn run_does_not_report_a_drain_that_changed_nothing() {
    let (mut p, next) = provider();
    assert!(!p.run());
    // The same table again, e.g. a resync that found what was known.
    *next.lock().unwrap() = Some(table(PF));
    assert!(p
        .prepare_create("lsp1", vf3_request(), None, |n| n.to_string())
        .is_none());
    assert!(!p.run(), "an unchanged table is no change");
}

#[test]
fn run_reports_a_reload() {
    let (mut p, _next) = provider();
    assert!(!p.run());
    p.reload().expect("reload");
    assert!(p.run(), "a reload may change anything");
    assert!(!p.run());
}
