//! Packing operands for the AMX tiles: rounding f32 to bf16 and laying the values out as the
//! tile loads read them (`A` as 16-row × 32-deep tiles, `B` in VNNI pairs), with the padding of
//! a partial tile zeroed.

use super::{DEPTH, TILE};
use crate::kernels::bf16::{Operand, to_bf16};

/// Where value `c` of row `r` of a packed `A` with `steps` tiles of depth goes: tiles of 16 rows
/// × 32 depth, a row block's tiles one after another.
fn a_index(r: usize, c: usize, steps: usize) -> usize {
    ((r / 16) * steps + c / DEPTH) * TILE + (r % 16) * DEPTH + c % DEPTH
}

/// Where the pair of VNNI row `p`, column `c` of a packed `B` starts: tiles of 16 pair rows × 16
/// columns, a column block's tiles one after another along the depth.
fn b_index(p: usize, c: usize, steps: usize) -> usize {
    ((c / 16) * steps + p / 16) * TILE + (p % 16) * DEPTH + (c % 16) * 2
}

/// `rows × cols` of `op` (`m × k`) as bf16 in packed `A` tiles for a `rows_p × cols_p` padding.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
pub(super) fn pack_rows((data, rs, cs): Operand, rows: usize, cols: usize, rows_p: usize, cols_p: usize, out: &mut Vec<u16>) {
    use std::arch::x86_64::*;
    let steps = cols_p / DEPTH;
    let out = room(out, rows_p * cols_p);
    zero_a_padding(out, rows, cols, rows_p, cols_p);
    if cs == 1 {
        for r in 0..rows {
            for c0 in (0..cols).step_by(DEPTH) {
                let end = (c0 + DEPTH).min(cols);
                let at = a_index(r, c0, steps);
                convert(&data[r * rs + c0..r * rs + end], &mut out[at..at + end - c0]);
            }
        }
        return;
    }
    let (full_r, full_c) = if rs == 1 { (rows / 16 * 16, cols / 16 * 16) } else { (0, 0) };
    // Column-major: 16 × 16 blocks transposed in registers, then rounded a row at a time.
    let mut block = [0.0f32; 256];
    for r0 in (0..full_r).step_by(16) {
        for c0 in (0..full_c).step_by(16) {
            // SAFETY: rows r0..r0 + 16 of columns c0..c0 + 16 lie in `data` (bounds checked by
            // the caller for the whole operand); `block` holds 16 × 16 values; 16 values from
            // `a_index(r, c0)` lie in one tile row.
            unsafe {
                transpose16(data[r0 + c0 * cs..].as_ptr(), cs, block.as_mut_ptr(), 16);
                for (r, row) in block.chunks_exact(16).enumerate() {
                    let bf = _mm512_cvtneps_pbh(_mm512_loadu_ps(row.as_ptr()));
                    let at = a_index(r0 + r, c0, steps);
                    _mm256_storeu_si256(out[at..].as_mut_ptr().cast(), std::mem::transmute::<__m256bh, __m256i>(bf));
                }
            }
        }
    }
    // What the blocks left: the right edge, the bottom edge, or a general stride.
    for r in 0..rows {
        let from = if r < full_r { full_c } else { 0 };
        for c in from..cols {
            out[a_index(r, c, steps)] = to_bf16(data[r * rs + c * cs]);
        }
    }
}

