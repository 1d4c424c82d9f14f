//! The agent acts for its envs through the schedule and real transitions are recorded with the
//! right next observation and terminal flag across auto-resets.

use std::sync::Arc;

use vagram_engine::env::{EnvModel, SpawnOptions};
use vagram_engine::prelude::*;
use vagram_learn::AutoDevice;
use vagram_learn::replay::ReplayBuffer;
use vagram_learn::sac::{Sac, SacConfig};

use super::*;
use crate::spawn_env;

/// A tiny env: x' = x + 0.1·a, terminal when |x| > 1; obs = [x].
struct Slider {
    spec: EnvSpec,
}

impl Slider {
    fn new() -> Self {
        use vagram_engine::env::ResetDistribution;
        let physics = PhysicsSettings { dt: 0.1, substeps: 1, gravity: [0.0; 3], solver_iterations: 1 };
        let spec = EnvSpec {
            name: "slider",
            obs_dim: 1,
            action_space: BoxSpace::uniform(1, -2.0, 2.0),
            state_names: vec!["x"],
            reset: ResetDistribution::symmetric(GeneralizedState::zeros(1), 0.5, 0.0),
            max_episode_steps: 50,
            physics,
        };
        Self { spec }
    }
}

impl EnvModel for Slider {
    type Bodies = vagram_engine::rapier3d::prelude::RigidBodyHandle;
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn build(
        &self,
        world: &mut vagram_engine::rapier3d::prelude::PhysicsWorld,
        origin: vagram_engine::rapier3d::prelude::Vector,
        _: vagram_engine::rapier3d::prelude::InteractionGroups,
    ) -> Self::Bodies {
        use vagram_engine::rapier3d::prelude::*;
        let body = RigidBodyBuilder::kinematic_velocity_based().translation(origin);
        world.insert_body(body)
    }
    fn write_state(&self, b: &Self::Bodies, world: &mut vagram_engine::rapier3d::prelude::PhysicsWorld, s: &GeneralizedState) {
        let origin_y = world.bodies[*b].translation().y;
        world.bodies[*b].set_translation(vagram_engine::rapier3d::prelude::Vector::new(s.q[0], origin_y, 0.0), true);
        world.bodies[*b].set_linvel(vagram_engine::rapier3d::prelude::Vector::ZERO, true);
    }
    fn read_state(&self, b: &Self::Bodies, world: &vagram_engine::rapier3d::prelude::PhysicsWorld, out: &mut GeneralizedState) {
        out.q[0] = world.bodies[*b].translation().x;
        out.qd[0] = world.bodies[*b].linvel().x;
    }
    fn apply_action(&self, b: &Self::Bodies, world: &mut vagram_engine::rapier3d::prelude::PhysicsWorld, a: &[f32]) {
        world.bodies[*b].set_linvel(vagram_engine::rapier3d::prelude::Vector::new(a[0] as f64, 0.0, 0.0), true);
    }
    fn observe(&self, s: &GeneralizedState, obs: &mut [f32]) {
        obs[0] = s.q[0] as f32;
    }
    fn reward(&self, _: &GeneralizedState, _: &[f32], next: &GeneralizedState) -> f32 {
        -(next.q[0] as f32).abs()
    }
    fn is_terminal(&self, obs: &[f32]) -> bool {
        obs[0].abs() > 1.0
    }
}

fn run(steps: u64, random_steps: u64) -> (SimApp, bevy_ecs::entity::Entity) {
    let mut app = SimApp::new(5);
    app.add_plugin(AgentPlugin);
    let model = Slider::new();
    let space = model.spec().action_space.clone();
    let options = SpawnOptions { action_source: ActionSource::External, ..SpawnOptions::new(0) };
    let e = spawn_env(&mut app, Arc::new(model), &options).unwrap();
    app.world.entity_mut(e).insert((PolicyControlled { space }, ObservationBeforeAct::default(), FinalObservation::default()));
    let sac = Sac::new(&AutoDevice::seed_from_u64(0), 1, 1, SacConfig { hidden: vec![16], ..SacConfig::default() });
    app.world.insert_non_send(AgentResource::new(sac, random_steps, 9));
    app.world.insert_resource(EnvBuffer(ReplayBuffer::new(10_000, 1, 1)));
    app.run(steps).unwrap();
    (app, e)
}

