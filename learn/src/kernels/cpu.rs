//! The CPU fast path for the ensemble passes.
//!
//! The work is cut into *units*: one member and one block of its rows. Each unit runs its own
//! chain of single-threaded gemm calls (forward, then backward), and rayon spreads the units over
//! the cores. When the member count is odd (SAC's actor, 7-member ensembles), the middle member's
//! rows are cut into two blocks, so that two cores get even shares (3½ members each) while every
//! other member's weights are packed for the gemm kernel once per product
//! ([`blocks_per_member`]); the cut depends on the shapes alone, never on the thread count, so
//! results are the same on every machine. Parameter gradients of a member's blocks are summed in
//! block order.
//!
//! Inside a unit, activations are stored feature-major (each feature's rows contiguous): the gemm
//! kernel vectorises along the result's contiguous dimension in 64-wide tiles, which a batch's 128
//! or 256 rows fill exactly while a 200-wide layer leaves an 8-wide remainder for a slow edge
//! kernel. Inputs, outputs and input gradients stay row-major at the unit's boundary (one small
//! transpose each); weights and their gradients keep dfdx's `[in, out]` layout.

use std::ops::Range;

use dfdx::prelude::*;
use rayon::prelude::*;

use super::bf16::{self, Operand};
use super::denormals::FlushDenormals;
use super::elementwise::{activation_backward, add_feature_sums, bias_activation};
use super::host_params::{HostNet, HostParams};
use super::scratch;
use super::{Order, Passes, Wants, rows_of};
use crate::ensemble::EnsembleMlp;
use crate::{Activation, Matmul};

/// No block is smaller than this many rows (smaller gemms lose more than the parallelism wins).
const MIN_BLOCK_ROWS: usize = 64;

/// Row blocks of the middle member: two when the member count is odd (one net, or 7 members: 8
/// units, 3½ members per core), else one (twin critics: one member per core); every other member
/// is one block. Measured on the 2-core machines (BENCHMARKS.md): a 256-wide critic step ran
/// 1,373/s with 2 blocks and 1,179/s with 4; the 7 × 4×200 ensemble 105/s with no member split,
/// 112–125/s with every member split in two, 131–134/s with only the middle one split.
fn blocks_per_member(members: usize, rows: usize) -> usize {
    let wanted = if members % 2 == 1 { 2 } else { 1 };
    wanted.min(rows / MIN_BLOCK_ROWS).max(1)
}

/// Outputs of every member on its own rows of `x`.
pub fn infer(net: &EnsembleMlp<Cpu>, x: &[f32]) -> Vec<f32> {
    let host = HostNet::of(net);
    let rows = rows_of(net, x);
    let mut units = host.units(rows);
    run(&mut units, |u| u.forward(&host, x, rows, false));
    host.gather(&units, rows, host.output_dim(), |u| &u.output)
}

/// Forward, `loss_gradient` on the host outputs, backward into what `wants` asks for.
pub fn forward_backward<Err>(
    net: &EnsembleMlp<Cpu>,
    x: &[f32],
    wants: Wants,
    loss_gradient: impl FnOnce(&[f32]) -> Result<Vec<f32>, Err>,
) -> Result<Passes<Cpu>, Err> {
    let host = HostNet::of(net);
    let rows = rows_of(net, x);
    let mut units = host.units(rows);
    run(&mut units, |u| u.forward(&host, x, rows, true));
    let outputs = host.gather(&units, rows, host.output_dim(), |u| &u.output);
    let d_out = loss_gradient(&outputs)?;
    assert_eq!(d_out.len(), outputs.len(), "d_out must match the outputs [{}, {rows}, {}]", host.members, host.output_dim());
    let out_dim = host.output_dim();
    run(&mut units, |u| u.backward(&host, x, u.slice(&d_out, rows, out_dim), rows, wants));
    let params = wants.params.then(|| host.gather_param_grads(net, &units));
    let input = wants.input.then(|| host.gather(&units, rows, host.input_dim(), |u| &u.input_grad));
    Ok(Passes { outputs, params, input })
}

