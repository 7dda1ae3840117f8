//! Netlink shared by devlink (generic netlink, `crate::devlink`) and
//! rtnetlink (`crate::rtnl`), on neli's types: message framing, acks,
//! errors and `NLMSG_DONE` ([`wire`]), the generic netlink header and the
//! nlctrl family lookup ([`genl`]), and the non-blocking socket layer with
//! its dump logic ([`socket`]).  Neither family module imports the other.

pub mod genl;
pub mod socket;
#[cfg(test)]
pub(crate) mod uapi;
pub mod wire;

pub use wire::{ParseError, ParseErrorKind};