#[test]
fn transitions_chain_and_mark_terminations_but_not_truncations() {
    let (app, _) = run(600, 600);
    let buf = &app.world.resource::<EnvBuffer>().0;
    assert_eq!(buf.len(), 600);
    let log = &app.world.resource::<EpisodeLog>().0;
    let (mut terminated, mut truncated) = (0, 0);
    let mut boundary = 0usize;
    let ends: Vec<usize> = log
        .iter()
        .scan(0usize, |t, e| {
            *t += e.length as usize;
            Some(*t - 1)
        })
        .collect();
    for i in 0..599 {
        let (obs, action, _, next, term) = buf.transition(i);
        assert!(action[0].abs() <= 1.0, "unit-box actions");
        let (following, ..) = buf.transition(i + 1);
        if ends.contains(&i) {
            boundary += 1;
            let e = &log[ends.iter().position(|t| *t == i).unwrap()];
            match e.reason {
                EndReason::Terminated => {
                    terminated += 1;
                    assert!(term && next[0].abs() > 1.0, "step {i}: terminal transition keeps the terminal obs {next:?}");
                }
                EndReason::TimeLimit => {
                    truncated += 1;
                    assert!(!term, "step {i}: a truncation bootstraps");
                }
                _ => unreachable!(),
            }
            assert!(following[0].abs() <= 0.5 + 1e-6, "after the end the next transition starts from a reset state");
        } else {
            assert!(!term);
            assert_eq!(next, following, "step {i}: next obs is the next transition's obs");
            assert!((next[0] - (obs[0] + 0.1 * 2.0 * action[0])).abs() < 1e-5, "x' = x + dt·a with a scaled to [-2, 2]");
        }
    }
    assert!(terminated > 0 && truncated > 0, "both kinds of ends must occur ({terminated} terminated, {truncated} truncated)");
    assert_eq!(boundary, ends.iter().filter(|t| **t < 599).count());
}

#[test]
fn the_agent_acts_after_the_random_phase() {
    let (mut app, e) = run(120, 100);
    app.world.non_send_mut::<AgentResource>().deterministic = true;
    app.step().unwrap();
    let before = app.world.get::<ObservationBeforeAct>(e).unwrap().0.clone();
    let applied = app.world.get::<Action>(e).unwrap().0.clone();
    let unit = app.world.get::<UnitAction>(e).unwrap().0.clone();
    let mut agent = app.world.non_send_mut::<AgentResource>();
    assert_eq!(unit, agent.sac.act(&before, true), "the policy's deterministic action");
    assert!((applied[0] - 2.0 * unit[0]).abs() < 1e-6, "agent action {unit:?} scaled to {applied:?}");
}

/// The model stages on the slider app: exploration ends at step 150, a 3-member VaGraM model
/// is fitted every 100 learning steps and rolled out (length 2) right after each fit; returns
/// the model's config.
fn add_model_stages(app: &mut SimApp) -> vagram_learn::dynamics::DynamicsConfig {
    use crate::learning::RolloutCadence;
    use vagram_learn::dynamics::{DynamicsConfig, DynamicsModel};
    use vagram_learn::losses::loss_by_name;
    use vagram_learn::trainer::TrainerConfig;
    app.add_plugin(ModelTrainPlugin);
    let config = DynamicsConfig { members: 3, hidden: vec![16, 16], ..DynamicsConfig::default() };
    let model = DynamicsModel::new(&AutoDevice::seed_from_u64(1), 1, 1, &config).unwrap();
    app.world.insert_resource(LearningPhase { starts_at: 150, epoch_length: 100 });
    app.world.insert_non_send(ModelResource {
        model,
        loss: loss_by_name("vagram").unwrap(),
        validation_loss: loss_by_name("mse").unwrap(),
        warmup: None,
        trainer: TrainerConfig { batch_size: 32, patience: 3, max_epochs: Some(60), elites: 2, ..TrainerConfig::default() },
        train_every: 100,
        seed: 3,
        fits: 0,
        last: None,
    });
    app.world.insert_resource(ModelBuffer(ReplayBuffer::new(10_000, 1, 1)));
    app.world.insert_resource(AgentUpdateSettings {
        updates_per_step: 1,
        batch_size: 32,
        model_share: crate::learning::Schedule(0.0, 2.0, 0.0, 0.95),
        mixing: Mixing::PerSample,
        rng: rand::SeedableRng::seed_from_u64(6),
        last: None,
    });
    app.world.insert_resource(RolloutSettings {
        per_step: 10,
        length: crate::learning::Schedule(0.0, 1.0, 2.0, 2.0),
        cadence: RolloutCadence::PerFit,
        retain_epochs: 1,
        is_terminal: Arc::new(|obs: &[f32]| Slider::new().is_terminal(obs)),
        rng: rand::SeedableRng::seed_from_u64(4),
    });
    config
}

