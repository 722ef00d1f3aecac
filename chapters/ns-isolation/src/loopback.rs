//! Bring up `lo` in a new network namespace.
//!
//! A new network namespace holds one device, the loopback `lo`, and it is
//! down: even `127.0.0.1` is unreachable until someone sets `IFF_UP` on it.
//! Docker's `--net none` container has exactly this: `lo`, up, and nothing
//! else. We use the classic interface ioctls on any socket of the namespace
//! (`man 7 netdevice`: SIOCGIFFLAGS, SIOCSIFFLAGS); `ip link set lo up` sends
//! the same request over netlink. Introduced in chapter 1.

use std::os::fd::AsRawFd;

use anyhow::{Context, Result};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

use crate::trace;

nix::ioctl_readwrite_bad!(get_interface_flags, libc::SIOCGIFFLAGS, libc::ifreq);
nix::ioctl_write_ptr_bad!(set_interface_flags, libc::SIOCSIFFLAGS, libc::ifreq);

/// Sets `IFF_UP` on `lo` in the caller's network namespace.
pub fn bring_up_loopback() -> Result<()> {
    // The ioctls act on the namespace of the socket they are sent on.
    let result = socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None);
    let socket = trace::syscall(|| "socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, 0)".to_owned(), result)
        .context("open a socket to configure lo (socket AF_INET SOCK_DGRAM)")?;
    let fd = socket.as_raw_fd();
    let mut request = interface_request("lo");

    // SAFETY: `request` is a valid, initialised ifreq naming "lo"; SIOCGIFFLAGS
    // writes only its ifr_flags field.
    let result = unsafe { get_interface_flags(fd, &mut request) }.map(|_| ());
    trace::syscall(|| format!("ioctl({fd}, SIOCGIFFLAGS, {{ifr_name=\"lo\"}})"), result)
        .context("read the flags of lo (ioctl SIOCGIFFLAGS)")?;

    // EXERCISE(loopback-up): add IFF_UP to the flags and write them back with SIOCSIFFLAGS
    todo!(
        "ns-isolation step 7 of 10 (loopback-up): add IFF_UP to the flags and write them back with SIOCSIFFLAGS — book: ns-isolation.html#loopback-up"
    )
}

fn interface_request(name: &str) -> libc::ifreq {
    // SAFETY: ifreq is plain old data (arrays and a union of integers); all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(name.bytes()) {
        *slot = byte as libc::c_char;
    }
    request
}
