//! In the VM (tests/vm/bench-guest.sh): the real kernel's devlink with
//! devlink_sim ports.

use super::*;

pub(crate) fn median_ms(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2] * 1e3
}

pub(crate) fn time_process(reps: usize, argv: &[&str]) -> Option<(f64, f64)> {
    let mut v = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let st = Command::new(argv[0])
            .args(&argv[1..])
            .stdout(std::process::Stdio::null())
            .status()
            .ok()?;
        if !st.success() {
            return None;
        }
        v.push(t.elapsed().as_secs_f64());
    }
    let best = v.iter().cloned().fold(f64::MAX, f64::min) * 1e3;
    Some((median_ms(&mut v), best))
}

/// `vm-dump REPS [CLI]`: full dumps of the kernel's devlink ports (and
/// links) through `KernelSource::load`, against `devlink -j port show` of
/// the same ports in the same run.
pub(crate) fn vm_dump(reps: usize, cli: Option<&str>) {
    let mut src = KernelSource::open().expect("opening the kernel source (devlink)");
    let mut v = Vec::new();
    let mut ports = 0;
    for _ in 0..reps {
        let t = Instant::now();
        let table = src.load().expect("dump");
        v.push(t.elapsed().as_secs_f64());
        ports = table.len();
    }
    let best = v.iter().cloned().fold(f64::MAX, f64::min) * 1e3;
    let ours = median_ms(&mut v);
    println!(
        "| KernelSource::load (devlink port dump + rtnetlink link dump + parse + index), in process \
         | {ports} | {ours:.1} | {best:.1} | {:.0} |",
        ports as f64 / (ours / 1e3)
    );
    let dl = time_process(reps, &["devlink", "-j", "port", "show"]);
    if let Some((m, b)) = dl {
        println!(
            "| `devlink -j port show` (process) | {ports} | {m:.1} | {b:.1} | {:.0} |",
            ports as f64 / (m / 1e3)
        );
    }
    let cl = cli.and_then(|c| time_process(reps, &[c, "dump", "--json"]));
    if let Some((m, b)) = cl {
        println!(
            "| `ovn-vif-rs dump --json` (process) | {ports} | {m:.1} | {b:.1} | {:.0} |",
            ports as f64 / (m / 1e3)
        );
    }
    println!();
    if let Some((m, _)) = dl {
        println!(
            "ratio devlink -j port show / KernelSource::load (medians): {:.1}x",
            m / ours
        );
        if let Some((c, _)) = cl {
            println!(
                "ratio devlink -j port show / ovn-vif-rs dump --json (medians): {:.1}x",
                m / c
            );
        }
    }
}

/// `vm-latency REPS PF_MAC DEBUGFS_DIR`: add a VF through the simulator's
/// debugfs and poll `prepare` (through the vtable, kernel source) until it
/// resolves; in the run-seen mode (run + prepare per poll, as a patched
/// ovn-controller's loop) and the no-run mode (prepare only).
pub(crate) fn vm_latency(reps: usize, mac: &str, dbg: &str) {
    std::env::remove_var(ovn_vif_rs::sources::ENV_SNAPSHOT);
    let mac = ovn_vif_rs::options::parse_mac(mac).expect("PF MAC");
    println!(
        "| mode | rep | debugfs write ms | write -> resolves ms | polls | in run+prepare ms |"
    );
    println!("|---|---|---|---|---|---|");
    let mut summary = Vec::new();
    for (mode, with_run) in [("run seen", true), ("no run", false)] {
        let init = class().init.unwrap();
        // SAFETY: plain call of the library's own entry point.
        assert_eq!(unsafe { init() }, 0, "init (kernel source) failed");
        let run = || {
            let f = class().run.unwrap();
            // SAFETY: `run` ignores its class argument.
            unsafe { f(class() as *const vif_plug_class as *mut vif_plug_class) }
        };
        if with_run {
            run();
        }
        // The 4,096 netdevs were created while udevd was stopped, so udev
        // never wrote their database files: the provider holds them as
        // "not settled" until its 30 s settle timeout, and every miss
        // re-stats them all.  Wait that out (one miss after it declares
        // them settled) so the figures are the steady state's.
        let settle = std::env::var("BENCH_SETTLE_WAIT_S")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(31u64);
        if settle > 0 {
            std::thread::sleep(std::time::Duration::from_secs(settle));
            let lp = build_lports(&[Request {
                pf_mac: mac,
                function: Function::Vf(65535),
            }]);
            let mut out = new_ctx_out();
            let t = Instant::now();
            prepare(&lp.ctx[0], &mut out);
            println!(
                "| {mode} | settle | (first miss after the settle timeout: {:.1} ms) |  |  |  |",
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        let mut lat = Vec::new();
        for k in 0..reps {
            let vf = 60000 + k as u16 + if with_run { 0 } else { 1000 };
            let req = Request {
                pf_mac: mac,
                function: Function::Vf(vf),
            };
            let lp = build_lports(&[req]);
            let mut out = new_ctx_out();
            assert!(!prepare(&lp.ctx[0], &mut out), "VF {vf} exists already");
            let line = format!("vf controller=1 pf=0 vf={vf} external=1");
            let t0 = Instant::now();
            std::fs::write(format!("{dbg}/port_add"), &line).expect("debugfs port_add");
            let t1 = Instant::now();
            let mut polls = 0u64;
            let mut inside = 0f64;
            loop {
                polls += 1;
                let tp = Instant::now();
                if with_run {
                    run();
                }
                let ok = prepare(&lp.ctx[0], &mut out);
                inside += tp.elapsed().as_secs_f64();
                if ok {
                    break;
                }
                if t1.elapsed().as_secs() > 60 {
                    println!("| {mode} | {k} | VF {vf} not visible after 60 s |  |  |");
                    break;
                }
            }
            let t2 = Instant::now();
            ctx_destroy(&lp.ctx[0], &mut out);
            let w = (t1 - t0).as_secs_f64() * 1e3;
            let l = (t2 - t1).as_secs_f64() * 1e3;
            lat.push(l / 1e3);
            println!(
                "| {mode} | {k} | {w:.2} | {l:.3} | {polls} | {:.3} |",
                inside * 1e3
            );
        }
        summary.push((mode, median_ms(&mut lat), lat[lat.len() * 9 / 10] * 1e3));
        let destroy = class().destroy.unwrap();
        // SAFETY: plain call of the library's own entry point.
        unsafe { destroy() };
    }
    println!();
    for (mode, m, p90) in summary {
        println!("{mode}: kernel event -> visible to lookup: median {m:.3} ms, p90 {p90:.3} ms");
    }
}
