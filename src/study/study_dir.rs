//! The study directory: `study.toml` (the manifest: which study, at which scale, which seeds,
//! which cells), `definition.toml` (the study file it was started from, so that plots and
//! resumes never depend on the binary's current copy), and one ordinary `vagram train` run
//! directory per cell, so that `evaluate`, `plot`, `view` and `train --resume` work on a cell.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::definition::{CellPlan, Scale, StudyDef};
use crate::train::checkpoint::write_atomic;
use crate::train::config::RunConfig;
use crate::train::run_dir::{RunInfo, read_status, seed_dir, seed_finished};

/// The manifest's file name.
pub const MANIFEST: &str = "study.toml";
/// The stored definition's file name.
pub const DEFINITION: &str = "definition.toml";

/// What `study.toml` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The study's name.
    pub study: String,
    /// The scale it runs at.
    pub scale: Scale,
    /// The seeds every cell trains.
    pub seeds: Vec<u64>,
    /// The vagram version that created it.
    pub created_by: String,
    /// The cells, in grid order.
    #[serde(rename = "cell")]
    pub cells: Vec<CellEntry>,
}

/// A cell as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellEntry {
    /// Its run directory's name inside the study directory.
    pub name: String,
    /// Its setting.
    pub setting: String,
    /// Its line.
    pub line: String,
}

impl Manifest {
    /// Reads `study.toml` of study directory `dir`.
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}: not a study directory (no {MANIFEST})", dir.display()))?;
        toml::from_str(&text).with_context(|| format!("{}: not a study manifest", path.display()))
    }
}

/// A study directory opened for work: its definition, manifest and planned cells.
pub struct StudyDir {
    /// The directory.
    pub dir: PathBuf,
    /// The study as stored there.
    pub def: StudyDef,
    /// Its manifest.
    pub manifest: Manifest,
    /// The cells with their configs.
    pub cells: Vec<CellPlan>,
}

impl StudyDir {
    /// The run directory of a cell.
    pub fn cell_dir(&self, cell: &str) -> PathBuf {
        self.dir.join(cell)
    }

    /// Opens a study directory written before (for plotting or exporting), with its stored
    /// definition.
    pub fn open(dir: &Path, envs: &[&str]) -> anyhow::Result<Self> {
        let manifest = Manifest::read(dir)?;
        let (def, _) = read_definition(dir)?;
        let cells = def.cells(manifest.scale, envs)?;
        Ok(Self { dir: dir.to_path_buf(), def, manifest, cells })
    }

    /// Creates the study directory `dir` for `def` (from `text`) at `scale` with `seeds`
    /// seeds, or reopens it when it holds this study already: then the scale, the grid and
    /// every started cell's config must match, else it is refused naming what differs. A seed
    /// count above the study's grows it by the next seed numbers (trained seeds are kept); one
    /// below is refused. The caller holds the directory's lock.
    pub fn create_or_check(
        dir: &Path,
        def: &StudyDef,
        text: &str,
        scale: Option<Scale>,
        seeds: Option<u64>,
        envs: &[&str],
    ) -> anyhow::Result<Self> {
        if dir.join(MANIFEST).exists() {
            return Self::check(dir, def, scale, seeds, envs);
        }
        if dir.is_dir() && std::fs::read_dir(dir)?.flatten().any(|e| e.file_name() != crate::train::lock::LOCK_FILE) {
            bail!("{} is not empty and holds no study: choose another --out", dir.display());
        }
        let scale = scale.unwrap_or(Scale::Cpu);
        let n = seeds.unwrap_or(def.scale(scale).seeds);
        let cells = def.cells(scale, envs)?;
        let manifest = Manifest {
            study: def.name.clone(),
            scale,
            seeds: (0..n).collect(),
            created_by: format!("vagram {}", env!("CARGO_PKG_VERSION")),
            cells: cells.iter().map(|c| CellEntry { name: c.name.clone(), setting: c.setting.clone(), line: c.line.clone() }).collect(),
        };
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        write_atomic(&dir.join(DEFINITION), text.as_bytes())?;
        write_atomic(&dir.join(MANIFEST), toml::to_string(&manifest)?.as_bytes())?;
        Ok(Self { dir: dir.to_path_buf(), def: def.clone(), manifest, cells })
    }

