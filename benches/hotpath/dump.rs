//! Sections: parsing + indexing a devlink dump, and applying one kernel event.

use super::*;

/// A kernel-like dump of `ports` as datagrams (≤ 32 KiB each, like the
/// kernel's dump skbs), each message `DEVLINK_CMD_NEW` + `NLM_F_MULTI`.
pub(crate) fn dump_datagrams(ports: &[DevlinkPort], family: u16) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for p in ports {
        let m = emit_port_message(family, NLM_F_MULTI, 7, DEVLINK_CMD_NEW, p);
        if cur.len() + m.len() > 32 * 1024 {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend_from_slice(&m);
    }
    out.push(cur);
    out
}

pub(crate) fn parse_dump(dgrams: &[Vec<u8>], family: u16) -> Vec<DevlinkPort> {
    let mut v = Vec::new();
    for d in dgrams {
        for m in wire::messages(d) {
            let m = m.expect("valid message");
            if m.ty != family {
                continue;
            }
            if let Ok(Some(PortEvent::New(p))) = parse_port_dump_payload(m.payload) {
                v.push(p);
            }
        }
    }
    v
}

pub(crate) fn section_dump(o: &Opts) {
    println!("\n## parsing + indexing a devlink dump\n");
    let n = 4096;
    let family = 0x15;
    let layout = gen_ports(n);
    let dgrams = dump_datagrams(&layout, family);
    let bytes: usize = dgrams.iter().map(Vec::len).sum();
    let reps = if o.calls < 100_000 { 5 } else { 20 };
    let mut best_parse = f64::MAX;
    let mut best_index = f64::MAX;
    let mut best_load = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        let ports = black_box(parse_dump(&dgrams, family));
        let tp = t.elapsed().as_secs_f64();
        assert_eq!(ports.len(), n);
        let t = Instant::now();
        let mut table = Table::new(LinkPolicy::TrustDevlink);
        for p in ports {
            table.upsert_port(p);
        }
        black_box(&table);
        let ti = t.elapsed().as_secs_f64();
        best_parse = best_parse.min(tp);
        best_index = best_index.min(ti);
        // The whole KernelSource::load over the fake kernel (includes the
        // fake's emission of every message, so a lower bound on speed).
        let t = Instant::now();
        let (_src, table) = hybrid_source(&layout).expect("kernel source");
        best_load = best_load.min(t.elapsed().as_secs_f64());
        assert_eq!(table.len(), n);
    }
    println!(
        "{n} ports, {} datagrams, {bytes} bytes; best of {reps}:\n\
         - parse only: {:.2} ms = {:.2} M ports/s\n\
         - index only (Table::upsert_port): {:.2} ms = {:.2} M ports/s\n\
         - parse + index: {:.2} ms = {:.2} M ports/s\n\
         - KernelSource::load (fake devlink incl. its emit, real rtnetlink link dump): {:.2} ms = {:.2} M ports/s",
        dgrams.len(),
        best_parse * 1e3,
        n as f64 / best_parse / 1e6,
        best_index * 1e3,
        n as f64 / best_index / 1e6,
        (best_parse + best_index) * 1e3,
        n as f64 / (best_parse + best_index) / 1e6,
        best_load * 1e3,
        n as f64 / best_load / 1e6,
    );
}

pub(crate) fn section_events(o: &Opts) {
    if !o.callgrind {
        return;
    }
    println!("\n## applying a kernel event (fake kernel: 6.1's PORT_NEW notset + PORT_NEW eth + RTM_NEWLINK for a new VF, one drain)\n");
    for n in [4096, 65536] {
        println!(
            "- {n} ports: {} instructions per event (callgrind)",
            fmt_opt(instructions_per_call("kevent", n, 50), 0)
        );
    }
}
