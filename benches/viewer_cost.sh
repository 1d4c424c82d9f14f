#!/usr/bin/env bash
# What the viewer costs (issue #6), under Xvfb with Mesa's software OpenGL:
#  1. frames per second drawing 64 envs (target: above 30);
#  2. how much a viewer attached to training slows it (target: under 10%): the same 1-seed
#     pendulum run (1000 env steps) trained plain and watched, alternating, REPS times each;
#     the training's own wall clock ("… s wall") is compared.
# Run: benches/viewer_cost.sh   (builds the release binary with the viewer first)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
cargo build --release --features viewer -q
BIN=target/release/vagram
XVFB=(xvfb-run -a -s "-screen 0 1280x800x24")
echo "== drawing: frames per second"
for n in 1 16 64; do
  "${XVFB[@]}" $BIN view --env pendulum --envs $n --seconds 10 2>&1 | grep -o "[0-9.]* fps over.*" | sed "s/^/$n envs: /"
done
"${XVFB[@]}" $BIN view --env hopper --envs 64 --seconds 10 2>&1 | grep -o "[0-9.]* fps over.*" | sed "s/^/64 hoppers: /"
echo "== training with and without the viewer (seconds of training wall clock)"
TRAIN=(--env pendulum --loss vagram --seeds 1 --threads 1 --quiet --set run.env_steps=1000)
tmp=$(mktemp -d)
for r in $(seq "$REPS"); do
  plain=$($BIN train "${TRAIN[@]}" --out "$tmp/plain-$r" 2>&1 | grep -o "[0-9.]* s wall" | cut -d' ' -f1)
  watched=$("${XVFB[@]}" $BIN view --until-trained --train "${TRAIN[@]}" --out "$tmp/watched-$r" 2>&1 | grep -o "[0-9.]* s wall" | cut -d' ' -f1)
  echo "rep $r: plain $plain s, watched $watched s, ratio $(echo "$watched / $plain" | bc -l | cut -c1-5)"
done
rm -rf "$tmp"