#[test]
fn the_model_is_fitted_every_train_every_learning_steps_and_rolled_out_right_after() {
    use vagram_learn::dynamics::DynamicsModel;
    use vagram_learn::losses::loss_by_name;
    let (mut app, _) = run(0, 150);
    let config = add_model_stages(&mut app);
    // Exploration (150 steps) and the first 99 learning steps: no fit, rollout or SAC update.
    app.run(249).unwrap();
    assert_eq!(app.world.non_send::<ModelResource>().fits, 0, "no fit before train_every learning steps");
    assert!(app.world.resource::<ModelBuffer>().0.is_empty(), "no rollouts before the first fit");
    assert!(app.world.resource::<AgentUpdateSettings>().last.is_none(), "no SAC update before the first rollout");
    // The model buffer holds one epoch of rollouts at length 2: 10 × 100 starts × 2 steps.
    assert_eq!(app.world.resource::<ModelBuffer>().0.capacity, 2000, "capacity from the rollout length");
    app.step().unwrap();
    assert_eq!(app.world.non_send::<ModelResource>().fits, 1, "the first fit, 100 steps into learning");
    let after_first = app.world.resource::<ModelBuffer>().0.len();
    assert!((1000..=2000).contains(&after_first), "one batch of 1000 rollouts right after the fit: {after_first}");
    app.run(99).unwrap();
    assert_eq!(app.world.resource::<ModelBuffer>().0.len(), after_first, "no rollouts between fits");
    app.step().unwrap();
    assert_eq!(app.world.non_send::<ModelResource>().fits, 2, "fits after learning steps 100 and 200");
    let stats = app.world.resource::<AgentUpdateSettings>().last.expect("SAC updated after the first rollout");
    assert!(stats.critic_loss.is_finite() && stats.actor_loss.is_finite());
    let model_data = &app.world.resource::<ModelBuffer>().0;
    assert_eq!(model_data.len(), 2000, "the second batch fills the one-epoch buffer");
    let mut errors = Vec::new();
    for i in 0..model_data.len() {
        let (s, a, _, next, terminal) = model_data.transition(i);
        errors.push((next[0] - (s[0] + 0.2 * a[0])).abs());
        assert_eq!(terminal, next[0].abs() > 1.0, "termination from the env's function");
    }
    let mean = errors.iter().sum::<f32>() / errors.len() as f32;
    let worst = errors.iter().cloned().fold(0.0f32, f32::max);
    assert!(mean < 0.05 && worst < 0.5, "model rollouts vs the true dynamics: mean error {mean}, worst {worst}");
    app.run(100).unwrap();
    let m = app.world.non_send::<ModelResource>();
    assert_eq!(m.fits, 3);
    assert_eq!(m.last.as_ref().unwrap().elites.len(), 2);
    // On all the data, the fitted model must beat a fresh one by far.
    let data = app.world.resource::<EnvBuffer>().0.contents();
    let batch = vagram_learn::dynamics::MemberBatch {
        states: &data.obs,
        actions: &data.actions,
        next_states: &data.next_obs,
        rewards: &data.rewards,
    };
    let mse = loss_by_name("mse").unwrap();
    let score = |model: &DynamicsModel<AutoDevice>| -> f64 {
        model.member_losses(&[batch; 3], mse.as_ref(), None).unwrap().iter().map(|t| t.state_loss + t.reward_loss).sum()
    };
    let fresh = DynamicsModel::new(&AutoDevice::seed_from_u64(1), 1, 1, &config).unwrap();
    let (trained, untrained) = (score(&m.model), score(&fresh));
    assert!(trained < untrained / 10.0, "fitted {trained} vs fresh {untrained}");
}

