//! Model-free SAC on any registered env, stepped through the ECS schedule: the baseline the
//! MBPO runs compare with, and the source of the value functions `vagram landscape` plots.

use rand::{RngExt, SeedableRng};

use crate::engine::SimApp;
use crate::engine::env::components::{Action, Done, EpisodeLog, EpisodeRecord, FinalObservation, Observation, Reward};
use crate::engine::env::{ActionSource, EnvRegistry, SpawnOptions};
use crate::learn::AutoDevice;
use crate::learn::replay::ReplayBuffer;
use crate::learn::sac::{Sac, SacConfig, SacStats};

/// How to train.
#[derive(Debug, Clone)]
pub struct SacRun {
    /// Registry name of the env.
    pub env: String,
    /// Env steps in total.
    pub steps: usize,
    /// Uniformly random steps before the first update.
    pub random_steps: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Seed of env and agent.
    pub seed: u64,
    /// Agent settings.
    pub sac: SacConfig,
}

impl SacRun {
    /// The defaults that solve the pendulum in 20k steps (RESULTS.md).
    pub fn new(env: &str, steps: usize, seed: u64) -> Self {
        Self { env: env.into(), steps, random_steps: 1000, batch_size: 256, seed, sac: SacConfig { seed, ..SacConfig::default() } }
    }
}

/// Called after every env step with the step count, the last update's stats, the finished
/// episodes and the agent (e.g. to snapshot its critics).
pub type Progress<'a> = dyn FnMut(usize, Option<SacStats>, &[EpisodeRecord], &Sac<AutoDevice>) + 'a;

/// Trains SAC, one update per env step after the random phase; `progress(step, last update's
/// stats, finished episodes, agent)` is called after every step. Actions are scaled from [−1, 1] to
/// the env's action box.
pub fn train_sac(registry: &EnvRegistry, run: &SacRun, progress: &mut Progress) -> anyhow::Result<(Sac<AutoDevice>, Vec<EpisodeRecord>)> {
    let factory = registry.get(&run.env)?;
    let spec = factory.spec().clone();
    let (obs_dim, act_dim) = (spec.obs_dim, spec.action_dim());
    let mut app = SimApp::new(run.seed);
    let mut options = SpawnOptions::new(0);
    options.action_source = ActionSource::External;
    let env = factory.spawn(&mut app, &options)?;
    app.world.entity_mut(env).insert(FinalObservation::default());

    let dev = AutoDevice::seed_from_u64(run.seed);
    let mut sac = Sac::new(&dev, obs_dim, act_dim, run.sac.clone());
    let mut buffer = ReplayBuffer::new(run.steps.max(1), obs_dim, act_dim);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(run.seed);
    for t in 0..run.steps {
        let obs = app.world.get::<Observation>(env).expect("env entity").0.clone();
        let unit = if t < run.random_steps { (0..act_dim).map(|_| rng.random_range(-1.0f32..1.0)).collect() } else { sac.act(&obs, false) };
        app.world.get_mut::<Action>(env).expect("env entity").0 = spec.action_space.from_unit(&unit);
        app.step()?;
        let reward = app.world.get::<Reward>(env).expect("env entity").0;
        let terminated = app.world.get::<Done>(env).expect("env entity").terminated;
        let next = app.world.get::<FinalObservation>(env).expect("inserted above").0.clone();
        buffer.push(&obs, &unit, reward, &next, terminated);
        let stats = (t >= run.random_steps).then(|| sac.update(&buffer.sample(run.batch_size, &mut rng)));
        if let Some(s) = stats
            && !(s.critic_loss.is_finite() && s.actor_loss.is_finite())
        {
            anyhow::bail!("SAC update at env step {} produced a non-finite loss (critic {}, actor {})", t + 1, s.critic_loss, s.actor_loss);
        }
        progress(t + 1, stats, &app.world.resource::<EpisodeLog>().0, &sac);
    }
    let episodes = std::mem::take(&mut app.world.resource_mut::<EpisodeLog>().0);
    Ok((sac, episodes))
}
