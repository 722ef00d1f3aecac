//! `-p [IP:]HOSTPORT:CONTAINERPORT`: a port of the host that leads into the container.
//!
//! The container's network namespace is its own: a server listening on its
//! port 80 is out of the host's reach. Docker connects the two with a
//! bridge, a veth pair and NAT rules (and `docker-proxy`). This runtime uses
//! the mechanism of this chapter instead: the container's monitor listens
//! on the host's port, and for each connection creates a socket *inside the
//! container's network namespace*, from a thread that has `setns()` into
//! it, and connects it to `127.0.0.1:CONTAINERPORT`. A socket belongs to the
//! network namespace it was created in, whatever namespace its thread is in
//! afterwards, and `setns` of a network namespace moves only the calling
//! thread. Then it relays bytes both ways (`relay.rs`). The host port is
//! taken before the container exists: a port in use refuses the run.
//! See `man 2 setns`, `man 7 network_namespaces`. Introduced in chapter 4.

use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use anyhow::{Context, Result, bail};
use nix::sched::CloneFlags;
use nix::sys::socket::{self, shutdown};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use ns_isolation::sys;

use crate::relay::relay;

/// One `-p`: the host's address and port, and the container's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortBinding {
    /// The host address to listen on: `0.0.0.0` unless given.
    pub host_ip: IpAddr,
    /// The host's port.
    pub host_port: u16,
    /// The container's port, on its `127.0.0.1`.
    pub container_port: u16,
}

impl PortBinding {
    /// As `docker port` prints it: `80/tcp -> 0.0.0.0:4000`.
    pub fn describe(&self) -> String {
        format!("{}/tcp -> {}", self.container_port, SocketAddr::new(self.host_ip, self.host_port))
    }
}

/// Parses `[IP:]HOSTPORT:CONTAINERPORT[/tcp]`.
pub fn parse_port_binding(text: &str) -> Result<PortBinding, String> {
    let invalid = |why: &str| format!("invalid port mapping {text:?}: {why} (use [IP:]HOSTPORT:CONTAINERPORT[/tcp])");
    let spec = match text.split_once('/') {
        Some((spec, "tcp")) => spec,
        Some((_, protocol)) => return Err(invalid(&format!("only tcp is published, not {protocol}"))),
        None => text,
    };
    let (host, container) = spec.rsplit_once(':').ok_or_else(|| invalid("no container port"))?;
    let (ip, host_port) = match host.rsplit_once(':') {
        Some((ip, port)) => (ip.parse().map_err(|_| invalid(&format!("{ip:?} is no IP address")))?, port),
        None => (IpAddr::V4(Ipv4Addr::UNSPECIFIED), host),
    };
    let port = |text: &str| match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(invalid(&format!("{text:?} is no port number from 1 to 65535"))),
    };
    Ok(PortBinding { host_ip: ip, host_port: port(host_port)?, container_port: port(container)? })
}

/// The host's listening sockets for a container's `-p`, bound before the container exists.
#[derive(Debug)]
pub struct Listeners(Vec<(PortBinding, TcpListener)>);

/// Binds every host port of `bindings`; one in use refuses them all.
pub fn bind(bindings: &[PortBinding]) -> Result<Listeners> {
    let mut listeners = Vec::new();
    for binding in bindings {
        let address = SocketAddr::new(binding.host_ip, binding.host_port);
        let listener = TcpListener::bind(address)
            .with_context(|| format!("publish port {}: bind the host's {address}", binding.container_port))?;
        listeners.push((*binding, listener));
    }
    Ok(Listeners(listeners))
}

/// Connections being relayed into a container; they stop with [`Serving::stop`].
#[derive(Debug)]
pub struct Serving {
    listeners: Vec<Arc<TcpListener>>,
    threads: Vec<JoinHandle<()>>,
}

impl Listeners {
    /// Accepts connections on each host port, and relays each into the network namespace of process `pid`.
    pub fn serve(self, pid: Pid) -> Result<Serving> {
        if self.0.is_empty() {
            return Ok(Serving { listeners: Vec::new(), threads: Vec::new() });
        }
        let path = PathBuf::from(format!("/proc/{pid}/ns/net"));
        let namespace = Arc::new(sys::open_read(&path).with_context(|| format!("open {}", path.display()))?);
        let mut serving = Serving { listeners: Vec::new(), threads: Vec::new() };
        for (binding, listener) in self.0 {
            let listener = Arc::new(listener);
            let (accepting, namespace) = (Arc::clone(&listener), Arc::clone(&namespace));
            serving.threads.push(thread::spawn(move || accept_loop(&accepting, &namespace, binding.container_port)));
            serving.listeners.push(listener);
        }
        Ok(serving)
    }
}

impl Serving {
    /// Stops accepting: `shutdown(2)` wakes each thread blocked in `accept`, which then ends.
    pub fn stop(self) {
        for listener in &self.listeners {
            let _ = shutdown(listener.as_raw_fd(), socket::Shutdown::Both);
        }
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, namespace: &Arc<OwnedFd>, port: u16) {
    while let Ok((client, _)) = listener.accept() {
        let namespace = Arc::clone(namespace);
        thread::spawn(move || match connect_in(&namespace, port) {
            Ok(server) => relay(client, server),
            // Nothing listens on the container's port yet: the client sees its connection close.
            Err(_) => drop(client.shutdown(Shutdown::Both)),
        });
    }
}

/// A socket made in the network namespace `namespace`, connected to its `127.0.0.1:port`.
///
/// Call it from a thread of its own: it moves the calling thread into that namespace for good.
pub fn connect_in(namespace: &OwnedFd, port: u16) -> Result<TcpStream> {
    // ANCHOR: connect_in
    // EXERCISE(port-relay): sys::setns this thread into `namespace` (CLONE_NEWNET), then TcpStream::connect to 127.0.0.1:port
    sys::setns(namespace, CloneFlags::CLONE_NEWNET).context("join the container's network namespace (setns)")?;
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .with_context(|| format!("connect to the container's 127.0.0.1:{port}"))?;
    Ok(stream)
    // END EXERCISE
    // ANCHOR_END: connect_in
}

/// Refuses two bindings of one host port.
pub fn check_distinct(bindings: &[PortBinding]) -> Result<()> {
    for (i, binding) in bindings.iter().enumerate() {
        if bindings[..i].iter().any(|other| other.host_port == binding.host_port && other.host_ip == binding.host_ip) {
            bail!("the host port {} is published twice", binding.host_port);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_mappings_read_like_dockers() {
        let binding = parse_port_binding("4000:80").unwrap();
        assert_eq!(binding.describe(), "80/tcp -> 0.0.0.0:4000");
        assert_eq!(parse_port_binding("127.0.0.1:8080:80/tcp").unwrap().describe(), "80/tcp -> 127.0.0.1:8080");
        assert!(parse_port_binding("80").is_err());
        assert!(parse_port_binding("4000:80/udp").unwrap_err().contains("only tcp"));
        assert!(parse_port_binding("0:80").is_err());
    }
}
