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

/// Writes `bytes` to `path` through a synced temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("{}.tmp", path.extension().and_then(|e| e.to_str()).unwrap_or("")));
    let mut file = fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(bytes).with_context(|| format!("writing {}", tmp.display()))?;
    file.sync_all().with_context(|| format!("syncing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
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
