//! What a test needs from the machine, checked up front.
//!
//! A test that needs root, a kernel feature or a tool calls one of these
//! first. When the need is not met, the test FAILS with what is missing and
//! how to get it; it never passes or skips silently.

use std::fs;
use std::path::PathBuf;

/// Fails the test unless it runs as root.
#[track_caller]
pub fn require_root(why: &str) {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc_geteuid() };
    assert!(
        euid == 0,
        "this test needs root ({why}); run the suite with sudo: `sudo -E cargo test -p <chapter>` or `sudo -E cargo xtask check <chapter>`"
    );
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// Fails the test unless unprivileged users may create user namespaces.
#[track_caller]
pub fn require_user_namespaces() {
    let sysctl = |path: &str| fs::read_to_string(path).ok().map(|s| s.trim().to_owned());
    if sysctl("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        panic!("this test needs unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1`");
    }
    if sysctl("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        panic!("this test needs user namespaces: `sysctl -w user.max_user_namespaces=15000`");
    }
    if sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        panic!(
            "this test needs unprivileged user namespaces, which AppArmor restricts here: \
             `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`"
        );
    }
}

/// The statically linked busybox the suites run inside containers.
#[track_caller]
pub fn busybox() -> PathBuf {
    let path = PathBuf::from("/bin/busybox");
    assert!(
        path.exists(),
        "this test needs a static busybox at /bin/busybox: `sudo apt-get install busybox-static` (or `cargo xtask doctor`)"
    );
    path
}

/// The host's namespace of kind `name`, as `/proc/self/ns/<name>` names it: `net:[4026531840]`.
pub fn host_namespace(name: &str) -> String {
    let link = format!("/proc/self/ns/{name}");
    fs::read_link(&link)
        .unwrap_or_else(|err| panic!("read the host's namespace link {link}: {err}"))
        .to_string_lossy()
        .into_owned()
}

/// The host's mount table (`/proc/self/mountinfo`), to compare before and after a run.
pub fn mount_table() -> String {
    fs::read_to_string("/proc/self/mountinfo").expect("read /proc/self/mountinfo")
}

/// The value of the extended attribute `name` of `path` (not following a symlink), if it has one.
pub fn xattr(path: &std::path::Path, name: &str) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let c_name = std::ffi::CString::new(name).ok()?;
    let mut value = [0u8; 256];
    // SAFETY: both strings are NUL-terminated and live across the call; `value` is a writable
    // buffer of the length passed.
    let len = unsafe { lgetxattr(c_path.as_ptr(), c_name.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
    let len = usize::try_from(len).ok()?;
    Some(String::from_utf8_lossy(&value[..len]).into_owned())
}

/// Whether the filesystem holding `dir` takes `user.*` extended attributes (tmpfs does only from Linux 6.6).
pub fn takes_user_xattrs(dir: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let probe = tempfile::NamedTempFile::new_in(dir).expect("create a probe file for user.* xattrs");
    let c_path = std::ffi::CString::new(probe.path().as_os_str().as_bytes()).expect("a path without NUL");
    let (name, value) = (c"user.rebox-probe", b"1");
    // SAFETY: both strings are NUL-terminated and live across the call; `value` is `value.len()` readable bytes.
    let set = unsafe { lsetxattr(c_path.as_ptr(), name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    set == 0 || std::io::Error::last_os_error().raw_os_error() != Some(95) // EOPNOTSUPP
}

unsafe extern "C" {
    fn lsetxattr(
        path: *const std::ffi::c_char,
        name: *const std::ffi::c_char,
        value: *const std::ffi::c_void,
        size: usize,
        flags: i32,
    ) -> i32;
    fn lgetxattr(
        path: *const std::ffi::c_char,
        name: *const std::ffi::c_char,
        value: *mut std::ffi::c_void,
        size: usize,
    ) -> isize;
}
