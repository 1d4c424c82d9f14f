//! The built-in studies: every `studies/*.toml` of the repository, embedded in the binary at
//! build time, so that a new study is a new file. A path to a TOML file works wherever a
//! built-in study's name does.

use std::path::Path;

use anyhow::Context;
use include_dir::{Dir, include_dir};

use super::definition::StudyDef;

static STUDIES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/studies");

/// The built-in studies' names, sorted.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = STUDIES.files().filter_map(|f| f.path().to_str()?.strip_suffix(".toml").map(str::to_string)).collect();
    names.sort();
    names
}

/// The TOML text of built-in study `name`.
pub fn text(name: &str) -> Option<&'static str> {
    STUDIES.get_file(format!("{name}.toml"))?.contents_utf8()
}

/// Study `name_or_path`: a built-in study's name, or a path to a study TOML file; with the text
/// it was read from.
pub fn load(name_or_path: &str) -> anyhow::Result<(StudyDef, String)> {
    if let Some(text) = text(name_or_path) {
        let def = StudyDef::from_toml(text, &format!("studies/{name_or_path}.toml"))?;
        return Ok((def, text.to_string()));
    }
    let path = Path::new(name_or_path);
    if path.extension().is_some_and(|e| e == "toml") {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading the study file {}", path.display()))?;
        return Ok((StudyDef::from_toml(&text, &path.display().to_string())?, text));
    }
    anyhow::bail!("no study named {name_or_path:?} (studies: {}; or give a path to a study .toml file)", names().join(", "))
}
