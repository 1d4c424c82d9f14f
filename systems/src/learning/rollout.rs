//! `Learn` / model rollouts (MBPO's branched rollouts): every env step, `per_step` start states
//! are drawn from the real data, and each is rolled `k` steps through the model (k from the
//! rollout-length schedule), each step predicted by a randomly chosen elite member (sampled from
//! its Gaussian for probabilistic models), actions from the current policy. Transitions go to the
//! model buffer; a rollout stops at a state the env's termination function calls terminal.

use bevy_ecs::prelude::*;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use vagram_engine::config::Schedule;
use vagram_engine::env::TerminationFn;
use vagram_engine::learn::replay::ReplayBuffer;
use vagram_engine::prelude::*;

use super::{AgentResource, EnvBuffer, EpochStats, ModelResource};

/// Model-generated transitions (`D_model`).
#[derive(Resource, Debug, Clone)]
pub struct ModelBuffer(pub ReplayBuffer);

/// How rollouts are made.
#[derive(Resource)]
pub struct RolloutSettings {
    /// Rollouts started per env step.
    pub per_step: usize,
    /// Rollout length schedule over epochs.
    pub length: Schedule,
    /// Env steps per epoch.
    pub epoch_length: u64,
    /// The env's termination function.
    pub is_terminal: TerminationFn,
    /// Stream for start states, member choice and model noise.
    pub rng: rand_chacha::ChaCha8Rng,
}

/// Rolls the model out from real start states once a model has been fitted.
// A bevy system: each argument is one resource it reads or writes.
#[allow(clippy::too_many_arguments)]
pub fn rollout_model(
    step: Res<StepCount>,
    env_buffer: Res<EnvBuffer>,
    model: Res<ModelResource>,
    mut agent: ResMut<AgentResource>,
    mut settings: ResMut<RolloutSettings>,
    mut model_buffer: ResMut<ModelBuffer>,
    mut epoch_stats: ResMut<EpochStats>,
    mut errors: ResMut<SimErrors>,
) {
    if model.last.is_none() {
        return;
    }
    if env_buffer.0.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    roll_out(&step, &env_buffer, &model, &mut agent, &mut settings, &mut model_buffer, &mut errors);
    epoch_stats.seconds.rollout += started.elapsed().as_secs_f64();
}

fn roll_out(
    step: &StepCount,
    env_buffer: &EnvBuffer,
    model: &ModelResource,
    agent: &mut AgentResource,
    settings: &mut RolloutSettings,
    model_buffer: &mut ModelBuffer,
    errors: &mut SimErrors,
) {
    let Some(report) = &model.last else { return };
    let epoch = (step.0 / settings.epoch_length.max(1)) as f64;
    let horizon = settings.length.at(epoch).round().max(1.0) as usize;
    let dim = model.model.state_dim;
    let mut states = env_buffer.0.sample(settings.per_step, &mut settings.rng).obs;
    for _ in 0..horizon {
        if states.is_empty() {
            break;
        }
        let n = states.len() / dim;
        let actions = agent.sac.act(&states, false);
        let members = model.model.members();
        let pred = match model.model.predict(&vec![&states[..]; members], &vec![&actions[..]; members]) {
            Ok(p) => p,
            Err(e) => {
                errors.0.push(EngineError::Learning { stage: "model rollout", step: step.0 + 1, message: e.to_string() });
                return;
            }
        };
        let a_dim = actions.len() / n;
        let mut next_states = Vec::with_capacity(states.len());
        for i in 0..n {
            let m = report.elites[settings.rng.random_range(0..report.elites.len())];
            let row = (m * n + i) * dim;
            let mut next: Vec<f32> = pred.next_states[row..row + dim].to_vec();
            if let Some(lv) = &pred.logvar {
                for (d, v) in next.iter_mut().enumerate() {
                    let eps: f32 = StandardNormal.sample(&mut settings.rng);
                    *v += (0.5 * lv[row + d]).exp() * eps;
                }
            }
            let terminal = (settings.is_terminal)(&next);
            let s = &states[i * dim..(i + 1) * dim];
            model_buffer.0.push(s, &actions[i * a_dim..(i + 1) * a_dim], pred.rewards[m * n + i], &next, terminal);
            if !terminal {
                next_states.extend_from_slice(&next);
            }
        }
        states = next_states;
    }
}
