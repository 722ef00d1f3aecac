#!/bin/busybox sh
# Stage 1 of the VM's init, which the kernel runs from the initramfs as /init.
#
# The initramfs is the kernel's initial root (rootfs), which pivot_root(2)
# cannot move, and the suites pivot_root: so this copies the tree into a
# tmpfs and makes that the root with switch_root, which deletes the
# initramfs's files and runs stage 2, /rebox/stage2, as PID 1.
export PATH=/bin
mount -t proc proc /proc
read -r uptime _ </proc/uptime
echo "$uptime" >/rebox/init-uptime
umount /proc
mkdir /newroot
mount -t tmpfs -o mode=0755 root /newroot
for entry in /*; do
    [ "$entry" = /newroot ] || cp -a "$entry" /newroot/
done
exec switch_root /newroot /rebox/stage2
