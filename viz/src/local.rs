//! Envs the viewer steps itself, in its own [`SimApp`]: driven by random or zero actions, by the
//! sliders, or by a trained policy (an opened run's deterministic SAC actor).

use std::sync::Arc;

use bevy_ecs::entity::Entity;
use vagram_engine::env::{EnvFactory, EnvRegistry, EnvSpec, SpawnOptions};
use vagram_engine::physics::{BlockSlot, PhysicsBlock, PhysicsBlocks};
use vagram_engine::prelude::*;
use vagram_learn::HostDevice;
use vagram_learn::sac::Sac;

use crate::scene::{Drawn, slot_shapes};
use crate::state::Drive;

/// What to spawn.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Registered env name.
    pub env: String,
    /// Instances.
    pub envs: usize,
    /// Master seed.
    pub seed: u64,
    /// Distracting dimensions (part of the observation a policy sees).
    pub distractors: Option<DistractorConfig>,
}

/// The viewer's own envs.
pub struct LocalEnvs {
    sim: SimApp,
    envs: Vec<Entity>,
    /// The env's spec.
    pub spec: EnvSpec,
    policy: Option<Box<Sac<HostDevice>>>,
}

impl LocalEnvs {
    /// Spawns `options.envs` instances (1 to 256) of the env, with random actions.
    pub fn new(registry: &EnvRegistry, options: &LocalOptions) -> anyhow::Result<Self> {
        let factory: Arc<dyn EnvFactory> = registry.get(&options.env)?.clone();
        let spec = factory.spec().clone();
        if options.envs == 0 || options.envs > 256 {
            anyhow::bail!("--envs = {} is invalid: the viewer shows 1 to 256 envs", options.envs);
        }
        let mut sim = SimApp::new(options.seed);
        let mut envs = Vec::new();
        for i in 0..options.envs {
            let mut o = SpawnOptions::new(i as u64);
            o.action_source = ActionSource::Random;
            o.distractors = options.distractors;
            envs.push(factory.spawn(&mut sim, &o)?);
        }
        Ok(Self { sim, envs, spec, policy: None })
    }

    /// Number of envs.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    /// Observation width the envs produce (their own dims plus distractors).
    pub fn obs_dim(&self) -> usize {
        self.sim.world.get::<Observation>(self.envs[0]).map_or(0, |o| o.0.len())
    }

    /// Installs a policy for [`Drive::Policy`]; its observation and action widths must match.
    pub fn set_policy(&mut self, agent: Box<Sac<HostDevice>>) -> anyhow::Result<()> {
        if agent.obs_dim != self.obs_dim() || agent.action_dim != self.spec.action_dim() {
            anyhow::bail!(
                "the policy expects {} observation and {} action dimensions, the env {} has {} and {}",
                agent.obs_dim,
                agent.action_dim,
                self.spec.name,
                self.obs_dim(),
                self.spec.action_dim()
            );
        }
        self.policy = Some(agent);
        Ok(())
    }

    /// Whether a policy is installed.
    pub fn has_policy(&self) -> bool {
        self.policy.is_some()
    }

    /// Points every env's action source at `drive` (the viewer writes slider and policy actions).
    pub fn set_drive(&mut self, drive: Drive) {
        let source = match drive {
            Drive::Random => ActionSource::Random,
            Drive::Zero => ActionSource::Zero,
            Drive::Sliders | Drive::Policy => ActionSource::External,
        };
        for e in &self.envs {
            self.sim.world.entity_mut(*e).insert(source.clone());
        }
    }

