//! Section: memory per indexed port (the counting allocator's live bytes).

use super::*;

/// One rtnetlink `link` record per port with a netdev, as a snapshot says
/// it: what a table in kernel mode also holds.
fn link_lines(ports: &[DevlinkPort]) -> String {
    let mut s = String::with_capacity(ports.len() * 40);
    for nd in ports.iter().filter_map(|p| p.netdev.as_ref()) {
        s.push_str(&format!("link ifindex {} name {}\n", nd.ifindex, nd.name));
    }
    s
}

pub(crate) fn section_memory(o: &Opts) {
    println!("\n## memory per indexed port (counting allocator, live bytes)\n");
    println!(
        "| ports | ours: Table bytes | per port | with a link per port (kernel mode): per port \
         | C-ref algorithm in Rust: per port | naive list: per port |"
    );
    println!("|---|---|---|---|---|---|");
    for &n in &o.sizes {
        let layout = gen_ports(n);
        let text = snapshot_text(&layout);
        let before = live();
        let table = snapshot::parse(&text, LinkPolicy::TrustDevlink).unwrap();
        let ours = live() - before;
        let with_links = format!("{text}{}", link_lines(&layout));
        let before = live();
        let kernel = snapshot::parse(&with_links, LinkPolicy::RequireLink).unwrap();
        let k = live() - before;
        let before = live();
        let cref = CRef::new(&layout);
        let c = live() - before;
        let before = live();
        let naive = Naive::new(&layout);
        let nv = live() - before;
        println!(
            "| {} | {ours} | {:.0} | {:.0} | {:.0} | {:.0} |",
            table.len(),
            ours as f64 / table.len() as f64,
            k as f64 / kernel.len() as f64,
            c as f64 / n as f64,
            nv as f64 / n as f64
        );
        drop((table, kernel, cref, naive));
    }
}
