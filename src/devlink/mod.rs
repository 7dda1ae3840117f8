//! devlink over generic netlink: attribute numbers and their neli enums
//! ([`attrs`]) and port message parse/emit ([`parse`]).  The netlink
//! framing, the socket layer with its dump logic and the nlctrl family
//! lookup are shared with `crate::rtnl` in `crate::netlink`.

pub mod attrs;
pub mod parse;

pub use crate::netlink::ParseError;
pub use parse::{PortAttr, PortEvent};
