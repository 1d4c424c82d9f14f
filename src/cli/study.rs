//! `vagram study`: the paper's experiments as named studies — list them, show one, run one
//! (resumably, several seeds at once), draw its figure and summary, draw several studies'
//! differences as one forest plot, export it to Slurm.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::bail;
use clap::{Args, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use vagram::study::runner::{Progress, RunOptions, run_study};
use vagram::study::summary::{DIFFERENCES, DIFFERENCES_HEADER, SEEDS, SEEDS_HEADER, SUMMARY, SUMMARY_HEADER, summarise, table, write_csv};
use vagram::study::{Scale, StudyDef, StudyDir, catalogue, figure};
use vagram::train::EpochReport;
use vagram::train::SeedOutcome;
use vagram::train::lock::{RunAccess, RunLock};

use super::runtime;

/// Arguments of `vagram study`.
#[derive(Args, Debug)]
pub struct StudyArgs {
    #[command(subcommand)]
    command: StudyCommand,
}

#[derive(Subcommand, Debug)]
enum StudyCommand {
    /// List the built-in studies.
    List,
    /// Show a study: what the paper reports, its grid, and its budget at each scale.
    Show {
        /// A built-in study's name, or a path to a study .toml file.
        study: String,
        /// Also estimate each cell's cost at this scale on this machine (a short calibration
        /// per cell).
        #[arg(long, value_enum)]
        cost: Option<Scale>,
    },
    /// Run a study on this machine (rerun the same command to continue it).
    Run(Box<RunArgs>),
    /// Write a study directory's summary.csv, seeds.csv, differences.csv and figure (PNG and SVG).
    Plot {
        /// The study directory.
        dir: PathBuf,
        /// The score that counts as solving the task (e.g. 200 on the cartpole, -250 on the
        /// pendulum), for seeds.csv's first x at or above it and the table's count of seeds
        /// that got there; default: the study's own `solved`, if it has one.
        #[arg(long, allow_negative_numbers = true)]
        solved: Option<f64>,
    },
    /// Draw several studies' differences (their differences.csv) as one forest plot: a row of
    /// panels per file, a column per score, each difference with its confidence interval.
    Forest {
        /// Study directories or their differences.csv files (written by `vagram study plot
        /// DIR`), top to bottom.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The compared pair to draw, as in the files' `compared` column.
        #[arg(long, default_value = "vagram - mle")]
        compare: String,
        /// The figure (PNG; an SVG is written beside it).
        #[arg(long, default_value = "forest.png")]
        out: PathBuf,
        /// The figure's title (default: the pair and the interval method).
        #[arg(long)]
        title: Option<String>,
    },
    /// Write a Slurm job-array script (one task per cell × seed) into a study directory.
    ExportSlurm {
        /// The study directory (made when it holds no study yet; then --study is needed).
        dir: PathBuf,
        /// The study, for a new directory.
        #[arg(long)]
        study: Option<String>,
        /// Scale of a new study directory.
        #[arg(long, value_enum)]
        scale: Option<Scale>,
        /// Seeds per cell of a new study directory (default: the scale's); above an existing
        /// study's count, it grows the study by the next seed numbers.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        seeds: Option<u64>,
        /// Each task's time limit, as Slurm takes it (e.g. 2-00:00:00). Default: 1.5 × the
        /// largest cell's estimated time per seed, calibrated on this machine (3 × its lower
        /// bound for fits without an epoch cap), at least 10 minutes.
        #[arg(long)]
        time: Option<String>,
        /// Each task's memory in GiB (default: from the configs' memory estimate).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        mem: Option<u64>,
        /// Cores per task (its compute threads).
        #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        cpus_per_task: usize,
        /// The cluster's MaxArraySize (default: from `scontrol show config` where Slurm is
        /// reachable, else Slurm's default 1001); more tasks are split into several scripts.
        #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        max_array_size: Option<usize>,
    },
}

/// Arguments of `vagram study run`.
#[derive(Args, Debug)]
struct RunArgs {
    /// A built-in study's name, or a path to a study .toml file.
    study: String,
    /// The study directory (default: runs/STUDY-SCALE).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Scale: smoke (minutes), cpu (about 2 hours on 2 cores), paper (the paper's budgets).
    /// Default: the directory's, or cpu for a new one.
    #[arg(long, value_enum)]
    scale: Option<Scale>,
    /// Seeds per cell (default: the scale's). Above a started study's count it adds the next
    /// seed numbers to every cell, keeping the seeds trained already; below it is refused.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: Option<u64>,
    /// Run only this cell (repeatable; see `vagram study show`).
    #[arg(long)]
    only: Vec<String>,
    #[command(flatten)]
    run: super::seed_options::SeedOptions,
}

/// Runs `vagram study`.
pub fn run(args: StudyArgs) -> anyhow::Result<()> {
    let registry = vagram::envs::builtin_registry();
    let envs = registry.names();
    match args.command {
        StudyCommand::List => {
            println!("{:<22} {:>5}  {:>21}  title", "study", "cells", "seeds smoke/cpu/paper");
            for name in catalogue::names() {
                let (def, _) = catalogue::load(&name)?;
                let seeds: Vec<String> = Scale::ALL.iter().map(|s| def.scale(*s).seeds.to_string()).collect();
                println!("{:<22} {:>5}  {:>21}  {}", name, def.settings.len() * def.lines.len(), seeds.join("/"), def.title);
            }
            Ok(())
        }
        StudyCommand::Show { study, cost } => {
            let (def, _) = catalogue::load(&study)?;
            let model_learning = def.model_learning(cost.unwrap_or(Scale::Cpu)).is_some();
            if model_learning && cost.is_some() {
                bail!(
                    "{} is a model-learning study: --cost estimates MBPO runs, not model fits (fig2 at cpu scale took 35 min on one core, RESULTS.md)",
                    def.name
                );
            }
            show(&def, &envs)?;
            match cost {
                Some(scale) => show_cost(&def, scale, &registry),
                None if model_learning => Ok(()),
                None => {
                    println!("\n(cost on this machine: vagram study show {} --cost cpu|paper|smoke)", def.name);
                    Ok(())
                }
            }
        }
        StudyCommand::Run(run) => run_cmd(*run, &registry),
        StudyCommand::Plot { dir, solved } => {
            let study = StudyDir::open(&dir, &envs)?;
            report_study(&study, solved)
        }
        StudyCommand::Forest { files, compare, out, title } => {
            let forest = vagram::study::forest::forest(&files, &compare, title)?;
            let svg = vagram::plot::forest::draw_forest(&forest, &out)?;
            let rows: usize = forest.groups.iter().map(|g| g.labels.len()).sum();
            println!("forest of {compare} over {} file(s), {rows} setting(s) → {} and {}", files.len(), out.display(), svg.display());
            Ok(())
        }
        StudyCommand::ExportSlurm { dir, study, scale, seeds, time, mem, cpus_per_task, max_array_size } => {
            vagram::study::slurm::slurm_path(&dir, "study directory")?;
            let _lock = runtime(RunLock::run(&dir, RunAccess::Whole))?;
            let opened = match study {
                Some(name) => {
                    let (def, text) = catalogue::load(&name)?;
                    StudyDir::create_or_check(&dir, &def, &text, scale, seeds, &envs)?
                }
                None if dir.join(vagram::study::study_dir::MANIFEST).exists() => {
                    let (def, text) = vagram::study::study_dir::read_definition(&dir)?;
                    StudyDir::create_or_check(&dir, &def, &text, scale, seeds, &envs)?
                }
                None => bail!("{} holds no study yet: name one with --study (studies: {})", dir.display(), catalogue::names().join(", ")),
            };
            if opened.def.model_learning(opened.manifest.scale).is_some() {
                bail!(
                    "{} is a model-learning study: it runs in minutes on one machine (vagram study run), not as Slurm tasks",
                    opened.def.name
                );
            }
            for cell in &opened.cells {
                let run = opened.cell_dir(&cell.name);
                let _cell = runtime(RunLock::run(&run, RunAccess::Whole))?;
                if !run.join("config.toml").exists() {
                    vagram::train::run_dir::RunInfo::create(&run, &cell.config, &opened.manifest.seeds)?;
                } else {
                    vagram::study::study_dir::add_seeds_to_cell(&run, &opened.manifest.seeds)?;
                }
            }
            let exe = std::env::current_exe().map_or("vagram".into(), |p| p.display().to_string());
            use vagram::study::slurm::{DEFAULT_MAX_ARRAY_SIZE, SlurmOptions, cluster_max_array_size, default_mem_gib, default_time};
            let time = match time {
                Some(t) => t,
                None => {
                    eprintln!("calibrating {} cell(s) for the tasks' time limit (--time to set it)…", opened.cells.len());
                    let mut longest = 0.0f64;
                    for cell in &opened.cells {
                        let e = vagram::train::cost::estimate(&cell.config, &registry, 1)?;
                        longest = longest.max(e.total_most().unwrap_or(3.0 * e.total()));
                    }
                    default_time(longest)
                }
            };
            let mem_gib = match mem {
                Some(m) => m,
                None => default_mem_gib(&opened, &registry)?,
            };
            let options = SlurmOptions {
                time: time.clone(),
                mem_gib,
                cpus: cpus_per_task,
                max_array_size: max_array_size.or_else(cluster_max_array_size).unwrap_or(DEFAULT_MAX_ARRAY_SIZE),
            };
            let scripts = vagram::study::slurm::export(&opened, &exe, &options)?;
            let tasks = vagram::study::slurm::tasks(&opened).len();
            let names: Vec<String> = scripts.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "wrote {} ({tasks} array tasks: {} cells × {} seeds; --time={time} --mem={mem_gib}G --cpus-per-task={cpus_per_task}); submit with sbatch {}",
                names.join(", "),
                opened.cells.len(),
                opened.manifest.seeds.len(),
                names.join(" and sbatch ")
            );
            Ok(())
        }
    }
}

