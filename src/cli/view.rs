//! `vagram view`: the egui viewer (built with `--features viewer`). Three ways in: envs stepped
//! by the viewer (`vagram view --env hopper`), live training (`vagram view --train <train
//! args>`), or an opened run (`vagram view runs/NAME`).

use std::path::PathBuf;

use clap::Args;

/// Arguments of `vagram view`.
#[derive(Args, Debug)]
pub struct ViewArgs {
    /// A run directory to open: its curves, seed status and checkpointed policy.
    run: Option<PathBuf>,
    /// Environment to show (default: pendulum, or the opened run's env).
    #[arg(long)]
    env: Option<String>,
    /// Number of instances (a grid; click one to enlarge it).
    #[arg(long, default_value_t = 16, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    envs: usize,
    /// Master seed of the viewed envs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Distracting dimensions of the viewed envs (an opened run uses its own).
    #[arg(long, default_value_t = 0)]
    distractors: usize,
    /// Which seed's checkpointed policy drives the envs of an opened run (default: the first).
    #[arg(long)]
    policy_seed: Option<u64>,
    /// Close after this many seconds and print the frame rate (scripts, measurements).
    #[arg(long)]
    seconds: Option<f64>,
    /// With --train: close the window once every seed has ended.
    #[arg(long, requires = "train")]
    until_trained: bool,
    /// With --seconds or --until-trained: write a PNG screenshot just before closing.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// The side panel's first page: curves or landscape (the landscape exists for the pendulum).
    #[arg(long, default_value = "landscape", value_parser = ["curves", "landscape"])]
    page: String,
    /// Cap the frame rate (default: none; 30 while training, to leave the cores to it).
    #[arg(long)]
    max_fps: Option<f64>,
    /// Train while watching; everything after --train is `vagram train`'s arguments, so put
    /// the viewer's own options before it.
    #[arg(long, num_args = 0.., allow_hyphen_values = true, value_name = "TRAIN ARGS", conflicts_with = "run")]
    train: Option<Vec<String>>,
}

/// Runs `vagram view`.
#[cfg(feature = "viewer")]
pub fn run(args: ViewArgs) -> anyhow::Result<()> {
    live::run(args)
}

/// Runs `vagram view`: this build has no viewer.
#[cfg(not(feature = "viewer"))]
pub fn run(args: ViewArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("this vagram was built without the viewer: rebuild with `cargo run --release --features viewer -- view …`")
}

#[cfg(feature = "viewer")]
mod live {
    use std::time::Duration;

    use anyhow::{Context, bail};
    use clap::Parser;
    use vagram::engine::env::{DistractorConfig, DistractorVariant};
    use vagram::view::open_run::open_run;
    use vagram::view::watch::FeedWatch;
    use vagram::view::{copy_agent, has_landscape};
    use vagram_viz::{AutoClose, LocalEnvs, LocalOptions, Page, RunHistory, TrainEvent, Viewer, feed, run_viewer};

    use super::ViewArgs;
    use crate::cli::train::{TrainArgs, execute, prepare};

    /// `vagram train`'s arguments, parsed from what follows `--train`.
    #[derive(Parser, Debug)]
    #[command(name = "vagram view --train")]
    struct TrainOnly {
        #[command(flatten)]
        args: TrainArgs,
    }

    fn auto_close(args: &ViewArgs) -> anyhow::Result<AutoClose> {
        let after = match args.seconds {
            Some(s) if !(s.is_finite() && s > 0.0) => bail!("--seconds must be a positive number, got {s}"),
            s => s.map(Duration::from_secs_f64),
        };
        if args.screenshot.is_some() && after.is_none() && !args.until_trained {
            bail!("--screenshot is taken just before the viewer closes by itself: add --seconds or --until-trained");
        }
        Ok(AutoClose { after, screenshot: args.screenshot.clone(), when_trained: args.until_trained })
    }

    fn with_fps_cap(viewer: Viewer, max_fps: Option<f64>) -> Viewer {
        match max_fps {
            Some(fps) => viewer.with_max_fps(fps),
            None => viewer,
        }
    }

    fn page(args: &ViewArgs) -> Page {
        if args.page == "curves" { Page::Curves } else { Page::Landscape }
    }

