#!/bin/bash
# Starts a real single-node Slurm cluster on this machine for the cluster test: installs
# slurm-wlm and munge if missing (Debian/Ubuntu; apt through sudo when not root), writes a
# minimal slurm.conf for this host (its real core count and memory; the daemons on 127.0.0.1,
# so the host name need not resolve) into $SLURM_DIR (default /tmp/vagram-slurm), starts
# munged, slurmctld and slurmd as the calling user (SlurmUser; jobs run as that user too), and
# waits until `sinfo` shows the node idle. The daemons' pids go to $SLURM_DIR/pids for
# stop-cluster.sh. Use the cluster with: export SLURM_CONF=$SLURM_DIR/slurm.conf
set -euo pipefail

SLURM_DIR=${SLURM_DIR:-/tmp/vagram-slurm}
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "installing slurm-wlm and munge…"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 || { $SUDO apt-get update -qq; $SUDO apt-get install -y -q slurm-wlm munge >/dev/null; }
fi
mkdir -p "$SLURM_DIR"/{state,spool,log,munge}
: > "$SLURM_DIR/pids"

host=$(hostname -s)
cpus=$(nproc)
# Slurm refuses a node reporting less memory than configured: leave 10% and 512 MiB aside.
mem_mb=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 - 512 }' /proc/meminfo)

# munge: a key of our own, its socket in $SLURM_DIR (no system daemon needed).
key="$SLURM_DIR/munge/munge.key"
[ -f "$key" ] || { dd if=/dev/urandom of="$key" bs=1024 count=1 status=none; chmod 600 "$key"; }
socket="$SLURM_DIR/munge/munge.socket"
munged --key-file="$key" --socket="$socket" --pid-file="$SLURM_DIR/munge/munged.pid" \
    --log-file="$SLURM_DIR/log/munged.log" --seed-file="$SLURM_DIR/munge/seed" --force
sleep 0.5
echo "munged $(cat "$SLURM_DIR/munge/munged.pid")" >> "$SLURM_DIR/pids"

cat > "$SLURM_DIR/slurm.conf" <<CONF
ClusterName=vagram-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$(id -un)
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MaxArraySize=1001
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
SlurmctldPort=6917
SlurmdPort=6918
MpiDefault=none
KillWait=5
InactiveLimit=0
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$SLURM_DIR/slurm.conf"

slurmctld -f "$SLURM_CONF" -i
slurmd -f "$SLURM_CONF"
for _ in $(seq 50); do
    [ -s "$SLURM_DIR/slurmctld.pid" ] && [ -s "$SLURM_DIR/slurmd.pid" ] && break
    sleep 0.2
done
echo "slurmctld $(cat "$SLURM_DIR/slurmctld.pid")" >> "$SLURM_DIR/pids"
echo "slurmd $(cat "$SLURM_DIR/slurmd.pid")" >> "$SLURM_DIR/pids"

for _ in $(seq 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
        echo "Slurm is up: node $host idle with $cpus CPUs and $mem_mb MiB (SLURM_CONF=$SLURM_CONF)"
        exit 0
    fi
    sleep 1
done
echo "Slurm did not come up; logs in $SLURM_DIR/log:" >&2
tail -n 20 "$SLURM_DIR"/log/*.log >&2
exit 1
