//! Booting the VM with QEMU, watching it, and stopping it if it runs too long.
//!
//! KVM only where the CPU says it virtualizes (`vmx` or `svm` in
//! `/proc/cpuinfo`) and `/dev/kvm` opens; otherwise QEMU emulates (TCG),
//! slower but the same everywhere. Some hosts offer a `/dev/kvm` that is not
//! hardware virtualization (a paravirtual hypervisor), under which a stock
//! kernel hangs: the flags tell them apart. The kernel command line mounts
//! only cgroup v2 (`cgroup_no_v1=all`, as systemd's
//! `systemd.unified_cgroup_hierarchy=1` asks). The first serial port is the
//! console, echoed here as `vm| ` lines; the second carries the report.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// The VM's memory and processors.
const MEMORY_MIB: u32 = 2048;
const CPUS: u32 = 2;

/// The kernel command line: the console on the first serial port, quiet; only cgroup v2; power off on panic.
const CMDLINE: &str = "console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init \
                       cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1";

/// One boot.
#[derive(Debug)]
pub struct Boot<'a> {
    /// The kernel: an ELF `vmlinux` (started through PVH) or a bzImage.
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    /// A raw disk image, attached as a virtio disk (`/dev/vda`).
    pub disk: &'a Path,
    /// Where the console log and the report go.
    pub work: &'a Path,
    /// How long the VM may run before QEMU is killed.
    pub timeout: Duration,
}

impl Boot<'_> {
    /// The console's log.
    pub fn console(&self) -> PathBuf {
        self.work.join("console.log")
    }

    /// The report the VM writes.
    pub fn report(&self) -> PathBuf {
        self.work.join("report")
    }
}

/// Boots, calls `on_report` with the whole report whenever it may have grown, and waits for QEMU to end.
pub fn run(boot: &Boot, mut on_report: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let (console, report) = (boot.console(), boot.report());
    let mut qemu = Command::new("qemu-system-x86_64");
    qemu.args(accelerator())
        .args(["-m", &MEMORY_MIB.to_string(), "-smp", &CPUS.to_string()])
        .args(["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-nic", "none"])
        .args(["-serial", "stdio", "-serial"])
        .arg(format!("file:{}", report.display()))
        .arg("-kernel")
        .arg(boot.kernel)
        .arg("-initrd")
        .arg(boot.initrd)
        .arg("-drive")
        .arg(format!("file={},if=virtio,format=raw", boot.disk.display()))
        .args(["-append", CMDLINE])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut child = qemu.spawn().context("start qemu-system-x86_64 (Debian: apt-get install qemu-system-x86)")?;
    let stdout = child.stdout.take().context("QEMU's console")?;
    let log = File::create(&console).with_context(|| format!("create {}", console.display()))?;
    let echo = thread::spawn(move || echo_console(stdout, log));

    let started = Instant::now();
    let outcome = loop {
        let status = child.try_wait().context("wait for QEMU")?;
        let read = read_report(&report).and_then(|bytes| on_report(&bytes));
        if let Err(err) = read {
            break Err(err);
        }
        if let Some(status) = status {
            break if status.success() { Ok(()) } else { Err(anyhow::anyhow!("QEMU failed ({status})")) };
        }
        if started.elapsed() > boot.timeout {
            break Err(anyhow::anyhow!(
                "the VM did not finish within {} s; QEMU was stopped (its console is in {})",
                boot.timeout.as_secs(),
                console.display()
            ));
        }
        thread::sleep(Duration::from_millis(250));
    };
    if outcome.is_err() {
        // Ours to stop: the QEMU this function started, by its handle.
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = echo.join();
    outcome
}

/// `-accel kvm` where the CPU has hardware virtualization and `/dev/kvm` opens, else `-accel tcg`.
fn accelerator() -> Vec<&'static str> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let kvm = OpenOptions::new().read(true).write(true).open("/dev/kvm").is_ok();
    if kvm && virtualizes(&cpuinfo) { vec!["-accel", "kvm", "-cpu", "host"] } else { vec!["-accel", "tcg"] }
}

/// Whether `/proc/cpuinfo`'s flags name Intel VT-x (`vmx`) or AMD-V (`svm`).
fn virtualizes(cpuinfo: &str) -> bool {
    cpuinfo
        .lines()
        .filter(|line| line.starts_with("flags"))
        .any(|line| line.split_whitespace().any(|flag| flag == "vmx" || flag == "svm"))
}

/// Copies the console to its log, and to the terminal as `vm| ` lines.
fn echo_console(stdout: impl std::io::Read, mut log: File) {
    for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
        let _ = log.write_all(&line);
        let _ = log.write_all(b"\n");
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches('\r');
        if !text.is_empty() {
            eprintln!("vm| {text}");
        }
    }
}

/// The report so far (nothing before QEMU creates it).
fn read_report(path: &Path) -> Result<Vec<u8>> {
    match fs::read(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        other => other.with_context(|| format!("read the VM's report {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_vmx_or_svm_flags_mean_hardware_virtualization() {
        assert!(virtualizes("processor\t: 0\nflags\t\t: fpu vme de pse vmx ept\n"));
        assert!(virtualizes("flags\t\t: fpu svm\n"));
        assert!(!virtualizes("flags\t\t: fpu vme hypervisor\nvmx flags\t: ept\n"));
    }
}