#[test]
fn evaluation_envs_act_deterministically_and_are_not_recorded() {
    let (mut app, _train_env) = run(0, 0);
    let model = Slider::new();
    let space = model.spec().action_space.clone();
    let options = SpawnOptions { action_source: ActionSource::External, ..SpawnOptions::new(1) };
    let eval = spawn_env(&mut app, Arc::new(model), &options).unwrap();
    app.world.entity_mut(eval).insert(EvalControlled { space });
    for _ in 0..120 {
        let obs = app.world.get::<Observation>(eval).unwrap().0.clone();
        app.step().unwrap();
        let applied = app.world.get::<Action>(eval).unwrap().0.clone();
        let unit = app.world.non_send_mut::<AgentResource>().sac.act(&obs, true);
        assert!((applied[0] - 2.0 * unit[0]).abs() < 1e-6, "deterministic policy action");
    }
    assert_eq!(app.world.resource::<EnvBuffer>().0.len(), 120, "only the training env is recorded");
    let log = &app.world.resource::<EpisodeLog>().0;
    assert!(log.iter().any(|e| e.env == 1), "evaluation episodes are logged under their env id");
    assert!(log.iter().any(|e| e.env == 0));
}

#[test]
fn the_policy_explores_with_its_samples_when_configured() {
    let (mut app, e) = run(0, 100);
    app.world.non_send_mut::<AgentResource>().exploration = crate::learning::Exploration::Policy;
    for _ in 0..5 {
        let obs = app.world.get::<Observation>(e).unwrap().0.clone();
        let mut twin = app.world.non_send::<AgentResource>().sac.copy_to(&AutoDevice::seed_from_u64(0)).unwrap();
        app.step().unwrap();
        let unit = app.world.get::<UnitAction>(e).unwrap().0.clone();
        assert_eq!(unit, twin.act(&obs, false), "an exploration step samples the (untrained) policy");
        assert_ne!(unit, twin.act(&obs, true), "a sample, not the mean");
    }
}

/// MSE that counts its evaluations in a shared counter.
struct Counted(Arc<std::sync::atomic::AtomicUsize>);

impl vagram_learn::losses::ModelLoss for Counted {
    fn name(&self) -> &'static str {
        "mse"
    }
    fn evaluate(&self, x: &vagram_learn::losses::LossInputs) -> Result<vagram_learn::losses::LossEval, vagram_learn::losses::LossError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        vagram_learn::losses::Mse.evaluate(x)
    }
}

