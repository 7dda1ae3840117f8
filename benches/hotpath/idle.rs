//! Section: nothing pending (miss path, run, an idle kernel drain over real
//! netlink sockets, the C reference's receive pair).

use super::*;

/// devlink requests go to the fake kernel (this host has no devlink); the
/// two monitors and the rtnetlink request socket are real sockets, so an
/// idle drain costs exactly what it costs in production: one `recvmsg`
/// returning EAGAIN per monitor.  The devlink monitor is a generic netlink
/// socket that cannot join devlink's group here (no such family), which
/// makes no difference to an idle receive.
pub(crate) enum Hybrid {
    Fake(FakeTransport),
    Real(NetlinkSocket),
}

impl Transport for Hybrid {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        match self {
            Hybrid::Fake(t) => t.send(msg),
            Hybrid::Real(t) => t.send(msg),
        }
    }
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Hybrid::Fake(t) => t.recv(buf),
            Hybrid::Real(t) => t.recv(buf),
        }
    }
    fn raw_fd(&self) -> RawFd {
        match self {
            Hybrid::Fake(t) => t.raw_fd(),
            Hybrid::Real(t) => t.raw_fd(),
        }
    }
}

pub(crate) fn hybrid_source(ports: &[DevlinkPort]) -> io::Result<(KernelSource<Hybrid>, Table)> {
    let k = FakeKernel::new();
    {
        let mut s = k.state();
        for p in ports {
            s.ports.insert(p.id.clone(), p.clone());
        }
    }
    let mut src = KernelSource::with_transports(
        Hybrid::Fake(k.transport(Channel::DevlinkReq)),
        Hybrid::Real(NetlinkSocket::generic(&[], None)?),
        Hybrid::Real(NetlinkSocket::route(&[], None)?),
        Hybrid::Real(NetlinkSocket::route(&[RTNLGRP_LINK], None)?),
        KernelOptions::default(),
    )?;
    let table = src.load()?;
    Ok((src, table))
}

pub(crate) fn section_idle(o: &Opts) -> f64 {
    println!("\n## nothing pending: miss path, run, kernel drain, the C reference's recv pair\n");
    println!("| what | median ns | p99 ns | mean ns | syscalls/call | instr/call |");
    println!("|---|---|---|---|---|---|");
    let n = 1024;
    let layout = gen_ports(n);
    let calls = o.calls.min(20_000);
    let row = |name: &str, t: &Timing, what: &str| {
        let sc = o
            .strace
            .then(|| syscalls_per_call(what, n, 20_000))
            .flatten();
        let ir = o
            .callgrind
            .then(|| instructions_per_call(what, n, 2_000))
            .flatten();
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {} | {} |",
            t.median,
            t.p99,
            t.mean,
            fmt_opt(sc, 3),
            fmt_opt(ir, 0)
        );
    };
    {
        let miss = [Request {
            pf_mac: pf_mac(0, 1, 0),
            function: Function::Vf(60000),
        }];
        let lp = build_lports(&miss);
        let loaded = Loaded::new(&layout, "idle");
        loaded.run();
        let mut out = new_ctx_out();
        let t = time_calls(calls, |_| {
            black_box(prepare(&lp.ctx[0], &mut out));
        });
        row(
            "prepare miss (snapshot source: drain = 1 inotify read)",
            &t,
            "miss",
        );
        let t = time_calls(calls, |_| {
            black_box(loaded.run());
        });
        row("run, nothing pending (snapshot source)", &t, "run");
    }
    let (mut src, mut table) = hybrid_source(&layout).expect("kernel source");
    let t = time_calls(calls, |_| {
        black_box(src.drain(&mut table).ok());
    });
    row(
        "KernelSource::drain, nothing pending (real netlink monitors)",
        &t,
        "kdrain",
    );
    let mut r = CRefRecv::new().expect("netlink sockets");
    assert_eq!(r.poll_twice(), 2, "expected two EAGAIN receives");
    let recv = time_calls(calls, |_| {
        black_box(r.poll_twice());
    });
    let t = &recv;
    row(
        "C reference per prepare: 2 x recv(MSG_DONTWAIT) = EAGAIN (NETLINK_ROUTE)",
        t,
        "cref-recv",
    );
    let m = std::sync::Mutex::new(0u64);
    let t = time_calls(calls, |_| {
        *black_box(&m).lock().unwrap() += 1;
    });
    println!(
        "\nFor scale: an uncontended std Mutex lock + unlock (the provider's state lock, \
         taken once per prepare): median {:.0} ns, bulk mean {:.1} ns.",
        t.median, t.mean
    );
    recv.median
}
