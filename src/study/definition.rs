//! A study definition: one TOML file in `studies/` naming a preset, the settings (one figure
//! panel each), the lines (one curve per panel each, usually a model loss), the three scales
//! (`smoke`, `cpu`, `paper`) and the paper's reference lines. The grid of cells is settings ×
//! lines; every cell's config is the preset for the line's loss with `--set` overrides applied
//! in the order study → scale → setting → line.

use serde::{Deserialize, Serialize};

use crate::learn::losses::LossKind;
use crate::model_learning::ModelLearningConfig;
use crate::train::config::{PRESETS, RunConfig};

/// How big a study runs: its budgets and seed counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    /// Seconds to a few minutes: checks that the study runs end to end (CI).
    Smoke,
    /// The most faithful version that finishes on 2 cores in about 2 hours.
    Cpu,
    /// The paper's budgets and seed counts (a GPU or a cluster).
    Paper,
}

impl Scale {
    /// Every scale, smallest first.
    pub const ALL: [Scale; 3] = [Scale::Smoke, Scale::Cpu, Scale::Paper];

    /// The scale's name as written in TOML and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Smoke => "smoke",
            Scale::Cpu => "cpu",
            Scale::Paper => "paper",
        }
    }
}

impl std::fmt::Display for Scale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One study, as its TOML file defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyDef {
    /// Its name (`vagram study run NAME`); the file is `studies/NAME.toml`.
    pub name: String,
    /// One line: what it reproduces (e.g. "Fig. 3: Hopper with smaller models").
    pub title: String,
    /// What the paper reports, for the side-by-side with what we measure.
    pub paper: String,
    /// The preset every cell starts from (`vagram config --env PRESET`).
    pub preset: String,
    /// The metrics.csv column the figure and summary use.
    #[serde(default = "default_metric")]
    pub metric: String,
    /// One y range for all panels (default), or one per panel (`false`).
    #[serde(default = "yes")]
    pub shared_y: bool,
    /// The metrics.csv column of the figure's x axis (default `env_steps`).
    #[serde(default)]
    pub x: Option<String>,
    /// For a model-learning study (Fig. 2) instead of MBPO runs: its budget (a scale may
    /// replace it).
    #[serde(default)]
    pub model_learning: Option<ModelLearningConfig>,
    /// Overrides applied to every cell at every scale.
    #[serde(default)]
    pub set: Vec<String>,
    /// The settings: one panel each.
    #[serde(rename = "setting")]
    pub settings: Vec<Setting>,
    /// The lines: one curve in every panel each.
    #[serde(rename = "line")]
    pub lines: Vec<Line>,
    /// The first difference the summary reports per setting, `[a, b]` for a − b; `a` is then
    /// compared with every other line too (default: VaGraM − MLE first when the study has both,
    /// then VaGraM − each other line).
    #[serde(default)]
    pub compare: Option<[String; 2]>,
    /// The score at which a run counts as solving the task (e.g. 200 on the cartpole):
    /// `seeds.csv` then gives each seed's first x (env steps) with an evaluation at or above it.
    #[serde(default)]
    pub solved: Option<f64>,
    /// Budgets and seed counts per scale.
    pub scale: Scales,
    /// Horizontal reference lines from the paper (e.g. model-free SAC's final return).
    #[serde(default, rename = "reference")]
    pub references: Vec<Reference>,
}

fn yes() -> bool {
    true
}

fn default_metric() -> String {
    "eval_return".into()
}

/// A setting of the study: one panel of its figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// Short name, used in cell directory names (`[a-z0-9.]`, e.g. `2x64`).
    pub name: String,
    /// The panel's title (default: the name).
    #[serde(default)]
    pub label: Option<String>,
    /// Another preset for this setting's cells (default: the study's).
    #[serde(default)]
    pub preset: Option<String>,
    /// Overrides that make this setting (e.g. `model.hidden=[64,64]`).
    #[serde(default)]
    pub set: Vec<String>,
}

/// A line of the study: one curve in every panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Short name, used in cell directory names and the summary's `loss` column.
    pub name: String,
    /// The model loss (selects the preset's loss-dependent values, e.g. a Gaussian ensemble for `mle`).
    pub loss: LossKind,
    /// The legend label (default: the name).
    #[serde(default)]
    pub label: Option<String>,
    /// Overrides for this line.
    #[serde(default)]
    pub set: Vec<String>,
}

