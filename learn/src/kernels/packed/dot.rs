//! The AVX512_BF16 block kernel of the packed bf16 products
//! ([`Bf16Path::Avx512Bf16`](crate::Bf16Path::Avx512Bf16)), for CPUs with `VDPBF16PS` but no
//! AMX tiles (AMD Zen 4/5, Intel Cooper Lake and Ice Lake servers). One instruction multiplies
//! 16 pairs of bf16 values and adds each pair's two products to an f32 lane: 32 multiply-adds,
//! twice an f32 FMA's 16 at the same issue rate.
//!
//! It reads the same packed operands as the AMX kernel. A packed `B` tile row is one pair row
//! of 16 columns in VNNI order, exactly one 512-bit operand; a packed `A` tile row holds 16
//! pairs of one row, each broadcast to all lanes in turn. A 32 × 32 result block is computed
//! as four 8-row strips of 8 × 2 accumulator registers (16 of the 32), over the whole depth.

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

/// One 32 × 32 block of `A · B`, `steps` tiles deep, stored row-major at `c` (rows `stride`
/// values apart).
///
/// # Safety
/// [`available`] is true; `a` points at two row blocks of `steps` packed tiles each (one after
/// the other), `b` likewise at two column blocks; `c` at 32 rows of 32 writable f32 values,
/// `stride` apart.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
pub(super) unsafe fn block_kernel(a: *const u16, b: *const u16, steps: usize, c: *mut f32, stride: usize) {
    // SAFETY: the caller's contract: each row block holds 16 tile rows per step, and the strips
    // below cover rows 0..32 of the block.
    unsafe {
        let columns = (b, b.add(steps * TILE));
        for row_block in 0..2 {
            let a_block = a.add(row_block * steps * TILE);
            for first in (0..16).step_by(STRIP) {
                strip(a_block.add(first * DEPTH), columns, steps, c.add((row_block * 16 + first) * stride), stride);
            }
        }
    }
}

/// Rows `a` (8 consecutive rows of a packed row block, from a tile row) times the two column
/// blocks `b`, into 8 rows of 32 values at `c`.
///
/// # Safety
/// As [`block_kernel`], for 8 tile rows starting at `a` in each of `steps` tiles.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
unsafe fn strip(a: *const u16, b: (*const u16, *const u16), steps: usize, c: *mut f32, stride: usize) {
    // SAFETY: the caller's contract; every load below lies in a tile of `a` or `b`.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); 2]; STRIP];
        for step in 0..steps {
            let (a_tile, b0, b1) = (a.add(step * TILE), b.0.add(step * TILE), b.1.add(step * TILE));
            for pair in 0..DEPTH / 2 {
                let left = _mm512_loadu_si512(b0.add(pair * DEPTH).cast());
                let right = _mm512_loadu_si512(b1.add(pair * DEPTH).cast());
                let (left, right) = (std::mem::transmute::<__m512i, __m512bh>(left), std::mem::transmute::<__m512i, __m512bh>(right));
                for (row, acc) in acc.iter_mut().enumerate() {
                    let values = a_tile.add(row * DEPTH + 2 * pair).cast::<i32>().read_unaligned();
                    let broadcast = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(values));
                    acc[0] = _mm512_dpbf16_ps(acc[0], broadcast, left);
                    acc[1] = _mm512_dpbf16_ps(acc[1], broadcast, right);
                }
            }
        }
        for (row, acc) in acc.iter().enumerate() {
            _mm512_storeu_ps(c.add(row * stride), acc[0]);
            _mm512_storeu_ps(c.add(row * stride + 16), acc[1]);
        }
    }
}
