//! Distracting dimensions (SPEC §4, paper App. E): extra observation dimensions with their own
//! nonlinear, discontinuous dynamics, independent of the action and of the reward.
//!
//! Two variants:
//! - [`DistractorVariant::Paper`] (eq. 18): `x' = x + sin(A x)`, and `x' = x0` instead when
//!   `|x + sin(A x)| ≥ 20`. The paper does not say which norm `|·|` is; we read it as the largest
//!   component (every component must stay inside ±20), the reading closest to the reference
//!   code's per-component bound. `A_ij ~ N(0, 10)` (standard deviation 10), `x0_i ~ N(0, 0.1)`.
//!   At reset, `x = x0`.
//! - [`DistractorVariant::Reference`] (the authors' `distractor_dimensions.py`): `x ← W x`, then
//!   `x ← x + 0.1 sin(P x)`, then `x_i ← c_i` wherever `|x_i| > 20`; `W ~ N(0,1)`,
//!   `P = N(0, 10)²` elementwise, `c ~ N(0,1)`. At reset `x ~ N(0, 0.1)` and one transition is
//!   applied before the first observation.
//!
//! The parameters are drawn once per env instance from its distractor stream and never
//! resampled at reset.

use bevy_ecs::prelude::*;
use rand_distr::{Distribution, Normal};

use crate::error::{EngineError, Result};
use crate::rng::ChaCha8Rng;

/// Bound beyond which distractor states jump back.
pub const BOUND: f32 = 20.0;

/// Which distractor dynamics to use (`paper` or `reference` in configs and flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistractorVariant {
    /// Paper eq. 18 (default).
    #[default]
    Paper,
    /// The authors' reference code.
    Reference,
}

impl std::str::FromStr for DistractorVariant {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "paper" => Ok(Self::Paper),
            "reference" => Ok(Self::Reference),
            other => Err(EngineError::InvalidValue {
                what: "distractor variant".into(),
                value: other.into(),
                reason: "expected 'paper' or 'reference'".into(),
            }),
        }
    }
}

/// How many distractor dimensions, of which variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistractorConfig {
    /// Number of extra dimensions (the paper uses 5, 10, 15, 20).
    pub dims: usize,
    /// Dynamics variant.
    pub variant: DistractorVariant,
}

/// The fixed parameters of one instance's distractors.
#[derive(Debug, Clone, PartialEq)]
pub enum DistractorParams {
    /// Paper eq. 18.
    Paper {
        /// Row-major `k×k` matrix A.
        a: Vec<f32>,
        /// Initial and reset state x0.
        x0: Vec<f32>,
    },
    /// The authors' code.
    Reference {
        /// Row-major `k×k` linear map W.
        w: Vec<f32>,
        /// Row-major `k×k` frequency matrix P (all entries ≥ 0).
        p: Vec<f32>,
        /// Per-component reset values c.
        c: Vec<f32>,
    },
}

fn normal(rng: &mut ChaCha8Rng, std: f32, n: usize) -> Vec<f32> {
    let d = Normal::new(0.0f32, std).expect("finite std");
    (0..n).map(|_| d.sample(rng)).collect()
}

/// `out = M x` for a row-major `k×k` matrix.
fn matvec(m: &[f32], x: &[f32], out: &mut [f32]) {
    let k = x.len();
    for (i, o) in out.iter_mut().enumerate() {
        *o = m[i * k..(i + 1) * k].iter().zip(x).map(|(a, b)| a * b).sum();
    }
}

impl DistractorParams {
    /// Draws the parameters of `config` from `rng`.
    pub fn sample(config: DistractorConfig, rng: &mut ChaCha8Rng) -> Self {
        let k = config.dims;
        match config.variant {
            DistractorVariant::Paper => Self::Paper { a: normal(rng, 10.0, k * k), x0: normal(rng, 0.1, k) },
            DistractorVariant::Reference => Self::Reference {
                w: normal(rng, 1.0, k * k),
                p: normal(rng, 10.0, k * k).into_iter().map(|v| v * v).collect(),
                c: normal(rng, 1.0, k),
            },
        }
    }

    /// Number of dimensions.
    pub fn dims(&self) -> usize {
        match self {
            Self::Paper { x0, .. } => x0.len(),
            Self::Reference { c, .. } => c.len(),
        }
    }

    /// Advances `x` by one transition (`scratch` must have the same length).
    pub fn step(&self, x: &mut [f32], scratch: &mut [f32]) {
        match self {
            Self::Paper { a, x0 } => {
                matvec(a, x, scratch);
                let mut inside = true;
                for (s, xi) in scratch.iter_mut().zip(x.iter()) {
                    *s = xi + s.sin();
                    inside &= s.abs() < BOUND;
                }
                x.copy_from_slice(if inside { scratch } else { x0 });
            }
            Self::Reference { w, p, c } => {
                matvec(w, x, scratch);
                matvec(p, scratch, x);
                for (i, xi) in x.iter_mut().enumerate() {
                    let v = scratch[i] + 0.1 * xi.sin();
                    *xi = if v.abs() > BOUND { c[i] } else { v };
                }
            }
        }
    }

