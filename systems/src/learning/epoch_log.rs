//! `Log` / epoch rows: after the last step of every epoch (and its evaluation), one row of
//! metrics is appended to [`EpochLog`], and the epoch accumulators are cleared. The row holds
//! only numbers that the seed and config determine; wall-clock seconds go to a separate timing
//! row so that a resumed run's metrics can be compared bit for bit.

use std::sync::OnceLock;

use bevy_ecs::prelude::*;
use serde::Serialize;
use vagram_engine::prelude::*;

use super::{
    AgentResource, AgentUpdateSettings, EpochStats, Evaluation, ModelBuffer, ModelResource, PolicyControlled, RolloutSettings, StageSeconds,
};

/// The deterministic metrics of one epoch; one row of `metrics.csv`, its columns named by the
/// fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EpochRow {
    /// Epoch index, from 0.
    pub epoch: u64,
    /// Real env steps done at its end.
    pub env_steps: u64,
    /// Mean return of the deterministic-policy evaluation episodes.
    pub eval_return: f64,
    /// Mean length of the evaluation episodes.
    pub eval_length: f64,
    /// Mean return of training episodes that ended in this epoch (NaN if none).
    pub train_return: f64,
    /// Training episodes that ended in this epoch.
    pub train_episodes: u64,
    /// Model fits so far.
    pub model_fits: u64,
    /// Training loss of the latest fit (NaN before the first).
    pub model_train_loss: f64,
    /// Validation loss of the latest fit's elites.
    pub model_val_loss: f64,
    /// VAML error of the latest fit's elites on held-out data.
    pub vaml_error: f64,
    /// SAC updates in this epoch.
    pub sac_updates: u64,
    /// Mean critic loss over the epoch's updates.
    pub critic_loss: f64,
    /// Mean actor loss.
    pub actor_loss: f64,
    /// Mean α.
    pub alpha: f64,
    /// Mean policy entropy estimate.
    pub entropy: f64,
    /// Share of model data in SAC batches during this epoch.
    pub model_share: f64,
    /// Model rollout length during this epoch.
    pub rollout_length: f64,
    /// Transitions in the model buffer at the end of the epoch.
    pub model_buffer: u64,
    /// Epochs run by the model fits of this epoch, summed (0 in an epoch without a fit): what
    /// early stopping made the fits cost, the one count a config does not fix.
    pub model_fit_epochs: u64,
}

impl EpochRow {
    /// The CSV header: the field names in declaration order, as serde's derive names them.
    pub fn header() -> &'static [String] {
        static HEADER: OnceLock<Vec<String>> = OnceLock::new();
        HEADER.get_or_init(|| {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.serialize(EpochRow::default()).expect("serialising to memory");
            let bytes = writer.into_inner().expect("flushing to memory");
            let mut reader = csv::Reader::from_reader(bytes.as_slice());
            reader.headers().expect("the header just written").iter().map(str::to_string).collect()
        })
    }

    /// The row as one CSV line without the header (floats in their shortest exact form).
    pub fn csv_line(&self) -> String {
        let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        writer.serialize(self).expect("serialising to memory");
        String::from_utf8(writer.into_inner().expect("flushing to memory")).expect("CSV of numbers is UTF-8")
    }

    /// The row's values as numbers, in [`EpochRow::header`] order.
    pub fn values(&self) -> Vec<f64> {
        self.csv_line().trim_end().split(',').map(|cell| cell.parse().unwrap_or(f64::NAN)).collect()
    }
}

/// Wall-clock seconds of one epoch, per stage.
#[derive(Debug, Clone, PartialEq)]
pub struct TimingRow {
    /// Epoch index.
    pub epoch: u64,
    /// Seconds per stage.
    pub seconds: StageSeconds,
}

/// Rows not yet taken by the run driver.
#[derive(Resource, Debug, Default)]
pub struct EpochLog {
    /// Metrics rows.
    pub rows: Vec<EpochRow>,
    /// Timing rows, one per metrics row.
    pub timings: Vec<TimingRow>,
}

