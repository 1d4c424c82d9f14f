//! Pendulum swing-up with gym `Pendulum-v1` semantics, on a Rapier revolute multibody joint.
//!
//! A uniform rod of mass `m` and length `l` hangs from a fixed pivot; the angle θ is measured
//! from upright (θ = 0 up), about +y, so gravity gives θ̈ = 3g/(2l)·sin θ + 3u/(m l²), gym's
//! equation. Rapier integrates one semi-implicit Euler step per env step, as gym does; gym's
//! speed clip (|θ̇| ≤ 8, applied before the position update) is applied in the substep hook.
//!
//! - **Action space**: torque u ∈ [−2, 2] (1 dim), clipped.
//! - **Observation space**: (cos θ, sin θ, θ̇), θ̇ ∈ [−8, 8].
//! - **Reward**: −(θ_n² + 0.1·θ̇² + 0.001·u²), θ_n = θ normalised to [−π, π], on the state
//!   before the step.
//! - **Starting state**: θ ~ U(−π, π), θ̇ ~ U(−1, 1).
//! - **Termination**: never; truncated after 200 steps.
//! - **Physics**: dt 0.05, g 10, m 1, l 1; one Rapier step per env step.

use rapier3d::prelude::*;
use vagram_engine::Real;
use vagram_engine::env::joints;
use vagram_engine::env::{BoxSpace, EnvModel, EnvSpec, GeneralizedState, ResetDistribution};
use vagram_engine::physics::PhysicsSettings;

/// Physical parameters of the pendulum (gym's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PendulumParams {
    /// Gravity (m/s²).
    pub g: Real,
    /// Rod mass (kg).
    pub m: Real,
    /// Rod length (m).
    pub l: Real,
    /// Speed limit (rad/s).
    pub max_speed: Real,
    /// Torque limit (N m).
    pub max_torque: Real,
    /// Time step (s).
    pub dt: Real,
}

impl Default for PendulumParams {
    fn default() -> Self {
        Self { g: 10.0, m: 1.0, l: 1.0, max_speed: 8.0, max_torque: 2.0, dt: 0.05 }
    }
}

/// The pendulum env kind.
pub struct Pendulum {
    /// Physical parameters.
    pub params: PendulumParams,
    spec: EnvSpec,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new(PendulumParams::default())
    }
}

impl Pendulum {
    /// A pendulum with the given parameters.
    pub fn new(params: PendulumParams) -> Self {
        let spec = EnvSpec {
            name: "pendulum",
            obs_dim: 3,
            action_space: BoxSpace::uniform(1, -params.max_torque as f32, params.max_torque as f32),
            state_names: vec!["theta"],
            reset: ResetDistribution::symmetric(GeneralizedState::zeros(1), std::f64::consts::PI, 1.0),
            max_episode_steps: 200,
            physics: PhysicsSettings { dt: params.dt, substeps: 1, gravity: [0.0, 0.0, -params.g], solver_iterations: 1 },
        };
        Self { params, spec }
    }
}

/// Handles of one pendulum instance.
pub struct PendulumBodies {
    /// The rod.
    pub rod: RigidBodyHandle,
    /// The revolute joint (pivot → rod).
    pub joint: MultibodyJointHandle,
}

/// θ wrapped to [−π, π) (gym's `angle_normalize`).
pub fn angle_normalize(x: Real) -> Real {
    use std::f64::consts::PI;
    (x + PI).rem_euclid(2.0 * PI) - PI
}

impl EnvModel for Pendulum {
    type Bodies = PendulumBodies;
    const HAS_SUBSTEP_HOOK: bool = true;

    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn build(&self, world: &mut PhysicsWorld, origin: Vector, groups: InteractionGroups) -> PendulumBodies {
        let PendulumParams { m, l, .. } = self.params;
        let pivot = world.insert_body(RigidBodyBuilder::fixed().translation(origin));
        let inertia = m * l * l / 12.0; // uniform rod about its centre
        let rod = world.insert_body(
            RigidBodyBuilder::dynamic()
                .translation(origin + Vector::new(0.0, 0.0, l / 2.0))
                .additional_mass_properties(MassProperties::new(Vector::ZERO, m, Vector::splat(inertia)))
                .can_sleep(false),
        );
        let radius = 0.05;
        world.insert_collider(ColliderBuilder::capsule_z(l / 2.0 - radius, radius).density(0.0).collision_groups(groups), Some(rod));
        let hinge = RevoluteJointBuilder::new(Vector::Y).local_anchor2(Vector::new(0.0, 0.0, -l / 2.0)).contacts_enabled(false);
        let joint = world.insert_multibody_joint(pivot, rod, hinge).expect("pivot and rod form a tree");
        joints::set_damping(world, joint, 0.0);
        PendulumBodies { rod, joint }
    }

    fn write_state(&self, b: &PendulumBodies, world: &mut PhysicsWorld, state: &GeneralizedState) {
        joints::set_dof(world, b.joint, 0, state.q[0], state.qd[0]);
        joints::refresh(world, b.joint);
    }

    fn read_state(&self, b: &PendulumBodies, world: &PhysicsWorld, out: &mut GeneralizedState) {
        (out.q[0], out.qd[0]) = joints::dof(world, b.joint, 0);
    }

    fn apply_action(&self, b: &PendulumBodies, world: &mut PhysicsWorld, action: &[f32]) {
        let rod = &mut world.bodies[b.rod];
        rod.reset_torques(false);
        rod.add_torque(Vector::new(0.0, action[0] as Real, 0.0), true);
    }

    fn observe(&self, state: &GeneralizedState, obs: &mut [f32]) {
        let th = state.q[0];
        obs.copy_from_slice(&[th.cos() as f32, th.sin() as f32, state.qd[0] as f32]);
    }

    fn reward(&self, state: &GeneralizedState, action: &[f32], _next: &GeneralizedState) -> f32 {
        let th = angle_normalize(state.q[0]);
        let thdot = state.qd[0];
        let u = action[0] as Real;
        -(th * th + 0.1 * thdot * thdot + 0.001 * u * u) as f32
    }

    fn is_terminal(&self, _obs: &[f32]) -> bool {
        false
    }

    /// gym clips θ̇ before using it to move θ: redo the position update with the clipped speed.
    fn after_substep(&self, b: &PendulumBodies, world: &mut PhysicsWorld, before: &GeneralizedState) {
        let (_, thdot) = joints::dof(world, b.joint, 0);
        let max = self.params.max_speed;
        if thdot.abs() > max {
            let clipped = thdot.clamp(-max, max);
            joints::set_dof(world, b.joint, 0, before.q[0] + clipped * self.params.dt, clipped);
            joints::refresh(world, b.joint);
        }
    }
}