#[test]
fn the_warm_up_loss_trains_and_validates_exactly_the_first_learning_epochs_fits() {
    use vagram_learn::dynamics::{DynamicsConfig, DynamicsModel};
    use vagram_learn::trainer::TrainerConfig;
    let (mut app, _) = run(0, 150);
    app.add_plugin(ModelTrainPlugin);
    let config = DynamicsConfig { members: 2, hidden: vec![8], ..DynamicsConfig::default() };
    let model = DynamicsModel::new(&AutoDevice::seed_from_u64(1), 1, 1, &config).unwrap();
    let counters: Vec<Arc<std::sync::atomic::AtomicUsize>> = (0..3).map(|_| Arc::default()).collect();
    let counter = |i: usize| Box::new(Counted(counters[i].clone()));
    app.world.insert_resource(LearningPhase { starts_at: 150, epoch_length: 100 });
    app.world.insert_non_send(ModelResource {
        model,
        loss: counter(1),
        validation_loss: counter(2),
        warmup: Some(counter(0)),
        trainer: TrainerConfig { batch_size: 32, max_epochs: Some(2), elites: 1, ..TrainerConfig::default() },
        train_every: 50,
        seed: 3,
        fits: 0,
        last: None,
    });
    app.world.insert_resource(ModelBuffer(ReplayBuffer::new(10, 1, 1)));
    app.world.insert_resource(AgentUpdateSettings {
        updates_per_step: 0,
        batch_size: 8,
        model_share: crate::learning::Schedule::constant(0.0),
        mixing: Mixing::PerSample,
        rng: rand::SeedableRng::seed_from_u64(6),
        last: None,
    });
    app.world.insert_resource(RolloutSettings {
        per_step: 1,
        length: crate::learning::Schedule::constant(1.0),
        cadence: crate::learning::RolloutCadence::PerFit,
        retain_epochs: 1,
        is_terminal: Arc::new(|_: &[f32]| false),
        rng: rand::SeedableRng::seed_from_u64(4),
    });
    let calls = || -> Vec<usize> { counters.iter().map(|c| c.load(std::sync::atomic::Ordering::Relaxed)).collect() };
    // Learning epoch 0 is env steps 150–249: fits after learning steps 50 and 100.
    app.run(250).unwrap();
    assert_eq!(app.world.non_send::<ModelResource>().fits, 2);
    let (warm, train, val) = (calls()[0], calls()[1], calls()[2]);
    assert!(warm > 0 && train == 0 && val == 0, "epoch 0 uses only the warm-up loss: {:?}", calls());
    app.run(50).unwrap();
    assert_eq!(app.world.non_send::<ModelResource>().fits, 3);
    let (warm_after, train, val) = (calls()[0], calls()[1], calls()[2]);
    assert_eq!(warm_after, warm, "no warm-up after the first learning epoch");
    assert!(train > 0 && val > 0, "the run's losses from epoch 1 on");
}

#[test]
fn a_failed_fit_stops_the_step_naming_stage_and_step_with_the_learning_error_as_its_source() {
    let (mut app, _) = run(0, 150);
    let _ = add_model_stages(&mut app);
    app.run(249).unwrap();
    app.world.resource_mut::<EnvBuffer>().0.push(&[0.1], &[0.0], f32::NAN, &[0.1], false);
    let error = app.step().expect_err("a NaN reward in the data stops the fit");
    let EngineError::Learning { stage, step, source } = &error else { panic!("a learning error: {error}") };
    assert_eq!((*stage, *step), ("model training", 250));
    match source.downcast_ref::<vagram_learn::LearnError>() {
        Some(vagram_learn::LearnError::NonFinite { tensor, value, .. }) => {
            assert!(tensor.contains("rewards") && value.is_nan(), "{tensor}: {value}")
        }
        other => panic!("the source is the learning crate's NonFinite error: {other:?}"),
    }
    assert_eq!(error.to_string(), "model training at env step 250", "the cause is not repeated in the message");
    let cause = std::error::Error::source(&error).map(|s| s.to_string()).unwrap_or_default();
    assert!(cause.contains("rewards has a non-finite value (NaN)"), "{cause}");
}