fn show(def: &StudyDef, envs: &[&str]) -> anyhow::Result<()> {
    println!("{}: {}\n", def.name, def.title);
    println!("The paper: {}\n", def.paper.trim());
    println!("preset {} · metric {} · overrides for all cells: {}", def.preset, def.metric, list(&def.set));
    println!("settings (panels):");
    for s in &def.settings {
        println!("  {:<16} {}", s.name, list(&s.set));
    }
    println!("lines (curves):");
    for l in &def.lines {
        println!("  {:<16} loss {:<16} {}", l.name, l.loss.name(), list(&l.set));
    }
    for scale in Scale::ALL {
        let sd = def.scale(scale);
        let cells = def.cells(scale, envs)?;
        if let Some(ml) = def.model_learning(scale) {
            // A model-learning study trains one model-free SAC agent for its value functions,
            // then fits models; no MBPO env steps.
            println!(
                "\nscale {scale}: {} models × {} cells; SAC on {} for {} random + {} × {} env steps (one value function saved per epoch); \
                 each model {} SGD steps on {} uniform transitions ({} × {}, value function swapped every {}), VAML error on {} held out every {} steps",
                sd.seeds,
                cells.len(),
                def.preset,
                ml.sac_random_steps,
                ml.value_functions,
                ml.epoch_length,
                ml.value_functions * ml.swap_every,
                ml.samples,
                ml.value_functions,
                ml.swap_every,
                ml.swap_every,
                ml.held_out,
                ml.log_every
            );
        } else {
            let steps: u64 = cells.iter().map(|c| c.config.run.env_steps).sum();
            let updates: u64 = cells
                .iter()
                .map(|c| {
                    (c.config.run.env_steps - c.config.run.initial_random_steps.min(c.config.run.env_steps))
                        * c.config.agent.updates_per_step as u64
                })
                .sum();
            println!(
                "\nscale {scale}: {} seeds × {} cells; per seed of a cell {} env steps; in all {} env steps and {} SAC updates",
                sd.seeds,
                cells.len(),
                cells.first().map_or(0, |c| c.config.run.env_steps),
                steps * sd.seeds,
                updates * sd.seeds
            );
        }
        println!("  overrides: {}", list(&sd.set));
        if !sd.note.trim().is_empty() {
            println!("  {}", sd.note.trim());
        }
    }
    Ok(())
}

