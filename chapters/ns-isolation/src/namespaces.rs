//! The namespaces a container gets, and the `clone(2)` flags that create them.
//!
//! Each Linux namespace wraps one global resource so that a process sees its
//! own copy: its own process ids (PID), hostname (UTS), mount table (mount),
//! System V IPC objects (IPC), network stack (net), user ids (user) and cgroup
//! root (cgroup). Passing a `CLONE_NEW*` flag to `clone(2)` puts the child in
//! a fresh one. See `man 7 namespaces`. Introduced in chapter 1.

use nix::sched::CloneFlags;

/// One kind of Linux namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// `CLONE_NEWNS`: the mount table (the first namespace Linux had, hence its odd flag name).
    Mount,
    /// `CLONE_NEWUTS`: hostname and NIS domain name.
    Uts,
    /// `CLONE_NEWIPC`: System V IPC objects and POSIX message queues.
    Ipc,
    /// `CLONE_NEWPID`: process ids; the first process inside is PID 1.
    Pid,
    /// `CLONE_NEWNET`: network devices, addresses, routes, ports.
    Net,
    /// `CLONE_NEWUSER`: user and group ids, and the capabilities that go with them.
    User,
    /// `CLONE_NEWCGROUP`: the root of the cgroup tree the process sees (chapter 2).
    Cgroup,
}

impl Namespace {
    /// The `clone(2)` flag that creates a new namespace of this kind.
    pub fn clone_flag(self) -> CloneFlags {
        // EXERCISE(clone-flags): map each namespace to its CLONE_NEW* flag (man 2 clone)
        todo!(
            "ns-isolation step 1 of 10 (clone-flags): map each namespace to its CLONE_NEW* flag (man 2 clone) — book: ns-isolation.html#clone-flags"
        )
    }

    /// The file name under `/proc/<pid>/ns/` that holds this namespace.
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::Mount => "mnt",
            Namespace::Uts => "uts",
            Namespace::Ipc => "ipc",
            Namespace::Pid => "pid",
            Namespace::Net => "net",
            Namespace::User => "user",
            Namespace::Cgroup => "cgroup",
        }
    }
}

/// What the caller asked for: which namespaces to share with the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isolation {
    /// Keep the host's network namespace (`--net host`).
    pub host_network: bool,
    /// Create a user namespace mapping the caller to root inside (`--userns`, or not root).
    pub user_namespace: bool,
}

impl Isolation {
    /// The namespaces to create, in the order the kernel creates them.
    ///
    /// The user namespace comes first: when `clone(2)` gets `CLONE_NEWUSER`
    /// with other flags, it creates the user namespace first and the others
    /// are owned by it, which is what lets an unprivileged user create them.
    pub fn namespaces(self) -> Vec<Namespace> {
        let mut namespaces = Vec::new();
        if self.user_namespace {
            namespaces.push(Namespace::User);
        }
        namespaces.extend([Namespace::Mount, Namespace::Uts, Namespace::Ipc, Namespace::Pid]);
        if !self.host_network {
            namespaces.push(Namespace::Net);
        }
        namespaces
    }
}

/// The `clone(2)` flags for a list of namespaces.
pub fn clone_flags(namespaces: &[Namespace]) -> CloneFlags {
    namespaces.iter().fold(CloneFlags::empty(), |flags, namespace| flags | namespace.clone_flag())
}

/// Names the flags as strace does: `CLONE_NEWNS|CLONE_NEWUTS|...`.
pub fn describe_flags(flags: CloneFlags) -> String {
    let names: Vec<String> = flags.iter_names().map(|(name, _)| name.to_owned()).collect();
    if names.is_empty() { "0".to_owned() } else { names.join("|") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_isolation_creates_five_namespaces() {
        let isolation = Isolation { host_network: false, user_namespace: false };
        let flags = clone_flags(&isolation.namespaces());
        assert_eq!(describe_flags(flags), "CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET");
    }

    #[test]
    fn host_network_keeps_the_net_namespace() {
        let isolation = Isolation { host_network: true, user_namespace: false };
        assert!(!isolation.namespaces().contains(&Namespace::Net));
    }

    #[test]
    fn user_namespace_comes_first() {
        let isolation = Isolation { host_network: false, user_namespace: true };
        assert_eq!(isolation.namespaces()[0], Namespace::User);
        assert!(clone_flags(&isolation.namespaces()).contains(CloneFlags::CLONE_NEWUSER));
    }
}