/// `rows × cols` of `op` (`k × n`) in packed VNNI `B` tiles for a `rows_p × cols_p` padding.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
pub(super) fn pack_pairs((data, rs, cs): Operand, rows: usize, cols: usize, rows_p: usize, cols_p: usize, out: &mut Vec<u16>) {
    use std::arch::x86_64::*;
    let steps = rows_p / DEPTH;
    let out = room(out, rows_p * cols_p);
    zero_b_padding(out, rows, cols, rows_p, cols_p);
    let (mut full_p, mut full_c) = (0, 0);
    if rs == 1 {
        // Column-major: each column's pairs are adjacent. Round 16 pairs of 16 columns, then
        // transpose them as 32-bit words in registers, straight into their tile.
        (full_p, full_c) = (rows / 32 * 16, cols / 16 * 16);
        let mut block = [0.0f32; 256];
        for p0 in (0..full_p).step_by(16) {
            for c0 in (0..full_c).step_by(16) {
                // SAFETY: rows 2·p0..2·p0 + 32 of columns c0..c0 + 16 lie in `data`; `block`
                // holds 16 × 16 words; the tile at `b_index(p0, c0)` holds 16 rows of 16 pairs.
                unsafe {
                    for c in 0..16 {
                        let column = data[2 * p0 + (c0 + c) * cs..].as_ptr();
                        let pairs = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(column.add(16)), _mm512_loadu_ps(column));
                        _mm512_storeu_ps(block[16 * c..].as_mut_ptr(), std::mem::transmute::<__m512bh, __m512>(pairs));
                    }
                    transpose16(block.as_ptr(), 16, out[b_index(p0, c0, steps)..].as_mut_ptr().cast(), 16);
                }
            }
        }
    }
    if cs == 1 {
        // Row-major: round 16 columns of two rows at once and interleave them into pairs.
        (full_p, full_c) = (rows / 2, cols / 16 * 16);
        // Word j of the result takes bf16 j of the even row (low half of `cvtne2ps`'s output)
        // and bf16 j of the odd row (its high half).
        let interleave = _mm512_set_epi16(
            31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0,
        );
        for p in 0..full_p {
            let (even, odd) = (&data[2 * p * rs..2 * p * rs + cols], &data[(2 * p + 1) * rs..(2 * p + 1) * rs + cols]);
            for c0 in (0..full_c).step_by(16) {
                let at = b_index(p, c0, steps);
                // SAFETY: both rows hold 16 values from c0 (c0 + 16 ≤ cols); the tile row at
                // `at` holds 16 pairs (32 bf16).
                unsafe {
                    let halves = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(odd[c0..].as_ptr()), _mm512_loadu_ps(even[c0..].as_ptr()));
                    let pairs = _mm512_permutexvar_epi16(interleave, std::mem::transmute::<__m512bh, __m512i>(halves));
                    _mm512_storeu_si512(out[at..at + 32].as_mut_ptr().cast(), pairs);
                }
            }
        }
    }
    let mut even = vec![0u16; cols];
    let mut odd = vec![0u16; cols];
    for p in 0..rows.div_ceil(2) {
        let from = if p < full_p { full_c } else { 0 };
        if from == cols {
            continue;
        }
        let row = |r: usize, values: &mut [u16]| {
            if r >= rows {
                values.fill(0);
            } else if cs == 1 {
                convert(&data[r * rs + from..r * rs + cols], &mut values[from..]);
            } else {
                (from..cols).for_each(|c| values[c] = to_bf16(data[r * rs + c * cs]));
            }
        };
        row(2 * p, &mut even);
        row(2 * p + 1, &mut odd);
        for c0 in (from..cols).step_by(16) {
            let end = (c0 + 16).min(cols);
            let at = b_index(p, c0, steps);
            for ((pair, e), o) in out[at..at + 2 * (end - c0)].chunks_exact_mut(2).zip(&even[c0..end]).zip(&odd[c0..end]) {
                pair[0] = *e;
                pair[1] = *o;
            }
        }
    }
}