/// Calibrates every cell of `def` at `scale` and prints its estimated cost per seed and the
/// study's wall time with one seed per core.
fn show_cost(def: &StudyDef, scale: Scale, registry: &vagram::engine::env::EnvRegistry) -> anyhow::Result<()> {
    use vagram::train::cost::{CostEstimate, estimate};
    let cells = def.cells(scale, &registry.names())?;
    let seeds = def.scale(scale).seeds as f64;
    println!("\ncost at scale {scale} on this machine (calibrated per cell on one core):");
    let mut in_all: Option<CostEstimate> = None;
    for cell in &cells {
        let e = estimate(&cell.config, registry, 1)?;
        println!("  {:<24} {e}", cell.name);
        in_all = Some(match in_all {
            None => e.times(seeds),
            Some(sum) => sum.plus(&e.times(seeds)),
        });
    }
    let Some(in_all) = in_all else { return Ok(()) };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "in all: {} of core time for {} seed runs; {} of wall time on this machine's {cores} core(s), one seed per core",
        in_all.summary(),
        cells.len() as f64 * seeds,
        in_all.times(1.0 / cores as f64).summary()
    );
    Ok(())
}

fn list(set: &[String]) -> String {
    if set.is_empty() { "(none)".into() } else { set.join(" ") }
}

