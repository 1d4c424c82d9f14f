//! An ensemble of E MLPs evaluated as ONE batched computation per layer: activations
//! `[E, B, in]` times weights `[E, in, out]`, plus a per-member bias. With E = 1 it is a plain
//! MLP (SAC's actor); with E = 2 the twin critics; with zero hidden layers a linear model.

use std::any::Any;
use std::sync::{Arc, Mutex};

use dfdx::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

use super::activation::Activation;
use super::matmul::{Bf16Path, Matmul};

/// A runtime-shaped rank-3 tensor `[E, B, N]`.
pub type Tensor3<D, T = NoneTape> = Tensor<(usize, usize, usize), f32, D, T>;

/// One layer of an ensemble: per-member weights `[E, in, out]` and biases `[E, out]`.
#[derive(Debug, Clone)]
pub struct EnsembleLinear<D: Device<f32>> {
    /// Weights, `[members, in, out]`.
    pub weight: Tensor3<D>,
    /// Biases, `[members, out]`.
    pub bias: Tensor<(usize, usize), f32, D>,
}

impl<D: Device<f32>> EnsembleLinear<D> {
    /// Input and output widths.
    pub fn dims(&self) -> (usize, usize) {
        let (_, i, o) = *self.weight.shape();
        (i, o)
    }

    /// `x · W + b` for every member at once.
    pub fn forward<T: Tape<f32, D>>(&self, x: Tensor3<D, T>) -> Tensor3<D, T> {
        let y = x.matmul(self.weight.clone());
        let shape = *y.shape();
        y + self.bias.clone().broadcast_like::<_, Axis<1>>(&shape)
    }
}

/// An ensemble of MLPs with the same architecture.
#[derive(Debug, Clone)]
pub struct EnsembleMlp<D: Device<f32>> {
    /// Layers, input first; hidden layers are followed by `activation`. Private so that every
    /// change goes through [`Self::layers_mut`], which drops what was derived from them.
    layers: Vec<EnsembleLinear<D>>,
    /// Hidden-layer activation.
    pub activation: Activation,
    /// How the CPU fast path multiplies (f32 unless asked otherwise; the reference and CUDA
    /// paths always use f32).
    pub matmul: Matmul,
    /// Where bf16 products run (when [`Self::matmul`] is bf16): `None` (the default) for the
    /// process's path, [`Bf16Path::here`]; tests and benchmarks force one with
    /// [`Self::with_bf16_path`].
    pub bf16_path: Option<Bf16Path>,
    /// What a device path derived from the parameters (the CPU path: a host copy and packed
    /// bf16 weights), kept while the parameters stay the same.
    derived: Derived,
}

/// A device path's data derived from an ensemble's parameters, built on first use and dropped
/// by any mutable access to the layers. A clone starts empty (the clone's parameters may change
/// apart from the original's).
#[derive(Default)]
pub(crate) struct Derived(Mutex<Option<Arc<dyn Any + Send + Sync>>>);

impl Derived {
    /// The derived data of type `T`, made by `make` if there is none yet (or of another type).
    pub(crate) fn get_or_make<T: Any + Send + Sync>(&self, make: impl FnOnce() -> T) -> Arc<T> {
        let mut slot = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = slot.as_ref().and_then(|d| Arc::clone(d).downcast::<T>().ok()) {
            return found;
        }
        let made = Arc::new(make());
        *slot = Some(made.clone());
        made
    }

    /// The derived data of type `T`, taken out (none is kept afterwards).
    pub(crate) fn take<T: Any + Send + Sync>(&mut self) -> Option<Arc<T>> {
        let slot = self.0.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.take()?.downcast::<T>().ok()
    }

    /// Keeps `value`, which the caller made from the current parameters.
    pub(crate) fn put<T: Any + Send + Sync>(&mut self, value: T) {
        *self.0.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(value));
    }

    fn clear(&mut self) {
        *self.0.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

impl Clone for Derived {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived")
    }
}

