//! Host benchmarks of the provider's hot paths (issue 8), with baselines
//! measured in the same run.  `harness = false`: a plain program that prints
//! figures; it asserts nothing about time.
//!
//! ```sh
//! cargo bench --bench hotpath                 # everything (ns, syscalls, instructions, memory)
//! cargo bench --bench hotpath -- --quick      # fewer ports/iterations, no callgrind
//! scripts/bench                               # the same, plus the machine's description
//! ```
//!
//! What is measured (see BENCHMARKS.md for the figures):
//! - `prepare` through the exported C vtable (`vif_plug_provider_classes[0]`)
//!   with real `#[repr(C)]` ctx structs and smaps in OVS's hmap layout, at
//!   1,024 / 16,384 / 65,536 indexed ports, "run seen" mode (hits never
//!   drain): median / p99 ns per call, bulk mean, syscalls per call (strace
//!   -c on a child process, N calls minus 0 calls), instructions per call
//!   (callgrind, collection toggled on the measured loop only);
//! - prepare + ctx_destroy (OVN's per-iteration cycle: malloc + free of the
//!   name); the "no run" host (drains at most once per 100 ms);
//! - the miss path and `run` with nothing pending (snapshot source), and
//!   `KernelSource::drain` with nothing pending on real netlink sockets;
//! - parsing + indexing a devlink dump (ports per second);
//! - memory per indexed port (a counting global allocator);
//! - baselines: a naive linear scan, the C reference's algorithm (ovn-vif:
//!   PF by MAC = linear scan, VF by hash of (PF MAC, VF num)) and its
//!   per-prepare cost of two non-blocking netlink receives returning EAGAIN.
//!
//! One file per part: `layout` (generated ports and requests), `ovn` (OVS
//! smaps, OVN ctx structs, the loaded provider), `timing`, `child` (the
//! workloads run under strace / callgrind), `counting` (the allocator), the
//! sections `idle`, `prepare`, `baselines`, `dump`, `memory`, and `vm` (the
//! guest's part).  Options: `--quick`, `--no-tools`, `--prepare-only
//! [--sizes=N,M]`, `--memory-only`.
//!
//! `unsafe` here is confined to what a benchmark of a C ABI needs: calling
//! the exported function pointers and the counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::ffi::CString;
use std::hint::black_box;
use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use ovn_vif_rs::devlink::attrs::DEVLINK_CMD_NEW;
use ovn_vif_rs::devlink::parse::{emit_port_message, parse_port_dump_payload, PortEvent};
use ovn_vif_rs::fasthash::FastMap;
use ovn_vif_rs::ffi::types::{
    smap_node, vif_plug_class, vif_plug_port_ctx_in, vif_plug_port_ctx_out,
};
use ovn_vif_rs::kernel::{KernelOptions, KernelSource};
use ovn_vif_rs::lookup;
use ovn_vif_rs::netlink::socket::{NetlinkSocket, Transport};
use ovn_vif_rs::netlink::wire::{self, NLM_F_MULTI};
use ovn_vif_rs::options::{Function, Request};
use ovn_vif_rs::port::{DevHandle, DevlinkPort, Flavour, Mac, NetdevRef, PortFunction, PortId};
use ovn_vif_rs::rtnl::parse::{LinkInfo, RTNLGRP_LINK};
use ovn_vif_rs::snapshot;
use ovn_vif_rs::table::{LinkPolicy, Table};
use ovn_vif_rs::testing::{Channel, FakeKernel, FakeTransport};

use ovn_vif_rs::testing::ovs::{build_smap, class, ctx_in, new_ctx_out, OwnedSmap};

mod baselines;
mod child;
mod counting;
mod dump;
mod idle;
mod layout;
mod memory;
mod ovn;
mod prepare;
mod timing;
mod vm;

use baselines::*;
use child::*;
use counting::*;
use dump::*;
use idle::*;
use layout::*;
use memory::*;
use ovn::*;
use prepare::*;
use timing::*;
use vm::*;

/// What a run measures (from the command line).
pub(crate) struct Opts {
    pub(crate) sizes: Vec<usize>,
    pub(crate) calls: usize,
    pub(crate) strace: bool,
    pub(crate) callgrind: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("vm-dump") => {
            vm_dump(args[1].parse().unwrap(), args.get(2).map(String::as_str));
            return;
        }
        Some("vm-latency") => {
            vm_latency(args[1].parse().unwrap(), &args[2], &args[3]);
            return;
        }
        _ => {}
    }
    if args.first().map(String::as_str) == Some("child") {
        let what = &args[1];
        let ports: usize = args[2].parse().unwrap();
        let calls: usize = args[3].parse().unwrap();
        child(what, ports, calls);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let no_tools = args.iter().any(|a| a == "--no-tools");
    // --prepare-only [--sizes=N,M]: only the vtable prepare table (for
    // iterating on the hit path).
    let prepare_only = args.iter().any(|a| a == "--prepare-only");
    let sizes: Option<Vec<usize>> = args
        .iter()
        .find_map(|a| a.strip_prefix("--sizes="))
        .map(|v| {
            v.split(',')
                .map(|n| n.parse().expect("--sizes=N,M"))
                .collect()
        });
    let o = Opts {
        sizes: sizes.unwrap_or_else(|| {
            if quick {
                vec![1024, 16384]
            } else {
                vec![1024, 16384, 65536]
            }
        }),
        calls: if quick { 50_000 } else { 400_000 },
        strace: !no_tools && have("strace"),
        callgrind: !no_tools && !quick && have("valgrind"),
    };
    std::env::set_var("OVN_VIF_RS_LOG", "warn");
    println!("# ovn-vif-rs host benchmarks (benches/hotpath.rs)");
    println!(
        "calls per timing: {}; strace: {}; callgrind: {}; timer floor {:.0} ns (subtracted from per-call samples)",
        o.calls,
        o.strace,
        o.callgrind,
        timer_floor()
    );
    let t0 = Instant::now();
    if args.iter().any(|a| a == "--memory-only") {
        section_memory(&o);
        return;
    }
    if prepare_only {
        section_prepare(&o);
        section_as_ovn_calls(&o);
        return;
    }
    let recv_ns = section_idle(&o);
    section_prepare(&o);
    section_as_ovn_calls(&o);
    section_pending(&o);
    section_baselines(&o, recv_ns);
    section_dump(&o);
    section_events(&o);
    section_memory(&o);
    println!(
        "\n(total {:.1} s; allocations counted: {})",
        t0.elapsed().as_secs_f64(),
        ALLOCS.load(Ordering::Relaxed)
    );
}
