//! How glibc's allocator keeps freed memory.

/// One arena for all threads, and every allocation of 64 KiB or more in
/// its own mapping, returned to the kernel when freed. By default each
/// blocking thread gets an arena of its own, and the threshold for a
/// separate mapping rises to the largest block freed so far, so a
/// snapshot or lease-file buffer of a few MB, once freed, stayed in the
/// process for good. Returns false where the allocator refused.
pub(crate) fn keep_heap_small() -> bool {
    // SAFETY: mallopt only sets allocator parameters; it is called before
    // any other thread exists (the daemon calls it at start), and the
    // values are in the ranges glibc documents.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1) == 1
            && libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024) == 1
    }
}
