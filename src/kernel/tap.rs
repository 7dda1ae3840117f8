//! Capture mode: a transport wrapper that records every datagram received
//! (real-kernel bytes become test fixtures; tests/kernel.rs `vm_capture`).

use std::io;
use std::os::fd::RawFd;

use super::Channel;
use crate::netlink::socket::Transport;

/// A transport wrapper that records every received datagram (capture mode:
/// real-kernel bytes become fixtures).
pub struct Tap<T> {
    inner: T,
    channel: Channel,
    sink: CaptureSink,
}

/// Datagrams received, in order, with the socket they came from.
pub type CaptureSink = std::sync::Arc<std::sync::Mutex<Vec<(Channel, Vec<u8>)>>>;

impl<T> Tap<T> {
    pub fn new(inner: T, channel: Channel, sink: CaptureSink) -> Tap<T> {
        Tap {
            inner,
            channel,
            sink,
        }
    }
}

impl<T: Transport> Transport for Tap<T> {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        self.inner.send(msg)
    }

    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.recv(buf)?;
        let d = buf[..n.min(buf.len())].to_vec();
        self.sink
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((self.channel, d));
        Ok(n)
    }

    fn raw_fd(&self) -> RawFd {
        self.inner.raw_fd()
    }
}