/// The whole loop on the slider from one [`MbpoConfig`], as a library user builds it.
fn slider_mbpo(members: usize) -> (SimApp, bevy_ecs::entity::Entity) {
    use vagram_learn::dynamics::DynamicsConfig;
    use vagram_learn::losses::{GradAt, LossKind};
    use vagram_learn::trainer::TrainerConfig;
    let factory: Arc<dyn vagram_engine::env::EnvFactory> = crate::ModelFactory::new(Slider::new());
    let mut app = SimApp::new(5);
    let options = SpawnOptions { action_source: ActionSource::External, ..SpawnOptions::new(0) };
    let env = factory.spawn(&mut app, &options).unwrap();
    let space = factory.spec().action_space.clone();
    app.world.entity_mut(env).insert((PolicyControlled { space }, ObservationBeforeAct::default(), FinalObservation::default()));
    let config = MbpoConfig {
        env: MbpoEnv::of(&app, env, factory, None),
        env_steps: 400,
        epoch_length: 100,
        initial_random_steps: 100,
        exploration: Exploration::Uniform,
        exploration_seed: 1,
        sac: SacConfig { hidden: vec![16], seed: 2, ..SacConfig::default() },
        act_with_mean: true,
        dynamics: DynamicsConfig { members, hidden: vec![16], seed: 3, ..DynamicsConfig::default() },
        loss: ModelLossConfig { kind: LossKind::Vagram, clip_percentile: 95.0, grad_at: GradAt::NextState, value_norm: Default::default() },
        trainer: TrainerConfig { batch_size: 32, patience: 2, max_epochs: Some(10), elites: 2, ..TrainerConfig::default() },
        train_every: 50,
        fit_seed: 4,
        rollouts_per_step: 4,
        rollout_length: crate::learning::Schedule::constant(1.0),
        rollout_cadence: RolloutCadence::PerFit,
        retain_epochs: 1,
        rollout_seed: 5,
        updates_per_step: 1,
        batch_size: 32,
        model_share: crate::learning::Schedule::constant(0.5),
        mixing: Mixing::PerSample,
        update_seed: 6,
        eval_episodes: 2,
        eval_seed: 7,
    };
    app.add_plugin(MbpoPlugin::from_config(config));
    (app, env)
}

#[test]
fn mbpo_plugin_from_one_config_runs_the_whole_loop_on_a_custom_env() {
    let (mut app, _) = slider_mbpo(3);
    app.run(400).unwrap();
    let rows = &app.world.resource::<EpochLog>().rows;
    assert_eq!(rows.iter().map(|r| r.env_steps).collect::<Vec<_>>(), [100, 200, 300, 400], "one row per epoch");
    let last = rows.last().unwrap();
    assert_eq!(last.model_fits, 6, "a fit every 50 learning steps of the 300");
    assert_eq!(last.sac_updates, 100, "one SAC update per step of the epoch");
    assert!(last.model_buffer > 0 && last.eval_return.is_finite() && last.eval_length > 0.0, "{last:?}");
    assert_eq!(rows[0].model_fits, 0, "nothing is learned while exploring");
}

#[test]
fn an_mbpo_config_the_model_rejects_is_the_apps_first_error() {
    let (mut app, _) = slider_mbpo(0);
    let error = app.take_error().expect_err("an ensemble of no members is refused");
    assert!(matches!(error, EngineError::Learning { stage: "building the MBPO loop", step: 0, .. }), "{error}");
    let cause = std::error::Error::source(&error).map(|s| s.to_string()).unwrap_or_default();
    assert!(cause.contains("ensemble members"), "{cause}");
}

#[test]
fn the_first_epochs_mse_warm_up_goes_to_vagram_and_the_authors_value_weighted_mse_only() {
    use vagram_learn::losses::{GradAt, LossKind};
    let config = |kind| ModelLossConfig { kind, clip_percentile: 95.0, grad_at: GradAt::Delta, value_norm: Default::default() };
    for kind in [LossKind::Vagram, LossKind::ValueWeightedNext] {
        let warmup = config(kind).warmup(7).unwrap_or_else(|| panic!("{kind} has the authors' add_mse"));
        assert_eq!(warmup.name(), kind.name());
        assert_eq!(warmup.grad_at(), GradAt::Delta, "{kind}: the warm-up takes the configured point");
    }
    for kind in [LossKind::Mle, LossKind::Mse, LossKind::ValueWeighted, LossKind::Itervaml, LossKind::ItervamlMse, LossKind::Taylor] {
        assert!(config(kind).warmup(7).is_none(), "{kind}");
    }
    assert_eq!(config(LossKind::ValueWeightedNext).training(7).grad_at(), GradAt::Delta);
    assert_eq!(config(LossKind::ValueWeighted).training(7).grad_at(), GradAt::NextState, "the paper's weights sit at s");
}
