//! Where log lines go.  A host that has its own log (ovn-controller: OVS
//! vlog) hands its sink to [`init`] from the C boundary (src/ffi/host.rs:
//! lines go to ovn-controller's log under module `vif_plug_representor`,
//! with levels set by `-v` / `vlog/set`, and `OVN_VIF_RS_LOG` is ignored);
//! this module imports nothing from `ffi`.  Without one ([`init_default`]: the
//! CLI, tests, a host without vlog): stderr, in a format close to OVS's
//! (`module|LEVEL|message`), level from `OVN_VIF_RS_LOG` (error, warn,
//! info, debug, trace; default info).

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

/// Installs the logger unless one is already installed: `host`, the sink
/// of the process that loaded the library, when there is one, else
/// stderr.  A host sink decides per line itself (its levels change at run
/// time), so everything up to `debug!` is offered to it; `trace!`
/// (dependencies' wire dumps) never is.
pub fn init(host: Option<&'static dyn log::Log>) {
    if let Some(sink) = host {
        if log::set_logger(sink).is_ok() {
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

/// [`init`] without a host sink: stderr (the CLI).
pub fn init_default() {
    init(None);
}

/// Longest untrusted text (in bytes of the original) a log line or a
/// CLI/appctl answer shows; the rest is summarised as `…[+N bytes]`.
pub const UNTRUSTED_MAX: usize = 128;

/// Renders untrusted text (an lport name, an option key or value, anything
/// that came from the northbound database) for a log line or a CLI/appctl
/// answer: control characters (C0, DEL, C1), Unicode line/paragraph
/// separators and bidirectional overrides are escaped (`\n`, `\x1b`,
/// `\u{2028}`), so a value can neither forge a line of ovn-controller's log
/// nor reorder what is shown; a backslash and a double quote are escaped
/// too, so the escapes are unambiguous and quoting is safe; at most
/// [`UNTRUSTED_MAX`] bytes of the original are shown.  The one helper for
/// such text: every log line or answer that shows an lport name or an
/// option goes through it.
pub fn untrusted(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len().min(UNTRUSTED_MAX) + 2);
    let mut shown = 0;
    for (at, c) in s.char_indices() {
        if at + c.len_utf8() > UNTRUSTED_MAX {
            shown = at;
            break;
        }
        shown = at + c.len_utf8();
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    if shown < s.len() {
        let _ = write!(out, "…[+{} bytes]", s.len() - shown);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_cannot_forge_lines_or_flood() {
        assert_eq!(untrusted("lsp-1"), "lsp-1");
        assert_eq!(untrusted(""), "");
        // A newline would start a forged vlog line.
        let forged = "x\n2026-12-01T00:00:00Z|00001|vif_plug_representor|INFO|forged";
        let shown = untrusted(forged);
        assert!(!shown.contains('\n'), "{shown}");
        assert!(shown.starts_with("x\\n2026"), "{shown}");
        assert_eq!(
            untrusted("a\rb\tc\0d\x1b[31m\x7f"),
            "a\\rb\\tc\\x00d\\x1b[31m\\x7f"
        );
        assert_eq!(untrusted("q\"\\"), "q\\\"\\\\");
        assert_eq!(
            untrusted("\u{85}\u{2028}\u{2029}\u{202e}\u{2066}"),
            "\\u{85}\\u{2028}\\u{2029}\\u{202e}\\u{2066}"
        );
        // Non-ASCII text that is not a control stays readable.
        assert_eq!(untrusted("Port-é"), "Port-é");
        // A megabyte is cut, and says how much was left out.
        let big = "v".repeat(1 << 20);
        let shown = untrusted(&big);
        assert_eq!(
            shown,
            format!(
                "{}…[+{} bytes]",
                "v".repeat(UNTRUSTED_MAX),
                (1 << 20) - UNTRUSTED_MAX
            )
        );
        // The cut never splits a character.
        let wide = "é".repeat(UNTRUSTED_MAX);
        let shown = untrusted(&wide);
        assert!(shown.starts_with(&"é".repeat(UNTRUSTED_MAX / 2)), "{shown}");
        assert!(
            shown.ends_with(&format!("…[+{} bytes]", UNTRUSTED_MAX)),
            "{shown}"
        );
        // Exactly at the limit: nothing left out.
        assert_eq!(
            untrusted(&"v".repeat(UNTRUSTED_MAX)),
            "v".repeat(UNTRUSTED_MAX)
        );
    }
}
