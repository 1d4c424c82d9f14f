//! Slurm job arrays for a study: one task per cell × seed, each a resumable
//! `vagram train --resume CELL --only-seed N`, every path absolute, one log per task under
//! `slurm/` in the study directory, `--mem` from the config's memory estimate. A task cancelled
//! or past its time limit leaves its last checkpoint; resubmitting the script (or one task of
//! it, `sbatch --array=K`) continues it, and finished tasks exit at once.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::study_dir::StudyDir;
use crate::engine::env::EnvRegistry;
use crate::train::checkpoint::write_atomic;

/// The absolute path a Slurm script names `path` by; refused when `#SBATCH` lines could not
/// carry it (whitespace, or `%`, which Slurm expands in `--output`).
pub fn slurm_path(path: &Path, what: &str) -> anyhow::Result<PathBuf> {
    let abs = std::path::absolute(path).with_context(|| format!("resolving the {what} {}", path.display()))?;
    let text = abs.display().to_string();
    if text.chars().any(|c| c.is_whitespace() || c == '%') {
        bail!("the {what}'s path {text} contains whitespace or '%', which #SBATCH lines cannot carry; choose another");
    }
    Ok(abs)
}

/// The task list of a study's array: `(cell, seed)` per task id, cells outermost.
pub fn tasks(study: &StudyDir) -> Vec<(String, u64)> {
    study.cells.iter().flat_map(|c| study.manifest.seeds.iter().map(move |s| (c.name.clone(), *s))).collect()
}

/// The job-array script for `study` (whose cell run directories exist), run by `exe`.
pub fn script(study: &StudyDir, registry: &EnvRegistry, exe: &str) -> anyhow::Result<String> {
    let dir = slurm_path(&study.dir, "study directory")?;
    let tasks = tasks(study);
    let mut mem_gib = 1.0f64;
    for cell in &study.cells {
        let spec = registry.get(&cell.config.env.name)?.spec().clone();
        let need = cell.config.memory_estimate(spec.obs_dim + cell.config.env.distractors, spec.action_space.dim());
        mem_gib = mem_gib.max(need.total() / f64::from(1u32 << 30));
    }
    // The estimate counts the big buffers; the binary, allocator slack and the envs come on top.
    let mem = (mem_gib * 1.25 + 0.5).ceil() as u64;
    let cells: Vec<String> = tasks.iter().map(|(c, _)| c.clone()).collect();
    let seeds: Vec<String> = tasks.iter().map(|(_, s)| s.to_string()).collect();
    let name = &study.def.name;
    Ok(format!(
        "#!/bin/bash\n\
         # The study {name} at scale {scale} in {dir}: one Slurm array task per cell × seed\n\
         # ({n} tasks); written by `vagram study export-slurm`.\n\
         # Submit: sbatch {dir}/slurm.sh · watch: squeue --me, sacct -j JOB · logs: {dir}/slurm/\n\
         # A cancelled or timed-out task resumes from its checkpoint when resubmitted\n\
         # (sbatch --array=K {dir}/slurm.sh for task K); finished tasks exit at once.\n\
         # Afterwards: vagram study plot {dir}\n\
         #SBATCH --job-name=vagram-{name}\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --mem={mem}G\n\
         #SBATCH --chdir={dir}\n\
         #SBATCH --output={dir}/slurm/%a.out\n\
         CELLS=({cells})\n\
         SEEDS=({seeds})\n\
         i=$SLURM_ARRAY_TASK_ID\n\
         export RAYON_NUM_THREADS=1\n\
         exec \"{exe}\" train --resume \"{dir}/${{CELLS[$i]}}\" --only-seed \"${{SEEDS[$i]}}\" --threads 1 --quiet\n",
        scale = study.manifest.scale,
        dir = dir.display(),
        n = tasks.len(),
        last = tasks.len().saturating_sub(1),
        cells = cells.join(" "),
        seeds = seeds.join(" "),
    ))
}

/// Writes the study's script as `slurm.sh` in its directory (with the `slurm/` log folder);
/// returns the script's path.
pub fn export(study: &StudyDir, registry: &EnvRegistry, exe: &str) -> anyhow::Result<PathBuf> {
    let text = script(study, registry, exe)?;
    let logs = study.dir.join("slurm");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let path = study.dir.join("slurm.sh");
    write_atomic(&path, text.as_bytes())?;
    Ok(path)
}
