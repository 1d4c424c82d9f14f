//! The bridge between training and the viewer (with the `viewer` feature): a [`Watch`] that
//! streams a seed's scene, metrics and value functions to the viewer's feed, and the loading of
//! a finished run (curves, status, checkpointed policy) for `vagram view runs/NAME`.
//!
//! [`Watch`]: crate::train::Watch

pub mod open_run;
pub mod watch;

use crate::engine::learn::AutoDevice;
use crate::engine::learn::sac::Sac;
use crate::engine::snapshot::{Snapshot, TensorStore};

/// An independent copy of `sac` (its networks, targets, α and optimiser state), for a viewer
/// that reads value functions or acts while training goes on with the original.
pub fn copy_agent(sac: &Sac<AutoDevice>) -> anyhow::Result<Box<Sac<AutoDevice>>> {
    let mut store = TensorStore::new();
    sac.save("agent", &mut store);
    let mut copy = Sac::new(&AutoDevice::default(), sac.obs_dim, sac.action_dim, sac.config.clone());
    copy.load("agent", &store)?;
    Ok(Box::new(copy))
}

/// Whether the loss-landscape panel applies: the pendulum without distracting dimensions (its
/// coordinates are (θ, θ̇)).
pub fn has_landscape(env: &str, distractors: usize) -> bool {
    env == "pendulum" && distractors == 0
}