/// Outputs, and the gradient of each row's summed outputs with respect to its input row. The
/// loss gradient is all ones, known before the forward pass, so every unit runs forward and
/// backward in one parallel region (one wake-up of the pool instead of two).
pub fn input_gradient(net: &EnsembleMlp<Cpu>, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let host = HostNet::of(net);
    let rows = rows_of(net, x);
    let mut units = host.units(rows);
    run(&mut units, |u| {
        u.forward(&host, x, rows, true);
        let ones = vec![1.0; u.output.len()];
        u.backward(&host, x, &ones, rows, Wants::INPUT);
    });
    let outputs = host.gather(&units, rows, host.output_dim(), |u| &u.output);
    let input = host.gather(&units, rows, host.input_dim(), |u| &u.input_grad);
    (outputs, input)
}

/// Runs `f` on every unit, subnormals flushed: on this thread when there is one, else across
/// rayon's threads.
fn run(units: &mut [Unit], f: impl Fn(&mut Unit) + Sync + Send) {
    let g = |u: &mut Unit| {
        let _flush = FlushDenormals::new();
        f(u);
    };
    if units.len() == 1 {
        g(&mut units[0]);
    } else {
        units.par_iter_mut().for_each(g);
    }
}

impl HostParams {
    fn input_dim(&self) -> usize {
        self.layers[0].inputs
    }

    fn output_dim(&self) -> usize {
        self.layers.last().expect("at least one layer").outputs
    }

    fn units(&self, rows: usize) -> Vec<Unit> {
        let split = blocks_per_member(self.members, rows);
        let middle = self.members / 2;
        (0..self.members)
            .flat_map(|member| {
                let blocks = if member == middle { split } else { 1 };
                let per = rows.div_ceil(blocks);
                (0..blocks).filter_map(move |b| {
                    let start = (b * per).min(rows);
                    let end = ((b + 1) * per).min(rows);
                    (start < end || (rows == 0 && b == 0)).then(|| Unit::new(member, start..end))
                })
            })
            .collect()
    }

    /// The units' per-row results (`part` of each, `rows × width`) assembled into `[E, B, width]`.
    fn gather(&self, units: &[Unit], rows: usize, width: usize, part: impl Fn(&Unit) -> &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; self.members * rows * width];
        for u in units {
            let start = (u.member * rows + u.rows.start) * width;
            let values = part(u);
            out[start..start + values.len()].copy_from_slice(values);
        }
        out
    }

    /// The units' weight and bias gradients summed per member into dfdx gradients. A large
    /// net's are summed in parallel chunks: done on the calling thread alone, this was 3.5% of
    /// a 512-wide bf16 SAC update's CPU samples while the other thread waited.
    fn gather_param_grads(&self, net: &EnsembleMlp<Cpu>, units: &[Unit]) -> Gradients<f32, Cpu> {
        let mut grads = Gradients::leaky();
        let mut owned = take_gradients(net, &mut grads);
        let mut tasks = Vec::new();
        for (l, (host, [gw, gb])) in self.layers.iter().zip(owned.iter_mut()).enumerate() {
            sum_tasks(&mut tasks, gw, host.inputs * host.outputs, units, |u| &u.weight_grads[l]);
            sum_tasks(&mut tasks, gb, host.outputs, units, |u| &u.bias_grads[l]);
        }
        // Each value is the same sum, in unit order, whichever thread adds it.
        let fill = |(dst, sources): SumTask| sources.into_iter().for_each(|src| add(dst, src));
        if super::cpu_update::runs_in_parallel(net) {
            tasks.into_par_iter().for_each(fill);
        } else {
            tasks.into_iter().for_each(fill);
        }
        for (layer, [gw, gb]) in net.layers().iter().zip(owned) {
            *grads.get_or_alloc_mut(&layer.weight).expect("a weight gradient") = gw;
            *grads.get_or_alloc_mut(&layer.bias).expect("a bias gradient") = gb;
        }
        grads
    }
}

