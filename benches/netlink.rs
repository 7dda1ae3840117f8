//! Netlink parsing: neli against the hand-written code, on the same bytes
//! in the same run (issue 13).  Prints ns per message and the ratio to the
//! hand-written baseline; asserts only that every variant reads the same
//! events (no timed assertion).
//!
//!     cargo bench --bench netlink [-- --reps N]
//!
//! Inputs: a 65,536-port devlink dump (PCI VF ports with a netdev and a
//! port function, as `emit_port_message` writes them, packed into 32 KiB
//! datagrams like the kernel's dump skbs) and, for the event path, one
//! devlink `PORT_NEW` and one `RTM_NEWLINK` captured from Linux 6.1
//! (`tests/fixtures/netlink/capture-6.1`; the link message carries the
//! kernel's ~50 `IFLA_*` attributes).
//!
//! Variants, per message:
//! - `hand`: the pre-neli code: hand-written `nlmsghdr`, `genlmsghdr` /
//!   `ifinfomsg` reads (copied here as the baseline) and the hand-written
//!   attribute walk (`wire::attrs`);
//! - `lib`: what the library ships: headers read by neli (`wire::messages`,
//!   `parse_genl_header`, `IfInfo::parse`), attributes by the hand walk;
//! - `neli`: neli parses the whole message, attributes included
//!   (`Nlmsghdr<u16, Genlmsghdr<u8, u16>>`, `Nlmsghdr<u16, Ifinfomsg>`),
//!   and the same event builder reads neli's attributes.
//!
//! The rule (issue 13): neli is used where its cost is at most 2x the
//! hand-written code's; `BENCHMARKS.md` keeps the figures.

use std::hint::black_box;
use std::io::Cursor;
use std::path::Path;
use std::time::Instant;

use neli::genl::Genlmsghdr;
use neli::nl::{NlPayload, Nlmsghdr};
use neli::rtnl::Ifinfomsg;
use neli::FromBytes;
use ovn_vif_rs::devlink::attrs::DEVLINK_CMD_NEW;
use ovn_vif_rs::devlink::parse::{
    emit_port_message, parse_port_dump_payload, parse_port_payload, port_event_from_attrs,
    PortEvent,
};
use ovn_vif_rs::netlink::wire::{self, ParseError, NLA_TYPE_MASK, NLM_F_MULTI};
use ovn_vif_rs::port::{DevHandle, DevlinkPort, Flavour, Mac, NetdevRef, PortFunction, PortId};
use ovn_vif_rs::rtnl::parse::{new_link_from_attrs, parse_link_payload, IfInfo, LinkEvent};

const FAMILY: u16 = 0x15;

// ---- the hand-written baseline (the code neli replaced) ----

struct HandMsg<'a> {
    ty: u16,
    payload: &'a [u8],
}

