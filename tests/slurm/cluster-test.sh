#!/bin/bash
# End-to-end test of the Slurm path on a real single-node cluster (start-cluster.sh):
#  1. a smoke-scale study (fig3-capacity: 6 cells × 2 seeds) exported with `vagram study
#     export-slurm`, submitted with sbatch, waited for (bounded): every task must finish, every
#     cell's metrics must equal those of the same study run locally, and `vagram study plot`
#     must draw the figure from the cluster's output;
#  2. a longer one-task study cancelled mid-run with scancel (status paused by SIGTERM, its
#     checkpoint kept), resubmitted, and checked to end with the numbers of an uninterrupted
#     local run;
#  3. a task stopped by its one-minute time limit: it leaves a checkpoint, and a resubmission
#     continues from it;
#  4. a `vagram train --export-slurm` run whose seed numbers (5000, 5001) lie beyond the
#     cluster's MaxArraySize: both seeds finish.
# Uses target/release/vagram (built if missing); exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
VAGRAM=${VAGRAM:-$PWD/target/release/vagram}
[ -x "$VAGRAM" ] || cargo build --release
export SLURM_DIR=${SLURM_DIR:-/tmp/vagram-slurm}
WORK=$(mktemp -d /tmp/vagram-cluster-XXXXXX)
started=$(date +%s)
trap 'bash tests/slurm/stop-cluster.sh; rm -rf "$WORK"' EXIT
bash tests/slurm/start-cluster.sh
export SLURM_CONF=$SLURM_DIR/slurm.conf

fail() { echo "FAIL: $*" >&2; exit 1; }
# Waits (at most $2 seconds) until job $1 has left the queue.
wait_job() {
    local job=$1 limit=$2 t=0
    while squeue -h -j "$job" 2>/dev/null | grep -q .; do
        sleep 1; t=$((t + 1))
        [ "$t" -le "$limit" ] || { squeue; fail "job $job still queued or running after ${limit} s"; }
    done
}
job_of() { awk '/Submitted batch job/ { print $4 }'; }

echo "== 1. a study on the cluster =="
"$VAGRAM" study export-slurm "$WORK/st" --study fig3-capacity --scale smoke --seeds 2
job=$(sbatch "$WORK/st/slurm.sh" | job_of)
echo "submitted job array $job"
wait_job "$job" 600
tasks=0
for cell in "$WORK"/st/*/; do
    [ -f "$cell/config.toml" ] || continue
    for seed in 0 1; do
        tasks=$((tasks + 1))
        grep -q 'state = "finished"' "$cell/seed-$seed/status.toml" 2>/dev/null \
            || fail "$(basename "$cell") seed $seed did not finish: $(cat "$cell/seed-$seed/status.toml" 2>/dev/null); log: $(cat "$WORK/st/slurm/"* 2>/dev/null | tail -5)"
    done
done
[ "$tasks" -eq 12 ] || fail "expected 12 tasks (6 cells × 2 seeds), found $tasks"
ls "$WORK/st/slurm/" | grep -q . || fail "no task logs in $WORK/st/slurm"
"$VAGRAM" study run fig3-capacity --scale smoke --seeds 2 --out "$WORK/local" --quiet >/dev/null 2>&1
for cell in "$WORK"/st/*/; do
    name=$(basename "$cell")
    [ -f "$cell/config.toml" ] || continue
    for seed in 0 1; do
        cmp -s "$cell/seed-$seed/metrics.csv" "$WORK/local/$name/seed-$seed/metrics.csv" \
            || fail "$name seed $seed: the cluster's metrics differ from the local run's"
    done
done
echo "all 12 tasks finished with the local run's numbers"
"$VAGRAM" study plot "$WORK/st" >/dev/null
[ -s "$WORK/st/figure.png" ] && [ -s "$WORK/st/figure.svg" ] && [ -s "$WORK/st/summary.csv" ] || fail "no figure or summary from the cluster's output"
echo "figure and summary drawn from the cluster's output"