    fn check(dir: &Path, def: &StudyDef, scale: Option<Scale>, seeds: Option<u64>, envs: &[&str]) -> anyhow::Result<Self> {
        let stored = Self::open(dir, envs)?;
        let m = &stored.manifest;
        let here = dir.display();
        if m.study != def.name {
            bail!("{here} holds the study {:?}, not {:?}: choose another --out", m.study, def.name);
        }
        if let Some(s) = scale.filter(|s| *s != m.scale) {
            bail!("{here} was started at scale {}, not {s}: leave out --scale to continue it, or choose another --out", m.scale);
        }
        if let Some(n) = seeds.filter(|n| *n < m.seeds.len() as u64) {
            bail!(
                "{here} was started with {} seeds per cell, not {n}: leave out --seeds to continue it (a larger count adds seeds; a smaller one would leave trained seeds out)",
                m.seeds.len()
            );
        }
        if def.model_learning(m.scale) != stored.def.model_learning(m.scale) {
            bail!(
                "{here}: the study was started under another model_learning budget at scale {} (continue with {here}/{DEFINITION}, or choose another --out)",
                m.scale
            );
        }
        let planned = def.cells(m.scale, envs)?;
        let names = |cells: &[CellPlan]| cells.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        if names(&planned) != names(&stored.cells) {
            bail!(
                "{here}: the study {} has other cells now ({}) than when it was started ({}); continue it with the definition it was started with \
                 ({here}/{DEFINITION}) or choose another --out",
                def.name,
                names(&planned).join(", "),
                names(&stored.cells).join(", ")
            );
        }
        for (now, then) in planned.iter().zip(&stored.cells) {
            let keys = now.config.differing_keys(&then.config);
            if !keys.is_empty() {
                bail!(
                    "{here}: the study was started under another config; cell {} differs in {} (continue with {here}/{DEFINITION}, or choose another --out)",
                    now.name,
                    keys.join(", ")
                );
            }
            if let Some(disk) = stored_config(&stored.cell_dir(&now.name))? {
                let keys = now.config.differing_keys(&disk);
                if !keys.is_empty() {
                    bail!(
                        "{here}/{}: the cell's run has another config than the study plans; these keys differ: {}",
                        now.name,
                        keys.join(", ")
                    );
                }
            }
        }
        let mut stored = stored;
        if let Some(n) = seeds.filter(|n| *n > stored.manifest.seeds.len() as u64) {
            stored.add_seeds(n)?;
        }
        Ok(stored)
    }

    /// Grows every cell to `n` seeds: the manifest lists the next seed numbers after its last,
    /// and it is rewritten only after every check passed. Cells already started learn of the new
    /// seeds from [`add_seeds_to_cell`] when they are next run or exported.
    fn add_seeds(&mut self, n: u64) -> anyhow::Result<()> {
        let next = self.manifest.seeds.iter().max().map_or(0, |s| s + 1);
        let more = n - self.manifest.seeds.len() as u64;
        self.manifest.seeds.extend(next..next + more);
        write_atomic(&self.dir.join(MANIFEST), toml::to_string(&self.manifest)?.as_bytes())
    }

    /// The cells `only` names (every cell when it is empty), in grid order; an error naming the
    /// cells there are when it names another.
    pub fn chosen(&self, only: &[String]) -> anyhow::Result<Vec<&CellPlan>> {
        if let Some(name) = only.iter().find(|n| !self.cells.iter().any(|c| &c.name == *n)) {
            let names: Vec<&str> = self.cells.iter().map(|c| c.name.as_str()).collect();
            bail!("--only {name}: no such cell (cells: {})", names.join(", "));
        }
        Ok(self.cells.iter().filter(|c| only.is_empty() || only.contains(&c.name)).collect())
    }

    /// The seeds of `cell` not finished yet.
    pub fn unfinished_seeds(&self, cell: &CellPlan) -> Vec<u64> {
        let dir = self.cell_dir(&cell.name);
        self.manifest.seeds.iter().copied().filter(|s| !seed_finished(&seed_dir(&dir, *s))).collect()
    }

    /// Where every seed of every cell stands: `(cell index, seed, epochs done, finished)`.
    pub fn progress(&self) -> Vec<(usize, u64, u64, bool)> {
        let mut out = Vec::new();
        for (i, cell) in self.cells.iter().enumerate() {
            for &seed in &self.manifest.seeds {
                let status = read_status(&seed_dir(&self.cell_dir(&cell.name), seed));
                let (epochs, finished) = status.map_or((0, false), |s| (s.epochs, s.state == "finished"));
                out.push((i, seed, epochs, finished));
            }
        }
        out
    }
}

/// Makes a started cell's `run.toml` list every seed of the study's manifest (after the study
/// grew with `--seeds`), so that `train --resume … --only-seed N` accepts the new seeds. The
/// caller holds the cell's whole-run lock.
pub fn add_seeds_to_cell(run: &Path, seeds: &[u64]) -> anyhow::Result<()> {
    let mut info = RunInfo::read(run)?;
    let missing: Vec<u64> = seeds.iter().copied().filter(|s| !info.seeds.contains(s)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    info.seeds.extend(missing);
    info.seeds.sort_unstable();
    write_atomic(&run.join("run.toml"), toml::to_string(&info)?.as_bytes())
}

/// The definition stored in study directory `dir`, with its text.
pub fn read_definition(dir: &Path) -> anyhow::Result<(StudyDef, String)> {
    let path = dir.join(DEFINITION);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok((StudyDef::from_toml(&text, &path.display().to_string())?, text))
}

/// A cell run's stored config, if it was started.
fn stored_config(run: &Path) -> anyhow::Result<Option<RunConfig>> {
    let path = run.join("config.toml");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(RunConfig::from_toml(&text, &path.display().to_string())?))
}
