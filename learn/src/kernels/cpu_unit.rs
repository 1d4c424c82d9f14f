//! One unit of the CPU fast path ([`super::cpu`]): a member's block of rows, its forward pass
//! (feature-major activations, bias and activation fused) and its backward pass into the
//! parameter and input gradients asked for.

use std::ops::Range;

use super::bf16::Operand;
use super::elementwise::{activation_backward, add_feature_sums, bias_activation};
use super::host_params::HostNet;
use super::products::{BACKWARD, FORWARD, product, weight_product};
use super::{Order, Wants, scratch};
use crate::Activation;

/// One member's block of rows, with what its backward pass needs.
pub(super) struct Unit {
    pub(super) member: usize,
    pub(super) rows: Range<usize>,
    /// Hidden activations, one per hidden layer (`rows × width`, feature-major).
    pub(super) hidden: Vec<Vec<f32>>,
    /// σ(pre-activation) per hidden layer, for SiLU's derivative (feature-major).
    pub(super) sigmoid: Vec<Vec<f32>>,
    pub(super) output: Vec<f32>,
    pub(super) weight_grads: Vec<Vec<f32>>,
    pub(super) bias_grads: Vec<Vec<f32>>,
    pub(super) input_grad: Vec<f32>,
}

impl Drop for Unit {
    fn drop(&mut self) {
        let lists = [&mut self.hidden, &mut self.sigmoid, &mut self.weight_grads];
        scratch::give_all(lists.into_iter().flat_map(|list| list.drain(..)));
        scratch::give_all([std::mem::take(&mut self.output), std::mem::take(&mut self.input_grad)]);
    }
}

impl Unit {
    pub(super) fn new(member: usize, rows: Range<usize>) -> Self {
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
    pub(super) fn slice<'a>(&self, data: &'a [f32], total_rows: usize, width: usize) -> &'a [f32] {
        let start = (self.member * total_rows + self.rows.start) * width;
        &data[start..start + self.rows.len() * width]
    }

    pub(super) fn forward(&mut self, net: &HostNet, x: &[f32], total_rows: usize, keep: bool) {
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
    pub(super) fn backward(&mut self, net: &HostNet, x: &[f32], d: &[f32], total_rows: usize, wants: Wants) {
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
                self.weight_grads[l] = product(i, o, n, src_t, (&d, 1, n), Order::RowMajor, net.bf16);
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
pub(super) fn transpose(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    debug_assert_eq!(src.len(), rows * cols);
    let mut out = scratch::take(rows * cols);
    for (r, row) in src.chunks_exact(cols.max(1)).enumerate() {
        for (c, v) in row.iter().enumerate() {
            out[c * rows + r] = *v;
        }
    }
    out
}