impl<D: Device<f32>> EnsembleMlp<D> {
    /// A freshly initialised ensemble: `members` nets `input → hidden… → output`. Weights are
    /// drawn from N(0, 1/(2·sqrt(fan_in))) (MBRL-Lib's initialisation), biases are zero; the
    /// draw is seeded, so the same seed gives the same nets.
    pub fn new(dev: &D, members: usize, input: usize, hidden: &[usize], output: usize, activation: Activation, seed: u64) -> Self {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let widths: Vec<usize> = std::iter::once(input).chain(hidden.iter().copied()).chain([output]).collect();
        let layers = widths
            .windows(2)
            .map(|w| {
                let (i, o) = (w[0], w[1]);
                let std = 1.0 / (2.0 * (i as f32).sqrt());
                let normal = Normal::new(0.0f32, std).expect("finite std");
                let values: Vec<f32> = (0..members * i * o).map(|_| normal.sample(&mut rng)).collect();
                EnsembleLinear { weight: dev.tensor_from_vec(values, (members, i, o)), bias: dev.zeros_like(&(members, o)) }
            })
            .collect();
        Self { layers, activation, matmul: Matmul::F32, bf16_path: None, derived: Derived::default() }
    }

    /// The same nets, multiplied with `matmul` from now on.
    pub fn with_matmul(mut self, matmul: Matmul) -> Self {
        self.matmul = matmul;
        self.derived.clear();
        self
    }

    /// The same nets, with bf16 products (if [`Self::matmul`] asks for them) on `path` whatever
    /// [`Bf16Path::here`] says; a pass panics if this machine cannot run it.
    pub fn with_bf16_path(mut self, path: Bf16Path) -> Self {
        self.bf16_path = Some(path);
        self.derived.clear();
        self
    }

    /// The layers, input first.
    pub fn layers(&self) -> &[EnsembleLinear<D>] {
        &self.layers
    }

    /// The layers, to change their parameters (an optimiser step, Polyak averaging, loading a
    /// checkpoint). Drops what device paths derived from the old values.
    pub fn layers_mut(&mut self) -> &mut [EnsembleLinear<D>] {
        self.derived.clear();
        &mut self.layers
    }

    /// What device paths derived from the current parameters ([`Derived`]).
    pub(crate) fn derived(&self) -> &Derived {
        &self.derived
    }

    /// [`Self::derived`] to take out or put back; whoever puts data back vouches that it
    /// matches the current parameters (an optimiser that updated both together).
    pub(crate) fn derived_mut(&mut self) -> &mut Derived {
        &mut self.derived
    }

    /// Number of members.
    pub fn members(&self) -> usize {
        self.layers[0].weight.shape().0
    }

    /// Input width.
    pub fn input_dim(&self) -> usize {
        self.layers[0].dims().0
    }

    /// Output width.
    pub fn output_dim(&self) -> usize {
        self.layers.last().expect("at least one layer").dims().1
    }

    /// Member `m` applied to row `m` of `x` (`[E, B, in] → [E, B, out]`).
    pub fn forward<T: Tape<f32, D>>(&self, x: Tensor3<D, T>) -> Tensor3<D, T> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let y = layer.forward(h);
            if i < last { self.activation.apply(y) } else { y }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TestDevice;

    /// One member as a separate net, with plain 2-D matmuls, on the host.
    fn member_forward(net: &EnsembleMlp<TestDevice>, m: usize, x: &[f32], batch: usize) -> Vec<f32> {
        let mut h = x.to_vec();
        let last = net.layers.len() - 1;
        for (li, layer) in net.layers.iter().enumerate() {
            let (i, o) = layer.dims();
            let w = layer.weight.as_vec();
            let b = layer.bias.as_vec();
            let mut y = vec![0.0f32; batch * o];
            for r in 0..batch {
                for c in 0..o {
                    let mut acc = b[m * o + c];
                    for k in 0..i {
                        acc += h[r * i + k] * w[m * i * o + k * o + c];
                    }
                    y[r * o + c] = if li < last {
                        match net.activation {
                            Activation::Silu => acc / (1.0 + (-acc).exp()),
                            Activation::Relu => acc.max(0.0),
                        }
                    } else {
                        acc
                    };
                }
            }
            h = y;
        }
        h
    }

