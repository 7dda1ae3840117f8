//! Strict parsing of a Logical_Switch_Port's `vif-plug:representor:*`
//! options.  Pure logic.
//!
//! A lenient parser here is a tenant-isolation bug: ovn-vif parses `vf-num`
//! with `strtol` into a `uint16_t`, so `65536` plugs VF 0 and `1x` plugs VF 1.
//! We accept exactly one spelling of each value and refuse everything else.

use std::fmt;

use crate::logging::untrusted;
use crate::port::{hex_digit, Mac, MacParseError};

pub const OPT_PF_MAC: &str = "vif-plug:representor:pf-mac";
pub const OPT_VF_NUM: &str = "vif-plug:representor:vf-num";
pub const OPT_SF_NUM: &str = "vif-plug:representor:sf-num";
/// The option prefix this provider owns; any other key under it is refused
/// (a typo such as `vf_num` must not silently plug the PF).
pub const OPT_PREFIX: &str = "vif-plug:representor:";

/// Whether `key` is [`OPT_PREFIX`] spelt differently: equal to it once
/// ASCII case is ignored and `-`, `_` and `:` are taken as one separator
/// (`vif-plug:representor-vf-num`, `vif-plug:Representor:vf-num`,
/// `vif_plug:representor:pf-mac`), without being it exactly.  Such a key
/// is refused (prepare only sees lports with `vif-plug-type=representor`,
/// so it can only have been meant for this provider): ignoring it would
/// plug the PF's representor instead of the VF or SF the operator asked
/// for.  Other providers' keys (`vif-plug:other:*`) and OVN's
/// (`vif-plug-type`, `vif-plug-mtu-request`) are not near misses.
#[inline]
pub fn is_near_miss(key: &[u8]) -> bool {
    let p = OPT_PREFIX.as_bytes();
    if key.len() < p.len() || key.starts_with(p) {
        return false;
    }
    let norm = |c: u8| match c {
        b'-' | b'_' => b':',
        c => c.to_ascii_lowercase(),
    };
    key.iter().zip(p).all(|(&k, &q)| norm(k) == norm(q))
}

/// Whether a key whose first byte is `first` can concern this provider
/// (its prefix or a near miss of it, [`is_near_miss`]): the hit path's
/// walk skips every other key without reading it further.
#[inline]
pub fn may_concern_us(first: u8) -> bool {
    first | 0x20 == b'v'
}

/// Which function of the PF a request names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    Pf,
    Vf(u16),
    Sf(u32),
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Function::Pf => write!(f, "PF"),
            Function::Vf(n) => write!(f, "VF {n}"),
            Function::Sf(n) => write!(f, "SF {n}"),
        }
    }
}

/// A parsed, valid request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    pub pf_mac: Mac,
    pub function: Function,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of PF {}", self.function, self.pf_mac)
    }
}

/// Why a set of options is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionError {
    MissingPfMac,
    BadMac {
        value: String,
        why: &'static str,
    },
    BadNumber {
        key: &'static str,
        value: String,
        why: &'static str,
    },
    VfAndSf,
    UnknownOption {
        key: String,
    },
    /// A key that is this provider's prefix spelt differently (case, `-` or
    /// `_` for `:`), e.g. `vif-plug:representor-vf-num`: ignoring it would
    /// plug the PF instead of the function the operator meant.
    NearMiss {
        key: String,
    },
    Duplicate {
        key: String,
    },
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionError::MissingPfMac => write!(f, "required option {OPT_PF_MAC} is missing"),
            OptionError::BadMac { value, why } => {
                write!(f, "{OPT_PF_MAC}=\"{value}\" is not usable: {why}")
            }
            OptionError::BadNumber { key, value, why } => {
                write!(f, "{key}=\"{value}\" is invalid: {why}")
            }
            OptionError::VfAndSf => {
                write!(f, "{OPT_VF_NUM} and {OPT_SF_NUM} are mutually exclusive")
            }
            OptionError::UnknownOption { key } => write!(
                f,
                "unknown option \"{key}\" (known: {OPT_PF_MAC}, {OPT_VF_NUM}, {OPT_SF_NUM})"
            ),
            OptionError::NearMiss { key } => write!(
                f,
                "option \"{key}\" looks like a misspelling of {OPT_PREFIX}* (this provider's \
                 keys start with exactly \"{OPT_PREFIX}\", lower case, ':'-separated); \
                 refusing rather than plugging the PF"
            ),
            OptionError::Duplicate { key } => write!(f, "option {key} given more than once"),
        }
    }
}

