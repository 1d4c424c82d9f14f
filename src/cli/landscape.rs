//! `vagram landscape`: trains a SAC value function on the pendulum and draws paper Fig. 1 —
//! the value function and the VAML, MSE and VaGraM loss landscapes around one transition.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use vagram::learn::landscape::{PendulumCoordinates, landscape};
use vagram::model_free::{SacRun, train_sac};

/// Arguments of `vagram landscape`.
#[derive(Args, Debug)]
pub struct LandscapeArgs {
    /// Environment (the figure is defined for `pendulum`).
    #[arg(long, default_value = "pendulum")]
    env: String,
    /// SAC training steps for the value function.
    #[arg(long, default_value_t = 8000)]
    steps: usize,
    /// Seed of env and agent.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The reference next state (θ, θ̇).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, default_value = "1.5,-2.0")]
    at: Vec<f64>,
    /// Half-width of the plotted window around the reference, in both coordinates.
    #[arg(long, default_value_t = 1.5)]
    window: f64,
    /// Grid points per axis.
    #[arg(long, default_value_t = 81)]
    grid: usize,
    /// Output PNG.
    #[arg(long, default_value = "landscape.png")]
    out: PathBuf,
}

pub fn run(args: LandscapeArgs) -> anyhow::Result<()> {
    vagram::plot::check_png_path(&args.out).context("--out")?;
    if args.env != "pendulum" {
        bail!("--env = '{}': the loss landscape is defined for 'pendulum' (coordinates θ, θ̇)", args.env);
    }
    if args.at.len() != 2 || args.at.iter().any(|v| !v.is_finite()) {
        bail!("--at needs two finite numbers θ,θ̇, got {:?}", args.at);
    }
    if !((2..=1000).contains(&args.grid) && args.window > 0.0 && args.window.is_finite()) {
        bail!("--grid must be 2..=1000 and --window a positive number (got {} and {})", args.grid, args.window);
    }
    let registry = vagram::envs::builtin_registry();
    let run = SacRun::new(&args.env, args.steps, args.seed);
    let bar = indicatif::ProgressBar::new(args.steps as u64).with_style(
        indicatif::ProgressStyle::with_template("training SAC {bar:30} {pos}/{len} steps · {msg} · ETA {eta}").expect("valid template"),
    );
    let (sac, episodes) = train_sac(&registry, &run, &mut |t, _, eps, _| {
        bar.set_position(t as u64);
        if let Some(last) = eps.last() {
            bar.set_message(format!("last return {:.0}", last.ret));
        }
    })?;
    bar.finish_and_clear();
    let tail = &episodes[episodes.len().saturating_sub(5)..];
    let mean = tail.iter().map(|e| e.ret).sum::<f64>() / tail.len().max(1) as f64;
    println!("SAC trained for {} steps: mean return of the last {} episodes {mean:.1}", args.steps, tail.len());
    let r = [args.at[0], args.at[1]];
    let w = args.window;
    let l = landscape(&sac.value_oracle(), &PendulumCoordinates, r, [r[0] - w, r[0] + w], [r[1] - w, r[1] + w], args.grid);
    vagram::plot::landscape::draw_landscape(&l, &args.out, 420, ["θ", "dθ/dt"])?;
    println!("∂V/∂(θ, dθ/dt) at the reference: ({:.3}, {:.3})", l.gradient[0], l.gradient[1]);
    println!("wrote {}", args.out.display());
    Ok(())
}
