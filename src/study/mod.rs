//! Studies: the paper's experiments as data. A study (one TOML file in `studies/`, embedded in
//! the binary) is a grid of cells — settings (figure panels) × lines (curves, usually model
//! losses) — each an ordinary `vagram train` run, trained over many seeds at one of three
//! scales (`smoke`, `cpu`, `paper`).
//!
//! - [`definition`]: the study file, its scales and its grid of cells;
//! - [`catalogue`]: the built-in studies;
//! - [`study_dir`]: the study directory (manifest, stored definition, one run per cell), and
//!   the checks that let a rerun resume it and refuse it under another config;
//! - [`model_learning`]: the runner of a model-learning study (Fig. 2);
//! - [`runner`]: every unfinished seed of every cell on a pool of worker threads;
//! - [`summary`]: final scores, their standard errors and Welch intervals, `summary.csv`;
//! - [`figure`]: the figure in the paper's layout;
//! - [`forest`]: several studies' differences in one forest plot;
//! - [`slurm`]: one Slurm job array for the whole study.

pub mod catalogue;
pub mod definition;
pub mod figure;
pub mod forest;
pub mod model_learning;
pub mod runner;
pub mod slurm;
pub mod study_dir;
pub mod summary;

pub use definition::{CellPlan, Scale, StudyDef};
pub use study_dir::StudyDir;