/// A gradient's storage on the CPU.
pub(super) type GradStorage = <Cpu as Storage<f32>>::Vec;

/// Each layer's weight and bias gradients taken out of `grads` (allocated, zeroed, where
/// missing), leaving empty storages behind: `Gradients` lends one storage at a time, and work
/// spread over threads needs them all at once.
pub(super) fn take_gradients(net: &EnsembleMlp<Cpu>, grads: &mut Gradients<f32, Cpu>) -> Vec<[GradStorage; 2]> {
    let dev = net.layers()[0].weight.device().clone();
    let empty = || Storage::<f32>::try_alloc_len(&dev, 0).expect("allocating nothing");
    net.layers()
        .iter()
        .map(|layer| {
            let gw = std::mem::replace(grads.get_or_alloc_mut(&layer.weight).expect("allocating a weight gradient"), empty());
            let gb = std::mem::replace(grads.get_or_alloc_mut(&layer.bias).expect("allocating a bias gradient"), empty());
            [gw, gb]
        })
        .collect()
}

/// Values per task of the gradient gather.
const GATHER_CHUNK: usize = 16 * 1024;

/// One task of the gradient gather: a chunk of a gradient and what to add into it.
type SumTask<'a> = (&'a mut [f32], Vec<&'a [f32]>);

/// Cuts `dst` (`per_member` values per member) into chunks and adds to `tasks`, for each chunk,
/// the matching `part` of every unit of that member.
fn sum_tasks<'a>(
    tasks: &mut Vec<SumTask<'a>>,
    dst: &'a mut [f32],
    per_member: usize,
    units: &'a [Unit],
    part: impl Fn(&'a Unit) -> &'a [f32],
) {
    for (member, slice) in dst.chunks_mut(per_member.max(1)).enumerate() {
        for (c, chunk) in slice.chunks_mut(GATHER_CHUNK).enumerate() {
            let range = c * GATHER_CHUNK..c * GATHER_CHUNK + chunk.len();
            tasks.push((chunk, units.iter().filter(|u| u.member == member).map(|u| &part(u)[range.clone()]).collect()));
        }
    }
}

