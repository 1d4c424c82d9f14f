//! Static descriptions of an environment kind: spaces, state layout, reset distribution,
//! episode limit and physics settings.

use rand::RngExt;

use crate::Real;
use crate::error::{EngineError, Result};
use crate::physics::PhysicsSettings;

/// A box `[low, high]` in R^n (gym's `Box` space).
#[derive(Debug, Clone, PartialEq)]
pub struct BoxSpace {
    /// Lower bounds, one per dimension.
    pub low: Vec<f32>,
    /// Upper bounds, one per dimension.
    pub high: Vec<f32>,
}

impl BoxSpace {
    /// The box `[low, high]^dim`.
    pub fn uniform(dim: usize, low: f32, high: f32) -> Self {
        Self { low: vec![low; dim], high: vec![high; dim] }
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.low.len()
    }

    /// Clips `x` into the box in place (gym clips out-of-range actions).
    pub fn clip(&self, x: &mut [f32]) {
        for ((v, lo), hi) in x.iter_mut().zip(&self.low).zip(&self.high) {
            *v = v.clamp(*lo, *hi);
        }
    }

    /// Maps a point of the unit box `[-1, 1]^n` (where agents act) linearly onto this box.
    pub fn from_unit(&self, unit: &[f32]) -> Vec<f32> {
        unit.iter().zip(self.low.iter().zip(&self.high)).map(|(u, (lo, hi))| lo + (u + 1.0) * 0.5 * (hi - lo)).collect()
    }

    /// A uniform sample from the box.
    pub fn sample(&self, rng: &mut impl rand::Rng, out: &mut [f32]) {
        for ((v, lo), hi) in out.iter_mut().zip(&self.low).zip(&self.high) {
            *v = if lo < hi { rng.random_range(*lo..*hi) } else { *lo };
        }
    }
}

/// Generalized coordinates `q` and velocities `qd` of an env instance (MuJoCo's qpos/qvel).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeneralizedState {
    /// Positions (joint angles, slider positions, root coordinates).
    pub q: Vec<Real>,
    /// Velocities, one per position.
    pub qd: Vec<Real>,
}

impl GeneralizedState {
    /// A zero state with `n` coordinates.
    pub fn zeros(n: usize) -> Self {
        Self { q: vec![0.0; n], qd: vec![0.0; n] }
    }

    /// Whether every component is finite.
    pub fn is_finite(&self) -> bool {
        self.q.iter().chain(&self.qd).all(|v| v.is_finite())
    }

    /// Copies `other` into `self` without reallocating when sizes match.
    pub fn copy_from(&mut self, other: &GeneralizedState) {
        self.q.clone_from(&other.q);
        self.qd.clone_from(&other.qd);
    }
}

/// The reset distribution: `default + scale · U(low, high)` per coordinate, where `scale` is the
/// user's reset-noise factor (1 = the env's own distribution, 0 = always `default`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResetDistribution {
    /// The nominal initial state.
    pub default: GeneralizedState,
    /// Lower bound of the uniform noise added to `q` and `qd`.
    pub low: GeneralizedState,
    /// Upper bound of the uniform noise added to `q` and `qd`.
    pub high: GeneralizedState,
}

impl ResetDistribution {
    /// `default` plus U(-half_width, half_width) on every position and velocity.
    pub fn symmetric(default: GeneralizedState, q_half_width: Real, qd_half_width: Real) -> Self {
        let n = default.q.len();
        Self {
            low: GeneralizedState { q: vec![-q_half_width; n], qd: vec![-qd_half_width; n] },
            high: GeneralizedState { q: vec![q_half_width; n], qd: vec![qd_half_width; n] },
            default,
        }
    }

    /// Draws an initial state around `nominal` (the default or a user's `--init-state`).
    pub fn sample(&self, nominal: &GeneralizedState, scale: Real, rng: &mut impl rand::Rng, out: &mut GeneralizedState) {
        out.copy_from(nominal);
        let mut draw = |lo: Real, hi: Real| if lo < hi { rng.random_range(lo..hi) } else { lo };
        // The draws happen whatever the scale, so a different noise scale never shifts the
        // random streams of later resets.
        for (i, v) in out.q.iter_mut().enumerate() {
            *v += scale * draw(self.low.q[i], self.high.q[i]);
        }
        for (i, v) in out.qd.iter_mut().enumerate() {
            *v += scale * draw(self.low.qd[i], self.high.qd[i]);
        }
    }
}

/// Everything static about an environment kind.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    /// Registry name, e.g. `pendulum`.
    pub name: &'static str,
    /// Dimension of the env's own observation (distractors come on top).
    pub obs_dim: usize,
    /// Action box; actions are clipped into it.
    pub action_space: BoxSpace,
    /// Names of the generalized coordinates, in `q` order.
    pub state_names: Vec<&'static str>,
    /// Initial-state distribution.
    pub reset: ResetDistribution,
    /// Truncation limit (gym's `max_episode_steps`).
    pub max_episode_steps: u32,
    /// Rapier settings: time step, substeps per env step, gravity.
    pub physics: PhysicsSettings,
}

impl EnvSpec {
    /// Action dimension.
    pub fn action_dim(&self) -> usize {
        self.action_space.dim()
    }

    /// Number of generalized coordinates.
    pub fn nq(&self) -> usize {
        self.state_names.len()
    }

    /// Seconds of simulated time per environment step.
    pub fn env_dt(&self) -> Real {
        self.physics.dt * self.physics.substeps as Real
    }

    /// Parses a user-given initial state: `nq` positions, optionally followed by `nq`
    /// velocities (zero when omitted).
    pub fn parse_init_state(&self, values: &[Real]) -> Result<GeneralizedState> {
        let nq = self.nq();
        if values.len() != nq && values.len() != 2 * nq {
            return Err(EngineError::InitStateDim {
                kind: self.name.to_string(),
                got: values.len(),
                nq,
                names: self.state_names.join(", "),
            });
        }
        // Beyond ±1e6 no built-in env is physical, and squares in f32 rewards overflow to −inf.
        if let Some((index, value)) = values.iter().enumerate().find(|(_, v)| v.is_nan() || v.abs() > 1e6) {
            return Err(EngineError::NonFiniteInitState { kind: self.name.to_string(), index, value: *value });
        }
        let qd = if values.len() == 2 * nq { values[nq..].to_vec() } else { vec![0.0; nq] };
        Ok(GeneralizedState { q: values[..nq].to_vec(), qd })
    }
}
