//! A stream of arbitrary datagrams on the two monitor sockets of a
//! KernelSource over the fake kernel, drained in between: no panic, no
//! error, and the table's indexes stay consistent (`Table::check`).
//!
//! Input: records of [channel: u8][len: u16 LE][bytes]; an even channel
//! byte is the devlink monitor, odd the rtnetlink one; a channel byte of
//! 0xff means "drain now" (no length follows).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ovn_vif_rs::testing::{FakeKernel, Channel};
use ovn_vif_rs::kernel::KernelOptions;

fuzz_target!(|data: &[u8]| {
    let k = FakeKernel::new();
    // Only what the fake kernel needs is set: fields added later take
    // their defaults instead of breaking this target.
    let opts = KernelOptions {
        rcvbuf: None,
        udev_root: "/nonexistent/udev".into(),
        sysfs_root: "/nonexistent/sys".into(),
        ..KernelOptions::default()
    };
    let mut src = k.source(opts).unwrap();
    let mut t = src.load().unwrap();
    let mut rest = data;
    while let Some((&ch, tail)) = rest.split_first() {
        if ch == 0xff {
            src.drain(&mut t).unwrap();
            t.check().unwrap();
            rest = tail;
            continue;
        }
        if tail.len() < 2 {
            break;
        }
        let len = u16::from_le_bytes([tail[0], tail[1]]) as usize;
        let body = &tail[2..];
        let d = &body[..len.min(body.len())];
        let channel = if ch % 2 == 0 {
            Channel::DevlinkMon
        } else {
            Channel::RtnlMon
        };
        k.push(channel, Ok(d.to_vec()));
        rest = &body[d.len()..];
    }
    src.drain(&mut t).unwrap();
    t.check().unwrap();
});
