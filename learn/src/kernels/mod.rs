//! The two passes every learner needs from an ensemble MLP — outputs, and gradients for a loss
//! whose gradient with respect to those outputs is computed on the host — implemented per device.
//!
//! - [`reference`]: dfdx's autodiff graph (`matmul`, broadcast bias, activation ops, tape). It
//!   runs on any dfdx device; the CUDA build uses it, and tests compare the CPU path against it.
//! - [`cpu`]: the CPU fast path. Every member (and, for small ensembles, every block of rows) is
//!   an independent single-threaded gemm chain spread over rayon's threads, with bias and
//!   activation fused into one pass over each output and nothing recorded that the backward
//!   pass does not need. dfdx 0.13's own CPU matmul splits every small product across all
//!   threads and loops over members one after another, which made it slower on two threads
//!   than on one (BENCHMARKS.md).
//!
//! Learners (dynamics models, SAC, value gradients) call these through [`EnsembleMlp::infer`]
//! and [`EnsembleMlp::forward_backward`]; they never see which path ran.

mod bf16;
pub mod cpu;
mod cpu_unit;
mod cpu_update;
pub mod denormals;
mod elementwise;
pub(crate) use elementwise::soft_bounds;
mod host_params;
#[cfg(all(target_arch = "x86_64", feature = "bf16-kernels"))]
mod packed;
mod passes;
mod products;
pub mod reference;
mod scratch;

/// How a product's `m × n` result is laid out in its buffer (the CPU path's gemm calls and the
/// packed bf16 kernels both take it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Order {
    /// Row after row, `dst[i·n + j]` (a weight gradient, in dfdx's `[in, out]` layout).
    RowMajor,
    /// Column after column, `dst[j·m + i]`. For activations (`rows × features`) this is
    /// feature-major: the gemm kernel vectorises along the contiguous dimension, and the batch's
    /// 128 or 256 rows fill its 64-wide tiles where a 200-wide layer leaves an 8-wide remainder.
    ColumnMajor,
}

/// Whether bf16 products can run on `path` here: the emulation always can; the hardware paths
/// only on x86-64 CPUs that have them, in a build with the `bf16-kernels` feature.
pub(crate) fn bf16_supports(path: crate::Bf16Path) -> bool {
    #[cfg(all(target_arch = "x86_64", feature = "bf16-kernels"))]
    return packed::supports(path);
    #[cfg(not(all(target_arch = "x86_64", feature = "bf16-kernels")))]
    {
        path == crate::Bf16Path::Emulated
    }
}

use dfdx::prelude::*;

use super::adam::{Adam, KernelConfig, Moments};
use super::ensemble::EnsembleMlp;
use super::host::HostIo;

/// Which gradients a backward pass must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wants {
    /// Gradients of every weight and bias (for an optimiser step).
    pub params: bool,
    /// Gradients with respect to the inputs `[E, B, in]` (dV/ds, the actor's dQ/da).
    pub input: bool,
}

impl Wants {
    /// Parameter gradients only (a training step).
    pub const PARAMS: Self = Self { params: true, input: false };
    /// Input gradients only (dV/ds; the parameter gradients are skipped, not computed).
    pub const INPUT: Self = Self { params: false, input: true };
}

/// What a forward-backward pass returns.
pub struct Passes<D: Device<f32>> {
    /// Outputs `[E, B, out]`, row-major, on the host.
    pub outputs: Vec<f32>,
    /// Parameter gradients, when [`Wants::params`] was set.
    pub params: Option<Gradients<f32, D>>,
    /// Input gradients `[E, B, in]`, when [`Wants::input`] was set.
    pub input: Option<Vec<f32>>,
}

/// A dfdx device with an implementation of the ensemble passes.
pub trait MlpKernels: HostIo {
    /// Outputs `[E, B, out]` of every member on its own rows of `x` (`[E, B, in]`); no tape.
    fn infer(net: &EnsembleMlp<Self>, x: &[f32]) -> Vec<f32>;

    /// A forward pass on `x` (`[E, B, in]`); `loss_gradient` sees the outputs and returns
    /// ∂loss/∂outputs, which is then backpropagated into what `wants` asks for.
    fn forward_backward<Err>(
        net: &EnsembleMlp<Self>,
        x: &[f32],
        wants: Wants,
        loss_gradient: impl FnOnce(&[f32]) -> Result<Vec<f32>, Err>,
    ) -> Result<Passes<Self>, Err>;

    /// Outputs `[E, B, out]`, and the gradient of each row's summed outputs with respect to
    /// its own input row (`[E, B, in]`): dV/ds for a scalar-output net. Parameter gradients are
    /// not computed.
    fn input_gradient(net: &EnsembleMlp<Self>, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let passes = Self::forward_backward(net, x, Wants::INPUT, |y| Ok::<_, std::convert::Infallible>(vec![1.0; y.len()]));
        let Ok(passes) = passes;
        (passes.outputs, passes.input.expect("input gradients were asked for"))
    }

    /// Polyak averaging `dst ← τ·src + (1 − τ)·dst` of every parameter (target networks).
    fn polyak(dst: &mut EnsembleMlp<Self>, src: &EnsembleMlp<Self>, tau: f32);