/// The transpose of the 16 × 16 block of 32-bit words at `src` (rows `src_stride` apart) written
/// to `dst` (rows `dst_stride` apart), in registers.
///
/// # Safety
/// Both blocks lie in valid memory, `dst`'s writable, and they do not overlap.
#[target_feature(enable = "avx512f")]
unsafe fn transpose16(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
    use std::arch::x86_64::*;
    // SAFETY: the caller's contract.
    unsafe {
        let r: [__m512; 16] = std::array::from_fn(|i| _mm512_loadu_ps(src.add(i * src_stride)));
        // Pairs of rows interleaved within each 128-bit lane.
        let t: [__m512; 16] = std::array::from_fn(|i| {
            let (a, b) = (r[i & !1], r[i | 1]);
            if i % 2 == 0 { _mm512_unpacklo_ps(a, b) } else { _mm512_unpackhi_ps(a, b) }
        });
        // Each lane L of u[4g + j] now holds column 4L + j of rows 4g..4g + 4.
        let u: [__m512; 16] = std::array::from_fn(|i| {
            let (g, j) = (i / 4, i % 4);
            let (a, b) = (t[4 * g + j / 2], t[4 * g + 2 + j / 2]);
            if j % 2 == 0 { _mm512_shuffle_ps::<0x44>(a, b) } else { _mm512_shuffle_ps::<0xEE>(a, b) }
        });
        for j in 0..4 {
            let v0 = _mm512_shuffle_f32x4::<0x88>(u[j], u[4 + j]);
            let v1 = _mm512_shuffle_f32x4::<0xDD>(u[j], u[4 + j]);
            let v2 = _mm512_shuffle_f32x4::<0x88>(u[8 + j], u[12 + j]);
            let v3 = _mm512_shuffle_f32x4::<0xDD>(u[8 + j], u[12 + j]);
            _mm512_storeu_ps(dst.add(j * dst_stride), _mm512_shuffle_f32x4::<0x88>(v0, v2));
            _mm512_storeu_ps(dst.add((4 + j) * dst_stride), _mm512_shuffle_f32x4::<0x88>(v1, v3));
            _mm512_storeu_ps(dst.add((8 + j) * dst_stride), _mm512_shuffle_f32x4::<0xDD>(v0, v2));
            _mm512_storeu_ps(dst.add((12 + j) * dst_stride), _mm512_shuffle_f32x4::<0xDD>(v1, v3));
        }
    }
}

/// The first `len` values of `out`, which grows to hold them and never shrinks, so that products
/// of alternating shapes reuse their buffers. The values are left as they are: the packing
/// writes every one inside the operand, and the `zero_*_padding` functions the rest.
fn room(out: &mut Vec<u16>, len: usize) -> &mut [u16] {
    if out.len() < len {
        out.resize(len, 0);
    }
    &mut out[..len]
}

/// Zeroes the values of packed `A` tiles (`rows_p × cols_p`) outside the `rows × cols` operand:
/// the ends of its rows in their last tiles, and whole padding rows. (Zeroing the whole buffer
/// first, as before, was 5% of a 7 × 4×200 training step: every 200-wide layer is padded.)
fn zero_a_padding(out: &mut [u16], rows: usize, cols: usize, rows_p: usize, cols_p: usize) {
    let steps = cols_p / DEPTH;
    for r in 0..rows_p {
        let from = if r < rows { cols } else { 0 };
        for c0 in (from / DEPTH * DEPTH..cols_p).step_by(DEPTH) {
            let start = c0.max(from);
            let at = a_index(r, start, steps);
            out[at..at + c0 + DEPTH - start].fill(0);
        }
    }
}

/// Zeroes the values of packed VNNI `B` tiles (`rows_p × cols_p`) outside the `rows × cols`
/// operand: the columns past `cols` of every pair row, and the pair rows past the operand's
/// last (half-filled) pair. That pair's missing odd row is written as zeros by the packing.
fn zero_b_padding(out: &mut [u16], rows: usize, cols: usize, rows_p: usize, cols_p: usize) {
    let steps = rows_p / DEPTH;
    for p in 0..rows_p / 2 {
        let from = if p < rows.div_ceil(2) { cols } else { 0 };
        for c0 in (from / 16 * 16..cols_p).step_by(16) {
            let start = c0.max(from);
            let at = b_index(p, start, steps);
            out[at..at + 2 * (c0 + 16 - start)].fill(0);
        }
    }
}

/// `src` rounded to bf16 into `dst` (same length).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
fn convert(src: &[f32], dst: &mut [u16]) {
    use std::arch::x86_64::*;
    debug_assert_eq!(src.len(), dst.len());
    let whole = src.len() / 32 * 32;
    for (s, d) in src[..whole].chunks_exact(32).zip(dst[..whole].chunks_exact_mut(32)) {
        // SAFETY: each chunk holds 32 values on either side.
        unsafe {
            let bf = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(s.as_ptr().add(16)), _mm512_loadu_ps(s.as_ptr()));
            _mm512_storeu_si512(d.as_mut_ptr().cast(), std::mem::transmute::<__m512bh, __m512i>(bf));
        }
    }
    for (d, s) in dst[whole..].iter_mut().zip(&src[whole..]) {
        *d = to_bf16(*s);
    }
}
