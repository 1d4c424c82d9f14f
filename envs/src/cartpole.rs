//! Continuous cart-pole with MBRL-Lib `cartpole_continuous` semantics, on Rapier multibody
//! joints: the cart slides on a prismatic joint along x, the pole (a uniform rod) swings on a
//! revolute joint about y at the cart's centre.
//!
//! MBRL-Lib integrates with *explicit* Euler (positions move with the velocity from before the
//! step); Rapier's native integrator is semi-implicit Euler. By default the substep hook moves
//! the positions back onto the explicit-Euler update (`x ← x + τ·ẋ_before`), keeping Rapier's
//! velocities; [`CartpoleIntegrator::SemiImplicitEuler`] keeps Rapier's own update.
//!
//! The velocity update itself is Rapier's: exact at rest, but it treats the velocity-dependent
//! (Coriolis/centripetal) terms semi-implicitly, which differs from explicit Euler by
//! O(τ²·θ̇) per step. Over 200-step balancing episodes the observations stay within 1e-3 of
//! MBRL-Lib's; open loop, while the pole falls fast, the gap reaches ~2e-3 before termination
//! (`tests/physics_analytic.rs`).
//!
//! - **Action space**: a ∈ [−1, 1] (1 dim), force F = 10·a on the cart along x.
//! - **Observation space**: (x, ẋ, θ, θ̇), θ = 0 upright, positive leaning toward +x.
//! - **Reward**: 1 per step.
//! - **Starting state**: every coordinate ~ U(−0.05, 0.05).
//! - **Termination**: |x| > 2.4 or |θ| > 12°; truncated after 200 steps.
//! - **Physics**: τ 0.02, g 9.8, cart 1.0 kg, pole 0.1 kg, pole half-length 0.5.

use rapier3d::prelude::*;
use vagram_engine::Real;
use vagram_engine::env::joints;
use vagram_engine::env::{BoxSpace, EnvModel, EnvSpec, GeneralizedState, ResetDistribution};
use vagram_engine::physics::PhysicsSettings;

/// How positions are advanced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CartpoleIntegrator {
    /// MBRL-Lib's explicit Euler (default).
    #[default]
    Euler,
    /// Rapier's semi-implicit Euler.
    SemiImplicitEuler,
}

/// Physical parameters (MBRL-Lib's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CartpoleParams {
    /// Gravity (m/s²).
    pub g: Real,
    /// Cart mass (kg).
    pub cart_mass: Real,
    /// Pole mass (kg).
    pub pole_mass: Real,
    /// Half the pole length (m).
    pub half_length: Real,
    /// Force per unit action (N).
    pub force_mag: Real,
    /// Time step (s).
    pub tau: Real,
    /// Position update rule.
    pub integrator: CartpoleIntegrator,
}

impl Default for CartpoleParams {
    fn default() -> Self {
        Self { g: 9.8, cart_mass: 1.0, pole_mass: 0.1, half_length: 0.5, force_mag: 10.0, tau: 0.02, integrator: CartpoleIntegrator::Euler }
    }
}

/// Terminal cart position (m).
pub const X_THRESHOLD: Real = 2.4;
/// Terminal pole angle (rad): 12°.
pub const THETA_THRESHOLD: Real = 12.0 * 2.0 * std::f64::consts::PI / 360.0;

/// The continuous cart-pole env kind.
pub struct Cartpole {
    /// Physical parameters.
    pub params: CartpoleParams,
    spec: EnvSpec,
}

impl Default for Cartpole {
    fn default() -> Self {
        Self::new(CartpoleParams::default())
    }
}

impl Cartpole {
    /// A cart-pole with the given parameters.
    pub fn new(params: CartpoleParams) -> Self {
        let spec = EnvSpec {
            name: "cartpole",
            obs_dim: 4,
            action_space: BoxSpace::uniform(1, -1.0, 1.0),
            state_names: vec!["x", "theta"],
            reset: ResetDistribution::symmetric(GeneralizedState::zeros(2), 0.05, 0.05),
            max_episode_steps: 200,
            physics: PhysicsSettings { dt: params.tau, substeps: 1, gravity: [0.0, 0.0, -params.g], solver_iterations: 1 },
        };
        Self { params, spec }
    }
}