/// Appends the epoch's row after its last step.
#[allow(clippy::too_many_arguments)]
pub fn log_epoch(
    step: Res<StepCount>,
    evaluation: Res<Evaluation>,
    model: NonSend<ModelResource>,
    model_buffer: Res<ModelBuffer>,
    agent: NonSend<AgentResource>,
    rollout: Res<RolloutSettings>,
    updates: Res<AgentUpdateSettings>,
    mut episodes: ResMut<EpisodeLog>,
    mut stats: ResMut<EpochStats>,
    mut log: ResMut<EpochLog>,
    training_envs: Query<&EnvId, With<PolicyControlled>>,
) {
    let done = step.0 + 1;
    let epoch_length = evaluation.epoch_length.max(1);
    if !done.is_multiple_of(epoch_length) {
        return;
    }
    let epoch = done / epoch_length - 1;
    let ids: Vec<u64> = training_envs.iter().map(|id| id.0).collect();
    let ended: Vec<f64> = episodes.0.iter().filter(|e| ids.contains(&e.env)).map(|e| e.ret).collect();
    episodes.0.clear();
    let eval = evaluation.last.as_ref().filter(|r| r.epoch == epoch);
    let fit = model.last.as_ref();
    let mean = |v: &[f64]| if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
    let s = &*stats;
    let row = EpochRow {
        epoch,
        env_steps: done,
        eval_return: eval.map_or(f64::NAN, |r| r.mean_return()),
        eval_length: eval.map_or(f64::NAN, |r| r.mean_length()),
        train_return: mean(&ended),
        train_episodes: ended.len() as u64,
        model_fits: model.fits,
        model_train_loss: fit.map_or(f64::NAN, |f| f.train_loss),
        model_val_loss: fit.map_or(f64::NAN, |f| f.validation_loss),
        vaml_error: fit.and_then(|f| f.vaml_error).unwrap_or(f64::NAN),
        sac_updates: s.sac_updates,
        critic_loss: s.mean(s.critic_loss),
        actor_loss: s.mean(s.actor_loss),
        alpha: if s.sac_updates == 0 { agent.sac.alpha() as f64 } else { s.mean(s.alpha) },
        entropy: s.mean(s.entropy),
        model_share: updates.model_share.at(epoch as f64),
        rollout_length: rollout.length.at(epoch as f64).round().max(1.0),
        model_buffer: model_buffer.0.len() as u64,
        model_fit_epochs: s.fit_epochs,
    };
    log.rows.push(row);
    log.timings.push(TimingRow { epoch, seconds: s.seconds });
    *stats = EpochStats::default();
}

#[cfg(test)]
mod tests {
    use super::EpochRow;

    #[test]
    fn an_epoch_row_is_one_csv_line_under_its_field_named_header_and_reads_back() {
        let row = EpochRow {
            epoch: 3,
            env_steps: 800,
            eval_return: -151.25,
            train_return: f64::NAN,
            alpha: 1e-5,
            model_buffer: 7,
            ..Default::default()
        };
        let header = EpochRow::header();
        assert_eq!(header.len(), 19);
        assert_eq!(header[..3], ["epoch", "env_steps", "eval_return"]);
        assert_eq!(header.last().map(String::as_str), Some("model_fit_epochs"));
        let line = row.csv_line();
        assert!(line.ends_with('\n') && line.starts_with("3,800,-151.25,"), "{line}");
        let values = row.values();
        assert_eq!(values.len(), header.len());
        let at = |name: &str| values[header.iter().position(|h| h == name).unwrap()];
        assert_eq!((at("epoch"), at("env_steps"), at("alpha"), at("model_buffer")), (3.0, 800.0, 1e-5, 7.0));
        assert!(at("train_return").is_nan());
    }
}