/// The three scales of a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scales {
    /// See [`Scale::Smoke`].
    pub smoke: ScaleDef,
    /// See [`Scale::Cpu`].
    pub cpu: ScaleDef,
    /// See [`Scale::Paper`].
    pub paper: ScaleDef,
}

/// What one scale changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleDef {
    /// Seeds per cell.
    pub seeds: u64,
    /// Why this scale is as it is (what it keeps from the paper and what it cuts).
    #[serde(default)]
    pub note: String,
    /// Overrides (budgets, sizes) for this scale.
    #[serde(default)]
    pub set: Vec<String>,
    /// A model-learning study's budget at this scale (replacing the study's).
    #[serde(default)]
    pub model_learning: Option<ModelLearningConfig>,
}

/// A horizontal reference line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// Legend label (e.g. "model-free SAC (paper)").
    pub label: String,
    /// Its value on the metric's axis.
    pub value: f64,
    /// The scales whose figures draw it (default: all).
    #[serde(default = "all_scales")]
    pub scales: Vec<Scale>,
}

fn all_scales() -> Vec<Scale> {
    Scale::ALL.to_vec()
}

/// One cell of a study's grid: a setting × a line, with its resolved config.
#[derive(Debug, Clone, PartialEq)]
pub struct CellPlan {
    /// Its directory name in the study directory: `SETTING-LINE`.
    pub name: String,
    /// The setting's name.
    pub setting: String,
    /// The line's name.
    pub line: String,
    /// The config its run trains.
    pub config: RunConfig,
}

impl StudyDef {
    /// Parses and checks a study file (`source` names it in errors).
    pub fn from_toml(text: &str, source: &str) -> anyhow::Result<Self> {
        let def: StudyDef = toml::from_str(text).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        def.check().map_err(|e| anyhow::anyhow!("{source}: {e:#}"))?;
        Ok(def)
    }