impl std::error::Error for OptionError {}

/// Parses `aa:bb:cc:dd:ee:ff`: exactly six two-digit hex octets separated by
/// `:`, any case.  Zero and multicast (incl. broadcast) addresses are refused:
/// neither can be a PF's MAC.
pub fn parse_mac(s: &str) -> Result<Mac, OptionError> {
    let bad = |why| OptionError::BadMac {
        value: untrusted(s),
        why,
    };
    let mac: Mac = s.parse().map_err(|e: MacParseError| bad(e.why()))?;
    if mac.is_zero() {
        return Err(bad("the zero MAC is never a PF's address"));
    }
    if mac.is_multicast() {
        return Err(bad("a multicast/broadcast MAC is never a PF's address"));
    }
    Ok(mac)
}

/// Plain decimal: ASCII digits only, no sign, no spaces, no leading zeros
/// (`007` could be meant as octal), no overflow.
pub fn parse_decimal(key: &'static str, s: &str, max: u64) -> Result<u64, OptionError> {
    let bad = |why| OptionError::BadNumber {
        key,
        value: untrusted(s),
        why,
    };
    if s.is_empty() {
        return Err(bad("empty"));
    }
    if !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad("only decimal digits are allowed"));
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(bad("leading zeros are not allowed"));
    }
    let mut v: u64 = 0;
    for c in s.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((c - b'0') as u64))
            .filter(|&v| v <= max)
            .ok_or_else(|| {
                bad(if max == u16::MAX as u64 {
                    "out of range 0..=65535"
                } else {
                    "out of range 0..=4294967295"
                })
            })?;
    }
    Ok(v)
}

/// Parses a request from the LSP's options, given as (key, value) pairs in
/// any order.  Keys outside `vif-plug:representor:` are ignored (they belong
/// to OVN or other providers), except near misses of that prefix
/// ([`is_near_miss`]), which are refused.
pub fn parse<K, V>(options: impl IntoIterator<Item = (K, V)>) -> Result<Request, OptionError>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut mac: Option<V> = None;
    let mut vf: Option<V> = None;
    let mut sf: Option<V> = None;
    for (k, v) in options {
        let key = k.as_ref();
        let Some(rest) = key.strip_prefix(OPT_PREFIX) else {
            if is_near_miss(key.as_bytes()) {
                return Err(OptionError::NearMiss {
                    key: untrusted(key),
                });
            }
            continue;
        };
        let slot = match rest {
            "pf-mac" => &mut mac,
            "vf-num" => &mut vf,
            "sf-num" => &mut sf,
            _ => {
                return Err(OptionError::UnknownOption {
                    key: untrusted(key),
                })
            }
        };
        if slot.replace(v).is_some() {
            return Err(OptionError::Duplicate {
                key: key.to_owned(),
            });
        }
    }
    let pf_mac = parse_mac(mac.as_ref().ok_or(OptionError::MissingPfMac)?.as_ref())?;
    let function = match (vf, sf) {
        (Some(_), Some(_)) => return Err(OptionError::VfAndSf),
        (Some(v), None) => {
            Function::Vf(parse_decimal(OPT_VF_NUM, v.as_ref(), u16::MAX as u64)? as u16)
        }
        (None, Some(s)) => {
            Function::Sf(parse_decimal(OPT_SF_NUM, s.as_ref(), u32::MAX as u64)? as u32)
        }
        (None, None) => Function::Pf,
    };
    Ok(Request { pf_mac, function })
}

