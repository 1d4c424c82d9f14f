//! `vagram plot`: overlays the learning curves of runs (mean ± standard error over each run's
//! seeds), like the paper's figures.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use vagram::plot::curves::{draw_curves, read_curve};

/// Arguments of `vagram plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Run directories.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Output PNG.
    #[arg(long, default_value = "learning_curves.png")]
    out: PathBuf,
    /// Column of metrics.csv to plot (eval_return, train_return, model_val_loss, vaml_error, …).
    #[arg(long, default_value = "eval_return")]
    metric: String,
    /// Legend labels, one per run (default: the directory names).
    #[arg(long, value_delimiter = ',')]
    labels: Vec<String>,
    /// Title.
    #[arg(long)]
    title: Option<String>,
}

/// Runs `vagram plot`.
pub fn run(args: PlotArgs) -> anyhow::Result<()> {
    vagram::plot::check_png_path(&args.out).with_context(|| "--out")?;
    if !args.labels.is_empty() && args.labels.len() != args.runs.len() {
        anyhow::bail!("--labels has {} entries for {} runs", args.labels.len(), args.runs.len());
    }
    let mut curves = Vec::new();
    for (i, run) in args.runs.iter().enumerate() {
        let label = args
            .labels
            .get(i)
            .cloned()
            .unwrap_or_else(|| run.file_name().map_or(run.display().to_string(), |n| n.to_string_lossy().to_string()));
        curves.push(read_curve(run, &args.metric, &label)?);
    }
    let title = args.title.unwrap_or_else(|| format!("{} (mean ± SE over seeds)", args.metric));
    draw_curves(&curves, &args.out, &title, &args.metric)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
