//! rtnetlink links: 6.1 sends no devlink notification when a netdev is
//! renamed, so names (and MACs) come from `RTM_NEWLINK`/`RTM_DELLINK` in
//! `RTNLGRP_LINK`.  [`parse`] reads the messages, [`settled`] decides when a
//! name is final (udev).

pub mod parse;
pub mod settled;

pub use parse::{LinkEvent, LinkInfo};
