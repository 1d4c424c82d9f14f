//! Subnormal floats as zero while learning code runs.
//!
//! Weight decay drives unused weights (and Adam's moments) towards zero until they become
//! subnormal, and every multiply with a subnormal operand takes a slow microcode path: in the
//! learning benchmark a 7 × (2×64) ensemble fitting one batch slowed from 1,400 to 640 steps/s as
//! its weights decayed (BENCHMARKS.md). Flushing them changes values below 1.2e-38 only.

/// While alive, the current thread flushes subnormal results to zero and reads subnormal inputs
/// as zero (x86-64 MXCSR FTZ and DAZ); dropping it restores the thread's previous mode. Elsewhere
/// it does nothing.
pub struct FlushDenormals {
    #[cfg(target_arch = "x86_64")]
    saved: u32,
}

#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = 0x8040;

impl FlushDenormals {
    /// Switches the current thread to flushing mode.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: reading and writing MXCSR only changes how this thread rounds and flushes
            // floats; every x86-64 CPU has FTZ and DAZ.
            #[allow(deprecated)]
            let saved = unsafe {
                let saved = std::arch::x86_64::_mm_getcsr();
                std::arch::x86_64::_mm_setcsr(saved | FTZ_DAZ);
                saved
            };
            Self { saved }
        }
        #[cfg(not(target_arch = "x86_64"))]
        Self {}
    }
}

impl Drop for FlushDenormals {
    fn drop(&mut self) {
        // SAFETY: restores the mode read in `new`.
        #[cfg(target_arch = "x86_64")]
        #[allow(deprecated)]
        unsafe {
            std::arch::x86_64::_mm_setcsr(self.saved)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnormals_flush_only_inside_the_guard() {
        let tiny = std::hint::black_box(f32::MIN_POSITIVE);
        let half = std::hint::black_box(0.5f32);
        assert!((tiny * half).is_subnormal(), "outside the guard a subnormal is produced");
        {
            let _flush = FlushDenormals::new();
            if cfg!(target_arch = "x86_64") {
                assert_eq!(std::hint::black_box(tiny) * std::hint::black_box(half), 0.0);
            }
        }
        assert!((std::hint::black_box(tiny) * std::hint::black_box(half)).is_subnormal(), "the mode is restored");
    }
}
