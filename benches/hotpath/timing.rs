//! Timing: per-call samples, and the loop callgrind collects (`measured_loop`).

use super::*;

pub(crate) struct Timing {
    pub(crate) median: f64,
    pub(crate) p99: f64,
    pub(crate) mean: f64,
}

/// Times `calls` calls of `f` one by one (minus the timer's own median cost)
/// for median / p99, then once more in bulk for an overhead-free mean.
pub(crate) fn time_calls(calls: usize, mut f: impl FnMut(usize)) -> Timing {
    let floor = timer_floor();
    let mut samples = Vec::with_capacity(calls);
    for i in 0..calls {
        let t = Instant::now();
        f(i);
        samples.push(t.elapsed().as_nanos() as f64 - floor);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let t = Instant::now();
    for i in 0..calls {
        f(i);
    }
    let mean = t.elapsed().as_nanos() as f64 / calls as f64;
    Timing {
        median: samples[samples.len() / 2].max(0.0),
        p99: samples[samples.len() * 99 / 100].max(0.0),
        mean,
    }
}

pub(crate) fn timer_floor() -> f64 {
    let mut v: Vec<u128> = (0..2001)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos()
        })
        .collect();
    v.sort();
    v[v.len() / 2] as f64
}

/// The loop callgrind collects (`--toggle-collect=*measured_loop*`).
#[inline(never)]
pub(crate) fn measured_loop(calls: usize, f: &mut dyn FnMut(usize)) {
    for i in 0..calls {
        f(i);
    }
}
