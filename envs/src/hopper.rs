//! Hopper, as gymnasium's MuJoCo `Hopper-v5` (SPEC §4), on Rapier multibody joints.
//!
//! A planar one-legged robot: torso, thigh, leg and foot capsules (sizes from `hopper.xml`,
//! masses from the capsule volumes at density 1000: 3.665, 4.058, 2.781, 5.316 kg). The root is
//! a generic multibody joint from a fixed anchor with only x, z translation and rotation about y
//! free; the thigh, leg and foot hinges turn about −y with MuJoCo's ranges as joint limits.
//!
//! Why reduced coordinates (multibody) rather than impulse joints: MuJoCo integrates in joint
//! space, so joint limits, per-dof damping and armature act on exactly the coordinates it uses.
//! Rapier's multibodies have both as MuJoCo has them — damping 1 is integrated implicitly
//! (`damping·dt` on the diagonal) and the armature of 1 is added to the diagonal of the joint-space
//! mass matrix (reflected rotor inertia, MuJoCo's definition) — and the chain cannot drift apart,
//! which impulse joints solved iteratively do under 200 N m torques. The cost is speed
//! (BENCHMARKS.md).
//!
//! - **Action space**: 3 motor controls in [−1, 1] (clipped), torque = 200 · ctrl on each hinge.
//! - **Observation (11)**: z, torso angle, thigh, leg, foot angles, then ẋ, ż, torso angular
//!   velocity and the 3 joint velocities, each velocity clipped to ±10.
//! - **Reward**: (x_after − x_before)/dt + 1 if healthy after the step − 0.001‖ctrl‖².
//! - **Termination**: unhealthy: z ≤ 0.7, |torso angle| ≥ 0.2, or any |angle| or |velocity| ≥ 100.
//!   Truncated after 1000 steps.
//! - **Reset**: qpos = (0, 1.25, 0, 0, 0, 0), qvel = 0, each + U(−0.005, 0.005); the foot starts
//!   4 cm above the floor.
//! - **Physics**: dt 0.002, 4 steps per env step (env dt 0.008), gravity 9.81; friction combines
//!   by max as in MuJoCo (foot–floor 2.0, other parts–floor 1.0).
//!
//! Differences from MuJoCo that remain: MuJoCo integrates with RK4 and soft contacts (solref
//! 0.02, solimp 0.8/0.8/0.01); Rapier steps semi-implicit Euler with its own contact solver.
//! RESULTS.md compares trajectories.

use rapier3d::prelude::*;
use vagram_engine::Real;
use vagram_engine::env::joints;
use vagram_engine::env::{BoxSpace, EnvModel, EnvSpec, GeneralizedState, ResetDistribution};
use vagram_engine::physics::PhysicsSettings;

/// Motor gear: torque per unit of control.
pub const GEAR: Real = 200.0;
/// Physics time step.
pub const DT: Real = 0.002;
/// Physics steps per env step.
pub const FRAME_SKIP: u32 = 4;
/// Velocities in the observation are clipped to ±this.
pub const VELOCITY_CLIP: f32 = 10.0;
/// Initial torso height (qpos[1]).
pub const INIT_Z: Real = 1.25;

const DENSITY: Real = 1000.0;

/// Natural frequency of the joint-limit constraints. MuJoCo's limits are soft
/// (solref 0.02, solimp 0.8): the reset noise often starts the thigh or leg slightly beyond its
/// range (both end at 0), and MuJoCo eases it back. Rapier's default limit is rigid and corrects
/// such a violation within one 2 ms step, a velocity kick that topples the zero-action hopper
/// early. Too soft (≤ 20 Hz), and 160 N m pushes the thigh through its limit under the
/// sinusoidal test action. 20 Hz with damping ratio 2 came out of a sweep (RESULTS.md) as the
/// setting that keeps both behaviours closest to MuJoCo's.
pub const LIMIT_FREQUENCY_HZ: Real = 20.0;
/// Damping ratio of the joint-limit constraints (see [`LIMIT_FREQUENCY_HZ`]).
pub const LIMIT_DAMPING_RATIO: Real = 2.0;

fn limit_softness() -> SpringCoefficients<Real> {
    SpringCoefficients { natural_frequency: LIMIT_FREQUENCY_HZ, damping_ratio: LIMIT_DAMPING_RATIO }
}

const HINGE_DAMPING: Real = 1.0;
const HINGE_ARMATURE: Real = 1.0;