fn add(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

/// One member's block of rows, with what its backward pass needs.
struct Unit {
    member: usize,
    rows: Range<usize>,
    /// Hidden activations, one per hidden layer (`rows × width`, feature-major).
    hidden: Vec<Vec<f32>>,
    /// σ(pre-activation) per hidden layer, for SiLU's derivative (feature-major).
    sigmoid: Vec<Vec<f32>>,
    output: Vec<f32>,
    weight_grads: Vec<Vec<f32>>,
    bias_grads: Vec<Vec<f32>>,
    input_grad: Vec<f32>,
}

impl Drop for Unit {
    fn drop(&mut self) {
        let lists = [&mut self.hidden, &mut self.sigmoid, &mut self.weight_grads];
        scratch::give_all(lists.into_iter().flat_map(|list| list.drain(..)));
        scratch::give_all([std::mem::take(&mut self.output), std::mem::take(&mut self.input_grad)]);
    }
}

impl Unit {
    fn new(member: usize, rows: Range<usize>) -> Self {
        Self {
            member,
            rows,
            hidden: Vec::new(),
            sigmoid: Vec::new(),
            output: Vec::new(),
            weight_grads: Vec::new(),
            bias_grads: Vec::new(),
            input_grad: Vec::new(),
        }
    }

    /// This unit's slice of `[E, B, width]` data.
    fn slice<'a>(&self, data: &'a [f32], total_rows: usize, width: usize) -> &'a [f32] {
        let start = (self.member * total_rows + self.rows.start) * width;
        &data[start..start + self.rows.len() * width]
    }

    fn forward(&mut self, net: &HostNet, x: &[f32], total_rows: usize, keep: bool) {
        let n = self.rows.len();
        let last = net.layers.len() - 1;
        let xs = self.slice(x, total_rows, net.input_dim());
        let mut current: Vec<f32> = Vec::new();
        for (l, layer) in net.layers.iter().enumerate() {
            let (i, o) = (layer.inputs, layer.outputs);
            // The unit's input rows are row-major; every later activation is feature-major.
            let src: Operand = if l == 0 { (xs, i, 1) } else { (&current, 1, n) };
            let w = &layer.weight[self.member * i * o..(self.member + 1) * i * o];
            let mut z = weight_product(n, o, i, src, (w, o, 1), net, (l, self.member, FORWARD));
            let bias = &layer.bias[self.member * o..(self.member + 1) * o];
            if l == last {
                bias_activation(&mut z, bias, n, None, None);
            } else if keep && net.activation == Activation::Silu {
                let mut sig = scratch::take(n * o);
                bias_activation(&mut z, bias, n, Some(net.activation), Some(&mut sig));
                self.sigmoid.push(sig);
            } else {
                bias_activation(&mut z, bias, n, Some(net.activation), None);
            }
            let previous = std::mem::replace(&mut current, z);
            if keep && l > 0 {
                self.hidden.push(previous);
            } else {
                scratch::give(previous);
            }
        }
        self.output = transpose(&current, net.output_dim(), n);
        scratch::give(current);
    }

    /// Backpropagates `d`, the loss gradient with respect to this unit's outputs (row-major).
    fn backward(&mut self, net: &HostNet, x: &[f32], d: &[f32], total_rows: usize, wants: Wants) {
        let n = self.rows.len();
        let xs = self.slice(x, total_rows, net.input_dim());
        let layers = net.layers.len();
        self.weight_grads = vec![Vec::new(); layers];
        self.bias_grads = vec![Vec::new(); layers];
        let mut d = transpose(d, n, net.output_dim());
        for (l, layer) in net.layers.iter().enumerate().rev() {
            let (i, o) = (layer.inputs, layer.outputs);
            if wants.params {
                // dW = srcᵀ · d: srcᵀ is src read with swapped strides.
                let src_t: Operand = if l == 0 { (xs, 1, i) } else { (&self.hidden[l - 1], n, 1) };
                self.weight_grads[l] = product(i, o, n, src_t, (&d, 1, n), Order::RowMajor, net.matmul);
                let mut db = vec![0.0f32; o];
                add_feature_sums(&mut db, &d, n);
                self.bias_grads[l] = db;
            }
            if l > 0 || wants.input {
                // d_src = d · Wᵀ.
                let w = &layer.weight[self.member * i * o..(self.member + 1) * i * o];
                let mut d_src = weight_product(n, i, o, (&d, 1, n), (w, 1, o), net, (l, self.member, BACKWARD));
                if l > 0 {
                    let sig: &[f32] = self.sigmoid.get(l - 1).map_or(&[], Vec::as_slice);
                    activation_backward(&mut d_src, &self.hidden[l - 1], net.activation, sig);
                }
                scratch::give(std::mem::replace(&mut d, d_src));
            }
        }
        if wants.input {
            self.input_grad = transpose(&d, net.input_dim(), n);
        }
        scratch::give(d);
    }
}

/// `src` (`rows × cols`, row-major) as `cols × rows` row-major: between a unit's row-major
/// inputs and outputs and its feature-major activations.
fn transpose(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    debug_assert_eq!(src.len(), rows * cols);
    let mut out = scratch::take(rows * cols);
    for (r, row) in src.chunks_exact(cols.max(1)).enumerate() {
        for (c, v) in row.iter().enumerate() {
            out[c * rows + r] = *v;
        }
    }
    out
}

/// Which of a layer's products a packed weight serves: `src · W` ...
const FORWARD: usize = 0;
/// ... or `d · Wᵀ`.
const BACKWARD: usize = 1;