    /// The state at the start of an episode.
    pub fn reset(&self, rng: &mut ChaCha8Rng, x: &mut [f32], scratch: &mut [f32]) {
        match self {
            Self::Paper { x0, .. } => x.copy_from_slice(x0),
            Self::Reference { .. } => {
                x.copy_from_slice(&normal(rng, 0.1, x.len()));
                self.step(x, scratch);
            }
        }
    }
}

/// The distractor component of an env entity: parameters, state, and where in the observation
/// the extra dimensions start.
#[derive(Component, Debug, Clone)]
pub struct Distractors {
    /// Fixed parameters.
    pub params: DistractorParams,
    /// Current state.
    pub state: Vec<f32>,
    /// Scratch space for a transition.
    pub scratch: Vec<f32>,
    /// Offset of the first distractor dimension in the observation.
    pub offset: usize,
}

impl Distractors {
    /// Draws parameters for `config` and puts the state at its episode start.
    pub fn new(config: DistractorConfig, offset: usize, rng: &mut ChaCha8Rng) -> Self {
        let params = DistractorParams::sample(config, rng);
        let mut d = Self { state: vec![0.0; config.dims], scratch: vec![0.0; config.dims], params, offset };
        d.reset(rng);
        d
    }

    /// Restarts the state (parameters unchanged).
    pub fn reset(&mut self, rng: &mut ChaCha8Rng) {
        self.params.reset(rng, &mut self.state, &mut self.scratch);
    }

    /// One transition.
    pub fn step(&mut self) {
        self.params.step(&mut self.state, &mut self.scratch);
    }

    /// Copies the state into its place in `obs`.
    pub fn write(&self, obs: &mut [f32]) {
        obs[self.offset..self.offset + self.state.len()].copy_from_slice(&self.state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{StreamPurpose, stream};

    fn rng() -> ChaCha8Rng {
        stream(3, 0, StreamPurpose::Distractors)
    }

    #[test]
    fn paper_step_follows_eq_18() {
        let cfg = DistractorConfig { dims: 4, variant: DistractorVariant::Paper };
        let mut d = Distractors::new(cfg, 0, &mut rng());
        let DistractorParams::Paper { a, x0 } = d.params.clone() else { unreachable!() };
        assert_eq!(d.state, x0, "episode starts at x0");
        for _ in 0..200 {
            let x = d.state.clone();
            let mut expect: Vec<f32> = (0..4).map(|i| x[i] + (0..4).map(|j| a[i * 4 + j] * x[j]).sum::<f32>().sin()).collect();
            if expect.iter().any(|v| v.abs() >= BOUND) {
                expect = x0.clone();
            }
            d.step();
            for (got, want) in d.state.iter().zip(&expect) {
                assert!((got - want).abs() < 1e-5, "{got} vs {want}");
            }
            assert!(d.state.iter().all(|v| v.abs() < BOUND));
        }
    }

    #[test]
    fn reference_step_follows_the_authors_code() {
        let cfg = DistractorConfig { dims: 3, variant: DistractorVariant::Reference };
        let mut d = Distractors::new(cfg, 0, &mut rng());
        let DistractorParams::Reference { w, p, c } = d.params.clone() else { unreachable!() };
        assert!(p.iter().all(|v| *v >= 0.0), "P is a square, all entries non-negative");
        for _ in 0..300 {
            let x = d.state.clone();
            let wx: Vec<f32> = (0..3).map(|i| (0..3).map(|j| w[i * 3 + j] * x[j]).sum()).collect();
            let expect: Vec<f32> = (0..3)
                .map(|i| {
                    let v = wx[i] + 0.1 * (0..3).map(|j| p[i * 3 + j] * wx[j]).sum::<f32>().sin();
                    if v.abs() > BOUND { c[i] } else { v }
                })
                .collect();
            d.step();
            for (got, want) in d.state.iter().zip(&expect) {
                assert!((got - want).abs() <= 1e-4 * want.abs().max(1.0), "{got} vs {want}");
            }
        }
        assert!(d.state.iter().all(|v| v.abs() <= BOUND));
    }

    #[test]
    fn parameters_are_drawn_from_the_seed() {
        let cfg = DistractorConfig { dims: 5, variant: DistractorVariant::Paper };
        let a = DistractorParams::sample(cfg, &mut stream(1, 0, StreamPurpose::Distractors));
        let b = DistractorParams::sample(cfg, &mut stream(1, 0, StreamPurpose::Distractors));
        let c = DistractorParams::sample(cfg, &mut stream(1, 1, StreamPurpose::Distractors));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
