//! Streams a training seed to the viewer: its env's colliders whenever the viewer has room for a
//! frame, every epoch's metrics row, a copy of its value functions after every epoch (when the
//! landscape panel wants them), and how it ended. Nothing here waits on the viewer.

use vagram_viz::scene::slot_shapes;
use vagram_viz::{FeedSender, Frame, SeedEnd, TrainEvent};

use crate::engine::StepCount;
use crate::engine::env::components::Episode;
use crate::engine::physics::{BlockSlot, PhysicsBlock, PhysicsBlocks};
use crate::systems::learning::AgentResource;
use crate::train::{EpochReport, SeedApp, SeedOutcome, Watch};

/// The viewer's [`Watch`].
pub struct FeedWatch {
    /// Where events go.
    pub feed: FeedSender,
    /// Send value functions after every epoch (the landscape panel is open).
    pub values: bool,
}

/// The training env's look now.
pub fn frame_of(run: &SeedApp) -> Option<Frame> {
    let world = &run.app.world;
    let slot = *world.get::<BlockSlot>(run.env)?;
    let blocks = world.resource::<PhysicsBlocks>();
    let shapes = slot_shapes(&blocks.blocks.get(slot.block)?.world, slot.slot, PhysicsBlock::slot_origin(slot.slot));
    let episode = world.get::<Episode>(run.env).copied().unwrap_or_default();
    Some(Frame { shapes, env_steps: world.resource::<StepCount>().0, episode_return: episode.ret, episode_length: episode.length })
}

impl Watch for FeedWatch {
    fn every(&self) -> u64 {
        1
    }

    fn steps(&self, run: &SeedApp) {
        if self.feed.wants_frame()
            && let Some(frame) = frame_of(run)
        {
            self.feed.offer_frame(run.seed, frame);
        }
    }

    fn epoch(&self, run: &SeedApp, report: &EpochReport) {
        let values = report.row.values();
        self.feed.send(TrainEvent::Epoch { seed: run.seed, values });
        if self.values
            && let Ok(agent) = super::copy_agent(&run.app.world.non_send::<AgentResource>().sac)
        {
            self.feed.send(TrainEvent::Values { seed: run.seed, epoch: report.epochs_done, agent });
        }
    }

    fn ended(&self, seed: u64, outcome: &anyhow::Result<SeedOutcome>) {
        let end = match outcome {
            Ok(SeedOutcome::Finished { .. }) => SeedEnd::Finished,
            Ok(SeedOutcome::Paused { .. } | SeedOutcome::Interrupted { .. }) => SeedEnd::Paused,
            Ok(SeedOutcome::Stopped { message, .. }) => SeedEnd::Stopped(message.clone()),
            Err(e) => SeedEnd::Stopped(format!("{e:#}")),
        };
        self.feed.send(TrainEvent::Ended { seed, end });
    }
}