/// A product with a layer's weight on the right (`src · W` forward, `d · Wᵀ` backward; `rhs`
/// is the weight, `(layer, member, FORWARD or BACKWARD)` says which), as a fresh feature-major
/// buffer. On AMX tiles the feature-major `m × n` result is computed as the row-major
/// `rhsᵀ · lhsᵀ`, with the weight's packed tiles made once per parameter version and shared by
/// every pass and row block until the parameters change.
fn weight_product(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand, net: &HostNet, which: (usize, usize, usize)) -> Vec<f32> {
    #[cfg(all(target_arch = "x86_64", feature = "amx"))]
    if net.matmul == Matmul::Bf16 && m > 0 && n > 1 && k > 0 && super::amx::use_tiles() {
        use super::amx;
        assert_in_bounds(m, n, k, lhs, rhs);
        let (layer, member, pass) = which;
        let weight = net.layers[layer].packed[member][pass].get_or_init(|| amx::pack_lhs(n, k, (rhs.0, rhs.2, rhs.1)));
        let mut dst = scratch::take(m * n);
        amx::product_with_packed_lhs(m, weight, (lhs.0, lhs.2, lhs.1), &mut dst);
        return dst;
    }
    let _ = which;
    product(m, n, k, lhs, rhs, Order::ColumnMajor, net.matmul)
}

/// Panics unless every index an `m × k` by `k × n` product reads lies in its operand.
fn assert_in_bounds(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand) {
    for ((data, rs, cs), rows, cols) in [(lhs, m, k), (rhs, k, n)] {
        assert!((rows - 1) * rs + (cols - 1) * cs < data.len(), "gemm operand out of bounds");
    }
}

/// `lhs · rhs` for an `m × k` by `k × n` product, as a fresh `m × n` buffer in `order`, with
/// the arithmetic `matmul` asks for. One-column products (scalar outputs, memory-bound) are
/// always f32.
fn product(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand, order: Order, matmul: Matmul) -> Vec<f32> {
    if m == 0 || n == 0 || k == 0 {
        return vec![0.0; m * n];
    }
    assert_in_bounds(m, n, k, lhs, rhs);
    if n == 1 {
        // One column is the same in either layout.
        return column_product(m, k, lhs, rhs);
    }
    match matmul {
        Matmul::F32 => f32_product(m, n, k, lhs, rhs, order),
        Matmul::Bf16 => tile_product(m, n, k, lhs, rhs, order).unwrap_or_else(|| {
            let (l, r) = (bf16::round_operand(lhs, m, k), bf16::round_operand(rhs, k, n));
            let out = f32_product(m, n, k, (&l, k, 1), (&r, n, 1), order);
            scratch::give_all([l, r]);
            out
        }),
    }
}

/// [`product`] in bf16 on AMX tiles, or `None` where there are none (this CPU, or a test asking
/// for the emulation).
#[cfg(all(target_arch = "x86_64", feature = "amx"))]
fn tile_product(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand, order: Order) -> Option<Vec<f32>> {
    use super::amx;
    if !amx::use_tiles() {
        return None;
    }
    let mut dst = scratch::take(m * n);
    amx::product(m, n, k, lhs, rhs, order, &mut dst);
    Some(dst)
}

/// No AMX tiles in this build (another target, or a build without the `amx` feature): bf16 is emulated.
#[cfg(not(all(target_arch = "x86_64", feature = "amx")))]
fn tile_product(_: usize, _: usize, _: usize, _: Operand, _: Operand, _: Order) -> Option<Vec<f32>> {
    None
}

/// [`product`] in f32 by the gemm crate (operands already bounds-checked, `n > 1`).
fn f32_product(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand, order: Order) -> Vec<f32> {
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
fn column_product(m: usize, k: usize, lhs: Operand, rhs: Operand) -> Vec<f32> {
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
fn dot(a: &[f32], b: &[f32]) -> f32 {
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
