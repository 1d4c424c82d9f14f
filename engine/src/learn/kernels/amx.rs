//! bf16 matrix products on Intel AMX tiles, for [`Matmul::Bf16`](crate::learn::Matmul::Bf16).
//!
//! Operands are rounded to bfloat16 (8 significant bits, f32's exponent range, round to nearest
//! even) and multiplied with f32 accumulation by `TDPBF16PS`, which does a 16 × 16 × 32 block of
//! multiply-adds per instruction: on the 2-core machines one core reaches 3.7 TFLOP/s in a loop of
//! them, against about 0.2 TFLOP/s for f32 AVX-512 FMAs (BENCHMARKS.md).
//!
//! Layout: `A` (`m × k`) is packed as bf16 rows, `B` (`k × n`) in AMX's "VNNI" form, where row
//! `p` holds, for each column `j`, the pair `B[2p][j], B[2p + 1][j]`; both are zero-padded and
//! cut into 1 KiB tiles (16 rows × 32 bf16) stored one after another along the depth, so the
//! kernel streams contiguous memory. It computes 32 × 32 blocks of the result in four
//! accumulator tiles over the whole depth, stores them to a small buffer and copies the valid
//! part out in either layout (transposed 16 × 16 at a time in registers). Padding is zeros, so it
//! adds nothing to a sum.
//!
//! Where AMX is missing (an older CPU, another OS, or the kernel refusing the tile state),
//! [`available`] is false and callers fall back to the f32 gemm on bf16-rounded operands
//! ([`super::bf16::round_operand`]): the same rounding of the inputs, f32 accumulation in
//! another order. The module is x86-64 only (inline assembly and AVX-512 intrinsics); other
//! targets, and builds with `--cfg vagram_no_amx`, leave it out and always emulate.

use std::sync::OnceLock;

use super::Order;
use super::bf16::{Operand, to_bf16};

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
fn pack_rows((data, rs, cs): Operand, rows: usize, cols: usize, rows_p: usize, cols_p: usize, out: &mut Vec<u16>) {
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
fn pack_pairs((data, rs, cs): Operand, rows: usize, cols: usize, rows_p: usize, cols_p: usize, out: &mut Vec<u16>) {
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

#[cfg(test)]
mod tests;
