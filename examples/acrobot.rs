//! A user-authored environment: an acrobot (gym's Acrobot-v1 geometry with a continuous torque),
//! written outside the workspace with only the public authoring API, then simulated.
//!
//! Run: `cargo run --release --example acrobot` (simulates eight acrobots with random torques,
//! then trains MBPO with VaGraM on one for a few epochs through the library: the acrobot
//! registered beside the built-in envs, a run config, `SeedApp::build`).
//!
//! - **Action space**: torque τ ∈ [−1, 1] at the elbow.
//! - **Observation space**: (cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2), θ = 0 hanging down.
//! - **Reward**: −1 per step until the tip rises above the bar.
//! - **Starting state**: every coordinate ~ U(−0.1, 0.1).
//! - **Termination**: tip height −cos θ1 − cos(θ1 + θ2) > 1; truncated after 500 steps.
//! - **Physics**: two 1 kg, 1 m links, g 9.8, env step 0.2 s (4 Rapier steps of 0.05 s).
#![allow(dead_code)]

use std::sync::Arc;

use vagram::engine::env::ResetDistribution;
use vagram::engine::env::joints;
use vagram::engine::rapier3d::prelude::*;
use vagram::prelude::*;

/// The acrobot env kind.
pub struct Acrobot {
    spec: EnvSpec,
}

/// Handles of one acrobot instance.
pub struct AcrobotBodies {
    upper: RigidBodyHandle,
    lower: RigidBodyHandle,
    shoulder: MultibodyJointHandle,
    elbow: MultibodyJointHandle,
}

impl Default for Acrobot {
    fn default() -> Self {
        let physics = PhysicsSettings { dt: 0.05, substeps: 4, gravity: [0.0, 0.0, -9.8], solver_iterations: 1 };
        let spec = EnvSpec {
            name: "acrobot",
            obs_dim: 6,
            action_space: BoxSpace::uniform(1, -1.0, 1.0),
            state_names: vec!["theta1", "theta2"],
            reset: ResetDistribution::symmetric(GeneralizedState::zeros(2), 0.1, 0.1),
            max_episode_steps: 500,
            physics,
        };
        Self { spec }
    }
}

/// A 1 kg, 1 m link hanging from `top`, with a capsule for drawing.
fn link(world: &mut PhysicsWorld, top: Vector, groups: InteractionGroups) -> RigidBodyHandle {
    let mass = MassProperties::new(Vector::ZERO, 1.0, Vector::splat(1.0 / 12.0));
    let body = RigidBodyBuilder::dynamic().translation(top - Vector::Z * 0.5).additional_mass_properties(mass);
    let handle = world.insert_body(body.can_sleep(false));
    world.insert_collider(ColliderBuilder::capsule_z(0.45, 0.05).density(0.0).collision_groups(groups), Some(handle));
    handle
}

impl EnvModel for Acrobot {
    type Bodies = AcrobotBodies;

    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn build(&self, world: &mut PhysicsWorld, origin: Vector, groups: InteractionGroups) -> AcrobotBodies {
        let bar = world.insert_body(RigidBodyBuilder::fixed().translation(origin));
        let upper = link(world, origin, groups);
        let lower = link(world, origin - Vector::Z, groups);
        let hinge = |anchor: f64| {
            RevoluteJointBuilder::new(Vector::Y).local_anchor1(Vector::Z * anchor).local_anchor2(Vector::Z * 0.5).contacts_enabled(false)
        };
        let shoulder = world.insert_multibody_joint(bar, upper, hinge(0.0)).expect("tree");
        let elbow = world.insert_multibody_joint(upper, lower, hinge(-0.5)).expect("tree");
        joints::set_damping(world, shoulder, 0.0);
        AcrobotBodies { upper, lower, shoulder, elbow }
    }

    fn write_state(&self, b: &AcrobotBodies, world: &mut PhysicsWorld, s: &GeneralizedState) {
        joints::set_dof(world, b.shoulder, 0, s.q[0], s.qd[0]);
        joints::set_dof(world, b.elbow, 0, s.q[1], s.qd[1]);
        joints::refresh(world, b.elbow);
    }

