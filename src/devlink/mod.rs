//! devlink over generic netlink: attribute numbers ([`attrs`]), netlink
//! framing ([`wire`], shared with `crate::rtnl`), port message parse/emit
//! ([`parse`]) and the socket layer with its dump/monitor logic
//! ([`socket`]).

pub mod attrs;
pub mod parse;
pub mod socket;
pub mod wire;

pub use parse::{PortAttr, PortEvent};
pub use wire::ParseError;
