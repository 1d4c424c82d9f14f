//! The AVX512_BF16 block kernel of the packed bf16 products
//! ([`Bf16Path::Avx512Bf16`](crate::Bf16Path::Avx512Bf16)), for CPUs with `VDPBF16PS` but no
//! AMX tiles (AMD Zen 4/5, Intel Cooper Lake and Ice Lake servers). One instruction multiplies
//! 16 pairs of bf16 values and adds each pair's two products to an f32 lane: 32 multiply-adds,
//! twice an f32 FMA's 16 at the same issue rate.
//!
//! It reads the same packed operands as the AMX kernel. A packed `B` tile row is one pair row
//! of 16 columns in VNNI order, exactly one 512-bit operand; a packed `A` tile row holds 16
//! pairs of one row, each broadcast to all lanes in turn. A 32 × 32 result block is computed
//! as up to four 8-row strips of 8 × 2 accumulator registers (16 of the 32), over the depth.

use std::arch::x86_64::*;

use super::{DEPTH, TILE};

/// Whether this CPU has the AVX-512 subsets the kernel and the packing use (F, BW, VL, BF16).
pub fn available() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512bf16")
}

/// Rows of one strip: 8 rows × 2 column vectors of accumulators.
const STRIP: usize = 8;

/// The valid part of a 32 × 32 result block: the dot kernel skips the rest (the packed padding
/// is zeros, so computing it would add nothing but time). A 200-wide layer pads to 224 rows and
/// 224 deep, 25% more work for the AMX tiles; here only whole pairs and 8-row strips are done.
#[derive(Clone, Copy)]
pub(super) struct Valid {
    /// Rows of the block that hold results (1..=32).
    pub rows: usize,
    /// Columns of the block that hold results (1..=32).
    pub columns: usize,
    /// The product's depth `k` (the last tile step holds `k - 32·(steps − 1)` of it).
    pub depth: usize,
}

/// One 32 × 32 block of `A · B`, `steps` tiles deep, stored row-major at `c` (rows `stride`
/// values apart): of its rows, the 8-row strips that hold valid ones; of its columns, 16 or all
/// 32; of the depth, the pairs within `valid.depth`.
///
/// # Safety
/// [`available`] is true; `a` points at two row blocks of `steps` packed tiles each (one after
/// the other), `b` likewise at two column blocks; `c` at 32 rows of 32 writable f32 values,
/// `stride` apart; `valid.depth` is at most `32·steps`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
pub(super) unsafe fn block_kernel(a: *const u16, b: *const u16, steps: usize, c: *mut f32, stride: usize, valid: Valid) {
    let last_pairs = (valid.depth.saturating_sub(DEPTH * (steps - 1))).div_ceil(2);
    // SAFETY: the caller's contract: each row block holds 16 tile rows per step, and the strips
    // below cover rows 0..32 of the block.
    unsafe {
        let columns = (b, b.add(steps * TILE));
        for first in (0..valid.rows).step_by(STRIP) {
            let (row_block, row) = (first / 16, first % 16);
            let a = a.add(row_block * steps * TILE + row * DEPTH);
            let c = c.add(first * stride);
            if valid.columns <= 16 {
                strip::<1>(a, columns, steps, last_pairs, c, stride);
            } else {
                strip::<2>(a, columns, steps, last_pairs, c, stride);
            }
        }
    }
}

/// Rows `a` (8 consecutive rows of a packed row block, from a tile row) times the first
/// `VECTORS` column blocks of `b` (16 columns each), into 8 rows of `16·VECTORS` values at `c`:
/// `steps − 1` whole tile steps, then `last_pairs` pairs of the last.
///
/// # Safety
/// As [`block_kernel`], for 8 tile rows starting at `a` in each of `steps` tiles.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
unsafe fn strip<const VECTORS: usize>(
    a: *const u16,
    b: (*const u16, *const u16),
    steps: usize,
    last_pairs: usize,
    c: *mut f32,
    stride: usize,
) {
    // SAFETY: the caller's contract; every load below lies in a tile of `a` or `b`.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); VECTORS]; STRIP];
        for step in 0..steps {
            let (a_tile, b0, b1) = (a.add(step * TILE), b.0.add(step * TILE), b.1.add(step * TILE));
            let pairs = if step + 1 == steps { last_pairs } else { DEPTH / 2 };
            for pair in 0..pairs {
                let columns: [__m512bh; VECTORS] = std::array::from_fn(|v| {
                    let tile = if v == 0 { b0 } else { b1 };
                    std::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(tile.add(pair * DEPTH).cast()))
                });
                for (row, acc) in acc.iter_mut().enumerate() {
                    let values = a_tile.add(row * DEPTH + 2 * pair).cast::<i32>().read_unaligned();
                    let broadcast = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(values));
                    for (acc, column) in acc.iter_mut().zip(columns) {
                        *acc = _mm512_dpbf16_ps(*acc, broadcast, column);
                    }
                }
            }
        }
        for (row, acc) in acc.iter().enumerate() {
            for (v, acc) in acc.iter().enumerate() {
                _mm512_storeu_ps(c.add(row * stride + 16 * v), *acc);
            }
        }
    }
}