struct Bars {
    multi: MultiProgress,
    bars: Mutex<Vec<ProgressBar>>,
    quiet: bool,
    names: Mutex<Vec<String>>,
}

impl Progress for Bars {
    fn start(&self, cells: &[(String, u64, u64)]) {
        let style = ProgressStyle::with_template("{prefix:<24} [{bar:28}] {pos}/{len} seed-epochs {msg} (ETA {eta})")
            .expect("valid template")
            .progress_chars("=> ");
        let mut bars = self.bars.lock().expect("not poisoned");
        for (name, total, done) in cells {
            let bar = self.multi.add(ProgressBar::new(*total).with_style(style.clone()).with_prefix(name.clone()));
            bar.set_position(*done);
            bars.push(bar);
        }
        *self.names.lock().expect("not poisoned") = cells.iter().map(|c| c.0.clone()).collect();
    }

    fn epoch(&self, cell: usize, r: &EpochReport) {
        let bars = self.bars.lock().expect("not poisoned");
        bars[cell].inc(1);
        bars[cell].set_message(format!("· seed {} at {} steps: eval {:.1}", r.seed, r.row.env_steps, r.row.eval_return));
        if self.quiet || self.multi.is_hidden() {
            let name = &self.names.lock().expect("not poisoned")[cell];
            eprintln!(
                "{name} seed {} epoch {}/{} · {} steps · eval return {:.1}",
                r.seed, r.epochs_done, r.epochs_total, r.row.env_steps, r.row.eval_return
            );
        }
    }
}

