//! Memory allocator settings for learning workloads.
//!
//! The learners allocate buffers of a few megabytes on every step: host copies of the weights,
//! activations, gradients. glibc's malloc serves blocks above its `mmap` threshold with fresh
//! mappings, and returns free memory at the top of its heaps to the OS once it exceeds the trim
//! threshold; both thresholds adapt only up to sizes smaller than a step's working set. Either
//! way every step faults its buffers back in page by page: measured on the 2-core machines,
//! that cost the 7 × 4×200 ensemble training step about a quarter of its time (BENCHMARKS.md).
//!
//! [`keep_freed_memory`] raises both thresholds. The `vagram` binary and the benchmarks call it
//! first thing; a program that embeds the library to train should do the same (or use an
//! allocator that keeps freed memory, such as mimalloc, which measured the same on the
//! ensemble).

/// Blocks up to this size come from the heap, not from a fresh `mmap`.
pub const MMAP_THRESHOLD_BYTES: usize = 64 << 20;
/// Free memory kept at the top of a heap before it is returned to the OS.
pub const TRIM_THRESHOLD_BYTES: usize = 256 << 20;

/// Makes glibc's malloc keep and reuse freed memory up to the thresholds above. Returns whether
/// the settings were applied: `false` on platforms without glibc, where it does nothing.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only changes malloc's tuning parameters; it is documented to be
        // callable at any time, from any thread, and returns 0 on an invalid value.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES as libc::c_int) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES as libc::c_int) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_the_settings() {
        assert!(super::keep_freed_memory(), "mallopt rejected a threshold");
    }
}
