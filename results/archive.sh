#!/usr/bin/env bash
# Copies what a study directory's finished seeds recorded into the repository, so that its
# figure can be redrawn and the study grown in a later session, on another machine.
#
#   results/archive.sh runs/fig5-cartpole-cpu              # → results/fig5-cartpole-cpu
#   results/archive.sh runs/fig5-cartpole-cpu OTHER/DIR    # → OTHER/DIR
#
# Kept: the study's manifest and definition, each cell's config and run manifest, and for every
# finished seed its metrics.csv, timings.csv and status.toml (about 15 KB a seed). Left out:
# checkpoints (17 MB a seed on the cartpole), locks, figures (`vagram study plot` redraws them),
# the Slurm script (its paths are absolute), and unfinished seeds whole: without their
# checkpoints they could not resume, so `vagram study run` starts them afresh. A finished seed
# without its checkpoint stands as it is when the study is run again.
# Archiving again replaces an earlier archive (marked by its ARCHIVE file), never anything else.
set -euo pipefail

usage="usage: results/archive.sh STUDY_DIR [DEST]"
src=${1:?$usage}
src=${src%/}
dest=${2:-$(cd "$(dirname "$0")" && pwd)/$(basename "$src")}
dest=${dest%/}

[[ -f "$src/study.toml" ]] || { echo "error: $src/study.toml not found: $src is not a study directory" >&2; exit 1; }
if [[ -e "$dest" && ! -f "$dest/ARCHIVE" ]]; then
  echo "error: $dest exists and is not an archive made by this script (no ARCHIVE file); not replacing it" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "$(dirname "$dest")/.archive.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$src/study.toml" "$src/definition.toml" "$tmp/"
finished=0
left_out=0
for cell in "$src"/*/; do
  cell=${cell%/}
  [[ -f "$cell/run.toml" ]] || continue
  out="$tmp/$(basename "$cell")"
  mkdir -p "$out"
  cp "$cell/run.toml" "$cell/config.toml" "$out/"
  for seed in "$cell"/seed-*/; do
    [[ -d "$seed" ]] || continue
    seed=${seed%/}
    if ! grep -qs '^state = "finished"' "$seed/status.toml"; then
      left_out=$((left_out + 1))
      continue
    fi
    mkdir -p "$out/$(basename "$seed")"
    cp "$seed/metrics.csv" "$seed/timings.csv" "$seed/status.toml" "$out/$(basename "$seed")/"
    finished=$((finished + 1))
  done
done
printf 'Archived by results/archive.sh from %s on %s: %d finished seed run(s), no checkpoints.\n' \
  "$src" "$(date -u +%Y-%m-%dT%H:%MZ)" "$finished" > "$tmp/ARCHIVE"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "archived $finished finished seed run(s) of $src into $dest ($(du -sh "$dest" | cut -f1)); $left_out unfinished left out"
