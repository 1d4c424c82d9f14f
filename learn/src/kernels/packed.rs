//! bf16 matrix products on packed operands, for [`Matmul::Bf16`](crate::Matmul::Bf16) on the
//! x86-64 paths that have hardware for them: Intel AMX tiles ([`tiles`]) or AVX512_BF16 dot
//! products ([`dot`]), the two [`Bf16Path`]s other than the emulation.
//!
//! Operands are rounded to bfloat16 (8 significant bits, f32's exponent range, round to nearest
//! even) and multiplied with f32 accumulation; both kernels read the same packed layout.
//! `A` (`m × k`) is packed as bf16 rows, `B` (`k × n`) in the "VNNI" form, where row `p` holds,
//! for each column `j`, the pair `B[2p][j], B[2p + 1][j]`; both are zero-padded and cut into
//! 1 KiB tiles (16 rows × 32 bf16) stored one after another along the depth, so the kernels
//! stream contiguous memory (packing: `packed/pack.rs`). A kernel computes a 32 × 32 block of
//! the result over the whole depth and stores full blocks straight into a row-major result;
//! partial blocks at the edges go through a side buffer. A column-major result is computed as
//! the row-major `rhsᵀ · lhsᵀ`. Padding is zeros, so it adds nothing to a sum.
//!
//! Where neither is available (an older CPU, another OS, or the kernel refusing the tile state
//! and no AVX512_BF16), callers fall back to the f32 gemm on bf16-rounded operands
//! ([`super::bf16::round_operand`]): the same rounding of the inputs, f32 accumulation in
//! another order. The module is x86-64 only (inline assembly and AVX-512 intrinsics); other
//! targets, and builds without the `bf16-kernels` feature, leave it out and always emulate.

use super::Order;
use super::bf16::Operand;
use crate::Bf16Path;

/// Rows and columns of a result block: 2 × 2 tiles of 16 × 16.
const BLOCK: usize = 32;
/// Depth of one tile step: 32 bf16 values, one 64-byte tile row.
const DEPTH: usize = 32;
/// bf16 values in one packed tile (16 rows × 32).
const TILE: usize = 512;

/// Whether this machine can run `path` here ([`Bf16Path::Emulated`] always can).
pub fn supports(path: Bf16Path) -> bool {
    match path {
        Bf16Path::Amx => tiles::available(),
        Bf16Path::Avx512Bf16 => dot::available(),
        Bf16Path::Emulated => true,
    }
}

/// Panics unless `path` is a hardware path this machine has.
fn assert_runs(path: Bf16Path) {
    assert!(path != Bf16Path::Emulated && supports(path), "packed bf16 products on {path}, which this machine cannot run");
}

/// `lhs · rhs` (`m × k` by `k × n`, the shape `(m, n, k)`) on `path` into `dst` (`m · n` values in `order`).
///
/// The kernels store into a row-major `dst`; a column-major result is computed as the row-major
/// `(rhsᵀ · lhsᵀ)` (a transposed operand is the same data with swapped strides).
///
/// # Panics
/// If this machine cannot run `path` (or it is the emulation), or an operand or `dst` is too
/// short for its shape.
pub fn product(path: Bf16Path, (m, n, k): (usize, usize, usize), lhs: Operand, rhs: Operand, order: Order, dst: &mut [f32]) {
    assert_runs(path);
    assert_eq!(dst.len(), m * n, "bf16 product destination is not m × n");
    match order {
        Order::RowMajor => row_major_product(path, m, n, k, lhs, rhs, dst),
        Order::ColumnMajor => row_major_product(path, n, m, k, (rhs.0, rhs.2, rhs.1), (lhs.0, lhs.2, lhs.1), dst),
    }
}