/// The hopper env kind.
pub struct Hopper {
    spec: EnvSpec,
}

impl Default for Hopper {
    fn default() -> Self {
        let mut default = GeneralizedState::zeros(6);
        default.q[1] = INIT_Z;
        let spec = EnvSpec {
            name: "hopper",
            obs_dim: 11,
            action_space: BoxSpace::uniform(3, -1.0, 1.0),
            state_names: vec!["x", "z", "torso", "thigh", "leg", "foot"],
            reset: ResetDistribution::symmetric(default, 0.005, 0.005),
            max_episode_steps: 1000,
            // One solver iteration per 2 ms step: at this step size more iterations (Rapier's
            // internal substeps) changed none of the tested behaviours and cost 1.6–2.6× the time.
            physics: PhysicsSettings { dt: DT, substeps: FRAME_SKIP, gravity: [0.0, 0.0, -9.81], solver_iterations: 1 },
        };
        Self { spec }
    }
}

/// Handles of one hopper instance.
pub struct HopperBodies {
    /// Torso, thigh, leg, foot.
    pub links: [RigidBodyHandle; 4],
    /// Root joint (anchor → torso: x, z, rotation about y).
    pub root: MultibodyJointHandle,
    /// Thigh, leg and foot hinges.
    pub hinges: [MultibodyJointHandle; 3],
}

/// Whether the (next) state is healthy (gymnasium's `is_healthy` on the observation).
pub fn is_healthy(obs: &[f32]) -> bool {
    obs[0] > 0.7 && obs[1].abs() < 0.2 && obs[1..11].iter().all(|v| v.abs() < 100.0)
}

fn capsule_along_z(half: Real, radius: Real, centre_z: Real, friction: Real, groups: InteractionGroups) -> ColliderBuilder {
    ColliderBuilder::capsule_z(half, radius)
        .translation(Vector::new(0.0, 0.0, centre_z))
        .density(DENSITY)
        .friction(friction)
        .friction_combine_rule(CoefficientCombineRule::Max)
        .collision_groups(groups)
}

impl EnvModel for Hopper {
    type Bodies = HopperBodies;
    const REBUILD_ON_RESET: bool = true;

    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn build(&self, world: &mut PhysicsWorld, origin: Vector, groups: InteractionGroups) -> HopperBodies {
        // The floor: a slab under this slot only (slots are 4 m apart along y).
        let floor = world.insert_body(RigidBodyBuilder::fixed().translation(origin + Vector::new(0.0, 0.0, -0.5)));
        let floor_groups = InteractionGroups::new(Group::GROUP_32, groups.memberships, InteractionTestMode::And);
        world.insert_collider(
            ColliderBuilder::cuboid(5000.0, 1.0, 0.5)
                .friction(1.0)
                .friction_combine_rule(CoefficientCombineRule::Max)
                .collision_groups(floor_groups),
            Some(floor),
        );
        let anchor = world.insert_body(RigidBodyBuilder::fixed().translation(origin));
        let body = |z: Real| RigidBodyBuilder::dynamic().translation(origin + Vector::new(0.0, 0.0, z)).can_sleep(false);
        // Body origins sit at the joints (torso: its centre, where the root rotates).
        let torso = world.insert_body(body(INIT_Z));
        world.insert_collider(capsule_along_z(0.2, 0.05, 0.0, 0.9, groups), Some(torso));
        let thigh = world.insert_body(body(1.05));
        world.insert_collider(capsule_along_z(0.225, 0.05, -0.225, 0.9, groups), Some(thigh));
        let leg = world.insert_body(body(0.60));
        world.insert_collider(capsule_along_z(0.25, 0.04, -0.25, 0.9, groups), Some(leg));
        let foot = world.insert_body(body(0.10));
        world.insert_collider(
            ColliderBuilder::capsule_x(0.195, 0.06)
                .translation(Vector::new(0.065, 0.0, 0.0))
                .density(DENSITY)
                .friction(2.0)
                .friction_combine_rule(CoefficientCombineRule::Max)
                .collision_groups(groups),
            Some(foot),
        );

        let root_joint = GenericJointBuilder::new(JointAxesMask::LIN_Y | JointAxesMask::ANG_X | JointAxesMask::ANG_Z)
            .local_anchor1(Vector::ZERO)
            .local_anchor2(Vector::ZERO)
            .contacts_enabled(false);
        let root = world.insert_multibody_joint(anchor, torso, root_joint).expect("anchor → torso is a tree");
        let hinge = |anchor1: Vector, low_deg: Real, high_deg: Real| {
            RevoluteJointBuilder::new(-Vector::Y)
                .local_anchor1(anchor1)
                .local_anchor2(Vector::ZERO)
                .limits([low_deg.to_radians(), high_deg.to_radians()])
                .softness(limit_softness())
                .contacts_enabled(false)
        };
        let h_thigh = world.insert_multibody_joint(torso, thigh, hinge(Vector::new(0.0, 0.0, -0.2), -150.0, 0.0)).expect("tree");
        let h_leg = world.insert_multibody_joint(thigh, leg, hinge(Vector::new(0.0, 0.0, -0.45), -150.0, 0.0)).expect("tree");
        let h_foot = world.insert_multibody_joint(leg, foot, hinge(Vector::new(0.0, 0.0, -0.5), -45.0, 45.0)).expect("tree");
        let hinges = [h_thigh, h_leg, h_foot];
        joints::set_damping(world, root, 0.0);
        for h in hinges {
            joints::set_dof_damping_armature(world, h, HINGE_DAMPING, HINGE_ARMATURE);
        }
        HopperBodies { links: [torso, thigh, leg, foot], root, hinges }
    }

