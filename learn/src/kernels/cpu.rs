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
//!
//! This file schedules the units and gathers their results; a unit's passes are
//! [`super::cpu_unit`], the products they are made of [`super::products`].

use dfdx::prelude::*;
use rayon::prelude::*;

use super::cpu_unit::Unit;
use super::denormals::FlushDenormals;
use super::elementwise::dispatched;
use super::host_params::{HostNet, HostParams};
use super::{Passes, Wants, rows_of};
use crate::ensemble::EnsembleMlp;

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

dispatched! {
    /// Adds `src` to `dst` element by element (one unit's gradient into its member's sum).
    fn add => add_body(dst: &mut [f32], src: &[f32])
}

#[inline(always)]
fn add_body(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}
