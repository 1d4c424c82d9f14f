//! Model-free SAC on the ECS pendulum: the baseline every MBPO run is compared with, and the
//! check that the agent learns (issue: mean return above −250 over the last 10 episodes within
//! 20,000 env steps, fixed seed).
//!
//! Run: `cargo run --release --example sac_pendulum -- [SEED] [ENV_STEPS] [MATMUL]` (`f32`, the
//! default, or `bf16`: see `vagram::learn::Matmul`).

use vagram::model_free::{SacRun, train_sac};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let seed: u64 = args.next().map_or(Ok(0), |s| s.parse())?;
    let steps: usize = args.next().map_or(Ok(20_000), |s| s.parse())?;
    let matmul: vagram::learn::Matmul = args.next().map_or(Ok(Default::default()), |s| s.parse())?;
    let start = std::time::Instant::now();
    let mut reported = 0;
    let mut run = SacRun::new("pendulum", steps, seed);
    run.sac.matmul = matmul;
    println!("matmuls: {matmul}");
    let (_, episodes) = train_sac(&vagram::envs::builtin_registry(), &run, &mut |t, stats, log, _| {
        if let Some(s) = stats
            && log.len() >= reported + 10
        {
            reported = log.len();
            let last10 = log[log.len() - 10..].iter().map(|e| e.ret).sum::<f64>() / 10.0;
            println!(
                "step {t:>6}  episodes {:>3}  mean return (last 10) {last10:>8.1}  critic loss {:.3}  α {:.3}  {:.0} s",
                log.len(),
                s.critic_loss,
                s.alpha,
                start.elapsed().as_secs_f64()
            );
        }
    })?;
    let tail = &episodes[episodes.len().saturating_sub(10)..];
    let last10 = tail.iter().map(|e| e.ret).sum::<f64>() / tail.len().max(1) as f64;
    println!("final: mean return over the last 10 episodes {last10:.1} after {steps} env steps ({:.0} s)", start.elapsed().as_secs_f64());
    anyhow::ensure!(last10 > -250.0, "did not reach -250 (got {last10:.1})");
    Ok(())
}
