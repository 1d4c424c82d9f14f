//! Several studies' differences in one forest plot (`vagram study forest`): reads the
//! `differences.csv` that `vagram study plot` writes for each study, keeps one compared pair
//! (e.g. `vagram - mle`), and lays it out as one row of panels per file (its settings as rows)
//! and one column per score (final, AUC).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use super::summary::{DIFFERENCES, DIFFERENCES_HEADER, Score, WELCH_METHOD};
use crate::plot::forest::{Estimate, Forest, ForestGroup};

/// The scores of `differences.csv` as the forest's columns, with the columns' titles.
const COLUMNS: [(Score, &str); 2] = [(Score::Final, "final"), (Score::Auc, "AUC")];

/// One row of `differences.csv`, as read back.
#[derive(Debug, Deserialize)]
struct DifferenceRecord {
    study: String,
    setting: String,
    compared: String,
    score: Score,
    diff: f64,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    method: String,
}

/// The differences file a path names: the path itself, or a study directory's `differences.csv`.
fn differences_file(path: &Path) -> anyhow::Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let file = path.join(DIFFERENCES);
    if !file.is_file() {
        bail!("{} has no {DIFFERENCES}: draw it with `vagram study plot {}` first", path.display(), path.display());
    }
    Ok(file)
}

/// One file's rows.
fn read(path: &Path) -> anyhow::Result<Vec<DifferenceRecord>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header = reader.headers().with_context(|| format!("reading {}", path.display()))?.clone();
    if header.iter().ne(DIFFERENCES_HEADER) {
        bail!(
            "{}: not a differences.csv of `vagram study plot` (its header is {:?}, expected {:?})",
            path.display(),
            header.iter().collect::<Vec<_>>().join(","),
            DIFFERENCES_HEADER.join(",")
        );
    }
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize().enumerate() {
        let row: DifferenceRecord = row.with_context(|| format!("{}, line {}", path.display(), i + 2))?;
        let finite_interval = match (row.ci_low, row.ci_high) {
            (Some(low), Some(high)) => low.is_finite() && high.is_finite() && low <= row.diff && row.diff <= high,
            (None, None) => true,
            _ => false,
        };
        if !row.diff.is_finite() || !finite_interval {
            bail!(
                "{}, line {}: the difference {} with the interval [{:?}, {:?}] is not a finite number inside a finite interval",
                path.display(),
                i + 2,
                row.diff,
                row.ci_low,
                row.ci_high
            );
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The forest of `compare`'s differences in each of `files` (`differences.csv` files or study
/// directories holding one; one group per file, in the order given). A file without that pair
/// is refused, naming the pairs it has.
pub fn forest(files: &[PathBuf], compare: &str, title: Option<String>) -> anyhow::Result<Forest> {
    if files.is_empty() {
        bail!("name at least one differences.csv (written by `vagram study plot DIR` into DIR)");
    }
    let mut groups = Vec::new();
    let mut methods: Vec<String> = Vec::new();
    let files = files.iter().map(|f| differences_file(f)).collect::<anyhow::Result<Vec<_>>>()?;
    for path in &files {
        let rows = read(path)?;
        let kept: Vec<&DifferenceRecord> = rows.iter().filter(|r| r.compared == compare).collect();
        if kept.is_empty() {
            let mut pairs: Vec<&str> = Vec::new();
            for r in &rows {
                if !pairs.contains(&r.compared.as_str()) {
                    pairs.push(&r.compared);
                }
            }
            bail!(
                "{} has no {compare:?} rows; it compares: {}",
                path.display(),
                if pairs.is_empty() { "nothing".into() } else { pairs.join(", ") }
            );
        }
        let mut labels: Vec<String> = Vec::new();
        for r in &kept {
            if !labels.contains(&r.setting) {
                labels.push(r.setting.clone());
            }
            if !methods.contains(&r.method) {
                methods.push(r.method.clone());
            }
        }
        let cells = COLUMNS
            .iter()
            .map(|(score, _)| {
                labels
                    .iter()
                    .map(|setting| {
                        kept.iter()
                            .find(|r| &r.setting == setting && r.score == *score)
                            .map(|r| Estimate { value: r.diff, interval: r.ci_low.zip(r.ci_high) })
                    })
                    .collect()
            })
            .collect();
        groups.push(ForestGroup { title: kept[0].study.clone(), labels, cells });
    }
    // Two files of one study (e.g. two samples of seeds) are told apart by their file names.
    let titles: Vec<String> = groups.iter().map(|g| g.title.clone()).collect();
    for (g, path) in groups.iter_mut().zip(&files) {
        if titles.iter().filter(|t| **t == g.title).count() > 1 {
            let stem = path.file_stem().map_or(String::new(), |s| s.to_string_lossy().into_owned());
            g.title = format!("{} ({stem})", g.title);
        }
    }
    let interval = if methods.iter().all(|m| m == WELCH_METHOD) {
        "95% Welch intervals".to_string()
    } else {
        format!("intervals: {}", methods.join(", "))
    };
    Ok(Forest {
        title: title.unwrap_or_else(|| format!("{compare}: differences of the means, {interval}")),
        columns: COLUMNS.iter().map(|(_, title)| title.to_string()).collect(),
        groups,
        note: "blue: interval above 0 · red: below 0 · grey: spans 0 (hollow: no interval) · final: last 10% of evaluations, AUC: mean over the run"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_forest_keeps_one_pair_per_file_and_refuses_files_without_it() {
        let dir = std::env::temp_dir().join(format!("vagram-forest-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let header = DIFFERENCES_HEADER.join(",");
        let a = write(
            &dir,
            "a.csv",
            &format!(
                "{header}\n\
                 cap,small,vagram - mle,final,10,2,18,7.5,welch-t-95\n\
                 cap,small,vagram - mle,auc,5,-1,11,7.5,welch-t-95\n\
                 cap,small,vagram - mse,final,3,-4,10,7.5,welch-t-95\n\
                 cap,big,vagram - mle,final,-2,,,,welch-t-95\n"
            ),
        );
        let b = write(&dir, "b.csv", &format!("{header}\ncap,d5,vagram - mle,auc,-7,-9,-5,10,welch-t-95\n"));
        let f = forest(&[a.clone(), b.clone()], "vagram - mle", None).unwrap();
        assert_eq!(f.columns, ["final", "AUC"]);
        assert_eq!(f.groups.len(), 2);
        assert_eq!(f.groups[0].labels, ["small", "big"]);
        assert_eq!(f.groups[0].title, "cap (a)", "two files of one study are told apart by name");
        assert_eq!(f.groups[0].cells[0][0], Some(Estimate { value: 10.0, interval: Some((2.0, 18.0)) }));
        assert_eq!(f.groups[0].cells[1][0], Some(Estimate { value: 5.0, interval: Some((-1.0, 11.0)) }));
        assert_eq!(f.groups[0].cells[0][1], Some(Estimate { value: -2.0, interval: None }), "empty interval columns read as none");
        assert_eq!(f.groups[0].cells[1][1], None, "no AUC row for that setting");
        assert_eq!(f.groups[1].cells[0][0], None);
        assert!(f.title.contains("95% Welch"), "{}", f.title);
        let err = forest(&[a.clone(), b], "vagram - itervaml", None).unwrap_err().to_string();
        assert!(err.contains("a.csv") && err.contains("vagram - mle, vagram - mse"), "{err}");
        let study = dir.join("study");
        std::fs::create_dir_all(&study).unwrap();
        let err = forest(&[study.clone()], "vagram - mle", None).unwrap_err().to_string();
        assert!(err.contains("no differences.csv") && err.contains("vagram study plot"), "{err}");
        std::fs::copy(&a, study.join(DIFFERENCES)).unwrap();
        let from_dir = forest(&[study], "vagram - mle", None).unwrap();
        assert_eq!(from_dir.groups[0].cells, f.groups[0].cells, "a study directory reads its differences.csv");
        let summary = write(&dir, "summary.csv", "study,setting,loss,seeds,final_mean,final_se,auc_mean\n");
        let err = forest(&[summary], "vagram - mle", None).unwrap_err().to_string();
        assert!(err.contains("summary.csv") && err.contains("not a differences.csv"), "{err}");
        let bad = write(&dir, "bad.csv", &format!("{header}\ncap,small,vagram - mle,final,ten,2,18,7.5,welch-t-95\n"));
        let err = format!("{:#}", forest(&[bad], "vagram - mle", None).unwrap_err());
        assert!(err.contains("bad.csv, line 2"), "{err}");
        let unknown = write(&dir, "score.csv", &format!("{header}\ncap,small,vagram - mle,median,10,2,18,7.5,welch-t-95\n"));
        let err = format!("{:#}", forest(&[unknown], "vagram - mle", None).unwrap_err());
        assert!(err.contains("score.csv, line 2") && err.contains("median"), "{err}");
        for row in ["NaN,2,18", "10,18,2", "10,2,", "10,-inf,18"] {
            let bad = write(&dir, "nan.csv", &format!("{header}\ncap,small,vagram - mle,final,{row},7.5,welch-t-95\n"));
            let err = format!("{:#}", forest(&[bad], "vagram - mle", None).unwrap_err());
            assert!(err.contains("nan.csv, line 2") && err.contains("not a finite number"), "{row}: {err}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