/// Longest key suffix after [`OPT_PREFIX`] the fast path reads (`pf-mac`,
/// `vf-num`, `sf-num`): a longer one is unknown.
pub const FAST_KEY_MAX: usize = 6;
/// Longest value the fast path reads: a MAC (17 bytes) or a decimal (at most
/// 10 digits).  A longer value is invalid.
pub const FAST_VALUE_MAX: usize = 17;

/// The hit path's option parser: fed the raw bytes of this provider's keys
/// (after the prefix) and values as the C caller reads them, with no
/// conversion to text and no allocation.  [`FastOptions::finish`] returns
/// `Some` exactly when [`parse`] returns `Ok`, with the same request
/// (tests/table_props.rs checks this); `None` means "take the slow path",
/// which produces the error.  A suffix or value longer than
/// [`FAST_KEY_MAX`] / [`FAST_VALUE_MAX`] is passed as `None` (the caller
/// never reads past those bounds).
#[derive(Default)]
pub struct FastOptions<'a> {
    mac: Option<&'a [u8]>,
    vf: Option<&'a [u8]>,
    sf: Option<&'a [u8]>,
    bad: bool,
}

impl<'a> FastOptions<'a> {
    /// One `vif-plug:representor:<suffix>` pair.  Returns false once the
    /// options cannot be valid (the caller may stop walking).
    #[inline]
    pub fn add(&mut self, suffix: Option<&[u8]>, value: Option<&'a [u8]>) -> bool {
        let slot = match suffix {
            Some(b"pf-mac") => &mut self.mac,
            Some(b"vf-num") => &mut self.vf,
            Some(b"sf-num") => &mut self.sf,
            _ => {
                self.bad = true;
                return false;
            }
        };
        match value {
            Some(v) if slot.is_none() => {
                *slot = Some(v);
                true
            }
            _ => {
                // A duplicate, or a value too long to be valid.
                self.bad = true;
                false
            }
        }
    }

    #[inline]
    pub fn finish(self) -> Option<Request> {
        if self.bad {
            return None;
        }
        let pf_mac = mac_bytes(self.mac?)?;
        let function = match (self.vf, self.sf) {
            (Some(_), Some(_)) => return None,
            (Some(v), None) => Function::Vf(decimal_bytes(v, u16::MAX as u64)? as u16),
            (None, Some(s)) => Function::Sf(decimal_bytes(s, u32::MAX as u64)? as u32),
            (None, None) => Function::Pf,
        };
        Some(Request { pf_mac, function })
    }
}

/// The hit path's parse: [`FastOptions`] fed every key that carries
/// [`OPT_PREFIX`] (a near miss of it, [`is_near_miss`], gives `None`), with its suffix and value bounded by [`FAST_KEY_MAX`] /
/// [`FAST_VALUE_MAX`] (longer ones passed as `None`).  A value is produced
/// lazily (`value()`, `None` when OVN's node has none), so keys of other
/// owners never cost a read of their value.  `Some` exactly when [`parse`]
/// returns `Ok`, with the same request (tests/table_props.rs and the
/// `options` fuzz target check this through [`parse_fast`]).
#[inline]
pub fn parse_fast_with<'a, V>(pairs: impl IntoIterator<Item = (&'a [u8], V)>) -> Option<Request>
where
    V: FnOnce() -> Option<&'a [u8]>,
{
    let mut f = FastOptions::default();
    for (key, value) in pairs {
        let Some(suffix) = key.strip_prefix(OPT_PREFIX.as_bytes()) else {
            if is_near_miss(key) {
                return None;
            }
            continue;
        };
        let value = value()?;
        let suffix = (suffix.len() <= FAST_KEY_MAX).then_some(suffix);
        let value = (value.len() <= FAST_VALUE_MAX).then_some(value);
        if !f.add(suffix, value) {
            return None;
        }
    }
    f.finish()
}

/// [`parse_fast_with`] over text pairs (tests, the fuzz target).
pub fn parse_fast<'a>(opts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Request> {
    parse_fast_with(
        opts.into_iter()
            .map(|(k, v)| (k.as_bytes(), move || Some(v.as_bytes()))),
    )
}

