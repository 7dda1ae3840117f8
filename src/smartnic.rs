//! BlueField host PF MAC fallback: `/sys/class/net/<uplink>/smart_nic/pf/config`
//! holds lines such as
//!
//! ```text
//! MAC        : 00:53:00:00:10:00
//! MaxTxRate  : 0
//! State      : Followed
//! ```
//!
//! and the `MAC` line is the host PF's address when the `pcipf` port
//! reports none.  Parsing is strict: six two-digit hex octets separated by
//! `:`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::logging::untrusted;
use crate::port::Mac;
use crate::ratelimit::{suppressed_note, SiteLimit};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmartNicError {
    /// No `MAC` line in the file.
    NoMacLine,
    /// A `MAC` line whose value is not an address.
    BadMac(String),
}

impl fmt::Display for SmartNicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmartNicError::NoMacLine => write!(f, "no \"MAC\" line"),
            SmartNicError::BadMac(v) => write!(
                f,
                "\"MAC\" value \"{}\" is not an Ethernet address",
                untrusted(v)
            ),
        }
    }
}

impl std::error::Error for SmartNicError {}

/// Parses the file's text; the first `MAC` line wins.
pub fn parse_config(text: &str) -> Result<Mac, SmartNicError> {
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if key.trim() != "MAC" {
            continue;
        }
        let value = value.trim();
        return value
            .parse::<Mac>()
            .map_err(|_| SmartNicError::BadMac(value.chars().take(64).collect()));
    }
    Err(SmartNicError::NoMacLine)
}

/// Where the files are: `<root>/class/net/<netdev>/smart_nic/pf/config`,
/// root `/sys` unless a test injects another.
#[derive(Clone, Debug)]
pub struct SmartNicReader {
    sysfs: PathBuf,
}

impl Default for SmartNicReader {
    fn default() -> Self {
        SmartNicReader::new("/sys")
    }
}

impl SmartNicReader {
    pub fn new(sysfs: impl Into<PathBuf>) -> SmartNicReader {
        SmartNicReader {
            sysfs: sysfs.into(),
        }
    }

    pub fn path(&self, netdev: &str) -> Option<PathBuf> {
        // A netdev name never contains '/', and "." / ".." are not valid
        // names: refuse anything that would leave the directory.
        if netdev.is_empty() || netdev.contains('/') || netdev == "." || netdev == ".." {
            return None;
        }
        Some(
            self.sysfs
                .join("class/net")
                .join(netdev)
                .join("smart_nic/pf/config"),
        )
    }

    /// The host PF MAC for an uplink netdev; `None` when the file is absent
    /// (not a BlueField, or not in that mode), unreadable or malformed (the
    /// last two are logged).
    ///
    /// The file is re-read at most once a second per uplink while a PF
    /// waits for its MAC, so the warnings are rate-limited (and the path,
    /// which holds a netdev name, is shown through
    /// [`crate::logging::untrusted`]).
    pub fn read_pf_mac(&self, netdev: &str) -> Option<Mac> {
        static WARN: SiteLimit = SiteLimit::new(10, 5);
        let path = self.path(netdev)?;
        let warn = |what: String| {
            if let Some(n) = WARN.allow() {
                log::warn!(
                    "{}: {what}{}",
                    untrusted(&path.to_string_lossy()),
                    suppressed_note(n)
                );
            }
        };
        match std::fs::read(&path) {
            Ok(bytes) => match parse_config(&String::from_utf8_lossy(&bytes)) {
                Ok(mac) => Some(mac),
                Err(e) => {
                    warn(format!("{e}; ignoring it"));
                    None
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                warn(format!("cannot read: {e}"));
                None
            }
        }
    }

    pub fn root(&self) -> &Path {
        &self.sysfs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_bluefield_format() {
        let t = "MAC        : 00:53:00:00:10:0a\nMaxTxRate  : 0\nState      : Followed\n";
        assert_eq!(parse_config(t), Ok(Mac([0, 0x53, 0, 0, 0x10, 0x0a])));
        assert_eq!(
            parse_config("MaxTxRate : 0\n"),
            Err(SmartNicError::NoMacLine)
        );
        assert_eq!(parse_config(""), Err(SmartNicError::NoMacLine));
        assert!(matches!(
            parse_config("MAC : 00:53:00:00:10\n"),
            Err(SmartNicError::BadMac(_))
        ));
        assert!(matches!(
            parse_config("MAC : 00:53:00:00:10:0g\n"),
            Err(SmartNicError::BadMac(_))
        ));
        assert!(matches!(
            parse_config("MAC : 00-53-00-00-10-00\n"),
            Err(SmartNicError::BadMac(_))
        ));
        assert!(matches!(
            parse_config("MAC : +0:53:00:00:10:00\n"),
            Err(SmartNicError::BadMac(_))
        ));
        // Leading/trailing blanks and CRLF are tolerated.
        assert_eq!(
            parse_config("  MAC\t:\t00:53:00:00:10:0A \r\n"),
            Ok(Mac([0, 0x53, 0, 0, 0x10, 0x0a]))
        );
    }

    #[test]
    fn reader_handles_absence_and_paths() {
        let dir = std::env::temp_dir().join(format!("ovn-vif-rs-sysfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let r = SmartNicReader::new(&dir);
        assert_eq!(r.read_pf_mac("p0"), None);
        assert_eq!(r.path("../x"), None);
        assert_eq!(r.path(".."), None);
        let d = dir.join("class/net/p0/smart_nic/pf");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("config"), "MAC        : 00:53:00:00:10:00\n").unwrap();
        assert_eq!(r.read_pf_mac("p0"), Some(Mac([0, 0x53, 0, 0, 0x10, 0])));
        std::fs::write(d.join("config"), "MAC        : junk\n").unwrap();
        assert_eq!(r.read_pf_mac("p0"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