    pub fn run(args: ViewArgs) -> anyhow::Result<()> {
        let close = auto_close(&args)?;
        if let Some(train) = &args.train {
            return train_and_watch(&args, train, close);
        }
        let registry = vagram::envs::builtin_registry();
        let Some(dir) = &args.run else {
            let env = args.env.clone().unwrap_or_else(|| "pendulum".into());
            let options = LocalOptions {
                env: env.clone(),
                envs: args.envs,
                seed: args.seed,
                distractors: (args.distractors > 0)
                    .then_some(DistractorConfig { dims: args.distractors, variant: DistractorVariant::Paper }),
            };
            let local = LocalEnvs::new(&registry, &options)?;
            let viewer = Viewer::new(&format!("{} × {env}", args.envs)).with_local(local).with_auto_close(close);
            return run_viewer(with_fps_cap(viewer, args.max_fps));
        };
        let opened = open_run(dir, args.policy_seed)?;
        let config = &opened.config;
        if args.env.as_ref().is_some_and(|e| *e != config.env.name) {
            bail!("--env {}: the run in {} trained on {}", args.env.as_deref().unwrap_or_default(), dir.display(), config.env.name);
        }
        let mut messages = opened.messages;
        let options =
            LocalOptions { env: config.env.name.clone(), envs: args.envs, seed: args.seed, distractors: config.env.distractor_config() };
        let mut local = LocalEnvs::new(&registry, &options)?;
        let mut history = opened.history;
        let landscape = has_landscape(&config.env.name, config.env.distractors);
        let mut title = format!("{} · {} loss · {}", dir.display(), config.model.loss, config.env.name);
        if let Some((seed, agent)) = opened.agent {
            if landscape {
                history.apply(TrainEvent::Values {
                    seed,
                    epoch: history.seeds.get(&seed).map_or(0, |h| h.rows.len() as u64),
                    agent: copy_agent(&agent)?,
                });
            }
            match local.set_policy(agent) {
                Ok(()) => title.push_str(&format!(" · policy of seed {seed}")),
                Err(e) => messages.push(format!("policy not used: {e:#}")),
            }
        }
        let mut viewer = Viewer::new(&title).with_local(local).with_history(history).with_messages(messages).with_auto_close(close);
        if landscape {
            viewer = viewer.with_landscape().with_page(page(&args));
        }
        run_viewer(with_fps_cap(viewer, args.max_fps))
    }

    fn train_and_watch(args: &ViewArgs, train: &[String], close: AutoClose) -> anyhow::Result<()> {
        let parsed = TrainOnly::try_parse_from(std::iter::once("vagram view --train".to_string()).chain(train.iter().cloned()))
            .map_err(|e| anyhow::anyhow!("{}", e.render().to_string().trim_end()))?;
        let train_args = parsed.args;
        if train_args.export_slurm.is_some() {
            bail!("--export-slurm writes a job script and trains nothing: use `vagram train` for it");
        }
        let prepared = prepare(&train_args)?.context("nothing to train")?;
        let config = &prepared.config;
        let landscape = has_landscape(&config.env.name, config.env.distractors);
        let (tx, rx) = feed(2 * prepared.seeds.len());
        let watch = FeedWatch { feed: tx, values: landscape };
        let title = format!(
            "training {} · {} loss · {} seed(s) → {}",
            config.env.name,
            config.model.loss,
            prepared.seeds.len(),
            prepared.dir.display()
        );
        let mut viewer = Viewer::new(&title)
            .with_history(RunHistory::new(vagram::systems::learning::EpochRow::header()))
            .with_feed(rx)
            .with_max_fps(args.max_fps.unwrap_or(30.0))
            .with_auto_close(close);
        if landscape {
            viewer = viewer.with_landscape().with_page(page(args));
        }
        std::thread::scope(|scope| {
            let training = scope.spawn(|| execute(&prepared, &train_args, Some(&watch)));
            let shown = run_viewer(viewer);
            if !training.is_finished() {
                eprintln!(
                    "viewer closed; training goes on (stop with Ctrl-C, continue later with `vagram train --resume {}`)",
                    prepared.dir.display()
                );
            }
            let trained = training.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the training thread panicked")));
            shown.and(trained)
        })
    }
}