/// [`parse_mac`] without the error: the same accepted set.
#[inline]
fn mac_bytes(b: &[u8]) -> Option<Mac> {
    let b: &[u8; 17] = b.try_into().ok()?;
    let mut out = [0u8; 6];
    for (i, o) in out.iter_mut().enumerate() {
        let at = i * 3;
        if i > 0 && b[at - 1] != b':' {
            return None;
        }
        let (hi, lo) = (HEX[b[at] as usize], HEX[b[at + 1] as usize]);
        if (hi | lo) > 15 {
            return None;
        }
        *o = hi << 4 | lo;
    }
    Some(Mac(out)).filter(Mac::is_usable)
}

/// [`hex_digit`] as a table (0xff: not a hex digit), for the hit path.
static HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match hex_digit(c as u8) {
            Some(v) => v,
            None => 0xff,
        };
        c += 1;
    }
    t
};

/// [`parse_decimal`] without the error: the same accepted set.
#[inline]
fn decimal_bytes(b: &[u8], max: u64) -> Option<u64> {
    if b.is_empty() || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
        if v > max {
            return None;
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(opts: &[(&str, &str)]) -> Result<Request, OptionError> {
        let r = parse(opts.iter().copied());
        assert_eq!(parse_fast(opts.iter().copied()), r.clone().ok(), "{opts:?}");
        r
    }

    const MAC: &str = "00:53:00:00:10:00";

    #[test]
    fn accepts_pf_vf_sf() {
        let mac = Mac([0, 0x53, 0, 0, 0x10, 0]);
        assert_eq!(
            p(&[(OPT_PF_MAC, MAC)]),
            Ok(Request {
                pf_mac: mac,
                function: Function::Pf
            })
        );
        assert_eq!(
            p(&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "65535")]),
            Ok(Request {
                pf_mac: mac,
                function: Function::Vf(65535)
            })
        );
        assert_eq!(
            p(&[(OPT_SF_NUM, "4294967295"), (OPT_PF_MAC, MAC)]),
            Ok(Request {
                pf_mac: mac,
                function: Function::Sf(u32::MAX)
            })
        );
        assert_eq!(
            p(&[(OPT_PF_MAC, "0A:bC:00:00:10:0f"), (OPT_VF_NUM, "0")]).map(|r| r.pf_mac),
            Ok(Mac([0x0a, 0xbc, 0, 0, 0x10, 0x0f]))
        );
    }

    /// One MAC parser: `FromStr for Mac` reads any address, zero and
    /// multicast included; the option refuses those two (its policy) and
    /// says why for the rest with the parser's words.
    #[test]
    fn one_mac_parser_and_the_options_policy() {
        let any = |s: &str| s.parse::<Mac>();
        assert_eq!(
            any("0A:bC:00:00:10:0f"),
            Ok(Mac([0x0a, 0xbc, 0, 0, 0x10, 0x0f]))
        );
        assert_eq!(any("00:00:00:00:00:00"), Ok(Mac::ZERO));
        assert_eq!(any("ff:ff:ff:ff:ff:ff"), Ok(Mac([0xff; 6])));
        assert_eq!(any("01:00:5e:00:00:01").map(|m| m.is_multicast()), Ok(true));
        for (bad, why) in [
            ("", "expected six hex octets like 00:53:00:00:10:00"),
            (
                "0:53:0:0:10:0",
                "expected six hex octets like 00:53:00:00:10:00",
            ),
            (
                "00:53:00:00:10:00:",
                "expected six hex octets like 00:53:00:00:10:00",
            ),
            ("00-53-00-00-10-00", "octets must be separated by ':'"),
            ("00:53:00:00:10:0g", "not a hex digit"),
            ("+0:53:00:00:10:00", "not a hex digit"),
        ] {
            assert_eq!(any(bad).map_err(|e| e.why()), Err(why), "{bad:?}");
            match parse_mac(bad) {
                Err(OptionError::BadMac { why: w, .. }) => assert_eq!(w, why, "{bad:?}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        for (policy, why) in [
            ("00:00:00:00:00:00", "the zero MAC is never a PF's address"),
            (
                "ff:ff:ff:ff:ff:ff",
                "a multicast/broadcast MAC is never a PF's address",
            ),
            (
                "01:00:5e:00:00:01",
                "a multicast/broadcast MAC is never a PF's address",
            ),
        ] {
            match parse_mac(policy) {
                Err(OptionError::BadMac { why: w, .. }) => assert_eq!(w, why, "{policy:?}"),
                other => panic!("{policy:?}: {other:?}"),
            }
        }
        assert_eq!(
            parse_mac("02:53:00:00:10:00").ok(),
            any("02:53:00:00:10:00").ok()
        );
    }

    #[test]
    fn ignores_other_providers_and_ovn_options() {
        let r = p(&[
            ("requested-chassis", "dpu0"),
            ("vif-plug-type", "representor"),
            ("vif-plug-mtu-request", "9000"),
            ("vif-plug:other:vf-num", "3"),
            (OPT_PF_MAC, MAC),
        ]);
        assert_eq!(r.map(|r| r.function), Ok(Function::Pf));
    }

    /// Each row must be refused, with the named error kind.
    #[test]
    fn malformed_options_are_refused() {
        use OptionError as E;
        let kind = |e: &E| match e {
            E::MissingPfMac => "missing",
            E::BadMac { .. } => "mac",
            E::BadNumber { .. } => "num",
            E::VfAndSf => "both",
            E::UnknownOption { .. } => "unknown",
            E::NearMiss { .. } => "near",
            E::Duplicate { .. } => "dup",
        };
        let rows: &[(&[(&str, &str)], &str)] = &[
            (&[], "missing"),
            (&[(OPT_VF_NUM, "1")], "missing"),
            (&[(OPT_PF_MAC, "")], "mac"),
            (&[(OPT_PF_MAC, "00:53:00:00:10")], "mac"),
            (&[(OPT_PF_MAC, "00:53:00:00:10:00:00")], "mac"),
            (&[(OPT_PF_MAC, "00-53-00-00-10-00")], "mac"),
            (&[(OPT_PF_MAC, "0053.0000.1000")], "mac"),
            (&[(OPT_PF_MAC, "00:53:00:00:10:0g")], "mac"),
            (&[(OPT_PF_MAC, " 00:53:00:00:10:00")], "mac"),
            (&[(OPT_PF_MAC, "00:53:00:00:10:00 ")], "mac"),
            (&[(OPT_PF_MAC, "0:53:00:00:10:000")], "mac"),
            (&[(OPT_PF_MAC, "00:00:00:00:00:00")], "mac"),
            (&[(OPT_PF_MAC, "ff:ff:ff:ff:ff:ff")], "mac"),
            (&[(OPT_PF_MAC, "01:00:5e:00:00:01")], "mac"),
            (&[(OPT_PF_MAC, "33:33:00:00:00:01")], "mac"),
            (&[(OPT_PF_MAC, "00:53:00:00:10:00\0")], "mac"),
            (&[(OPT_PF_MAC, "００:53:00:00:10:00")], "mac"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "65536")], "num"),
            (
                &[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "99999999999999999999999")],
                "num",
            ),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "-1")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "+1")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "1x")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, " 1")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "1 ")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "0x1")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "01")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "1.0")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "1e3")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "١")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_SF_NUM, "4294967296")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_SF_NUM, "-0")], "num"),
            (&[(OPT_PF_MAC, MAC), (OPT_SF_NUM, "")], "num"),
            (
                &[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "1"), (OPT_SF_NUM, "1")],
                "both",
            ),
            (
                &[(OPT_PF_MAC, MAC), ("vif-plug:representor:vf_num", "1")],
                "unknown",
            ),
            (
                &[(OPT_PF_MAC, MAC), ("vif-plug:representor:pf-num", "1")],
                "unknown",
            ),
            (
                &[(OPT_PF_MAC, MAC), ("vif-plug:representor:", "1")],
                "unknown",
            ),
            // Near misses of the prefix: ignoring them would plug the PF.
            (
                &[(OPT_PF_MAC, MAC), ("vif-plug:representor-vf-num", "3")],
                "near",
            ),
            (
                &[(OPT_PF_MAC, MAC), ("vif-plug:Representor:vf-num", "3")],
                "near",
            ),
            (
                &[(OPT_PF_MAC, MAC), ("VIF-PLUG:REPRESENTOR:VF-NUM", "3")],
                "near",
            ),
            (
                &[(OPT_PF_MAC, MAC), ("vif_plug:representor:sf-num", "3")],
                "near",
            ),
            (
                &[(OPT_PF_MAC, MAC), ("vif-plug-representor:vf-num", "3")],
                "near",
            ),
            (&[("vif-plug:representor_pf-mac", MAC)], "near"),
            (
                &[(OPT_PF_MAC, MAC), ("vif-plug:representor::", "")],
                "unknown",
            ),
            (&[(OPT_PF_MAC, MAC), (OPT_PF_MAC, MAC)], "dup"),
            (
                &[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "1"), (OPT_VF_NUM, "1")],
                "dup",
            ),
        ];
        assert!(rows.len() >= 30);
        for (opts, _) in rows {
            assert_eq!(
                parse_fast(opts.iter().copied()),
                None,
                "{opts:?} accepted by the fast path"
            );
        }
        for (opts, want) in rows {
            match p(opts) {
                Ok(r) => panic!("{opts:?} accepted as {r:?}"),
                Err(e) => {
                    assert_eq!(
                        kind(&e),
                        *want,
                        "{opts:?} refused for the wrong reason: {e}"
                    );
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }

    #[test]
    fn near_misses_are_only_spellings_of_the_prefix() {
        for k in [
            "vif-plug:representor-vf-num",
            "vif-plug:Representor:vf-num",
            "Vif-plug:representor:pf-mac",
            "vif_plug_representor_vf_num",
            "vif:plug:representor:",
            "VIF-PLUG-REPRESENTOR-",
        ] {
            assert!(is_near_miss(k.as_bytes()), "{k}");
            assert!(may_concern_us(k.as_bytes()[0]), "{k}");
        }
        for k in [
            OPT_PF_MAC,
            OPT_VF_NUM,
            OPT_PREFIX,
            "vif-plug-type",
            "vif-plug-mtu-request",
            "vif-plug:other:vf-num",
            "vif-plug:representor",
            "vif-plug:representorvf-num",
            "vif-plug:represent:vf-num",
            "requested-chassis",
            "",
        ] {
            assert!(!is_near_miss(k.as_bytes()), "{k}");
        }
        // OVN's own options still pass next to a valid request.
        assert!(p(&[
            ("vif-plug-type", "representor"),
            ("vif-plug-mtu-request", "9000"),
            ("vif-plug:other:vf-num", "3"),
            (OPT_PF_MAC, MAC),
            (OPT_VF_NUM, "3"),
        ])
        .is_ok());
    }

    #[test]
    fn error_texts_escape_and_cap_what_they_quote() {
        let e = p(&[(OPT_PF_MAC, "x\nINFO|forged")]).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
        let e = p(&[(OPT_PF_MAC, MAC), ("vif-plug:representor:a\nb", "1")]).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
        let big = "7".repeat(1 << 20);
        let e = p(&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, &big)]).unwrap_err();
        assert!(e.to_string().len() < 400, "{} bytes", e.to_string().len());
        let e = p(&[(OPT_PF_MAC, &big)]).unwrap_err();
        assert!(e.to_string().len() < 400, "{} bytes", e.to_string().len());
        let e = p(&[(OPT_PF_MAC, MAC), ("vif-plug:representor-vf-num\r", "3")]).unwrap_err();
        assert!(!e.to_string().contains('\r'), "{e}");
    }

    #[test]
    fn error_messages_name_the_option_and_value() {
        let e = p(&[(OPT_PF_MAC, MAC), (OPT_VF_NUM, "65536")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "vif-plug:representor:vf-num=\"65536\" is invalid: out of range 0..=65535"
        );
        let e = p(&[(OPT_PF_MAC, "ff:ff:ff:ff:ff:ff")]).unwrap_err();
        assert!(e.to_string().contains("multicast"), "{e}");
    }
}
