//! The channel from training threads to the viewer. Training must never wait on the UI: epoch
//! rows, value-function snapshots and endings go through an unbounded channel (a few per
//! epoch), and scene frames through a small bounded one that training only offers to — when
//! the UI is behind, a frame is skipped, never queued. A closed UI is not an error for training.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam::channel::{self, Receiver, Sender, TrySendError};
use vagram_learn::HostDevice;
use vagram_learn::sac::Sac;

use crate::scene::Drawn;

/// One training env's look at one moment.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Its colliders, relative to its slot origin.
    pub shapes: Vec<Drawn>,
    /// Real env steps done by the seed.
    pub env_steps: u64,
    /// Return of the running episode so far.
    pub episode_return: f64,
    /// Steps of the running episode.
    pub episode_length: u32,
}

/// How a seed's training ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SeedEnd {
    /// Every epoch done.
    Finished,
    /// Paused on request; resumable.
    Paused,
    /// Stopped by an error (the NaN guard, a damaged checkpoint…): the message names it.
    Stopped(String),
}

/// What training tells the viewer.
pub enum TrainEvent {
    /// An epoch's metrics row, in the order of `EpochRow::HEADER`.
    Epoch {
        /// The seed.
        seed: u64,
        /// The row's values.
        values: Vec<f64>,
    },
    /// The seed's value functions after an epoch (a copy of its SAC agent).
    Values {
        /// The seed.
        seed: u64,
        /// Epochs done when it was taken.
        epoch: u64,
        /// The agent copy.
        agent: Box<Sac<HostDevice>>,
    },
    /// The seed ended.
    Ended {
        /// The seed.
        seed: u64,
        /// How.
        end: SeedEnd,
    },
}

/// The training side of the feed: cheap to share between worker threads.
pub struct FeedSender {
    events: Sender<TrainEvent>,
    frames: Sender<(u64, Frame)>,
    skipped: AtomicU64,
}

/// The viewer side of the feed.
pub struct FeedReceiver {
    events: Receiver<TrainEvent>,
    frames: Receiver<(u64, Frame)>,
}

/// A feed whose frame queue holds `frame_slots` frames before frames are skipped.
pub fn feed(frame_slots: usize) -> (FeedSender, FeedReceiver) {
    let (events_tx, events_rx) = channel::unbounded();
    let (frames_tx, frames_rx) = channel::bounded(frame_slots.max(1));
    (FeedSender { events: events_tx, frames: frames_tx, skipped: AtomicU64::new(0) }, FeedReceiver { events: events_rx, frames: frames_rx })
}

impl FeedSender {
    /// Sends an event (never blocks; dropped if the viewer is gone).
    pub fn send(&self, event: TrainEvent) {
        let _ = self.events.send(event);
    }

    /// Whether a frame offered now would be taken: lets training skip building one.
    pub fn wants_frame(&self) -> bool {
        !self.frames.is_full()
    }

    /// Offers a frame; returns whether it was taken (false when the viewer is behind or gone).
    pub fn offer_frame(&self, seed: u64, frame: Frame) -> bool {
        match self.frames.try_send((seed, frame)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Frames skipped so far because the viewer was behind.
    pub fn skipped_frames(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

impl FeedReceiver {
    /// Every event waiting now, oldest first.
    pub fn events(&self) -> Vec<TrainEvent> {
        self.events.try_iter().collect()
    }

    /// Every frame waiting now, oldest first.
    pub fn frames(&self) -> Vec<(u64, Frame)> {
        self.frames.try_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(step: u64) -> Frame {
        Frame { shapes: vec![], env_steps: step, episode_return: 0.0, episode_length: 0 }
    }

    #[test]
    fn a_slow_viewer_makes_training_skip_frames_not_wait() {
        let (tx, rx) = feed(2);
        assert!(tx.offer_frame(0, frame(1)) && tx.offer_frame(0, frame(2)));
        assert!(!tx.wants_frame());
        assert!(!tx.offer_frame(0, frame(3)), "full: skipped, and the call returned at once");
        assert_eq!(tx.skipped_frames(), 1);
        let got: Vec<u64> = rx.frames().iter().map(|(_, f)| f.env_steps).collect();
        assert_eq!(got, vec![1, 2]);
        assert!(tx.wants_frame());
    }

    #[test]
    fn events_are_never_dropped_and_a_closed_viewer_is_harmless() {
        let (tx, rx) = feed(1);
        for e in 0..100 {
            tx.send(TrainEvent::Epoch { seed: 0, values: vec![e as f64] });
        }
        assert_eq!(rx.events().len(), 100);
        drop(rx);
        tx.send(TrainEvent::Ended { seed: 0, end: SeedEnd::Finished });
        assert!(!tx.offer_frame(0, frame(1)));
    }
}