fn run_cmd(args: RunArgs, registry: &vagram::engine::env::EnvRegistry) -> anyhow::Result<()> {
    let envs = registry.names();
    let (def, text) = catalogue::load(&args.study)?;
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => PathBuf::from(format!("runs/{}-{}", def.name, args.scale.unwrap_or(Scale::Cpu))),
    };
    let _lock = runtime(RunLock::run(&dir, RunAccess::Whole))?;
    let study = StudyDir::create_or_check(&dir, &def, &text, args.scale, args.seeds, &envs)?;
    // A request naming no cell is a usage error (exit 2) for either kind of study.
    study.chosen(&args.only)?;
    vagram::train::stop::install()?;
    let threads = args.run.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let done = study.progress().iter().filter(|p| p.3).count();
    eprintln!(
        "study {} at scale {}: {} cells × {} seeds ({} finished already), {threads} at once → {}",
        def.name,
        study.manifest.scale,
        study.cells.len(),
        study.manifest.seeds.len(),
        done,
        dir.display()
    );
    if study.def.model_learning(study.manifest.scale).is_some() {
        let report = |cell: &str, finals: &[f64]| {
            let (mean, se) = vagram::plot::curves::mean_se(finals).unwrap_or((f64::NAN, f64::NAN));
            eprintln!("{cell}: final held-out VAML error {mean:.4} ± {se:.4} over {} models", finals.len());
        };
        let result = vagram::study::model_learning::run_model_learning(&study, registry, &args.only, threads, &report);
        report_study(&study, None)?;
        return runtime(result);
    }
    let multi = if args.run.quiet { MultiProgress::with_draw_target(ProgressDrawTarget::hidden()) } else { MultiProgress::new() };
    let bars = Bars { multi, bars: Mutex::new(Vec::new()), quiet: args.run.quiet, names: Mutex::new(Vec::new()) };
    let options =
        RunOptions { only: &args.only, threads, checkpoint_every: args.run.checkpoint_every, stop_after: args.run.stop_after_epochs };
    let results = run_study(&study, registry, &options, &bars)?;
    for b in bars.bars.lock().expect("not poisoned").iter() {
        b.abandon();
    }
    let mut failed = Vec::new();
    let mut paused = 0;
    for r in &results {
        match &r.outcome {
            Ok(SeedOutcome::Finished { .. }) => {}
            Ok(SeedOutcome::Paused { .. } | SeedOutcome::Interrupted { .. }) => paused += 1,
            Ok(SeedOutcome::Stopped { message, .. }) => failed.push(format!("{} seed {}: {message}", r.cell, r.seed)),
            Err(e) => failed.push(format!("{} seed {}: {e:#}", r.cell, r.seed)),
        }
    }
    report_study(&study, None)?;
    if !failed.is_empty() {
        return runtime(Err(anyhow::anyhow!(
            "{} seed(s) did not finish (logs and checkpoints kept):\n  {}",
            failed.len(),
            failed.join("\n  ")
        )));
    }
    if let Some(signal) = vagram::train::stop::requested() {
        return runtime(Err(anyhow::anyhow!("interrupted by {signal}: the study is paused; rerun the same command to continue it")));
    }
    if paused > 0 {
        eprintln!("{paused} seed(s) paused; rerun the same command to continue");
    }
    Ok(())
}

/// Writes and prints the summary and draws the figure of a study directory.
fn report_study(study: &StudyDir, solved: Option<f64>) -> anyhow::Result<()> {
    let summary = summarise(study, solved)?;
    write_csv(&study.dir.join(SUMMARY), &summary.rows, &SUMMARY_HEADER)?;
    write_csv(&study.dir.join(SEEDS), &summary.seeds, &SEEDS_HEADER)?;
    write_csv(&study.dir.join(DIFFERENCES), &summary.diffs, &DIFFERENCES_HEADER)?;
    println!("{}", table(&summary));
    let unfinished = study.progress().iter().filter(|p| !p.3).count();
    if unfinished > 0 {
        println!("({unfinished} seed(s) not finished are left out of the table; the figure shows them as far as they got)");
    }
    match figure::draw(study) {
        Ok((png, svg)) => eprintln!(
            "figure: {} and {}; summary: {} (per seed: {}, differences: {})",
            png.display(),
            svg.display(),
            study.dir.join(SUMMARY).display(),
            SEEDS,
            DIFFERENCES
        ),
        Err(e) => eprintln!("no figure drawn: {e:#}"),
    }
    Ok(())
}