echo "== 2. cancel a task mid-run, resubmit it =="
"$VAGRAM" study export-slurm "$WORK/cancel" --study tests/slurm/cancel.toml --scale smoke
status="$WORK/cancel/tiny-vagram/seed-0/status.toml"
job=$(sbatch "$WORK/cancel/slurm.sh" | job_of)
for _ in $(seq 300); do
    epochs=$(awk -F' = ' '/^epochs/ { print $2 }' "$status" 2>/dev/null || echo 0)
    [ "${epochs:-0}" -ge 3 ] && break
    sleep 0.2
done
[ "${epochs:-0}" -ge 3 ] || fail "the task did not get to epoch 3"
scancel "$job"
wait_job "$job" 60
grep -q 'state = "paused"' "$status" || fail "a cancelled task should be paused: $(cat "$status")"
done_at_cancel=$(awk -F' = ' '/^epochs/ { print $2 }' "$status")
[ "$done_at_cancel" -lt 30 ] || fail "the task finished before it was cancelled"
echo "cancelled at epoch $done_at_cancel: $(grep message "$status" || true)"
job=$(sbatch "$WORK/cancel/slurm.sh" | job_of)
wait_job "$job" 600
grep -q 'state = "finished"' "$status" || fail "the resubmitted task did not finish: $(cat "$status")"
"$VAGRAM" study run tests/slurm/cancel.toml --scale smoke --out "$WORK/cancel-local" --quiet >/dev/null 2>&1
cmp -s "$WORK/cancel/tiny-vagram/seed-0/metrics.csv" "$WORK/cancel-local/tiny-vagram/seed-0/metrics.csv" \
    || fail "the resumed task's metrics differ from the uninterrupted run's"
echo "the resubmitted task resumed from its checkpoint and ended with the uninterrupted run's numbers"

echo "== 3. a task past its time limit, resubmitted =="
# The same one-cell study at its paper scale: the full pendulum preset, minutes per seed, so
# a one-minute limit stops it mid-run (SIGTERM, then SIGKILL after KillWait).
"$VAGRAM" study export-slurm "$WORK/limit" --study tests/slurm/cancel.toml --scale paper --time 1
status="$WORK/limit/tiny-vagram/seed-0/status.toml"
checkpoint="$WORK/limit/tiny-vagram/seed-0/checkpoint.toml"
job=$(sbatch "$WORK/limit/slurm.sh" | job_of)
wait_job "$job" 240
[ -f "$checkpoint" ] || fail "the timed-out task left no checkpoint: $(cat "$status" 2>/dev/null)"
grep -q 'state = "finished"' "$status" && fail "the task finished within its time limit; the test needs a longer one"
limited_at=$(awk -F' = ' '/^epoch =/ { print $2 }' "$checkpoint")
echo "stopped by its time limit with a checkpoint after epoch $limited_at ($(grep '^state' "$status"))"
job=$(sbatch --time=10 "$WORK/limit/slurm.sh" | job_of)
for _ in $(seq 600); do
    epochs=$(awk -F' = ' '/^epochs/ { print $2 }' "$status" 2>/dev/null || echo 0)
    [ "${epochs:-0}" -ge $((limited_at + 2)) ] && break
    sleep 0.2
done
[ "${epochs:-0}" -ge $((limited_at + 2)) ] || fail "the resubmitted task did not continue past epoch $limited_at"
scancel "$job"
wait_job "$job" 60
echo "the resubmitted task continued from epoch $limited_at to $epochs"
echo "== 4. vagram train --export-slurm, seeds beyond MaxArraySize =="
"$VAGRAM" train --env pendulum --seeds 2 --first-seed 5000 --out "$WORK/train" --export-slurm "$WORK/train.sh" \
    --set run.env_steps=300 --set run.epoch_length=100 --set run.initial_random_steps=100 \
    --set model.train_every=100 --set model.max_epochs=5
job=$(sbatch "$WORK/train.sh" | job_of)
wait_job "$job" 600
for seed in 5000 5001; do
    grep -q 'state = "finished"' "$WORK/train/seed-$seed/status.toml" 2>/dev/null \
        || fail "seed $seed did not finish: $(cat "$WORK/train/seed-$seed/status.toml" 2>/dev/null); log: $(tail -5 "$WORK"/train/slurm-*.out 2>/dev/null)"
done
echo "both seeds of the exported run finished"
echo "cluster test passed in $(( $(date +%s) - started )) s"
