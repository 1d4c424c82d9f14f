//! The two replay buffers the stages share, as resources: `D_env`, written by `Record` and read
//! by model training and SAC updates, and `D_model`, written by the rollouts and read by SAC
//! updates (MBPO's mixing of real and model data).

use bevy_ecs::prelude::*;
use vagram_learn::replay::ReplayBuffer;

/// Real transitions (`D_env`).
#[derive(Resource, Debug, Clone)]
pub struct EnvBuffer(pub ReplayBuffer);

/// Model-generated transitions (`D_model`).
#[derive(Resource, Debug, Clone)]
pub struct ModelBuffer(pub ReplayBuffer);