    #[test]
    fn batched_ensemble_equals_member_by_member() {
        let dev = TestDevice::seed_from_u64(0);
        for (hidden, act) in [(vec![16, 16], Activation::Silu), (vec![8], Activation::Relu), (vec![], Activation::Silu)] {
            let (e, b, i, o) = (5, 7, 6, 3);
            let net = EnsembleMlp::new(&dev, e, i, &hidden, o, act, 42);
            let x: Tensor3<TestDevice> = dev.sample_normal_like(&(e, b, i));
            let y = net.forward(x.clone()).as_vec();
            let xs = x.as_vec();
            for m in 0..e {
                let want = member_forward(&net, m, &xs[m * b * i..(m + 1) * b * i], b);
                for (got, want) in y[m * b * o..(m + 1) * b * o].iter().zip(&want) {
                    assert!((got - want).abs() < 1e-5, "member {m}, {hidden:?}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn surrogate_backprop_gives_the_loss_gradient() {
        // MSE through dfdx's own ops vs the surrogate with d_out = 2 (y − t) / n.
        let dev = TestDevice::seed_from_u64(0);
        let net = EnsembleMlp::new(&dev, 3, 4, &[8], 2, Activation::Silu, 1);
        let x: Tensor3<TestDevice> = dev.sample_normal_like(&(3, 5, 4));
        let t: Tensor3<TestDevice> = dev.sample_normal_like(&(3, 5, 2));
        let direct = {
            let y = net.forward(x.clone().traced(Gradients::leaky()));
            (y - t.clone()).square().mean::<Rank0, _>().backward()
        };
        let y = net.forward(x.clone()).as_vec();
        let d_out: Vec<f32> = y.iter().zip(t.as_vec()).map(|(y, t)| 2.0 * (y - t) / 30.0).collect();
        let surrogate = net.backprop_output_gradient(&x.as_vec(), &d_out);
        for layer in &net.layers {
            for (a, b) in direct.get(&layer.weight).as_vec().iter().zip(surrogate.get(&layer.weight).as_vec()) {
                assert!((a - b).abs() < 1e-6, "{a} vs {b}");
            }
            for (a, b) in direct.get(&layer.bias).as_vec().iter().zip(surrogate.get(&layer.bias).as_vec()) {
                assert!((a - b).abs() < 1e-6, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn adam_fits_a_linear_map() {
        use crate::{Adam, AdamConfig};
        let dev = TestDevice::seed_from_u64(0);
        let mut net = EnsembleMlp::new(&dev, 2, 3, &[], 2, Activation::Silu, 2);
        let mut adam = Adam::new(&net, AdamConfig { lr: 0.05, ..Default::default() });
        let x: Tensor3<TestDevice> = dev.sample_normal_like(&(2, 64, 3));
        let xs = x.as_vec();
        // Target: y = [x0 + 2 x1, -x2 + 0.5].
        let target: Vec<f32> = xs.chunks(3).flat_map(|r| [r[0] + 2.0 * r[1], -r[2] + 0.5]).collect();
        let mse = |net: &EnsembleMlp<TestDevice>| {
            let y = net.forward(x.clone()).as_vec();
            y.iter().zip(&target).map(|(a, b)| (a - b) * (a - b)).sum::<f32>() / y.len() as f32
        };
        let start = mse(&net);
        for _ in 0..400 {
            let y = net.forward(x.clone()).as_vec();
            let d: Vec<f32> = y.iter().zip(&target).map(|(a, b)| 2.0 * (a - b) / y.len() as f32).collect();
            let mut grads = net.backprop_output_gradient(&xs, &d);
            adam.step(&mut net, &mut grads);
        }
        let end = mse(&net);
        assert!(end < 1e-4 * start.max(1.0), "mse {start} → {end}");
    }

    #[test]
    fn same_seed_same_nets() {
        let dev = TestDevice::default();
        let a = EnsembleMlp::new(&dev, 3, 4, &[8], 2, Activation::Silu, 7);
        let b = EnsembleMlp::new(&dev, 3, 4, &[8], 2, Activation::Silu, 7);
        let c = EnsembleMlp::new(&dev, 3, 4, &[8], 2, Activation::Silu, 8);
        assert_eq!(a.layers[0].weight.as_vec(), b.layers[0].weight.as_vec());
        assert_ne!(a.layers[0].weight.as_vec(), c.layers[0].weight.as_vec());
    }
}
