//! Child processes: one workload, N calls, run under strace (syscalls per
//! call) or callgrind (instructions and L1d misses per call).

use super::*;

/// The workloads a child can run; `setup` returns the per-call closure.
pub(crate) fn child(what: &str, ports: usize, calls: usize) {
    let layout = gen_ports(ports);
    match what {
        "hit" | "cycle" | "hit-norun" | "hit-pending" | "miss" | "run" => {
            let reqs = if what == "miss" {
                // VF numbers no PF has: a refusal, drained once per call.
                vec![Request {
                    pf_mac: pf_mac(0, 1, 0),
                    function: Function::Vf(60000),
                }]
            } else {
                vf_requests(&layout)
            };
            let lp = build_lports(&reqs);
            let loaded = Loaded::new(&layout, what);
            if what != "hit-norun" {
                loaded.run();
            }
            // Other lports still pending (refused): the provider's refused
            // map is not empty, so every hit looks its lport up there.
            let pending = build_lports_named(
                &[Request {
                    pf_mac: pf_mac(0, 1, 0),
                    function: Function::Vf(60001),
                }],
                "pending",
            );
            if what == "hit-pending" {
                let mut o = new_ctx_out();
                assert!(!prepare(&pending.ctx[0], &mut o));
            }
            let mut outs: Vec<_> = lp.ctx.iter().map(|_| new_ctx_out()).collect();
            // Warm-up: first prepare of each lport (allocates its name).
            for (c, o) in lp.ctx.iter().zip(outs.iter_mut()) {
                prepare(c, o);
            }
            let n = lp.ctx.len();
            let mut work: Box<dyn FnMut(usize)> = match what {
                "run" => Box::new(|_| {
                    black_box(loaded.run());
                }),
                "cycle" => Box::new(|i| {
                    let c = &lp.ctx[i % n];
                    let mut o = new_ctx_out();
                    black_box(prepare(c, &mut o));
                    ctx_destroy(c, &mut o);
                }),
                _ => Box::new(|i| {
                    black_box(prepare(&lp.ctx[i % n], &mut outs[i % n]));
                }),
            };
            measured_loop(calls, &mut *work);
            drop(work);
            for (c, o) in lp.ctx.iter().zip(outs.iter_mut()) {
                ctx_destroy(c, o);
            }
            drop(loaded);
        }
        "floor" => {
            // The OVN-data floor of section_prepare, for callgrind.
            let lp = build_lports(&vf_requests(&layout));
            let n = lp.ctx.len();
            measured_loop(calls, &mut |i| {
                black_box(touch_options(&lp.ctx[i % n]));
            });
        }
        "lookup" | "hit-lookup" | "cref-lookup" | "naive-lookup" => {
            let reqs = vf_requests(&layout);
            let n = reqs.len();
            match what {
                "hit-lookup" => {
                    let t =
                        snapshot::parse(&snapshot_text(&layout), LinkPolicy::TrustDevlink).unwrap();
                    measured_loop(calls, &mut |i| {
                        black_box(lookup::hit(&t, &reqs[i % n]).is_some());
                    });
                }
                "lookup" => {
                    let t =
                        snapshot::parse(&snapshot_text(&layout), LinkPolicy::TrustDevlink).unwrap();
                    measured_loop(calls, &mut |i| {
                        black_box(lookup::lookup(&t, &reqs[i % n]).is_ok());
                    });
                }
                "cref-lookup" => {
                    let c = CRef::new(&layout);
                    measured_loop(calls, &mut |i| {
                        black_box(c.lookup(&reqs[i % n]));
                    });
                }
                _ => {
                    let nv = Naive::new(&layout);
                    measured_loop(calls, &mut |i| {
                        black_box(nv.lookup(&reqs[i % n]));
                    });
                }
            }
        }
        "kdrain" => {
            let (mut src, mut table) = hybrid_source(&layout).expect("kernel source");
            measured_loop(calls, &mut |_| {
                black_box(src.drain(&mut table).ok());
            });
        }
        "kevent" => {
            // A kernel event on a 4,096-port table (fake kernel): 6.1's add
            // sequence for one VF (PORT_NEW notset, PORT_NEW eth) and its
            // RTM_NEWLINK, then one drain; `calls` VFs in turn.
            let k = FakeKernel::new();
            {
                let mut s = k.state();
                for p in &layout {
                    s.ports.insert(p.id.clone(), p.clone());
                    if let Some(nd) = &p.netdev {
                        s.links.insert(
                            nd.ifindex,
                            LinkInfo {
                                ifindex: nd.ifindex,
                                name: nd.name.clone(),
                                mac: None,
                            },
                        );
                    }
                }
            }
            let mut src = k.source(KernelOptions::default()).expect("fake source");
            let mut table = src.load().expect("load");
            let template = layout
                .iter()
                .find(|p| p.flavour == Flavour::PciVf)
                .cloned()
                .unwrap();
            let events: Vec<DevlinkPort> = (0..calls)
                .map(|i| {
                    let mut p = template.clone();
                    p.id.index = 100_000 + i as u32;
                    p.vfnum = Some(60000 + i as u16);
                    p.netdev = Some(NetdevRef {
                        ifindex: 1_000_000 + i as u32,
                        name: format!("new{i}"),
                    });
                    p
                })
                .collect();
            measured_loop(calls, &mut |i| {
                let p = &events[i];
                k.add_port_61(p);
                let nd = p.netdev.as_ref().unwrap();
                k.link_new(&LinkInfo {
                    ifindex: nd.ifindex,
                    name: nd.name.clone(),
                    mac: None,
                });
                black_box(src.drain(&mut table).ok());
            });
        }
        "cref-recv" => {
            let mut r = CRefRecv::new().expect("netlink sockets");
            measured_loop(calls, &mut |_| {
                black_box(r.poll_twice());
            });
        }
        other => panic!("unknown child workload {other}"),
    }
}

