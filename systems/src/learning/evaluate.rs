//! `Log` / evaluation: at the end of every epoch the current policy acts deterministically
//! (`tanh μ(s)`) for `episodes` full episodes in a separate evaluation world, built fresh for
//! that epoch: its start states come from streams keyed by (run seed, epoch), so evaluation
//! never touches the training env, needs nothing in a checkpoint, and is reproduced exactly on
//! resume. Distractor parameters are copied from the training env: the evaluation envs are the
//! same task the agent trains on.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use bevy_ecs::prelude::*;
use vagram_engine::env::{DistractorParams, Distractors, EnvFactory};
use vagram_engine::prelude::*;
use vagram_learn::AutoDevice;
use vagram_learn::sac::Sac;

use super::{AgentResource, EpochStats};
use crate::TrajectoryRecorder;

/// Env ids of evaluation envs start here (their random streams never meet the training env's).
pub const EVAL_ENV_ID_BASE: u64 = 1 << 40;

/// How evaluation runs, and its latest result.
#[derive(Resource)]
pub struct Evaluation {
    /// The env kind.
    pub factory: Arc<dyn EnvFactory>,
    /// Distracting dimensions of the training env, with its drawn parameters.
    pub distractors: Option<(DistractorConfig, DistractorParams)>,
    /// Episodes per evaluation.
    pub episodes: u32,
    /// Env steps per epoch.
    pub epoch_length: u64,
    /// The run's seed.
    pub seed: u64,
    /// The latest evaluation.
    pub last: Option<EvalResult>,
}

/// One evaluation's episodes.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalResult {
    /// Epoch evaluated (0-based).
    pub epoch: u64,
    /// Undiscounted return per episode.
    pub returns: Vec<f64>,
    /// Length per episode.
    pub lengths: Vec<u32>,
}

impl EvalResult {
    /// Mean return.
    pub fn mean_return(&self) -> f64 {
        self.returns.iter().sum::<f64>() / self.returns.len().max(1) as f64
    }

    /// Mean episode length.
    pub fn mean_length(&self) -> f64 {
        self.lengths.iter().map(|l| *l as f64).sum::<f64>() / self.lengths.len().max(1) as f64
    }
}

impl Evaluation {
    /// The same settings with no result yet.
    pub fn clone_settings(&self) -> Self {
        Self {
            factory: self.factory.clone(),
            distractors: self.distractors.clone(),
            episodes: self.episodes,
            epoch_length: self.epoch_length,
            seed: self.seed,
            last: None,
        }
    }

    /// Runs `episodes` deterministic-policy episodes for `epoch` and returns them.
    pub fn run(&self, sac: &mut Sac<AutoDevice>, epoch: u64) -> vagram_engine::Result<EvalResult> {
        self.run_recording(sac, epoch, None)
    }

    /// [`Evaluation::run`], and with `record` the first episode's trajectory written to that CSV
    /// file as `vagram simulate --record` writes one (`step, obs_0…, reward, terminated,
    /// truncated`; row 0 is the initial observation, the last row the one that ended it), to
    /// see how an evaluated policy fails.
    pub fn run_recording(&self, sac: &mut Sac<AutoDevice>, epoch: u64, record: Option<&Path>) -> vagram_engine::Result<EvalResult> {
        let spec = self.factory.spec().clone();
        let mut app = SimApp::new(self.seed);
        let mut envs = Vec::new();
        for k in 0..self.episodes as u64 {
            let mut options = SpawnOptions::new(EVAL_ENV_ID_BASE + epoch * self.episodes as u64 + k);
            options.action_source = ActionSource::External;
            options.distractors = self.distractors.as_ref().map(|(c, _)| *c);
            let e = self.factory.spawn(&mut app, &options)?;
            if let Some((_, params)) = &self.distractors {
                let mut entity = app.world.entity_mut(e);
                let mut rngs = entity.get_mut::<EnvRngs>().expect("spawned env").clone();
                let mut d = entity.get_mut::<Distractors>().expect("spawned with distractors");
                d.params = params.clone();
                d.reset(&mut rngs.distractors);
                let d = d.clone();
                d.write(&mut entity.get_mut::<Observation>().expect("spawned env").0);
                *entity.get_mut::<EnvRngs>().expect("spawned env") = rngs;
            }
            envs.push(e);
        }
        let obs_dim = app.world.get::<Observation>(envs[0]).expect("spawned env").0.len();
        let mut recording = match record {
            Some(path) => {
                let initial = app.world.get::<Observation>(envs[0]).expect("spawned env").0.clone();
                app.world.entity_mut(envs[0]).insert(TrajectoryRecorder::create(path, &initial)?);
                true
            }
            None => false,
        };
        let mut finished: Vec<Option<(f64, u32)>> = vec![None; envs.len()];
        let mut obs = Vec::with_capacity(envs.len() * obs_dim);
        for _ in 0..=spec.max_episode_steps {
            obs.clear();
            for e in &envs {
                obs.extend_from_slice(&app.world.get::<Observation>(*e).expect("spawned env").0);
            }
            let actions = sac.act(&obs, true);
            let a = spec.action_dim();
            for (i, e) in envs.iter().enumerate() {
                app.world.get_mut::<Action>(*e).expect("spawned env").0 = spec.action_space.from_unit(&actions[i * a..(i + 1) * a]);
            }
            app.step()?;
            for (i, e) in envs.iter().enumerate() {
                if finished[i].is_none() && app.world.get::<Done>(*e).expect("spawned env").is_done() {
                    let record = app
                        .world
                        .resource::<EpisodeLog>()
                        .0
                        .iter()
                        .rev()
                        .find(|r| r.env == EVAL_ENV_ID_BASE + epoch * self.episodes as u64 + i as u64)
                        .cloned();
                    let record = record.expect("a finished episode is logged");
                    finished[i] = Some((record.ret, record.length));
                }
            }
            if recording && finished[0].is_some() {
                // The episode is over: later rows would belong to the env's next episode.
                let mut recorder = app.world.entity_mut(envs[0]).take::<TrajectoryRecorder>().expect("recorder attached");
                recorder.flush()?;
                recording = false;
            }
            if finished.iter().all(Option::is_some) {
                break;
            }
        }
        let (returns, lengths) = finished.into_iter().map(|f| f.expect("every episode ends within the time limit")).unzip();
        Ok(EvalResult { epoch, returns, lengths })
    }
}

/// Evaluates the policy after the last step of every epoch.
pub fn evaluate_policy(
    step: Res<StepCount>,
    mut agent: NonSendMut<AgentResource>,
    mut evaluation: ResMut<Evaluation>,
    mut stats: ResMut<EpochStats>,
    mut errors: ResMut<SimErrors>,
) {
    let done = step.0 + 1;
    if evaluation.episodes == 0 || !done.is_multiple_of(evaluation.epoch_length.max(1)) {
        return;
    }
    let started = Instant::now();
    let epoch = done / evaluation.epoch_length - 1;
    match evaluation.run(&mut agent.sac, epoch) {
        Ok(result) => evaluation.last = Some(result),
        Err(e) => errors.0.push(EngineError::Learning { stage: "evaluation", step: done, source: Box::new(e) }),
    }
    stats.seconds.eval += started.elapsed().as_secs_f64();
}
