//! Section: memory per indexed port (the counting allocator's live bytes).

use super::*;

pub(crate) fn section_memory(o: &Opts) {
    println!("\n## memory per indexed port (counting allocator, live bytes)\n");
    println!("| ports | ours: Table bytes | per port | C-ref algorithm in Rust: per port | naive list: per port |");
    println!("|---|---|---|---|---|");
    for &n in &o.sizes {
        let layout = gen_ports(n);
        let text = snapshot_text(&layout);
        let before = live();
        let table = snapshot::parse(&text, LinkPolicy::TrustDevlink).unwrap();
        let ours = live() - before;
        let before = live();
        let cref = CRef::new(&layout);
        let c = live() - before;
        let before = live();
        let naive = Naive::new(&layout);
        let nv = live() - before;
        println!(
            "| {} | {ours} | {:.0} | {:.0} | {:.0} |",
            table.len(),
            ours as f64 / table.len() as f64,
            c as f64 / n as f64,
            nv as f64 / n as f64
        );
        drop((table, cref, naive));
    }
}
