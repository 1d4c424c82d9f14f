//! Model-free SAC on the ECS pendulum: the baseline every MBPO run is compared with, and the
//! check that the agent learns (issue: mean return above −250 over the last 10 episodes within
//! 20,000 env steps, fixed seed).
//!
//! Run: `cargo run --release --example sac_pendulum -- [SEED] [ENV_STEPS]`

use std::sync::Arc;

use rand::{RngExt, SeedableRng};
use vagram::engine::learn::replay::ReplayBuffer;
use vagram::engine::learn::sac::{Sac, SacConfig};
use vagram::engine::learn::AutoDevice;
use vagram::prelude::*;

const RANDOM_STEPS: usize = 1000;
const BATCH: usize = 256;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args.next().map_or(Ok(0), |s| s.parse())?;
    let steps: usize = args.next().map_or(Ok(20_000), |s| s.parse())?;

    let mut app = SimApp::new(seed);
    let mut options = SpawnOptions::new(0);
    options.action_source = ActionSource::External;
    let env = spawn_env(&mut app, Arc::new(Pendulum::default()), &options)?;
    app.world.entity_mut(env).insert(FinalObservation::default());
    let max_torque = Pendulum::default().spec().action_space.high[0];

    let dev = AutoDevice::seed_from_u64(seed);
    let mut sac = Sac::new(&dev, 3, 1, SacConfig { seed, ..SacConfig::default() });
    let mut buffer = ReplayBuffer::new(steps, 3, 1);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let start = std::time::Instant::now();
    let mut reported = 0;
    for t in 0..steps {
        let obs = app.world.get::<Observation>(env).unwrap().0.clone();
        let unit = if t < RANDOM_STEPS { vec![rng.random_range(-1.0f32..1.0)] } else { sac.act(&obs, false) };
        app.world.get_mut::<Action>(env).unwrap().0 = vec![unit[0] * max_torque];
        app.step()?;
        let reward = app.world.get::<Reward>(env).unwrap().0;
        let terminated = app.world.get::<Done>(env).unwrap().terminated;
        let next = app.world.get::<FinalObservation>(env).unwrap().0.clone();
        buffer.push(&obs, &unit, reward, &next, terminated);
        if t >= RANDOM_STEPS {
            let stats = sac.update(&buffer.sample(BATCH, &mut rng));
            let log = &app.world.resource::<EpisodeLog>().0;
            if log.len() >= reported + 10 {
                reported = log.len();
                let last10 = log[log.len() - 10..].iter().map(|e| e.ret).sum::<f64>() / 10.0;
                println!(
                    "step {:>6}  episodes {:>3}  mean return (last 10) {:>8.1}  critic loss {:.3}  α {:.3}  {:.0} s",
                    t + 1,
                    log.len(),
                    last10,
                    stats.critic_loss,
                    stats.alpha,
                    start.elapsed().as_secs_f64()
                );
            }
        }
    }
    let log = &app.world.resource::<EpisodeLog>().0;
    let last10 = log[log.len().saturating_sub(10)..].iter().map(|e| e.ret).sum::<f64>() / 10f64.min(log.len() as f64);
    println!("final: mean return over the last 10 episodes {last10:.1} after {steps} env steps ({:.0} s)", start.elapsed().as_secs_f64());
    if last10 < -250.0 {
        return Err(format!("did not reach -250 (got {last10:.1})").into());
    }
    Ok(())
}
