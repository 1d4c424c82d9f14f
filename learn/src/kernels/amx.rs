//! bf16 matrix products on Intel AMX tiles, for [`Matmul::Bf16`](crate::Matmul::Bf16).
//!
//! Operands are rounded to bfloat16 (8 significant bits, f32's exponent range, round to nearest
//! even) and multiplied with f32 accumulation by `TDPBF16PS`, which does a 16 × 16 × 32 block of
//! multiply-adds per instruction: on the 2-core machines one core reaches 3.7 TFLOP/s in a loop of
//! them, against about 0.2 TFLOP/s for f32 AVX-512 FMAs (BENCHMARKS.md).
//!
//! Layout: `A` (`m × k`) is packed as bf16 rows, `B` (`k × n`) in AMX's "VNNI" form, where row
//! `p` holds, for each column `j`, the pair `B[2p][j], B[2p + 1][j]`; both are zero-padded and
//! cut into 1 KiB tiles (16 rows × 32 bf16) stored one after another along the depth, so the
//! kernel streams contiguous memory (packing: `amx/pack.rs`). It computes 32 × 32 blocks of the
//! result in four accumulator tiles over the whole depth and stores full blocks straight into a
//! row-major result; partial blocks at the edges go through a side buffer. A column-major result
//! is computed as the row-major `rhsᵀ · lhsᵀ`. Padding is zeros, so it adds nothing to a sum.
//!
//! Where AMX is missing (an older CPU, another OS, or the kernel refusing the tile state),
//! [`available`] is false and callers fall back to the f32 gemm on bf16-rounded operands
//! ([`super::bf16::round_operand`]): the same rounding of the inputs, f32 accumulation in
//! another order. The module is x86-64 only (inline assembly and AVX-512 intrinsics); other
//! targets, and builds without the `amx` feature, leave it out and always emulate.

use std::sync::OnceLock;

use super::Order;
use super::bf16::Operand;

/// Rows and columns of a result block: 2 × 2 tiles of 16 × 16.
const BLOCK: usize = 32;
/// Depth of one tile step: 32 bf16 values, one 64-byte tile row.
const DEPTH: usize = 32;
/// bf16 values in one packed tile (16 rows × 32).
const TILE: usize = 512;