/// `lhs` (`m × k`) rounded and packed as the left operand of [`product_with_packed_lhs`]: a
/// weight matrix used by many products can be packed once.
///
/// # Panics
/// If this machine has no AVX512_BF16 (the packing rounds with it), or `lhs` is too short for
/// its shape.
pub fn pack_lhs(m: usize, k: usize, lhs: Operand) -> PackedLhs {
    assert!(dot::available(), "bf16 packing asked for on a machine without AVX512_BF16");
    let (mp, kp) = (m.next_multiple_of(BLOCK), k.max(1).next_multiple_of(DEPTH));
    let mut tiles = SPARE_LHS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop().unwrap_or_default();
    // SAFETY: the CPU has AVX-512 with BF16 (checked above).
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

/// `lhs · rhs` on `path`, with `lhs` packed by [`pack_lhs`] (`m × k`) and `rhs` `k × n`, into a
/// row-major `dst`.
///
/// # Panics
/// If this machine cannot run `path` (or it is the emulation), or `rhs` or `dst` is too short
/// for the shape.
pub fn product_with_packed_lhs(path: Bf16Path, n: usize, lhs: &PackedLhs, rhs: Operand, dst: &mut [f32]) {
    assert_runs(path);
    let (m, k) = (lhs.m, lhs.k);
    assert_eq!(dst.len(), m * n, "bf16 product destination is not m × n");
    if m == 0 || n == 0 {
        return;
    }
    let (np, kp) = (n.next_multiple_of(BLOCK), k.max(1).next_multiple_of(DEPTH));
    let (a, mut b, edges) = PACKED.with_borrow_mut(std::mem::take);
    // SAFETY: both paths' CPUs have AVX-512 with BF16 (checked by `assert_runs`).
    unsafe { pack_pairs(rhs, k, n, kp, np, &mut b) };
    let edges = multiply(path, (m, n, k), &lhs.tiles, &b, edges, dst);
    PACKED.set((a, b, edges));
}

/// [`product`] into a row-major `dst`.
fn row_major_product(path: Bf16Path, m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand, dst: &mut [f32]) {
    if m == 0 || n == 0 {
        return;
    }
    let (mp, np, kp) = (m.next_multiple_of(BLOCK), n.next_multiple_of(BLOCK), k.max(1).next_multiple_of(DEPTH));
    let (mut a, mut b, edges) = PACKED.with_borrow_mut(std::mem::take);
    // SAFETY: both paths' CPUs have AVX-512 with BF16 (checked by `assert_runs`).
    unsafe {
        pack_rows(lhs, m, k, mp, kp, &mut a);
        pack_pairs(rhs, k, n, kp, np, &mut b);
    }
    let edges = multiply(path, (m, n, k), &a, &b, edges, dst);
    PACKED.set((a, b, edges));
}

/// The products of packed `a` (`m × k`) and `b` (`k × n`) into a row-major `dst` on `path`
/// (checked by the caller); `edges` is the side buffer for the partial blocks, handed back for
/// reuse.
fn multiply(path: Bf16Path, (m, n, k): (usize, usize, usize), a: &[u16], b: &[u16], mut edges: Vec<f32>, dst: &mut [f32]) -> Vec<f32> {
    let (mp, np, kp) = (m.next_multiple_of(BLOCK), n.next_multiple_of(BLOCK), k.max(1).next_multiple_of(DEPTH));
    assert!(a.len() >= mp * kp && b.len() >= np * kp, "packed operands too short for {m} × {n} × {k}");
    let steps = kp / DEPTH;
    let edge_blocks = (mp / BLOCK) * (np / BLOCK) - (m / BLOCK) * (n / BLOCK);
    // Its old values need no zeroing: the kernels write every row and column that is read back.
    if edges.len() < edge_blocks * BLOCK * BLOCK {
        edges.resize(edge_blocks * BLOCK * BLOCK, 0.0);
    }
    let mut edge = 0;
    {
        let _tiles = (path == Bf16Path::Amx).then(tiles::Tiles::configure);
        for i0 in (0..mp).step_by(BLOCK) {
            for j0 in (0..np).step_by(BLOCK) {
                let full = i0 + BLOCK <= m && j0 + BLOCK <= n;
                let (c, stride) = if full {
                    (dst[i0 * n + j0..].as_mut_ptr(), n)
                } else {
                    edge += 1;
                    (edges[(edge - 1) * BLOCK * BLOCK..].as_mut_ptr(), BLOCK)
                };
                let (a, b) = (a[i0 / 16 * steps * TILE..].as_ptr(), b[j0 / 16 * steps * TILE..].as_ptr());
                // SAFETY: `a` holds the tiles of row blocks i0 / 16 and i0 / 16 + 1, `b` those
                // of column blocks j0 / 16 and j0 / 16 + 1, each `steps` tiles long; `c` has 32
                // rows of 32 writable values `stride` apart (a full block of the m × n `dst`,
                // or an edge block of `edges`); the tiles are configured on this thread for
                // AMX, and the caller checked that the CPU runs `path`.
                unsafe {
                    match path {
                        Bf16Path::Amx => tiles::block_kernel(a, b, steps, c, stride),
                        _ => {
                            let valid = dot::Valid { rows: (m - i0).min(BLOCK), columns: (n - j0).min(BLOCK), depth: k };
                            dot::block_kernel(a, b, steps, c, stride, valid)
                        }
                    }
                }
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

mod dot;
mod pack;
mod tiles;
use pack::{pack_pairs, pack_rows};

#[cfg(test)]
mod tests;