/// Syscalls per call: strace -f -c of a child doing `calls` calls minus one
/// doing none (same setup).  `None` without strace.
pub(crate) fn syscalls_per_call(what: &str, ports: usize, calls: usize) -> Option<f64> {
    let total = |n: usize| -> Option<u64> {
        let out = std::env::temp_dir().join(format!(
            "ovn-vif-rs-bench-strace-{}-{what}-{n}.txt",
            std::process::id()
        ));
        let st = Command::new("strace")
            .args(["-f", "-c", "-o"])
            .arg(&out)
            .arg(std::env::current_exe().ok()?)
            .args(["child", what, &ports.to_string(), &n.to_string()])
            .env("OVN_VIF_RS_LOG", "off")
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        if !st.success() {
            return None;
        }
        let text = std::fs::read_to_string(&out).ok()?;
        let _ = std::fs::remove_file(&out);
        // "100.00    0.000123           1       123         4 total"
        let line = text
            .lines()
            .rev()
            .find(|l| l.trim_end().ends_with("total"))?;
        let cols: Vec<&str> = line.split_whitespace().collect();
        // columns: % time, seconds, usecs/call, calls, [errors], syscall
        cols.get(3)?.parse().ok()
    };
    let a = total(0)?;
    let b = total(calls)?;
    Some((b as f64 - a as f64) / calls as f64)
}

/// Instructions per call from callgrind, collecting only `measured_loop`.
pub(crate) fn instructions_per_call(what: &str, ports: usize, calls: usize) -> Option<f64> {
    callgrind_per_call(what, ports, calls, false).map(|(ir, _)| ir)
}

/// (instructions, L1 data read misses) per call from callgrind, collecting
/// only `measured_loop`; misses need `--cache-sim=yes` (callgrind's model
/// of this machine's L1d: 48 KB, 12-way, 64-byte lines), else NaN.
pub(crate) fn callgrind_per_call(
    what: &str,
    ports: usize,
    calls: usize,
    cache_sim: bool,
) -> Option<(f64, f64)> {
    let out = std::env::temp_dir().join(format!(
        "ovn-vif-rs-bench-cg-{}-{what}-{ports}.out",
        std::process::id()
    ));
    let st = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=*measured_loop*",
            if cache_sim {
                "--cache-sim=yes"
            } else {
                "--cache-sim=no"
            },
        ])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().ok()?)
        .args(["child", what, &ports.to_string(), &calls.to_string()])
        .env("OVN_VIF_RS_LOG", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !st.success() {
        return None;
    }
    let text = std::fs::read_to_string(&out).ok()?;
    let _ = std::fs::remove_file(&out);
    let events: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("events:"))?
        .split_whitespace()
        .collect();
    let totals: Vec<u64> = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })?
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let get = |name: &str| {
        events
            .iter()
            .position(|e| *e == name)
            .and_then(|i| totals.get(i))
            .map(|&v| v as f64 / calls as f64)
    };
    Some((get("Ir")?, get("D1mr").unwrap_or(f64::NAN)))
}

pub(crate) fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub(crate) fn fmt_opt(v: Option<f64>, prec: usize) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.prec$}"))
}
