//! Checkpoint files of one seed: the state tensors in `checkpoint-EPOCH.safetensors` and a small
//! manifest, `checkpoint.toml`, that commits to them (file name, length, CRC-32, config CRC).
//!
//! Writing is crash-safe: the tensors go to a temporary file that is synced and renamed, then the
//! manifest is replaced the same way — the rename of the manifest is the commit. Only after it
//! are older tensor files removed, so at every instant `checkpoint.toml` names a complete file.
//! Loading verifies length and CRC before reading a byte of state, and never deletes anything.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::learn::snapshot::TensorStore;

/// Version of the checkpoint layout.
pub const FORMAT: u32 = 1;

/// The manifest: what the checkpoint is and how to verify it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Layout version ([`FORMAT`]).
    pub format: u32,
    /// Epochs completed when it was written.
    pub epoch: u64,
    /// Env steps completed.
    pub env_steps: u64,
    /// The tensor file, next to the manifest.
    pub tensors: String,
    /// Its length in bytes.
    pub bytes: u64,
    /// Its CRC-32.
    pub crc32: u32,
    /// CRC-32 of the run's config.toml text.
    pub config_crc32: u32,
}

/// Writes `bytes` to `path` durably and atomically: into a uniquely named temporary file in the
/// same directory (so concurrent writers never share one), synced, renamed over `path`, then the
/// directory synced so the rename itself survives a power loss. Readers see the old or the new
/// content, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file for {} in {}", name, dir.display()))?;
    tmp.write_all(bytes).with_context(|| format!("writing {}", tmp.path().display()))?;
    tmp.as_file().sync_all().with_context(|| format!("syncing {}", tmp.path().display()))?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("renaming a temporary file to {}", path.display()))?;
    sync_dir(dir).with_context(|| format!("syncing the directory {}", dir.display()))
}

/// Makes a directory's entries (a rename into it) durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Windows has no directory handles to sync; its renames are journaled by NTFS.
#[cfg(not(unix))]
fn sync_dir(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The manifest path in a seed directory.
pub fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("checkpoint.toml")
}

/// Saves `store` as the checkpoint after `epoch` epochs.
pub fn save(dir: &Path, store: &TensorStore, epoch: u64, env_steps: u64, config_text: &str) -> anyhow::Result<Manifest> {
    let name = format!("checkpoint-{epoch:06}.safetensors");
    let bytes = store.to_bytes(None);
    write_atomic(&dir.join(&name), &bytes)?;
    let manifest = Manifest {
        format: FORMAT,
        epoch,
        env_steps,
        tensors: name.clone(),
        bytes: bytes.len() as u64,
        crc32: crc32fast::hash(&bytes),
        config_crc32: crc32fast::hash(config_text.as_bytes()),
    };
    write_atomic(&manifest_path(dir), toml::to_string(&manifest)?.as_bytes())?;
    for entry in fs::read_dir(dir)?.flatten() {
        let file = entry.file_name().to_string_lossy().to_string();
        if file.starts_with("checkpoint-") && file.ends_with(".safetensors") && file != name {
            fs::remove_file(entry.path()).with_context(|| format!("removing the old checkpoint {file}"))?;
        }
    }
    Ok(manifest)
}

/// Whether a seed directory holds a committed checkpoint.
pub fn exists(dir: &Path) -> bool {
    manifest_path(dir).is_file()
}

/// Reads and verifies the checkpoint of `dir` against the run's config text.
pub fn load(dir: &Path, config_text: &str) -> anyhow::Result<(Manifest, TensorStore)> {
    let path = manifest_path(dir);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: Manifest = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a valid checkpoint manifest: {}", path.display(), e.to_string().trim()))?;
    if manifest.format != FORMAT {
        bail!("{}: checkpoint format {} is not supported (this build reads {FORMAT})", path.display(), manifest.format);
    }
    if manifest.config_crc32 != crc32fast::hash(config_text.as_bytes()) {
        bail!("{}: the checkpoint was written under another config than the run's config.toml", path.display());
    }
    let tensors = dir.join(&manifest.tensors);
    let bytes = fs::read(&tensors).with_context(|| format!("reading {} (named by {})", tensors.display(), path.display()))?;
    if bytes.len() as u64 != manifest.bytes {
        bail!("{}: {} bytes, the manifest says {}: the file is truncated or damaged", tensors.display(), bytes.len(), manifest.bytes);
    }
    if crc32fast::hash(&bytes) != manifest.crc32 {
        bail!("{}: CRC-32 mismatch: the file is damaged", tensors.display());
    }
    let store = TensorStore::from_bytes(&bytes).with_context(|| format!("{}", tensors.display()))?;
    Ok((manifest, store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_atomic_writes_to_one_path_leave_one_whole_file_and_no_temporaries() {
        // With one fixed temporary name the writers truncated each other's file and all but one
        // rename failed; unique names let each write land whole.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.toml");
        let contents: Vec<Vec<u8>> = (0..8u8).map(|w| vec![b'a' + w; 256 * 1024]).collect();
        std::thread::scope(|s| {
            for c in &contents {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..5 {
                        write_atomic(path, c).unwrap();
                    }
                });
            }
        });
        let written = fs::read(&path).unwrap();
        assert!(contents.contains(&written), "the file is one writer's whole content");
        let names: Vec<String> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
        assert_eq!(names, ["status.toml"], "no temporary file is left");
    }
}
