#!/bin/sh
# Stage 2 of the VM's init: PID 1, in a tmpfs root, with only cgroup v2.
#
# It mounts what a distribution's host has (/proc, /sys, /dev, /dev/pts,
# and cgroup2 on /sys/fs/cgroup as systemd mounts it; /tmp is a directory
# of the tmpfs root, not a mount that would hide a workspace under /tmp,
# with the suites and snapshots at their host paths), loads the
# kernel modules the suites need (and the disk's), enables the cgroup controllers at the
# root as systemd does, and moves itself into init.scope, so the root
# cgroup holds no process of its own. Then it runs /rebox/run, written by
# `cargo xtask vm`, and powers off.
#
# Results go to the host through the second serial port, ttyS1, as
# records: a header line `=== rebox-vm <kind> <word>... <length>`, then
# exactly <length> bytes. The console, ttyS0, only shows progress. The
# report's descriptor, 3, is closed for what the suites run: a runtime's
# trace shows its descriptors' numbers.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root

say() {
    echo "rebox-vm: $*"
}

uptime_now() {
    read -r uptime _ </proc/uptime
    echo "$uptime"
}

# send FILE KIND WORD...: one record, the header and then FILE's bytes.
send() {
    file=$1
    shift
    printf '=== rebox-vm %s %s\n' "$*" "$(wc -c <"$file")" >&3
    cat "$file" >&3
}

# run_suite CHAPTER EXECUTABLE PACKAGE_DIR: a suite, run from its package's directory as cargo does.
run_suite() {
    say "running the $1 suite"
    start=$(uptime_now)
    (cd "$3" && "$2" --color=never) >/tmp/rebox-vm.out 2>&1 </dev/null 3>&-
    status=$?
    send /tmp/rebox-vm.out suite "$1" "$status" "$start" "$(uptime_now)"
}

# run_command: /rebox/command, with sh, from the workspace's directory.
run_command() {
    say "running: $(cat /rebox/command)"
    start=$(uptime_now)
    (cd "$INSTA_WORKSPACE_ROOT" && sh /rebox/command) >/tmp/rebox-vm.out 2>&1 </dev/null 3>&-
    status=$?
    send /tmp/rebox-vm.out command "$status" "$start" "$(uptime_now)"
}

# mount_disk DIR: the empty ext2 disk `cargo xtask vm` attaches (/dev/vda), on DIR.
mount_disk() {
    mkdir -p "$1"
    if [ -b /dev/vda ] && mount -t ext4 /dev/vda "$1"; then
        chmod 1777 "$1"
    else
        say "no disk on $1: the tests that need a block device will say so"
    fi
}

# send_snapshots: every snapshot the suites wrote (insta, with INSTA_UPDATE=always), back to the host.
send_snapshots() {
    find "$INSTA_WORKSPACE_ROOT/tests" -name '*.snap' -newer /rebox/started | sort | while read -r file; do
        send "$file" snapshot "${file#"$INSTA_WORKSPACE_ROOT"/}"
    done
}

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0000 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev shm /dev/shm
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
# Only the kernel's emergencies on the console, which shows progress.
dmesg -n 1

stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
touch /rebox/started
send /dev/null boot "$(cat /rebox/init-uptime)" "$(uptime_now)"

for module in /rebox/modules/*.ko; do
    [ -e "$module" ] && { insmod "$module" || say "could not load $module"; }
done
ip link set lo up
hostname rebox-vm
for controller in cpu memory pids cpuset io; do
    if grep -qw "$controller" /sys/fs/cgroup/cgroup.controllers; then
        echo "+$controller" >/sys/fs/cgroup/cgroup.subtree_control || say "could not enable the $controller controller"
    fi
done
mkdir /sys/fs/cgroup/init.scope
echo $$ >/sys/fs/cgroup/init.scope/cgroup.procs
say "$(uname -r), cgroup v2 only, controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"

. /rebox/run

send /dev/null done
# The last close of a serial port waits until its bytes are sent.
exec 3>&-
poweroff -f
