//! The ensemble passes as dfdx's autodiff graph: correct on every device by construction, the
//! CUDA path, and the yardstick the CPU fast path is tested against.

use dfdx::prelude::*;

use super::{Passes, Wants, rows_of};
use crate::ensemble::{EnsembleMlp, Tensor3};

/// Outputs of every member on its rows of `x` (`[E, B, in]`).
pub fn infer<D: Device<f32>>(net: &EnsembleMlp<D>, x: &[f32]) -> Vec<f32> {
    net.forward(to_tensor(net, x)).as_vec()
}

/// Forward with a tape, `loss_gradient` on the host outputs, backward of the surrogate
/// `Σ outputs · d_out` (which has exactly those output gradients).
pub fn forward_backward<D: Device<f32>, Err>(
    net: &EnsembleMlp<D>,
    x: &[f32],
    wants: Wants,
    loss_gradient: impl FnOnce(&[f32]) -> Result<Vec<f32>, Err>,
) -> Result<Passes<D>, Err> {
    let x = to_tensor(net, x);
    let (y, tape) = net.forward(x.clone().traced(Gradients::leaky())).split_tape();
    let outputs = y.as_vec();
    let d_out = loss_gradient(&outputs)?;
    let shape = *y.shape();
    assert_eq!(d_out.len(), shape.num_elements(), "d_out must match the output shape {shape:?}");
    let upstream: Tensor3<D> = x.device().tensor_from_vec(d_out, shape);
    let grads = (y.put_tape(tape) * upstream).sum::<Rank0, _>().backward();
    let input = wants.input.then(|| grads.get(&x).as_vec());
    Ok(Passes { outputs, params: wants.params.then_some(grads), input })
}

/// `dst ← τ·src + (1 − τ)·dst` as tensor ops on the device (no copies through the host).
pub fn polyak<D: Device<f32>>(dst: &mut EnsembleMlp<D>, src: &EnsembleMlp<D>, tau: f32) {
    for (d, s) in dst.layers_mut().iter_mut().zip(src.layers()) {
        d.weight = s.weight.clone() * tau + d.weight.clone() * (1.0 - tau);
        d.bias = s.bias.clone() * tau + d.bias.clone() * (1.0 - tau);
    }
}

fn to_tensor<D: Device<f32>>(net: &EnsembleMlp<D>, x: &[f32]) -> Tensor3<D> {
    let rows = rows_of(net, x);
    net.layers()[0].weight.device().tensor_from_vec(x.to_vec(), (net.members(), rows, net.input_dim()))
}
