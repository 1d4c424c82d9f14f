//! The AMX block kernel of the packed bf16 products ([`Bf16Path::Amx`](crate::Bf16Path::Amx)):
//! `TDPBF16PS` does a 16 × 16 × 32 block of multiply-adds per instruction; on the 2-core Xeons
//! one core reached 3.7 TFLOP/s in a loop of them, against about 0.2 TFLOP/s for f32 AVX-512
//! FMAs (BENCHMARKS.md). A 32 × 32 result block lives in four accumulator tiles over the whole
//! depth and is stored straight into the result.

use std::sync::OnceLock;

use super::{BLOCK, TILE};

/// Whether this process may run AMX bf16 instructions: CPUID reports AMX-TILE and AMX-BF16 and
/// Linux granted the tile state (`arch_prctl(ARCH_REQ_XCOMP_PERM)`). Asked once per process.
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(detect)
}

#[cfg(target_os = "linux")]
fn detect() -> bool {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    const AMX_BF16: u32 = 1 << 22;
    const AMX_TILE: u32 = 1 << 24;
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // The packing rounds with AVX512_BF16 instructions.
    if __cpuid(0).eax < 7 || !super::dot::available() {
        return false;
    }
    let edx = __cpuid_count(7, 0).edx;
    if edx & (AMX_BF16 | AMX_TILE) != AMX_BF16 | AMX_TILE {
        return false;
    }
    // SAFETY: the request only asks the kernel to enable a state component for this process;
    // it reads and writes no memory of ours.
    unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn detect() -> bool {
    false
}

/// This thread's tile configuration while alive: eight 16-row × 64-byte tiles (four
/// accumulators, two `A` tiles, two `B` tiles); dropping it releases the tile state.
pub(super) struct Tiles;

impl Tiles {
    /// Configures the tiles on this thread.
    ///
    /// # Panics
    /// If [`available`] is false.
    pub(super) fn configure() -> Self {
        assert!(available(), "AMX tiles asked for on a machine without them");
        let mut config = [0u8; 64];
        config[0] = 1; // palette 1
        for tile in 0..8 {
            config[16 + 2 * tile..18 + 2 * tile].copy_from_slice(&64u16.to_le_bytes());
            config[48 + tile] = 16;
        }
        // SAFETY: AMX is available (checked above); the configuration is a valid palette-1
        // layout read from a live 64-byte buffer.
        unsafe { std::arch::asm!("ldtilecfg [{}]", in(reg) config.as_ptr(), options(nostack, readonly)) };
        Self
    }
}

impl Drop for Tiles {
    fn drop(&mut self) {
        // SAFETY: releases the tile state configured in `configure`.
        unsafe { std::arch::asm!("tilerelease", options(nostack, nomem)) };
    }
}

/// One 32 × 32 block of `A · B`, `steps` tiles deep, stored row-major at `c` (rows `stride`
/// values apart). Full blocks are stored straight into the result: reading a tile store back
/// with vector loads right away stalls the core for hundreds of cycles, which is why the
/// partial blocks at the edges go through a side buffer copied out after the last product.
///
/// # Safety
/// Tiles configured by [`Tiles`] on this thread; `a` points at two row blocks of `steps` packed
/// tiles each (one after the other), `b` likewise at two column blocks; `c` at 32 rows of 32
/// writable f32 values, `stride` apart.
pub(super) unsafe fn block_kernel(a: *const u16, b: *const u16, steps: usize, c: *mut f32, stride: usize) {
    const _: () = assert!(BLOCK == 32, "the kernel computes 2 × 2 tiles of 16 × 16");
    // SAFETY: the caller's contract; the tile registers are used by nothing else.
    unsafe {
        std::arch::asm!(
            "tilezero tmm0",
            "tilezero tmm1",
            "tilezero tmm2",
            "tilezero tmm3",
            "2:",
            "tileloadd tmm4, [{a} + {s}*1]",
            "tileloadd tmm6, [{b} + {s}*1]",
            "tdpbf16ps tmm0, tmm4, tmm6",
            "tileloadd tmm7, [{b2} + {s}*1]",
            "tdpbf16ps tmm1, tmm4, tmm7",
            "tileloadd tmm5, [{a2} + {s}*1]",
            "tdpbf16ps tmm2, tmm5, tmm6",
            "tdpbf16ps tmm3, tmm5, tmm7",
            "add {a}, 1024",
            "add {a2}, 1024",
            "add {b}, 1024",
            "add {b2}, 1024",
            "dec {steps}",
            "jnz 2b",
            "tilestored [{c} + {sc}*1], tmm0",
            "tilestored [{c} + {sc}*1 + 64], tmm1",
            "tilestored [{c2} + {sc}*1], tmm2",
            "tilestored [{c2} + {sc}*1 + 64], tmm3",
            a = inout(reg) a => _,
            a2 = inout(reg) a.add(steps * TILE) => _,
            b = inout(reg) b => _,
            b2 = inout(reg) b.add(steps * TILE) => _,
            s = in(reg) 64usize,
            steps = inout(reg) steps => _,
            c = in(reg) c,
            c2 = in(reg) c.add(16 * stride),
            sc = in(reg) stride * 4,
            options(nostack),
        );
    }
}