    /// `adam.step(net, grads)` and, when `targets` is given, `target.polyak_from(source, τ)`:
    /// different nets, so a device may run them side by side. By default one after the other.
    fn step_beside_polyak(
        adam: &mut Adam<Self>,
        net: &mut EnsembleMlp<Self>,
        grads: &mut Gradients<f32, Self>,
        targets: Option<(&mut EnsembleMlp<Self>, &EnsembleMlp<Self>, f32)>,
    ) {
        adam.step(net, grads);
        if let Some((target, source, tau)) = targets {
            target.polyak_from(source, tau);
        }
    }

    /// Adam step `t` (counted from 1) of every parameter of `net` with dfdx's kernel;
    /// `moments` holds (first, second) moments per tensor, weight then bias, input layer first.
    /// A parameter without a gradient gets a zero one; the gradients may be moved out of
    /// `grads`. By default one tensor after another, on the calling thread.
    fn adam_step(
        config: &KernelConfig,
        t: i32,
        moments: &mut [Moments<Self>],
        net: &mut EnsembleMlp<Self>,
        grads: &mut Gradients<f32, Self>,
    ) {
        adam_step_in_order(config, t, moments, net, grads)
    }
}

impl MlpKernels for Cpu {
    fn infer(net: &EnsembleMlp<Self>, x: &[f32]) -> Vec<f32> {
        cpu::infer(net, x)
    }

    fn forward_backward<Err>(
        net: &EnsembleMlp<Self>,
        x: &[f32],
        wants: Wants,
        loss_gradient: impl FnOnce(&[f32]) -> Result<Vec<f32>, Err>,
    ) -> Result<Passes<Self>, Err> {
        cpu::forward_backward(net, x, wants, loss_gradient)
    }

    fn input_gradient(net: &EnsembleMlp<Self>, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
        cpu::input_gradient(net, x)
    }

    fn polyak(dst: &mut EnsembleMlp<Self>, src: &EnsembleMlp<Self>, tau: f32) {
        cpu_update::polyak(dst, src, tau)
    }

    fn adam_step(
        config: &KernelConfig,
        t: i32,
        moments: &mut [Moments<Self>],
        net: &mut EnsembleMlp<Self>,
        grads: &mut Gradients<f32, Self>,
    ) {
        cpu_update::adam_step(config, t, moments, net, grads)
    }

    /// Side by side on rayon's threads: both are bound by memory with most of their work in one
    /// large tensor each (SAC's actor and critics), so on two cores together they take the time
    /// of one. Each touches only its own net, so the results do not depend on the order.
    fn step_beside_polyak(
        adam: &mut Adam<Self>,
        net: &mut EnsembleMlp<Self>,
        grads: &mut Gradients<f32, Self>,
        targets: Option<(&mut EnsembleMlp<Self>, &EnsembleMlp<Self>, f32)>,
    ) {
        rayon::join(
            || adam.step(net, grads),
            || {
                if let Some((target, source, tau)) = targets {
                    target.polyak_from(source, tau);
                }
            },
        );
    }
}

#[cfg(feature = "cuda")]
impl MlpKernels for Cuda {
    fn infer(net: &EnsembleMlp<Self>, x: &[f32]) -> Vec<f32> {
        reference::infer(net, x)
    }

    fn forward_backward<Err>(
        net: &EnsembleMlp<Self>,
        x: &[f32],
        wants: Wants,
        loss_gradient: impl FnOnce(&[f32]) -> Result<Vec<f32>, Err>,
    ) -> Result<Passes<Self>, Err> {
        reference::forward_backward(net, x, wants, loss_gradient)
    }

    fn polyak(dst: &mut EnsembleMlp<Self>, src: &EnsembleMlp<Self>, tau: f32) {
        reference::polyak(dst, src, tau)
    }
}

/// [`MlpKernels::adam_step`] one tensor after another on the calling thread.
pub(crate) fn adam_step_in_order<D: Device<f32>>(
    config: &KernelConfig,
    t: i32,
    moments: &mut [Moments<D>],
    net: &mut EnsembleMlp<D>,
    grads: &mut Gradients<f32, D>,
) {
    assert_eq!(moments.len(), 2 * net.layers().len(), "one moment pair per tensor");
    for (layer, pair) in net.layers_mut().iter_mut().zip(moments.chunks_exact_mut(2)) {
        let [(mw, vw), (mb, vb)] = pair else { unreachable!("chunks of two") };
        let g = grads.get_or_alloc_mut(&layer.weight).expect("allocating a gradient");
        config.try_update(t, &mut layer.weight, mw, vw, g).expect("Adam update");
        let g = grads.get_or_alloc_mut(&layer.bias).expect("allocating a gradient");
        config.try_update(t, &mut layer.bias, mb, vb, g).expect("Adam update");
    }
}

/// Rows per member of `x` for `net`, checking that `x` is a whole `[E, B, in]` block.
pub(crate) fn rows_of<D: Device<f32>>(net: &EnsembleMlp<D>, x: &[f32]) -> usize {
    let per_row = net.members() * net.input_dim();
    assert!(
        x.len().is_multiple_of(per_row),
        "ensemble input of {} values is not [members {}, rows, inputs {}]",
        x.len(),
        net.members(),
        net.input_dim()
    );
    x.len() / per_row
}

#[cfg(test)]
mod tests;