    /// The definition as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a study definition serialises")
    }

    /// The definition of `scale`.
    pub fn scale(&self, scale: Scale) -> &ScaleDef {
        match scale {
            Scale::Smoke => &self.scale.smoke,
            Scale::Cpu => &self.scale.cpu,
            Scale::Paper => &self.scale.paper,
        }
    }

    /// The pairs of lines compared per setting (a − b), in the summary's order: `compare`
    /// first, else VaGraM − MLE when the study has both; then the first pair's `a` (or VaGraM)
    /// against each other line. Empty when there is no such reference line.
    pub fn comparisons(&self) -> Vec<[&str; 2]> {
        let (reference, first) = match &self.compare {
            Some([a, b]) => (a.as_str(), Some(b.as_str())),
            None if self.line("vagram").is_some() => ("vagram", self.line("mle").map(|_| "mle")),
            None => return Vec::new(),
        };
        let others = self.lines.iter().map(|l| l.name.as_str()).filter(|l| *l != reference && Some(*l) != first);
        first.into_iter().chain(others).map(|b| [reference, b]).collect()
    }

    /// The x column of the figure.
    pub fn x_column(&self) -> &str {
        self.x.as_deref().unwrap_or("env_steps")
    }

    /// For a model-learning study, its budget at `scale`; `None` for an MBPO study.
    pub fn model_learning(&self, scale: Scale) -> Option<&ModelLearningConfig> {
        self.scale(scale).model_learning.as_ref().or(self.model_learning.as_ref())
    }

    /// The setting named `name`.
    pub fn setting(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.name == name)
    }

    /// The line named `name`.
    pub fn line(&self, name: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.name == name)
    }

    /// The grid at `scale`: every setting × line, settings outermost, each config resolved and
    /// validated against `envs` (the registered env names).
    pub fn cells(&self, scale: Scale, envs: &[&str]) -> anyhow::Result<Vec<CellPlan>> {
        let mut cells = Vec::new();
        for setting in &self.settings {
            for line in &self.lines {
                let name = format!("{}-{}", setting.name, line.name);
                let preset = setting.preset.as_deref().unwrap_or(&self.preset);
                let mut config = RunConfig::preset(preset, line.loss.name()).expect("checked preset");
                let sets = self.set.iter().chain(&self.scale(scale).set).chain(&setting.set).chain(&line.set);
                for assignment in sets {
                    config.set(assignment).map_err(|e| anyhow::anyhow!("study {}, cell {name} at scale {scale}: {e}", self.name))?;
                }
                config.validate(envs).map_err(|e| anyhow::anyhow!("study {}, cell {name} at scale {scale}: {e}", self.name))?;
                cells.push(CellPlan { name, setting: setting.name.clone(), line: line.name.clone(), config });
            }
        }
        Ok(cells)
    }

    fn check(&self) -> anyhow::Result<()> {
        let ok_name = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
        for preset in std::iter::once(&self.preset).chain(self.settings.iter().filter_map(|s| s.preset.as_ref())) {
            if !PRESETS.contains(&preset.as_str()) {
                anyhow::bail!("preset = {preset:?}: no such preset (presets: {})", PRESETS.join(", "));
            }
        }
        if self.settings.is_empty() || self.lines.is_empty() {
            anyhow::bail!("a study needs at least one [[setting]] and one [[line]]");
        }
        for (kind, names) in
            [("setting", self.settings.iter().map(|s| &s.name).collect::<Vec<_>>()), ("line", self.lines.iter().map(|l| &l.name).collect())]
        {
            for (i, n) in names.iter().enumerate() {
                if !ok_name(n) {
                    anyhow::bail!("{kind} name {n:?}: use lower-case letters, digits, '.' and '_' (it names directories)");
                }
                if names[..i].contains(n) {
                    anyhow::bail!("{kind} name {n:?} appears twice");
                }
            }
        }
        for name in self.compare.iter().flatten() {
            if self.line(name).is_none() {
                anyhow::bail!("compare names {name:?}, which is no line of the study");
            }
        }
        for scale in Scale::ALL {
            if self.model_learning.is_none() && self.scale(scale).model_learning.is_some() {
                anyhow::bail!(
                    "scale.{scale}.model_learning: a model-learning study has a [model_learning] table at the top, which scales may replace"
                );
            }
            if self.scale(scale).seeds == 0 {
                anyhow::bail!("scale.{scale}.seeds = 0: a scale needs at least one seed");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::catalogue;

    const ENVS: [&str; 3] = ["pendulum", "cartpole", "hopper"];

    #[test]
    fn every_built_in_study_round_trips_and_resolves_at_every_scale() {
        let names = catalogue::names();
        for expected in [
            "fig2",
            "fig3-capacity",
            "fig4-distractors",
            "fig5-cartpole",
            "fig5-pendulum",
            "fig7-det-vs-prob",
            "capacity-cartpole",
            "capacity-pendulum",
            "distractors-cartpole",
        ] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
        }
        for name in names {
            let (def, _) = catalogue::load(&name).unwrap();
            assert_eq!(def.name, name, "a study's name is its file's");
            let again = StudyDef::from_toml(&def.to_toml(), "round trip").unwrap();
            assert_eq!(again, def, "{name}");
            for scale in Scale::ALL {
                let cells = def.cells(scale, &ENVS).unwrap_or_else(|e| panic!("{name} at {scale}: {e:#}"));
                assert_eq!(cells.len(), def.settings.len() * def.lines.len());
            }
        }
    }

    /// RESULTS.md cites study files kept under `docs/` (its checks that are not studies of
    /// the catalogue); they must keep loading as the config keys change, or the commands there rot.
    #[test]
    fn every_study_file_under_docs_loads_and_resolves_at_every_scale() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        let mut files: Vec<_> =
            std::fs::read_dir(&docs).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "toml")).collect();
        files.sort();
        assert!(files.len() >= 6, "expected the study files RESULTS.md cites, found {files:?}");
        for path in files {
            let shown = path.display().to_string();
            let (def, _) = catalogue::load(&shown).unwrap_or_else(|e| panic!("{shown}: {e:#}"));
            for scale in Scale::ALL {
                let cells = def.cells(scale, &ENVS).unwrap_or_else(|e| panic!("{shown} at {scale}: {e:#}"));
                assert_eq!(cells.len(), def.settings.len() * def.lines.len(), "{shown}");
            }
        }
    }

    #[test]
    fn the_reference_line_is_compared_with_every_other_line_its_first_pair_first() {
        let lines = |def: &StudyDef| def.comparisons().iter().map(|[a, b]| format!("{a} - {b}")).collect::<Vec<_>>();
        let (fig5, _) = catalogue::load("fig5-cartpole").unwrap();
        assert_eq!(lines(&fig5), ["vagram - mle", "vagram - itervaml", "vagram - value_weighted"]);
        // fig2 names its first pair (VaGraM − MSE); VaGraM is then compared with VAML.
        let (fig2, _) = catalogue::load("fig2").unwrap();
        assert_eq!(lines(&fig2), ["vagram - mse", "vagram - vaml"]);
        let mut no_reference = fig5.clone();
        no_reference.lines.retain(|l| l.name != "vagram");
        assert!(no_reference.comparisons().is_empty(), "without VaGraM or compare, nothing is compared");
        no_reference.compare = Some(["mle".into(), "itervaml".into()]);
        assert_eq!(lines(&no_reference), ["mle - itervaml", "mle - value_weighted"]);
    }

    #[test]
    fn the_grid_is_settings_times_lines_with_overrides_in_order() {
        let text = r#"
name = "t"
title = "t"
paper = "p"
preset = "cartpole"
set = ["model.lr=0.002", "agent.batch_size=64"]
[[setting]]
name = "small"
set = ["model.hidden=[16]", "agent.batch_size=32"]
[[setting]]
name = "dist"
preset = "hopper-distractors"
set = ["env.distractors=15"]
[[line]]
name = "vagram"
loss = "vagram"
[[line]]
name = "mle"
loss = "mle"
set = ["agent.batch_size=16"]
[scale.smoke]
seeds = 1
set = ["run.env_steps=400", "run.epoch_length=100", "run.initial_random_steps=100", "agent.batch_size=128"]
[scale.cpu]
seeds = 3
[scale.paper]
seeds = 8
"#;
        let def = StudyDef::from_toml(text, "test").unwrap();
        let cells = def.cells(Scale::Smoke, &ENVS).unwrap();
        let names: Vec<&str> = cells.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["small-vagram", "small-mle", "dist-vagram", "dist-mle"]);
        let [sv, sm, dv, dm] = [&cells[0].config, &cells[1].config, &cells[2].config, &cells[3].config];
        assert_eq!(sv.model.hidden, [16]);
        assert_eq!(sv.model.lr, 0.002, "study overrides reach every cell");
        assert_eq!(sv.run.env_steps, 400, "the scale's overrides too");
        // study 64 → scale 128 → setting 32 → line 16: the later one wins.
        assert_eq!(sv.agent.batch_size, 32);
        assert_eq!(sm.agent.batch_size, 16);
        assert!(sm.model.probabilistic && !sv.model.probabilistic, "the line's loss selects the preset's model");
        assert_eq!((dv.env.name.as_str(), dv.env.distractors), ("hopper", 15), "a setting's own preset");
        assert_eq!(dm.model.batch_size, 256, "the MLE distraction preset trains on batches of 256");
        assert_eq!(def.comparisons(), [["vagram", "mle"]]);
        assert_eq!(def.cells(Scale::Cpu, &ENVS).unwrap()[0].config.run.env_steps, 5200, "cpu has no overrides here");

        let bad = |from: &str, to: &str| StudyDef::from_toml(&text.replacen(from, to, 1), "bad.toml").unwrap_err().to_string();
        assert!(bad("preset = \"cartpole\"", "preset = \"walker\"").contains("no such preset"));
        assert!(bad("name = \"small\"", "name = \"dist\"").contains("appears twice"));
        assert!(bad("name = \"small\"", "name = \"Small Model\"").contains("lower-case"));
        assert!(bad("seeds = 3", "seeds = 0").contains("scale.cpu.seeds = 0"));
        assert!(bad("loss = \"mle\"", "loss = \"mla\"").contains("bad.toml"), "an unknown loss is refused by serde, naming the file");
        let typo = StudyDef::from_toml(&text.replacen("[[line]]\nname = \"mle\"", "[[line]]\nnmae = \"mle\"", 1), "typo.toml");
        assert!(typo.is_err(), "unknown keys are refused");
        let err = StudyDef::from_toml(&text.replacen("set = [\"env.distractors=15\"]", "set = [\"env.distractor=15\"]", 1), "k.toml")
            .unwrap()
            .cells(Scale::Smoke, &ENVS)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cell dist-vagram") && err.contains("env.distractor"), "{err}");
    }
}
