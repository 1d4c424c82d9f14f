//! The bridge between training and the viewer (with the `viewer` feature): a [`Watch`] that
//! streams a seed's scene, metrics and value functions to the viewer's feed, and the loading of
//! a finished run (curves, status, checkpointed policy) for `vagram view runs/NAME`.
//!
//! [`Watch`]: crate::train::Watch

pub mod open_run;
pub mod watch;

use crate::learn::sac::Sac;
use crate::learn::{HostDevice, MlpKernels};

/// An independent CPU copy of `sac` (networks, targets, α, optimiser state), for a viewer that
/// reads value functions or acts on its own thread while training goes on with the original.
pub fn copy_agent<D: MlpKernels>(sac: &Sac<D>) -> anyhow::Result<Box<Sac<HostDevice>>> {
    Ok(Box::new(sac.copy_to(&HostDevice::default())?))
}

/// Whether the loss-landscape panel applies: the pendulum without distracting dimensions (its
/// coordinates are (θ, θ̇)).
pub fn has_landscape(env: &str, distractors: usize) -> bool {
    env == "pendulum" && distractors == 0
}