/// Handles of one cart-pole instance.
pub struct CartpoleBodies {
    /// The cart.
    pub cart: RigidBodyHandle,
    /// Prismatic joint (rail → cart).
    pub slider: MultibodyJointHandle,
    /// Revolute joint (cart → pole).
    pub hinge: MultibodyJointHandle,
}

impl EnvModel for Cartpole {
    type Bodies = CartpoleBodies;
    const HAS_SUBSTEP_HOOK: bool = true;

    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn build(&self, world: &mut PhysicsWorld, origin: Vector, groups: InteractionGroups) -> CartpoleBodies {
        let p = self.params;
        let rail = world.insert_body(RigidBodyBuilder::fixed().translation(origin));
        let cart = world.insert_body(
            RigidBodyBuilder::dynamic()
                .translation(origin)
                .additional_mass_properties(MassProperties::new(Vector::ZERO, p.cart_mass, Vector::splat(0.01)))
                .can_sleep(false),
        );
        world.insert_collider(ColliderBuilder::cuboid(0.25, 0.1, 0.15).density(0.0).collision_groups(groups), Some(cart));
        let l = p.half_length;
        let inertia = p.pole_mass * (2.0 * l) * (2.0 * l) / 12.0; // uniform rod about its centre
        let pole = world.insert_body(
            RigidBodyBuilder::dynamic()
                .translation(origin + Vector::new(0.0, 0.0, l))
                .additional_mass_properties(MassProperties::new(Vector::ZERO, p.pole_mass, Vector::splat(inertia)))
                .can_sleep(false),
        );
        world.insert_collider(ColliderBuilder::capsule_z(l - 0.03, 0.03).density(0.0).collision_groups(groups), Some(pole));
        let slider = world
            .insert_multibody_joint(rail, cart, PrismaticJointBuilder::new(Vector::X).contacts_enabled(false))
            .expect("rail and cart form a tree");
        let hinge = world
            .insert_multibody_joint(
                cart,
                pole,
                RevoluteJointBuilder::new(Vector::Y).local_anchor2(Vector::new(0.0, 0.0, -l)).contacts_enabled(false),
            )
            .expect("cart and pole form a tree");
        joints::set_damping(world, hinge, 0.0);
        CartpoleBodies { cart, slider, hinge }
    }

    fn write_state(&self, b: &CartpoleBodies, world: &mut PhysicsWorld, s: &GeneralizedState) {
        joints::set_dof(world, b.slider, 0, s.q[0], s.qd[0]);
        joints::set_dof(world, b.hinge, 0, s.q[1], s.qd[1]);
        joints::refresh(world, b.hinge);
    }

    fn read_state(&self, b: &CartpoleBodies, world: &PhysicsWorld, out: &mut GeneralizedState) {
        (out.q[0], out.qd[0]) = joints::dof(world, b.slider, 0);
        (out.q[1], out.qd[1]) = joints::dof(world, b.hinge, 0);
    }

    fn apply_action(&self, b: &CartpoleBodies, world: &mut PhysicsWorld, action: &[f32]) {
        let cart = &mut world.bodies[b.cart];
        cart.reset_forces(false);
        cart.add_force(Vector::new(self.params.force_mag * action[0] as Real, 0.0, 0.0), true);
    }

    fn observe(&self, s: &GeneralizedState, obs: &mut [f32]) {
        obs.copy_from_slice(&[s.q[0] as f32, s.qd[0] as f32, s.q[1] as f32, s.qd[1] as f32]);
    }

    fn reward(&self, _s: &GeneralizedState, _a: &[f32], _next: &GeneralizedState) -> f32 {
        1.0
    }

    fn is_terminal(&self, obs: &[f32]) -> bool {
        obs[0].abs() as Real > X_THRESHOLD || obs[2].abs() as Real > THETA_THRESHOLD
    }

    fn after_substep(&self, b: &CartpoleBodies, world: &mut PhysicsWorld, before: &GeneralizedState) {
        if self.params.integrator == CartpoleIntegrator::SemiImplicitEuler {
            return;
        }
        let tau = self.params.tau;
        let (_, xd) = joints::dof(world, b.slider, 0);
        let (_, thd) = joints::dof(world, b.hinge, 0);
        joints::set_dof(world, b.slider, 0, before.q[0] + tau * before.qd[0], xd);
        joints::set_dof(world, b.hinge, 0, before.q[1] + tau * before.qd[1], thd);
        joints::refresh(world, b.hinge);
    }
}
