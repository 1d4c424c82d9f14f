//! The simulation app: one `bevy_ecs` [`World`] and one [`Schedule`] whose system sets run in a
//! fixed order every environment step.
//!
//! # The step, in order ([`SimSet`])
//! 1. `Act` — fill each env's [`Action`](crate::env::components::Action) (random, from a CSV
//!    table, or a policy);
//! 2. `ApplyActions` — validate (dimension, finiteness), clip to the action box as gym does, and
//!    hand the action to the physics (joint torques, forces);
//! 3. `PhysicsStep` — advance every Rapier world by its substeps;
//! 4. `Observe` — read generalized coordinates back, build observations, then append extra
//!    dimensions (distractors);
//! 5. `Evaluate` — reward, termination, truncation, episode statistics;
//! 6. `Record` — transitions go to recorders and replay buffers;
//! 7. `Learn` — model fitting, rollouts, agent updates (learning stages plug in here);
//! 8. `Log` — finished episodes and metrics are reported;
//! 9. `Reset` — finished episodes restart, so the next `Act` sees a fresh observation.
//!
//! The executor is bevy's single-threaded one: a schedule step is a few hundred nanoseconds of
//! work, and parallelism belongs in the batch runner (independent worlds on threads), never
//! nested inside a step.

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{ScheduleLabel, SingleThreadedExecutor};

use crate::env::components::SimErrors;
use crate::error::{EngineError, Result};
use crate::physics::PhysicsBlocks;
use crate::plugin::Plugin;

/// The system sets of one environment step, configured once, chained in this order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimSet {
    /// Choose actions.
    Act,
    /// Validate, clip and apply actions to the physics.
    ApplyActions,
    /// Step the physics worlds.
    PhysicsStep,
    /// Read state back and build observations.
    Observe,
    /// Rewards, terminations, truncations, episode statistics.
    Evaluate,
    /// Store transitions.
    Record,
    /// Learning stages.
    Learn,
    /// Report episodes and metrics.
    Log,
    /// Restart finished episodes.
    Reset,
}

impl SimSet {
    /// Every set, in execution order.
    pub const ORDER: [SimSet; 9] = [
        SimSet::Act,
        SimSet::ApplyActions,
        SimSet::PhysicsStep,
        SimSet::Observe,
        SimSet::Evaluate,
        SimSet::Record,
        SimSet::Learn,
        SimSet::Log,
        SimSet::Reset,
    ];
}

/// The label of the one schedule a [`SimApp`] runs per environment step.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimStep;

/// The number of environment steps the app has run.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepCount(pub u64);

/// The master seed of this app: every random stream is derived from it (see [`crate::rng`]).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasterSeed(pub u64);

/// A `bevy_ecs` World plus the schedule that advances it by one environment step.
///
/// # Example
/// ```
/// use vagram_engine::prelude::*;
/// let mut app = SimApp::new(7);
/// app.step().unwrap();
/// assert_eq!(app.world.resource::<StepCount>().0, 1);
/// ```
pub struct SimApp {
    /// The ECS world: env entities, physics blocks, buffers, logs.
    pub world: World,
    schedule: Schedule,
    plugins: Vec<&'static str>,
}

impl SimApp {
    /// An empty app with its sets configured and the base resources inserted.
    pub fn new(seed: u64) -> Self {
        let mut world = World::new();
        world.insert_resource(MasterSeed(seed));
        world.insert_resource(StepCount::default());
        world.insert_resource(SimErrors::default());
        world.insert_resource(PhysicsBlocks::default());
        let mut schedule = Schedule::new(SimStep);
        schedule.set_executor(SingleThreadedExecutor::new());
        for pair in SimSet::ORDER.windows(2) {
            schedule.configure_sets(pair[1].after(pair[0]));
        }
        Self { world, schedule, plugins: Vec::new() }
    }

    /// The master seed the app was created with.
    pub fn seed(&self) -> u64 {
        self.world.resource::<MasterSeed>().0
    }

    /// Adds systems to the step schedule (place them with `.in_set(SimSet::…)`).
    pub fn add_systems<M>(&mut self, systems: impl IntoScheduleConfigs<bevy_ecs::system::ScheduleSystem, M>) -> &mut Self {
        self.schedule.add_systems(systems);
        self
    }

    /// Builds a plugin once; adding the same plugin type twice is a no-op.
    pub fn add_plugin<P: Plugin>(&mut self, plugin: P) -> &mut Self {
        let name = std::any::type_name::<P>();
        if !self.plugins.contains(&name) {
            self.plugins.push(name);
            plugin.build(self);
        }
        self
    }

    /// Whether a plugin of this type has been built into the app.
    pub fn has_plugin<P: Plugin>(&self) -> bool {
        self.plugins.contains(&std::any::type_name::<P>())
    }

    /// Runs one environment step; errors raised by systems during it are returned (the first
    /// one; all are kept in [`SimErrors`] until drained).
    pub fn step(&mut self) -> Result<()> {
        self.schedule.run(&mut self.world);
        self.world.resource_mut::<StepCount>().0 += 1;
        self.take_error()
    }

    /// Runs `n` steps, stopping at the first error.
    pub fn run(&mut self, n: u64) -> Result<()> {
        for _ in 0..n {
            self.step()?;
        }
        Ok(())
    }

    /// Removes and returns the first error systems reported, if any.
    pub fn take_error(&mut self) -> Result<()> {
        let mut errors = self.world.resource_mut::<SimErrors>();
        match errors.0.drain(..).next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Reports an error from outside a system (e.g. while spawning).
    pub fn report(&mut self, error: EngineError) {
        self.world.resource_mut::<SimErrors>().0.push(error);
    }
}

impl SimApp {
    /// Configures system sets (e.g. nests a plugin's sets inside a [`SimSet`]).
    pub fn configure_sets<M>(&mut self, sets: impl IntoScheduleConfigs<bevy_ecs::schedule::InternedSystemSet, M>) -> &mut Self {
        self.schedule.configure_sets(sets);
        self
    }
}
