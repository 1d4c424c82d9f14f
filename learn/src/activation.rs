//! Hidden-layer activations. dfdx 0.13 has no SiLU, so it is written as x·sigmoid(x).

use dfdx::prelude::*;

/// A hidden-layer nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// x·sigmoid(x) (MBPO's and the paper's default).
    #[default]
    Silu,
    /// max(x, 0).
    Relu,
}

crate::choice_names!(Activation, ["silu", "relu"]);

impl Activation {
    /// Applies the activation elementwise, keeping the tape.
    pub fn apply<S: Shape, D: Device<f32>, T: Tape<f32, D>>(self, x: Tensor<S, f32, D, T>) -> Tensor<S, f32, D, T> {
        match self {
            Activation::Relu => x.relu(),
            Activation::Silu => {
                // Both factors need the tape: split it, run sigmoid on a retaped copy, merge back.
                let (x, tape) = x.split_tape();
                let s = x.clone().put_tape(tape).sigmoid();
                let (s, tape) = s.split_tape();
                x.put_tape(tape) * s
            }
        }
    }
}
