#!/bin/bash
# Stops the daemons start-cluster.sh started (only those, by the pids it recorded).
SLURM_DIR=${SLURM_DIR:-/tmp/vagram-slurm}
[ -f "$SLURM_DIR/pids" ] || exit 0
tac "$SLURM_DIR/pids" | while read -r name pid; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" && echo "stopped $name ($pid)"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
done
: > "$SLURM_DIR/pids"
