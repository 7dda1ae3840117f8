//! Where log lines go when no host logger is installed: stderr, in a format
//! close to OVS's (`time|module|LEVEL|message`).  Level from
//! `OVN_VIF_RS_LOG` (error, warn, info, debug, trace; default info).
//! When hosted by an OVS process (ovn-controller), [`init_default`] installs
//! the vlog bridge ([`crate::ffi::vlog::VlogLogger`]) instead: lines go to
//! ovn-controller's log under module `vif_plug_representor`, with levels
//! set by `-v` / `vlog/set` (and `OVN_VIF_RS_LOG` is ignored).

use std::io::Write;
use std::sync::OnceLock;

struct Stderr {
    level: log::LevelFilter,
}

impl log::Log for Stderr {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= self.level
    }

    fn log(&self, r: &log::Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let lvl = match r.level() {
            log::Level::Error => "ERR",
            log::Level::Warn => "WARN",
            log::Level::Info => "INFO",
            log::Level::Debug => "DBG",
            log::Level::Trace => "DBG",
        };
        // One write per line so concurrent writers do not interleave.
        let line = format!("vif_plug_representor|{lvl}|{}\n", r.args());
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

static STDERR: OnceLock<Stderr> = OnceLock::new();

/// Parses a level name as `OVN_VIF_RS_LOG` takes it.
pub fn parse_level(s: &str) -> Option<log::LevelFilter> {
    match s.trim().to_ascii_lowercase().as_str() {
        "off" => Some(log::LevelFilter::Off),
        "error" | "err" => Some(log::LevelFilter::Error),
        "warn" | "warning" => Some(log::LevelFilter::Warn),
        "info" => Some(log::LevelFilter::Info),
        "debug" | "dbg" => Some(log::LevelFilter::Debug),
        "trace" => Some(log::LevelFilter::Trace),
        _ => None,
    }
}

static VLOG: crate::ffi::vlog::VlogLogger = crate::ffi::vlog::VlogLogger;

/// Installs the logger unless one is already installed: the vlog bridge
/// when the host exports OVS vlog, else stderr.
pub fn init_default() {
    if crate::ffi::vlog::hosted() {
        if log::set_logger(&VLOG).is_ok() {
            // vlog decides per line (its levels change at run time);
            // `trace!` is never forwarded.
            log::set_max_level(log::LevelFilter::Debug);
        }
        return;
    }
    let level = std::env::var("OVN_VIF_RS_LOG")
        .ok()
        .and_then(|s| parse_level(&s))
        .unwrap_or(log::LevelFilter::Info);
    let logger = STDERR.get_or_init(|| Stderr { level });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}