    /// One env step of every env under `drive` (`sliders` for [`Drive::Sliders`]).
    pub fn step(&mut self, drive: Drive, sliders: &[f32]) -> anyhow::Result<()> {
        match drive {
            Drive::Sliders => {
                for e in &self.envs {
                    self.sim.world.get_mut::<Action>(*e).expect("spawned env").0.clone_from(&sliders.to_vec());
                }
            }
            Drive::Policy => {
                let agent = self.policy.as_mut().ok_or_else(|| anyhow::anyhow!("no policy is loaded"))?;
                let obs: Vec<f32> =
                    self.envs.iter().flat_map(|e| self.sim.world.get::<Observation>(*e).expect("spawned env").0.clone()).collect();
                let unit = agent.act(&obs, true);
                for (e, a) in self.envs.iter().zip(unit.chunks(self.spec.action_dim())) {
                    self.sim.world.get_mut::<Action>(*e).expect("spawned env").0 = self.spec.action_space.from_unit(a);
                }
            }
            Drive::Random | Drive::Zero => {}
        }
        self.sim.step()?;
        Ok(())
    }

    /// The shapes of env `i`, relative to its slot origin.
    pub fn shapes(&self, i: usize) -> Vec<Drawn> {
        let slot = *self.sim.world.get::<BlockSlot>(self.envs[i]).expect("spawned env");
        let blocks = self.sim.world.resource::<PhysicsBlocks>();
        slot_shapes(&blocks.blocks[slot.block].world, slot.slot, PhysicsBlock::slot_origin(slot.slot))
    }

    /// The running episode of env `i`.
    pub fn episode(&self, i: usize) -> Episode {
        self.sim.world.get::<Episode>(self.envs[i]).copied().unwrap_or_default()
    }

    /// The current action of env `i`.
    pub fn action(&self, i: usize) -> Vec<f32> {
        self.sim.world.get::<Action>(self.envs[i]).map(|a| a.0.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vagram_learn::sac::SacConfig;

    fn envs(env: &str, n: usize) -> LocalEnvs {
        let options = LocalOptions { env: env.into(), envs: n, seed: 0, distractors: None };
        LocalEnvs::new(&vagram_envs::builtin_registry(), &options).unwrap()
    }

    #[test]
    fn sliders_drive_every_env() {
        let mut v = envs("cartpole", 4);
        v.set_drive(Drive::Sliders);
        v.step(Drive::Sliders, &[0.7]).unwrap();
        for i in 0..4 {
            assert_eq!(v.action(i), vec![0.7]);
            assert_eq!(v.episode(i).length, 1);
        }
        assert_eq!(v.shapes(3).len(), 2, "cart and pole");
    }

    #[test]
    fn a_policy_acts_in_the_action_box_and_a_mismatched_one_is_refused() {
        let mut v = envs("pendulum", 3);
        let dev = HostDevice::default();
        let wrong = Box::new(Sac::new(&dev, 4, 1, SacConfig::default()));
        let err = v.set_policy(wrong).unwrap_err().to_string();
        assert!(err.contains("4 observation") && err.contains("pendulum has 3"), "{err}");
        v.set_policy(Box::new(Sac::new(&dev, 3, 1, SacConfig::default()))).unwrap();
        v.set_drive(Drive::Policy);
        v.step(Drive::Policy, &[]).unwrap();
        for i in 0..3 {
            let a = v.action(i)[0];
            assert!((-2.0..=2.0).contains(&a), "torque {a}");
        }
        // The deterministic policy gives the same action for the same observation.
        let first: Vec<f32> = (0..3).map(|i| v.action(i)[0]).collect();
        assert!(first.iter().any(|a| *a != 0.0), "an untrained actor still acts: {first:?}");
    }

    #[test]
    fn bad_options_are_errors_not_panics() {
        let registry = vagram_envs::builtin_registry();
        let o = |env: &str, envs| LocalOptions { env: env.into(), envs, seed: 0, distractors: None };
        assert!(LocalEnvs::new(&registry, &o("hoper", 1)).err().unwrap().to_string().contains("hoper"));
        assert!(LocalEnvs::new(&registry, &o("pendulum", 0)).err().unwrap().to_string().contains("--envs"));
    }
}