/// Whether this process may run AMX bf16 instructions: CPUID reports AMX-TILE and AMX-BF16 and
/// Linux granted the tile state (`arch_prctl(ARCH_REQ_XCOMP_PERM)`). Asked once per process.
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(detect)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn detect() -> bool {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    const AMX_BF16: u32 = 1 << 22;
    const AMX_TILE: u32 = 1 << 24;
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    if __cpuid(0).eax < 7 {
        return false;
    }
    let edx = __cpuid_count(7, 0).edx;
    if edx & (AMX_BF16 | AMX_TILE) != AMX_BF16 | AMX_TILE || !std::arch::is_x86_feature_detected!("avx512bf16") {
        return false;
    }
    // SAFETY: the request only asks the kernel to enable a state component for this process;
    // it reads and writes no memory of ours.
    unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn detect() -> bool {
    false
}

/// Tests set this to run bf16 products through the emulation on an AMX machine as well.
#[cfg(test)]
pub static EMULATE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether bf16 products should run on tiles now ([`available`], unless a test asked for the
/// emulation).
pub fn use_tiles() -> bool {
    #[cfg(test)]
    if EMULATE.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    available()
}

/// `lhs · rhs` (`m × k` by `k × n`) on AMX tiles into `dst` (`m · n` values in `order`).
///
/// The kernel stores its accumulator tiles straight into a row-major `dst`; a column-major
/// result is computed as the row-major `(rhsᵀ · lhsᵀ)` (a transposed operand is the same data
/// with swapped strides). Reading a tile store back with vector loads right away stalls the core
/// for hundreds of cycles, so only the partial blocks at the right and bottom edges go through a
/// side buffer, copied out after the last tile product.
///
/// # Panics
/// If [`available`] is false, or an operand or `dst` is too short for its shape.
pub fn product(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand, order: Order, dst: &mut [f32]) {
    assert!(available(), "AMX bf16 products asked for on a machine without AMX");
    assert_eq!(dst.len(), m * n, "AMX product destination is not m × n");
    match order {
        Order::RowMajor => row_major_product(m, n, k, lhs, rhs, dst),
        Order::ColumnMajor => row_major_product(n, m, k, (rhs.0, rhs.2, rhs.1), (lhs.0, lhs.2, lhs.1), dst),
    }
}

/// `lhs` (`m × k`) rounded and packed as the left operand of [`product_with_packed_lhs`]: a
/// weight matrix used by many products can be packed once.
///
/// # Panics
/// If [`available`] is false, or `lhs` is too short for its shape.
pub fn pack_lhs(m: usize, k: usize, lhs: Operand) -> PackedLhs {
    assert!(available(), "AMX bf16 products asked for on a machine without AMX");
    let (mp, kp) = (m.next_multiple_of(BLOCK), k.max(1).next_multiple_of(DEPTH));
    let mut tiles = SPARE_LHS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop().unwrap_or_default();
    // SAFETY: AMX CPUs have AVX-512 with BF16 (checked by `available`).
    unsafe { pack_rows(lhs, m, k, mp, kp, &mut tiles) };
    PackedLhs { tiles, m, k }
}

/// A left operand rounded to bf16 and cut into tiles ([`pack_lhs`]).
pub struct PackedLhs {
    tiles: Vec<u16>,
    m: usize,
    k: usize,
}

/// Tile buffers of dropped [`PackedLhs`], for the next [`pack_lhs`]: a fresh half-megabyte
/// buffer is zeroed (and faulted in) before the packing overwrites it.
static SPARE_LHS: std::sync::Mutex<Vec<Vec<u16>>> = std::sync::Mutex::new(Vec::new());

/// At most this many spare buffers are kept (a net's layers and members, a few nets).
const MAX_SPARE_LHS: usize = 64;

impl Drop for PackedLhs {
    fn drop(&mut self) {
        let mut spare = SPARE_LHS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if spare.len() < MAX_SPARE_LHS {
            spare.push(std::mem::take(&mut self.tiles));
        }
    }
}

/// `lhs · rhs` with `lhs` packed by [`pack_lhs`] (`m × k`) and `rhs` `k × n`, into a row-major
/// `dst`.
///
/// # Panics
/// If `rhs` or `dst` is too short for the shape.
pub fn product_with_packed_lhs(n: usize, lhs: &PackedLhs, rhs: Operand, dst: &mut [f32]) {
    let (m, k) = (lhs.m, lhs.k);
    assert_eq!(dst.len(), m * n, "AMX product destination is not m × n");
    if m == 0 || n == 0 {
        return;
    }
    let (np, kp) = (n.next_multiple_of(BLOCK), k.max(1).next_multiple_of(DEPTH));
    let (a, mut b, edges) = PACKED.with_borrow_mut(std::mem::take);
    // SAFETY: AMX CPUs have AVX-512 with BF16 (checked by `pack_lhs`).
    unsafe { pack_pairs(rhs, k, n, kp, np, &mut b) };
    let edges = multiply(m, n, k, &lhs.tiles, &b, edges, dst);
    PACKED.set((a, b, edges));
}

/// [`product`] into a row-major `dst`.
fn row_major_product(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand, dst: &mut [f32]) {
    if m == 0 || n == 0 {
        return;
    }
    let (mp, np, kp) = (m.next_multiple_of(BLOCK), n.next_multiple_of(BLOCK), k.max(1).next_multiple_of(DEPTH));
    let (mut a, mut b, edges) = PACKED.with_borrow_mut(std::mem::take);
    // SAFETY: AMX CPUs have AVX-512 with BF16 (checked by `available`).
    unsafe {
        pack_rows(lhs, m, k, mp, kp, &mut a);
        pack_pairs(rhs, k, n, kp, np, &mut b);
    }
    let edges = multiply(m, n, k, &a, &b, edges, dst);
    PACKED.set((a, b, edges));
}

/// The tile products of packed `a` (`m × k`) and `b` (`k × n`) into a row-major `dst`; `edges`
/// is the side buffer for the partial blocks, handed back for reuse.
fn multiply(m: usize, n: usize, k: usize, a: &[u16], b: &[u16], mut edges: Vec<f32>, dst: &mut [f32]) -> Vec<f32> {
    let (mp, np, kp) = (m.next_multiple_of(BLOCK), n.next_multiple_of(BLOCK), k.max(1).next_multiple_of(DEPTH));
    assert!(a.len() >= mp * kp && b.len() >= np * kp, "packed operands too short for {m} × {n} × {k}");
    let steps = kp / DEPTH;
    let edge_blocks = (mp / BLOCK) * (np / BLOCK) - (m / BLOCK) * (n / BLOCK);
    edges.clear();
    edges.resize(edge_blocks * BLOCK * BLOCK, 0.0);
    let mut edge = 0;
    {
        let _tiles = Tiles::configure();
        for i0 in (0..mp).step_by(BLOCK) {
            for j0 in (0..np).step_by(BLOCK) {
                let full = i0 + BLOCK <= m && j0 + BLOCK <= n;
                let (c, stride) = if full {
                    (dst[i0 * n + j0..].as_mut_ptr(), n)
                } else {
                    edge += 1;
                    (edges[(edge - 1) * BLOCK * BLOCK..].as_mut_ptr(), BLOCK)
                };
                // SAFETY: `a` holds the tiles of row blocks i0 / 16 and i0 / 16 + 1, `b` those
                // of column blocks j0 / 16 and j0 / 16 + 1, each `steps` tiles long; `c` has 32
                // rows of 32 writable values `stride` apart (a full block of the m × n `dst`,
                // or an edge block of `edges`); the tiles are configured on this thread.
                unsafe { block_kernel(a[i0 / 16 * steps * TILE..].as_ptr(), b[j0 / 16 * steps * TILE..].as_ptr(), steps, c, stride) };
            }
        }
    }
    // The edge blocks' valid parts, in the order they were computed.
    let mut blocks = edges.chunks_exact(BLOCK * BLOCK);
    for i0 in (0..mp).step_by(BLOCK) {
        for j0 in (0..np).step_by(BLOCK) {
            if i0 + BLOCK <= m && j0 + BLOCK <= n {
                continue;
            }
            let block = blocks.next().expect("one side-buffer block per edge block");
            let (rows, cols) = ((m - i0.min(m)).min(BLOCK), (n - j0.min(n)).min(BLOCK));
            for r in 0..rows {
                dst[(i0 + r) * n + j0..][..cols].copy_from_slice(&block[r * BLOCK..r * BLOCK + cols]);
            }
        }
    }
    edges
}

thread_local! {
    /// Each thread's packing buffers and edge-block side buffer, kept between products (a fresh
    /// large buffer costs a page fault per 4 KiB).
    static PACKED: std::cell::RefCell<(Vec<u16>, Vec<u16>, Vec<f32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// This thread's tile configuration while alive: eight 16-row × 64-byte tiles (four
/// accumulators, two `A` tiles, two `B` tiles); dropping it releases the tile state.
struct Tiles;

impl Tiles {
    fn configure() -> Self {
        let mut config = [0u8; 64];
        config[0] = 1; // palette 1
        for tile in 0..8 {
            config[16 + 2 * tile..18 + 2 * tile].copy_from_slice(&64u16.to_le_bytes());
            config[48 + tile] = 16;
        }
        // SAFETY: AMX is available (checked by the caller); the configuration is a valid
        // palette-1 layout read from a live 64-byte buffer.
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
/// values apart).
///
/// # Safety
/// Tiles configured by [`Tiles`] on this thread; `a` points at two row blocks of `steps` packed
/// tiles each (one after the other), `b` likewise at two column blocks; `c` at 32 rows of 32
/// writable f32 values, `stride` apart.
unsafe fn block_kernel(a: *const u16, b: *const u16, steps: usize, c: *mut f32, stride: usize) {
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

mod pack;
use pack::{pack_pairs, pack_rows};

#[cfg(test)]
mod tests;
