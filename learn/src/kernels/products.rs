//! The matrix products of the CPU fast path: single-threaded f32 gemm calls (the gemm crate) in
//! either result layout, one-column products, and the bf16 dispatch by [`Bf16Path`]: the packed
//! kernels ([`super::packed`]: AMX tiles or AVX512_BF16), or the f32 kernel on bf16-rounded
//! operands.

use super::bf16::{self, Operand};
use super::host_params::HostNet;
use super::{Order, scratch};
use crate::Bf16Path;

/// Which of a layer's products a packed weight serves: `src · W` ...
pub(super) const FORWARD: usize = 0;
/// ... or `d · Wᵀ`.
pub(super) const BACKWARD: usize = 1;

/// A product with a layer's weight on the right (`src · W` forward, `d · Wᵀ` backward; `rhs`
/// is the weight, `(layer, member, FORWARD or BACKWARD)` says which), as a fresh feature-major
/// buffer. On the packed bf16 kernels the feature-major `m × n` result is computed as the
/// row-major `rhsᵀ · lhsᵀ`, with the weight's packed tiles made once per parameter version and
/// shared by every pass and row block until the parameters change.
pub(super) fn weight_product(
    m: usize,
    n: usize,
    k: usize,
    lhs: Operand,
    rhs: Operand,
    net: &HostNet,
    which: (usize, usize, usize),
) -> Vec<f32> {
    #[cfg(all(target_arch = "x86_64", feature = "bf16-kernels"))]
    if let Some(path @ (Bf16Path::Amx | Bf16Path::Avx512Bf16)) = net.bf16
        && m > 0
        && n > 1
        && k > 0
    {
        use super::packed;
        assert_in_bounds(m, n, k, lhs, rhs);
        let (layer, member, pass) = which;
        let weight = net.layers[layer].packed[member][pass].get_or_init(|| packed::pack_lhs(n, k, (rhs.0, rhs.2, rhs.1)));
        let mut dst = scratch::take(m * n);
        packed::product_with_packed_lhs(path, m, weight, (lhs.0, lhs.2, lhs.1), &mut dst);
        return dst;
    }
    let _ = which;
    product(m, n, k, lhs, rhs, Order::ColumnMajor, net.bf16)
}

/// Panics unless every index an `m × k` by `k × n` product reads lies in its operand.
pub(super) fn assert_in_bounds(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand) {
    for ((data, rs, cs), rows, cols) in [(lhs, m, k), (rhs, k, n)] {
        assert!((rows - 1) * rs + (cols - 1) * cs < data.len(), "gemm operand out of bounds");
    }
}

/// `lhs · rhs` for an `m × k` by `k × n` product, as a fresh `m × n` buffer in `order`: in f32
/// (`bf16` is `None`) or in bf16 on the given path. One-column products (scalar outputs,
/// memory-bound) are always f32.
pub(super) fn product(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand, order: Order, bf16: Option<Bf16Path>) -> Vec<f32> {
    if m == 0 || n == 0 || k == 0 {
        return vec![0.0; m * n];
    }
    assert_in_bounds(m, n, k, lhs, rhs);
    if n == 1 {
        // One column is the same in either layout.
        return column_product(m, k, lhs, rhs);
    }
    match bf16 {
        None => f32_product(m, n, k, lhs, rhs, order),
        Some(path) => packed_product(path, m, n, k, lhs, rhs, order).unwrap_or_else(|| {
            let (l, r) = (bf16::round_operand(lhs, m, k), bf16::round_operand(rhs, k, n));
            let out = f32_product(m, n, k, (&l, k, 1), (&r, n, 1), order);
            scratch::give_all([l, r]);
            out
        }),
    }
}

/// [`product`] in bf16 on the packed kernels of `path`, or `None` for the emulation.
#[cfg(all(target_arch = "x86_64", feature = "bf16-kernels"))]
fn packed_product(path: Bf16Path, m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand, order: Order) -> Option<Vec<f32>> {
    if path == Bf16Path::Emulated {
        return None;
    }
    let mut dst = scratch::take(m * n);
    super::packed::product(path, (m, n, k), lhs, rhs, order, &mut dst);
    Some(dst)
}

/// No packed kernels in this build (another target, or a build without the `bf16-kernels`
/// feature): bf16 is emulated (a path forced on a net that this build lacks panics).
#[cfg(not(all(target_arch = "x86_64", feature = "bf16-kernels")))]
fn packed_product(path: Bf16Path, _: usize, _: usize, _: usize, _: Operand, _: Operand, _: Order) -> Option<Vec<f32>> {
    assert_eq!(path, Bf16Path::Emulated, "bf16 products on {path}, which this build cannot run");
    None
}

/// [`product`] in f32 by the gemm crate (operands already bounds-checked, `n > 1`).
pub(super) fn f32_product(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand, order: Order) -> Vec<f32> {
    let (dst_rs, dst_cs) = match order {
        Order::RowMajor => (n, 1),
        Order::ColumnMajor => (1, m),
    };
    // Every element is written below; a recycled buffer's stale values are never used.
    let mut dst = scratch::take(m * n);
    // SAFETY: every index the product reads ((m−1)·rs + (k−1)·cs for lhs, likewise rhs) was
    // checked to lie in its slice; dst holds m × n values at the strides of `order` and
    // aliases nothing. `read_dst = false`: dst ← 1·lhs·rhs, its old contents ignored (gemm's
    // edge kernels still copy them, so dst is initialised). One thread: the units are the
    // parallelism.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs as isize,
            dst_rs as isize,
            false,
            lhs.0.as_ptr(),
            lhs.2 as isize,
            lhs.1 as isize,
            rhs.0.as_ptr(),
            rhs.2 as isize,
            rhs.1 as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    dst
}

/// [`product`] for one output column (a scalar output layer, or its weight gradient).
/// A gemm kernel pads the column to its register tile and packs both operands, many times the
/// arithmetic; here it is one dot product per row, or, when `lhs` is read down its columns
/// (a transposed operand), a running sum of scaled columns. Operands were bounds-checked.
pub(super) fn column_product(m: usize, k: usize, lhs: Operand, rhs: Operand) -> Vec<f32> {
    let (a, row_stride, col_stride) = lhs;
    let v: Vec<f32> = (0..k).map(|j| rhs.0[j * rhs.1]).collect();
    if col_stride == 1 {
        (0..m).map(|i| dot(&a[i * row_stride..i * row_stride + k], &v)).collect()
    } else if row_stride == 1 {
        let mut out = vec![0.0f32; m];
        for (j, vj) in v.iter().enumerate() {
            for (o, x) in out.iter_mut().zip(&a[j * col_stride..j * col_stride + m]) {
                *o += x * vj;
            }
        }
        out
    } else {
        (0..m).map(|i| (0..k).map(|j| a[i * row_stride + j * col_stride] * v[j]).sum()).collect()
    }
}

/// `Σ aᵢ·bᵢ` with 16 running sums, so that the loop vectorises.
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut sums = [0.0f32; LANES];
    let (chunks_a, chunks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = chunks_a.remainder().iter().zip(chunks_b.remainder()).map(|(x, y)| x * y).sum();
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for l in 0..LANES {
            sums[l] += ca[l] * cb[l];
        }
    }
    sums.iter().sum::<f32>() + tail
}
