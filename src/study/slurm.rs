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

/// Resources and limits of the exported jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmOptions {
    /// `--time` of every task (see [`default_time`]).
    pub time: String,
    /// `--mem` in GiB (see [`default_mem_gib`]).
    pub mem_gib: u64,
    /// `--cpus-per-task` (and the task's compute threads).
    pub cpus: usize,
    /// The cluster's `MaxArraySize`: scripts hold at most this many tasks, indices below it.
    pub max_array_size: usize,
}

/// Slurm's default `MaxArraySize`.
pub const DEFAULT_MAX_ARRAY_SIZE: usize = 1001;

/// This cluster's `MaxArraySize` from `scontrol show config`, if Slurm is reachable here.
pub fn cluster_max_array_size() -> Option<usize> {
    let out = std::process::Command::new("scontrol").args(["show", "config"]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| l.strip_prefix("MaxArraySize")?.split('=').nth(1)?.trim().parse().ok())
}

/// A `--time` for a task of `seconds` estimated: 1.5 × the estimate, rounded up to whole
/// minutes, at least 10 minutes, as `D-HH:MM:SS`.
pub fn default_time(seconds: f64) -> String {
    let minutes = ((seconds * 1.5) / 60.0).ceil().max(10.0) as u64;
    format!("{}-{:02}:{:02}:00", minutes / 1440, (minutes % 1440) / 60, minutes % 60)
}

/// The memory a task needs, in GiB: the largest cell's estimate with a quarter and half a GiB
/// on top (the binary, allocator slack and the envs), at least 1.
pub fn default_mem_gib(study: &StudyDir, registry: &EnvRegistry) -> anyhow::Result<u64> {
    let mut mem_gib = 1.0f64;
    for cell in &study.cells {
        let spec = registry.get(&cell.config.env.name)?.spec().clone();
        let need = cell.config.memory_estimate(spec.obs_dim + cell.config.env.distractors, spec.action_space.dim());
        mem_gib = mem_gib.max(need.total() / f64::from(1u32 << 30));
    }
    Ok((mem_gib * 1.25 + 0.5).ceil() as u64)
}

/// The job-array scripts for `study` (whose cell run directories exist), run by `exe`: one
/// script when the tasks fit in one array, else one per `max_array_size` tasks (`slurm-K.sh`,
/// each with its task offset). Returns `(file name, text)` pairs.
pub fn scripts(study: &StudyDir, exe: &str, options: &SlurmOptions) -> anyhow::Result<Vec<(String, String)>> {
    let dir = slurm_path(&study.dir, "study directory")?;
    let tasks = tasks(study);
    let per_script = options.max_array_size.max(1);
    let chunks: Vec<&[(String, u64)]> = tasks.chunks(per_script).collect();
    let name = &study.def.name;
    let gres = if cfg!(feature = "cuda") { "#SBATCH --gres=gpu:1\n" } else { "" };
    let mut out = Vec::new();
    for (k, chunk) in chunks.iter().enumerate() {
        let file = if chunks.len() == 1 { "slurm.sh".to_string() } else { format!("slurm-{k}.sh") };
        let offset = k * per_script;
        let cells: Vec<&str> = chunk.iter().map(|(c, _)| c.as_str()).collect();
        let seeds: Vec<String> = chunk.iter().map(|(_, s)| s.to_string()).collect();
        let text = format!(
            "#!/bin/bash\n\
             # The study {name} at scale {scale} in {dir}: one Slurm array task per cell × seed\n\
             # (tasks {offset}–{end} of {n}); written by `vagram study export-slurm`.\n\
             # Submit: sbatch {dir}/{file} · watch: squeue --me, sacct -j JOB · logs: {dir}/slurm/\n\
             # A cancelled or timed-out task resumes from its checkpoint when resubmitted\n\
             # (sbatch --array=K {dir}/{file} for task K); finished tasks exit at once.\n\
             # Afterwards: vagram study plot {dir}\n\
             #SBATCH --job-name=vagram-{name}\n\
             #SBATCH --array=0-{last}\n\
             #SBATCH --cpus-per-task={cpus}\n\
             #SBATCH --mem={mem}G\n\
             #SBATCH --time={time}\n\
             {gres}\
             #SBATCH --chdir={dir}\n\
             #SBATCH --output={dir}/slurm/{offset_name}%a.out\n\
             CELLS=({cells})\n\
             SEEDS=({seeds})\n\
             i=$SLURM_ARRAY_TASK_ID\n\
             export RAYON_NUM_THREADS={cpus}\n\
             exec \"{exe}\" train --resume \"{dir}/${{CELLS[$i]}}\" --only-seed \"${{SEEDS[$i]}}\" --threads 1 --quiet\n",
            scale = study.manifest.scale,
            dir = dir.display(),
            end = offset + chunk.len() - 1,
            n = tasks.len(),
            last = chunk.len() - 1,
            cpus = options.cpus.max(1),
            mem = options.mem_gib,
            time = options.time,
            offset_name = if chunks.len() == 1 { String::new() } else { format!("{k}-") },
            cells = cells.join(" "),
            seeds = seeds.join(" "),
        );
        out.push((file, text));
    }
    Ok(out)
}

/// Writes the study's scripts into its directory (with the `slurm/` log folder); returns their
/// paths.
pub fn export(study: &StudyDir, exe: &str, options: &SlurmOptions) -> anyhow::Result<Vec<PathBuf>> {
    let scripts = scripts(study, exe, options)?;
    let logs = study.dir.join("slurm");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let mut paths = Vec::new();
    for (file, text) in scripts {
        let path = study.dir.join(file);
        write_atomic(&path, text.as_bytes())?;
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits_leave_room_above_the_estimate() {
        assert_eq!(default_time(60.0), "0-00:10:00", "at least 10 minutes");
        assert_eq!(default_time(3600.0), "0-01:30:00");
        assert_eq!(default_time(86_400.0 * 2.0), "3-00:00:00");
    }
}
