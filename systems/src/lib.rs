//! vagram's ECS systems: the generic per-env-kind systems that drive any [`EnvModel`], the
//! shared episode bookkeeping, distracting dimensions, and trajectory recording.
//!
//! Every system lives in one of the engine's [`SimSet`]s. Within a set, the per-kind systems
//! (one instance per env kind, in [`KindStage`]) run before the shared ones.
#![warn(missing_docs)]

pub mod actions;
pub mod distractors;
pub mod episodes;
pub mod kind;
pub mod learning;
pub mod physics;
pub mod record;
pub mod spawn;

use bevy_ecs::prelude::*;
use vagram_engine::prelude::*;

pub use kind::{EnvPlugin, ModelFactory};
pub use record::TrajectoryRecorder;
pub use spawn::spawn_env;

/// The per-env-kind systems of one [`SimSet`]; shared systems of that set run after them.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KindStage(pub SimSet);

/// The systems every app needs whatever its env kinds: episode bookkeeping, distractors,
/// recording, logging.
pub struct CorePlugin;

impl Plugin for CorePlugin {
    fn build(&self, app: &mut SimApp) {
        app.world.insert_resource(EpisodeLog::default());
        for set in SimSet::ORDER {
            app.configure_sets(KindStage(set).in_set(set));
        }
        app.add_systems((
            episodes::clear_done.in_set(SimSet::Act).before(KindStage(SimSet::Act)),
            distractors::step_distractors.in_set(SimSet::Observe).after(KindStage(SimSet::Observe)),
            episodes::track_episodes.in_set(SimSet::Evaluate).after(KindStage(SimSet::Evaluate)),
            record::record_transitions.in_set(SimSet::Record).after(KindStage(SimSet::Record)),
            record::keep_final_observations.in_set(SimSet::Record).after(KindStage(SimSet::Record)),
            episodes::log_episodes.in_set(SimSet::Log).after(KindStage(SimSet::Log)),
            distractors::reset_distractors.in_set(SimSet::Reset).after(KindStage(SimSet::Reset)),
        ));
    }
}

/// The names most users of the systems crate need.
pub mod prelude {
    pub use crate::spawn::spawn_env;
    pub use crate::{CorePlugin, EnvPlugin, KindStage, ModelFactory, TrajectoryRecorder};
}