    fn write_state(&self, b: &HopperBodies, world: &mut PhysicsWorld, s: &GeneralizedState) {
        for k in 0..3 {
            joints::set_dof(world, b.root, k, s.q[k], s.qd[k]);
            joints::set_dof(world, b.hinges[k], 0, s.q[3 + k], s.qd[3 + k]);
        }
        joints::refresh(world, b.root);
    }

    fn read_state(&self, b: &HopperBodies, world: &PhysicsWorld, out: &mut GeneralizedState) {
        for k in 0..3 {
            (out.q[k], out.qd[k]) = joints::dof(world, b.root, k);
            (out.q[3 + k], out.qd[3 + k]) = joints::dof(world, b.hinges[k], 0);
        }
    }

    fn apply_action(&self, b: &HopperBodies, world: &mut PhysicsWorld, action: &[f32]) {
        for link in b.links {
            world.bodies[link].reset_torques(false);
        }
        // A hinge torque is a pair: on the child about the hinge axis (−y), and its reaction on
        // the parent; in the plane the axis stays −y in world coordinates.
        for (i, a) in action.iter().enumerate() {
            let torque = GEAR * (*a as Real).clamp(-1.0, 1.0);
            world.bodies[b.links[i + 1]].add_torque(Vector::new(0.0, -torque, 0.0), true);
            world.bodies[b.links[i]].add_torque(Vector::new(0.0, torque, 0.0), true);
        }
    }

    fn observe(&self, s: &GeneralizedState, obs: &mut [f32]) {
        for (o, q) in obs[..5].iter_mut().zip(&s.q[1..6]) {
            *o = *q as f32;
        }
        for (o, qd) in obs[5..11].iter_mut().zip(&s.qd[..6]) {
            *o = (*qd as f32).clamp(-VELOCITY_CLIP, VELOCITY_CLIP);
        }
    }

    fn reward(&self, state: &GeneralizedState, action: &[f32], next: &GeneralizedState) -> f32 {
        let forward = (next.q[0] - state.q[0]) / (DT * FRAME_SKIP as Real);
        let mut obs = [0.0f32; 11];
        self.observe(next, &mut obs);
        let unclipped_ok = next.qd.iter().all(|v| v.abs() < 100.0);
        let healthy = (is_healthy(&obs) && unclipped_ok) as u8 as Real;
        let ctrl: Real = action.iter().map(|a| (*a as Real).powi(2)).sum();
        (forward + healthy - 0.001 * ctrl) as f32
    }

    fn is_terminal(&self, obs: &[f32]) -> bool {
        !is_healthy(obs)
    }

    /// The authors' `termination_fns.hopper` bounds every `obs[1:]`, distracting dimensions
    /// included (their check `next_obs[:, 1:] < 100` is one-sided; as gymnasium's, this one
    /// bounds the magnitude).
    fn is_terminal_in_rollout(&self, obs: &[f32]) -> bool {
        // A NaN distractor ends it too (the hopper's own NaNs fail `is_healthy`).
        !is_healthy(obs) || obs.iter().skip(self.spec().obs_dim).any(|v| v.is_nan() || v.abs() >= 100.0)
    }
}