fn hand_messages(mut b: &[u8], mut each: impl FnMut(HandMsg<'_>)) -> Result<(), ParseError> {
    while !b.is_empty() {
        let bad = || {
            ParseError::new(
                "nlmsghdr",
                wire::ParseErrorKind::Truncated {
                    need: 16,
                    have: b.len(),
                },
            )
        };
        if b.len() < 16 {
            return Err(bad());
        }
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if len < 16 || len > b.len() {
            return Err(bad());
        }
        // seq, pid and flags read as the old iterator did.
        let ty = u16::from_ne_bytes([b[4], b[5]]);
        black_box((
            u16::from_ne_bytes([b[6], b[7]]),
            u32::from_ne_bytes([b[8], b[9], b[10], b[11]]),
            u32::from_ne_bytes([b[12], b[13], b[14], b[15]]),
        ));
        each(HandMsg {
            ty,
            payload: &b[16..len],
        });
        b = &b[wire::align4(len).min(b.len())..];
    }
    Ok(())
}

fn hand_port(payload: &[u8]) -> Result<Option<PortEvent>, ParseError> {
    if payload.len() < 4 {
        return Err(ParseError::new(
            "genlmsghdr",
            wire::ParseErrorKind::Truncated {
                need: 4,
                have: payload.len(),
            },
        ));
    }
    black_box((payload[0], payload[1]));
    port_event_from_attrs(wire::attrs(&payload[4..], "devlink port message"), false)
}

fn hand_link(payload: &[u8]) -> Result<Option<LinkEvent>, ParseError> {
    if payload.len() < 16 {
        return Err(ParseError::new(
            "ifinfomsg",
            wire::ParseErrorKind::Truncated {
                need: 16,
                have: payload.len(),
            },
        ));
    }
    let family = payload[0];
    let index = i32::from_ne_bytes([payload[4], payload[5], payload[6], payload[7]]);
    black_box(u16::from_ne_bytes([payload[2], payload[3]]));
    if family != 0 || index <= 0 {
        return Ok(None);
    }
    new_link_from_attrs(
        index as u32,
        wire::attrs(&payload[16..], "rtnetlink link message"),
    )
    .map(Some)
}

// ---- neli all the way (attributes included) ----

fn neli_messages<P>(
    b: &[u8],
    mut each: impl FnMut(&Nlmsghdr<u16, P>),
) -> Result<(), neli::err::DeError>
where
    P: neli::Size + neli::FromBytesWithInput<Input = usize>,
{
    let mut c = Cursor::new(b);
    while (c.position() as usize) < b.len() {
        let m = Nlmsghdr::<u16, P>::from_bytes(&mut c)?;
        each(&m);
    }
    Ok(())
}

fn neli_port(m: &Nlmsghdr<u16, Genlmsghdr<u8, u16>>) -> Result<Option<PortEvent>, ParseError> {
    let NlPayload::Payload(g) = m.nl_payload() else {
        return Ok(None);
    };
    black_box((*g.cmd(), *g.version()));
    let attrs = g.attrs().iter().map(|a| {
        Ok((
            *a.nla_type().nla_type() & NLA_TYPE_MASK,
            a.nla_payload().as_ref(),
        ))
    });
    port_event_from_attrs(attrs, false)
}

fn neli_link(m: &Nlmsghdr<u16, Ifinfomsg>) -> Result<Option<LinkEvent>, ParseError> {
    let NlPayload::Payload(h) = m.nl_payload() else {
        return Ok(None);
    };
    if u8::from(*h.ifi_family()) != 0 || *h.ifi_index() <= 0 {
        return Ok(None);
    }
    let attrs = h.rtattrs().iter().map(|a| {
        Ok((
            u16::from(*a.rta_type()) & NLA_TYPE_MASK,
            a.rta_payload().as_ref(),
        ))
    });
    new_link_from_attrs(*h.ifi_index() as u32, attrs).map(Some)
}

// ---- inputs ----

fn ports(n: usize) -> Vec<DevlinkPort> {
    (0..n)
        .map(|i| {
            let dev = i / 1024;
            let vf = (i % 1024) as u16;
            DevlinkPort {
                id: PortId {
                    handle: DevHandle::new("pci", &format!("0000:{:02x}:00.0", dev + 1)),
                    index: 1 + i as u32,
                },
                flavour: Flavour::PciVf,
                controller: 1,
                external: true,
                number: None,
                pfnum: Some(0),
                vfnum: Some(vf),
                sfnum: None,
                netdev: Some(NetdevRef {
                    ifindex: 100 + i as u32,
                    name: format!("eth{i}"),
                }),
                function: Some(PortFunction {
                    hw_addr: Some(Mac([
                        0x02,
                        0,
                        0x53,
                        (i >> 16) as u8,
                        (i >> 8) as u8,
                        i as u8,
                    ])),
                    state: Some(1),
                    opstate: Some(1),
                }),
            }
        })
        .collect()
}

fn dump_datagrams(ports: &[DevlinkPort]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for p in ports {
        let m = emit_port_message(FAMILY, NLM_F_MULTI, 7, DEVLINK_CMD_NEW, p);
        if cur.len() + m.len() > 32 * 1024 {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend_from_slice(&m);
    }
    out.push(cur);
    out
}

fn capture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlink/capture-6.1")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

// ---- timing ----

/// The three variants run in turn `reps` times (interleaved and rotated,
/// so that load from other processes hits all of them alike); each one's median, in ns
/// per message (each call handles `msgs` messages).
fn ns_per_msg3(reps: usize, msgs: usize, fs: [&mut dyn FnMut() -> usize; 3]) -> (f64, f64, f64) {
    let mut v: [Vec<f64>; 3] = Default::default();
    for r in 0..reps {
        // Rotated, so that no variant always runs first.
        for j in 0..3 {
            let i = (r + j) % 3;
            let t = Instant::now();
            let n = black_box(fs[i]());
            let dt = t.elapsed().as_nanos() as f64;
            assert_eq!(n, msgs, "every message read");
            v[i].push(dt / msgs as f64);
        }
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (med(&mut v[0]), med(&mut v[1]), med(&mut v[2]))
}

fn row(what: &str, hand: f64, lib: f64, neli: f64) {
    println!(
        "| {what:<34} | {hand:>9.1} | {lib:>9.1} ({:>4.2}x) | {neli:>9.1} ({:>4.2}x) |",
        lib / hand,
        neli / hand
    );
}

fn main() {
    let mut reps = 15;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--reps" {
            reps = args.next().and_then(|v| v.parse().ok()).unwrap_or(reps);
        }
    }

    println!("# netlink parsing: hand-written vs neli (same bytes, same run; median of {reps})\n");
    println!("| input                              | hand ns/msg | lib ns/msg (/hand) | neli ns/msg (/hand) |");
    println!("|------------------------------------|-----------:|-------------------:|--------------------:|");

    // The 65,536-port dump.
    let n = 65_536;
    let layout = ports(n);
    let dgrams = dump_datagrams(&layout);
    let bytes: usize = dgrams.iter().map(Vec::len).sum();
    // Same events from all three.
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut c = Vec::new();
    for d in &dgrams {
        hand_messages(d, |m| a.push(hand_port(m.payload).unwrap())).expect("hand framing");
        for m in wire::messages(d) {
            b.push(parse_port_dump_payload(m.expect("lib framing").payload).unwrap());
        }
        neli_messages::<Genlmsghdr<u8, u16>>(d, |m| c.push(neli_port(m).unwrap()))
            .expect("neli framing");
    }
    assert_eq!(a.len(), n);
    assert_eq!(a, b, "lib reads what the hand-written code reads");
    assert_eq!(a, c, "neli reads what the hand-written code reads");
    let want: Vec<_> = layout
        .into_iter()
        .map(|p| Some(PortEvent::New(p)))
        .collect();
    assert_eq!(a, want);
    drop((a, b, c, want));

    let (mut f1, mut f2, mut f3) = (
        || {
            let mut k = 0;
            for d in &dgrams {
                hand_messages(d, |m| {
                    k += black_box(hand_port(m.payload)).is_ok() as usize;
                })
                .ok();
            }
            k
        },
        || {
            let mut k = 0;
            for d in &dgrams {
                for m in wire::messages(d).flatten() {
                    k += black_box(parse_port_dump_payload(m.payload)).is_ok() as usize;
                }
            }
            k
        },
        || {
            let mut k = 0;
            for d in &dgrams {
                neli_messages::<Genlmsghdr<u8, u16>>(d, |m| {
                    k += black_box(neli_port(m)).is_ok() as usize;
                })
                .ok();
            }
            k
        },
    );
    let (hand, lib, neli) = ns_per_msg3(reps, n, [&mut f1, &mut f2, &mut f3]);
    row(
        &format!("devlink dump, {n} ports ({} KiB)", bytes / 1024),
        hand,
        lib,
        neli,
    );
    let dump = (hand, lib, neli);

    // Framing alone over the same dump (no attributes): what neli's header
    // reads cost on their own.
    let frames = |f: &dyn Fn(&[u8]) -> usize| dgrams.iter().map(|d| f(d)).sum::<usize>();
    let (mut f1, mut f2, mut f3) = (
        || {
            frames(&|d| {
                let mut k = 0;
                hand_messages(d, |m| k += black_box(m.ty == FAMILY) as usize).ok();
                k
            })
        },
        || {
            frames(&|d| {
                wire::messages(d)
                    .flatten()
                    .map(|m| black_box(m.ty == FAMILY) as usize)
                    .sum()
            })
        },
        || {
            frames(&|d| {
                let mut k = 0;
                neli_messages::<neli::types::Buffer>(d, |m| {
                    k += black_box(*m.nl_type() == FAMILY) as usize
                })
                .ok();
                k
            })
        },
    );
    let (hand_f, lib_f, neli_f) = ns_per_msg3(reps, n, [&mut f1, &mut f2, &mut f3]);
    row("  framing only (nlmsghdr)", hand_f, lib_f, neli_f);

    // The event path: one captured PORT_NEW, one captured RTM_NEWLINK.
    let iters = 200_000;
    let port_new = capture("capture-add-003-devlink-mon.bin");
    let link_new = capture("capture-add-004-rtnl-mon.bin");
    let one_port = |f: &dyn Fn() -> bool| (0..iters).map(|_| f() as usize).sum::<usize>();
    let want = {
        let mut v = None;
        hand_messages(&port_new, |m| v = Some(hand_port(m.payload).unwrap())).unwrap();
        v.unwrap()
    };
    {
        let m = wire::messages(&port_new).next().unwrap().unwrap();
        assert_eq!(parse_port_payload(m.payload).unwrap(), want);
        let mut v = None;
        neli_messages::<Genlmsghdr<u8, u16>>(&port_new, |m| v = Some(neli_port(m).unwrap()))
            .unwrap();
        assert_eq!(v.unwrap(), want);
    }
    let (mut f1, mut f2, mut f3) = (
        || {
            one_port(&|| {
                let mut ok = false;
                hand_messages(black_box(&port_new), |m| ok = hand_port(m.payload).is_ok()).ok();
                ok
            })
        },
        || {
            one_port(&|| {
                wire::messages(black_box(&port_new))
                    .flatten()
                    .all(|m| parse_port_payload(m.payload).is_ok())
            })
        },
        || {
            one_port(&|| {
                let mut ok = false;
                neli_messages::<Genlmsghdr<u8, u16>>(black_box(&port_new), |m| {
                    ok = neli_port(m).is_ok()
                })
                .ok();
                ok
            })
        },
    );
    let (hand_e, lib_e, neli_e) = ns_per_msg3(reps, iters, [&mut f1, &mut f2, &mut f3]);
    row(
        &format!("devlink PORT_NEW event ({} B)", port_new.len()),
        hand_e,
        lib_e,
        neli_e,
    );

    let want = {
        let mut v = None;
        hand_messages(&link_new, |m| {
            if m.ty == ovn_vif_rs::rtnl::parse::RTM_NEWLINK {
                v = Some(hand_link(m.payload).unwrap())
            }
        })
        .unwrap();
        v.expect("an RTM_NEWLINK in the capture")
    };
    assert!(matches!(want, Some(LinkEvent::New(_))));
    {
        let m = wire::messages(&link_new).next().unwrap().unwrap();
        assert_eq!(parse_link_payload(m.ty, m.payload).unwrap(), want);
        let (_, rest) = IfInfo::parse(m.payload).unwrap();
        assert!(
            rest.len() > 1000,
            "a real link message ({} B of attributes)",
            rest.len()
        );
        let mut v = None;
        neli_messages::<Ifinfomsg>(&link_new, |m| v = Some(neli_link(m).unwrap())).unwrap();
        assert_eq!(v.unwrap(), want);
    }
    let (mut f1, mut f2, mut f3) = (
        || {
            one_port(&|| {
                let mut ok = false;
                hand_messages(black_box(&link_new), |m| ok = hand_link(m.payload).is_ok()).ok();
                ok
            })
        },
        || {
            one_port(&|| {
                wire::messages(black_box(&link_new))
                    .flatten()
                    .all(|m| parse_link_payload(m.ty, m.payload).is_ok())
            })
        },
        || {
            one_port(&|| {
                let mut ok = false;
                neli_messages::<Ifinfomsg>(black_box(&link_new), |m| ok = neli_link(m).is_ok())
                    .ok();
                ok
            })
        },
    );
    let (hand_l, lib_l, neli_l) = ns_per_msg3(reps, iters, [&mut f1, &mut f2, &mut f3]);
    row(
        &format!("RTM_NEWLINK event ({} B)", link_new.len()),
        hand_l,
        lib_l,
        neli_l,
    );

    println!();
    let verdict = |what: &str, r: f64| {
        println!(
            "{what}: {r:.2}x the hand-written code: {}",
            if r <= 2.0 {
                "within 2x, neli"
            } else {
                "over 2x, hand-written"
            }
        )
    };
    verdict("neli headers on the dump (lib)", dump.1 / dump.0);
    verdict("neli attributes on the dump", dump.2 / dump.0);
    verdict("neli headers on a PORT_NEW event (lib)", lib_e / hand_e);
    verdict("neli attributes on a PORT_NEW event", neli_e / hand_e);
    verdict("neli headers on an RTM_NEWLINK event (lib)", lib_l / hand_l);
    verdict("neli attributes on an RTM_NEWLINK event", neli_l / hand_l);
}
