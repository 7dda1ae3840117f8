//! Sections: prepare through the C vtable, prepare as ovn-controller calls
//! it, and a hit while another lport is pending.

use super::*;

/// (ports, vtable prepare median ns, cached median ns, instr/call,
/// OVN-data floor median ns).
pub(crate) type PrepareRow = (usize, f64, f64, Option<f64>, f64);

thread_local! {
    /// (ports, vtable prepare median ns, cached median ns, instr/call,
    /// OVN-data floor median ns).
    pub(crate) static PREPARE: std::cell::RefCell<Vec<PrepareRow>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// What any provider pays to read an lport's options, without deciding
/// anything: walk the smap and measure every key and value (as smap_get of
/// each key would touch them), plus the lport name.  On thousands of
/// shuffled lports this is mostly cache misses on OVN's data.
pub(crate) fn touch_options(ctx: &vif_plug_port_ctx_in) -> usize {
    // SAFETY: lport_name is a NUL-terminated string owned by `Lports`.
    let mut n = unsafe { std::ffi::CStr::from_ptr(ctx.lport_name) }
        .to_bytes()
        .len();
    let h = &ctx.lport_options.map;
    for b in 0..=h.mask {
        // SAFETY: the bench's smaps have mask + 1 bucket pointers.
        let mut node = unsafe { *h.buckets.add(b) };
        while !node.is_null() {
            let sn = node.cast::<smap_node>();
            // SAFETY: every node is the first member of a live smap_node
            // whose key and value are NUL-terminated strings.
            unsafe {
                n += std::ffi::CStr::from_ptr((*sn).key).to_bytes().len();
                n += std::ffi::CStr::from_ptr((*sn).value).to_bytes().len();
                node = (*node).next;
            }
        }
    }
    n
}

pub(crate) fn section_prepare(o: &Opts) {
    println!("\n## prepare through the C vtable (run seen: hits never drain)\n");
    println!(
        "| ports | lports | prepare median ns | p99 ns | bulk mean ns | OVN-data floor median ns | one lport (cached) median ns \
         | syscalls/call | instr/call | prepare+ctx_destroy median ns | p99 ns | instr/call \
         | no-run host median ns | syscalls per 1M calls |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut misses = Vec::new();
    for &n in &o.sizes {
        let layout = gen_ports(n);
        let reqs = vf_requests(&layout);
        let lp = build_lports(&reqs);
        let nl = lp.ctx.len();
        let mut outs: Vec<_> = lp.ctx.iter().map(|_| new_ctx_out()).collect();
        let (hit, hot, cycle, norun, indexed, floor);
        {
            let loaded = Loaded::new(&layout, "prep");
            // No run yet: the stock-OVN host (a drain per 100 ms at most).
            for (c, o) in lp.ctx.iter().zip(outs.iter_mut()) {
                assert!(prepare(c, o), "generated request did not resolve");
            }
            norun = time_calls(o.calls, |i| {
                black_box(prepare(&lp.ctx[i % nl], &mut outs[i % nl]));
            });
            loaded.run();
            hit = time_calls(o.calls, |i| {
                black_box(prepare(&lp.ctx[i % nl], &mut outs[i % nl]));
            });
            floor = time_calls(o.calls, |i| {
                black_box(touch_options(&lp.ctx[i % nl]));
            });
            // The same lport over and over: everything in cache, the
            // provider's own cost without the misses on OVN's data.
            hot = time_calls(o.calls, |_| {
                black_box(prepare(&lp.ctx[0], &mut outs[0]));
            });
            cycle = time_calls(o.calls, |i| {
                let c = &lp.ctx[i % nl];
                let mut out = new_ctx_out();
                black_box(prepare(c, &mut out));
                ctx_destroy(c, &mut out);
            });
            indexed = snapshot::parse(&snapshot_text(&layout), LinkPolicy::TrustDevlink)
                .map(|t| t.len())
                .unwrap_or(0);
            for (c, out) in lp.ctx.iter().zip(outs.iter_mut()) {
                ctx_destroy(c, out);
            }
        }
        let sc_calls = 100_000;
        let sys_hit = o
            .strace
            .then(|| syscalls_per_call("hit", n, sc_calls))
            .flatten();
        let sys_norun = o
            .strace
            .then(|| syscalls_per_call("hit-norun", n, sc_calls))
            .flatten();
        let ir_hit = o
            .callgrind
            .then(|| instructions_per_call("hit", n, 20_000))
            .flatten();
        let ir_cycle = o
            .callgrind
            .then(|| instructions_per_call("cycle", n, 20_000))
            .flatten();
        println!(
            "| {indexed} | {nl} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {:.0} | {:.0} | {} | {:.0} | {} |",
            hit.median,
            hit.p99,
            hit.mean,
            floor.median,
            hot.median,
            fmt_opt(sys_hit, 4),
            fmt_opt(ir_hit, 0),
            cycle.median,
            cycle.p99,
            fmt_opt(ir_cycle, 0),
            norun.median,
            fmt_opt(sys_norun.map(|v| v * 1e6), 0),
        );
        if o.callgrind {
            let hit = callgrind_per_call("hit", n, 20_000, true);
            let floor = callgrind_per_call("floor", n, 20_000, true);
            misses.push((n, hit, floor));
        }
        PREPARE.with(|p| {
            p.borrow_mut()
                .push((n, hit.median, hot.median, ir_hit, floor.median));
        });
    }
    if misses.is_empty() {
        return;
    }
    println!(
        "\nL1 data read misses per call (callgrind --cache-sim=yes, 20,000 calls of the \
         shuffled walk; its model: 48 KB 12-way L1d):\n"
    );
    println!("| ports | hit instr/call | hit D1 misses/call | OVN-data floor instr/call | floor D1 misses/call |");
    println!("|---|---|---|---|---|");
    for (n, hit, floor) in misses {
        println!(
            "| {n} | {} | {} | {} | {} |",
            fmt_opt(hit.map(|h| h.0), 0),
            fmt_opt(hit.map(|h| h.1), 1),
            fmt_opt(floor.map(|h| h.0), 0),
            fmt_opt(floor.map(|h| h.1), 1),
        );
    }
}

/// prepare as ovn-controller really calls it.  `build_port_ctx()` in
/// OVN's controller/vif-plug.c builds a fresh ctx_in for every call:
/// `xstrdup()` of the lport name and `smap_clone()` of the Port_Binding's
/// options, then prepare.  So prepare reads OVN data that was written a
/// moment before (in cache); the misses on the Port_Binding's own options,
/// cold in a walk over thousands of lports, are the clone's, which is OVN's
/// cost and timed apart here.  Same layouts, requests and walk as
/// `section_prepare`, run seen.
pub(crate) fn section_as_ovn_calls(o: &Opts) {
    println!(
        "\n## prepare as ovn-controller calls it (a fresh ctx_in per call: \
         xstrdup(lport) + smap_clone(Port_Binding options), as build_port_ctx() does)\n"
    );
    println!(
        "| ports | lports | prepare median ns | p99 ns | OVN's build_port_ctx median ns \
         | build + prepare + ctx_destroy + free median ns |"
    );
    println!("|---|---|---|---|---|---|");
    let tf = timer_floor();
    for &n in &o.sizes {
        let layout = gen_ports(n);
        let reqs = vf_requests(&layout);
        // The Port_Binding rows: options and names as the IDL holds them.
        let pbs: Vec<(String, Vec<(String, String)>)> = reqs
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("lsp-{i:05}"), lsp_options(r)))
            .collect();
        let nl = pbs.len();
        let loaded = Loaded::new(&layout, "asovn");
        loaded.run();
        let (mut prep, mut build, mut whole) = (
            Vec::with_capacity(o.calls),
            Vec::with_capacity(o.calls),
            Vec::with_capacity(o.calls),
        );
        for i in 0..o.calls {
            let (name, opts) = &pbs[i % nl];
            let t0 = Instant::now();
            // build_port_ctx(): xstrdup + smap_clone.
            let name = black_box(CString::new(name.as_str()).unwrap());
            let clone = build_smap(opts);
            let ctx = ctx_in(&name, &clone);
            let mut out = new_ctx_out();
            let t1 = Instant::now();
            let ok = black_box(prepare(&ctx, &mut out));
            let t2 = Instant::now();
            assert!(ok, "generated request did not resolve");
            ctx_destroy(&ctx, &mut out);
            drop(clone);
            drop(name);
            let t3 = Instant::now();
            build.push((t1 - t0).as_nanos() as f64 - tf);
            prep.push((t2 - t1).as_nanos() as f64 - tf);
            whole.push((t3 - t0).as_nanos() as f64 - tf);
        }
        drop(loaded);
        let pct = |v: &mut Vec<f64>, q: usize| {
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v[v.len() * q / 100].max(0.0)
        };
        println!(
            "| {n} | {nl} | {:.0} | {:.0} | {:.0} | {:.0} |",
            pct(&mut prep, 50),
            pct(&mut prep, 99),
            pct(&mut build, 50),
            pct(&mut whole, 50),
        );
    }
}

pub(crate) fn section_pending(o: &Opts) {
    if !o.callgrind {
        return;
    }
    let n = o.sizes[0];
    let none = instructions_per_call("hit", n, 20_000);
    let pending = instructions_per_call("hit-pending", n, 20_000);
    println!(
        "\nHit while another lport is pending (the refused map is not empty), {n} ports: \
         {} instr/call (none pending: {}).",
        fmt_opt(pending, 0),
        fmt_opt(none, 0)
    );
}
