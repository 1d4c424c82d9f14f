//! `vagram train --export-slurm`: a Slurm job-array script for a run, one task per seed, each a
//! resumable `vagram train --resume RUN --only-seed N`, with every path absolute. The array is
//! indexed by position (0 … seeds − 1) and the script maps the index to the seed, so seed
//! numbers beyond the cluster's `MaxArraySize` (e.g. `--first-seed 5000`) still submit.

use std::path::{Path, PathBuf};

use anyhow::Context;
use vagram::train::checkpoint::write_atomic;

/// The absolute path a Slurm script names `path` by (see [`vagram::study::slurm::slurm_path`]).
pub(super) fn slurm_path(path: &Path, what: &str) -> anyhow::Result<PathBuf> {
    vagram::study::slurm::slurm_path(path, what).context("--export-slurm")
}

pub(super) fn export_slurm(script: &Path, dir: &Path, seeds: &[u64]) -> anyhow::Result<()> {
    let (dir, script) = (&slurm_path(dir, "run directory")?, &slurm_path(script, "script")?);
    let exe = std::env::current_exe().map_or("vagram".into(), |p| p.display().to_string());
    let ids: Vec<String> = seeds.iter().map(u64::to_string).collect();
    let text = format!(
        "#!/bin/bash\n\
         # One Slurm array task per seed of {dir}; written by `vagram train --export-slurm`.\n\
         # Submit with `sbatch {script}`; tasks resume from their checkpoint when re-run.\n\
         # Afterwards: `vagram plot {dir} --out {dir}/learning_curve.png`.\n\
         #SBATCH --job-name=vagram\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --chdir={dir}\n\
         #SBATCH --output={dir}/slurm-%a.out\n\
         # Array index → seed (slurm-I.out is the log of the I-th seed here).\n\
         SEEDS=({seeds})\n\
         export RAYON_NUM_THREADS=1\n\
         exec \"{exe}\" train --resume \"{dir}\" --only-seed \"${{SEEDS[$SLURM_ARRAY_TASK_ID]}}\" --threads 1 --quiet\n",
        dir = dir.display(),
        script = script.display(),
        last = seeds.len().saturating_sub(1),
        seeds = ids.join(" "),
    );
    write_atomic(script, text.as_bytes())?;
    eprintln!("wrote {} (array of {} seed tasks) for the run in {}", script.display(), seeds.len(), dir.display());
    Ok(())
}
