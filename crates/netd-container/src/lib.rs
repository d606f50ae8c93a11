//! Container bootstrap: debootstrap/pacstrap into `/var/lib/machines/NAME`,
//! the `.nspawn` file and the networking inside the rootfs.