    fn read_state(&self, b: &AcrobotBodies, world: &PhysicsWorld, out: &mut GeneralizedState) {
        (out.q[0], out.qd[0]) = joints::dof(world, b.shoulder, 0);
        (out.q[1], out.qd[1]) = joints::dof(world, b.elbow, 0);
    }

    fn apply_action(&self, b: &AcrobotBodies, world: &mut PhysicsWorld, action: &[f32]) {
        let torque = Vector::Y * action[0] as f64; // motor at the elbow: equal and opposite
        for (handle, sign) in [(b.lower, 1.0), (b.upper, -1.0)] {
            world.bodies[handle].reset_torques(false);
            world.bodies[handle].add_torque(torque * sign, true);
        }
    }

    fn observe(&self, s: &GeneralizedState, obs: &mut [f32]) {
        let (t1, t2) = (s.q[0], s.q[1]);
        let v = [t1.cos(), t1.sin(), t2.cos(), t2.sin(), s.qd[0], s.qd[1]];
        obs.iter_mut().zip(v).for_each(|(o, x)| *o = x as f32);
    }

    fn reward(&self, _s: &GeneralizedState, _a: &[f32], next: &GeneralizedState) -> f32 {
        if tip_height(next.q[0], next.q[1]) > 1.0 { 0.0 } else { -1.0 }
    }

    fn is_terminal(&self, obs: &[f32]) -> bool {
        // cos(θ1 + θ2) = cos θ1 cos θ2 − sin θ1 sin θ2, from the observation alone.
        let cos12 = obs[0] * obs[2] - obs[1] * obs[3];
        -obs[0] - cos12 > 1.0
    }
}

/// Height of the tip above the bar.
pub fn tip_height(theta1: f64, theta2: f64) -> f64 {
    -theta1.cos() - (theta1 + theta2).cos()
}

fn main() -> anyhow::Result<()> {
    let mut app = SimApp::new(0);
    let model = Arc::new(Acrobot::default());
    for env in 0..8 {
        let options = SpawnOptions { action_source: ActionSource::Random, ..SpawnOptions::new(env) };
        spawn_env(&mut app, model.clone(), &options)?;
    }
    app.run(2000)?;
    for e in app.world.resource::<EpisodeLog>().0.iter().take(5) {
        println!("env {} episode {}: return {}, {} steps, {:?}", e.env, e.index, e.ret, e.length, e.reason);
    }
    for row in train_mbpo(&["run.env_steps=1500", "run.epoch_length=500", "run.initial_random_steps=500"])? {
        println!(
            "MBPO epoch {}: {} env steps, eval return {:.1}, {} model fits",
            row.epoch, row.env_steps, row.eval_return, row.model_fits
        );
    }
    Ok(())
}

/// Trains MBPO with VaGraM on the acrobot, one seed, with the pendulum preset's settings and
/// `overrides` (`key=value`), and returns its epoch rows: the path `vagram train` takes, with the
/// acrobot registered beside the built-in envs.
pub fn train_mbpo(overrides: &[&str]) -> anyhow::Result<Vec<vagram::systems::learning::EpochRow>> {
    use vagram::train::SeedApp;
    use vagram::train::config::RunConfig;
    let mut registry = vagram::envs::builtin_registry();
    registry.register(vagram::systems::ModelFactory::new(Acrobot::default()));
    let mut config = RunConfig::preset("pendulum", "vagram").expect("a built-in preset");
    config.env.name = "acrobot".into();
    for s in overrides {
        config.set(s)?;
    }
    config.validate(&registry.names())?;
    let mut run = SeedApp::build(&config, &registry, 0)?;
    run.app.run(config.run.env_steps)?;
    Ok(std::mem::take(&mut run.app.world.resource_mut::<vagram::systems::learning::EpochLog>().rows))
}
