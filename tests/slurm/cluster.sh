#!/usr/bin/env bash
# A real single-node Slurm (22.05+) for the tests: this host is the only node, with 2 fake GPUs.
#
#   tests/slurm/cluster.sh up DIR     write DIR/etc/slurm.conf, start slurmctld + slurmd, wait until idle
#   tests/slurm/cluster.sh down DIR   stop both daemons (by the pids they wrote under DIR)
#
# After `up`, `export SLURM_CONF=DIR/etc/slurm.conf` points sbatch/squeue/scancel at this cluster.
# Everything (state, spool, logs, pid files) lives under DIR, and the ports are chosen free at start, so
# several clusters (or another tenant's) can run side by side. Authentication is auth/none (supported by
# 22.05), so no munge key or munged is needed; this is only acceptable because the cluster exists for one
# test run on one host. `up` prints the reason and exits non-zero when the cluster cannot start.
set -euo pipefail

cmd="${1:-}"; dir="${2:-}"
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 up|down DIR" >&2; exit 64
fi
dir="$(mkdir -p "$dir" && cd "$dir" && pwd)"
conf="$dir/etc/slurm.conf"

stop() {
  # Only the daemons this script started: their pid files under $dir name them.
  for name in slurmd slurmctld; do
    local pidf="$dir/run/$name.pid"
    [[ -f "$pidf" ]] || continue
    local pid; pid="$(cat "$pidf" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidf"
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

fail() {
  echo "slurm cluster did not start: $*" >&2
  for log in slurmctld slurmd; do
    if [[ -s "$dir/log/$log.log" ]]; then
      echo "--- last lines of $dir/log/$log.log" >&2; tail -n 15 "$dir/log/$log.log" >&2
    fi
  done
  stop
  exit 1
}

up() {
  for bin in slurmctld slurmd sinfo sbatch; do
    command -v "$bin" >/dev/null 2>&1 || fail "$bin not found (apt-get install slurm-wlm)"
  done
  mkdir -p "$dir"/{etc,state,spool,log,run}
  local host cpus mem ctl_port d_port user
  user="$(id -un)"
  host="$(hostname -s)"
  cpus="$(nproc)"
  # Half the memory, in MiB: enough for the jobs, and slurmd accepts a node with less than it has.
  mem="$(awk '/MemTotal/ {print int($2 / 2048)}' /proc/meminfo)"
  ctl_port="$(free_port)"; d_port="$(free_port)"
  cat >"$conf" <<EOF
ClusterName=trtsweep-test
SlurmctldHost=$host
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
SchedulerType=sched/backfill
# Poll quickly so a test sweep is not dominated by scheduler latency.
SchedulerParameters=sched_interval=1,bf_interval=1
MessageTimeout=20
ReturnToService=2
# Finished jobs stay visible to scontrol for this long (the coordinator reads how a job ended).
MinJobAge=600
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmdParameters=config_overrides
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=gpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  # Two fake GPUs: Slurm hands them out one per job (CUDA_VISIBLE_DEVICES 0 or 1) like real ones.
  cat >"$dir/etc/gres.conf" <<EOF
AutoDetect=off
NodeName=$host Name=gpu File=/dev/null
NodeName=$host Name=gpu File=/dev/zero
EOF
  export SLURM_CONF="$conf"
  slurmctld -c -f "$conf" >>"$dir/log/slurmctld.out" 2>&1 || fail "slurmctld exited: $(tail -n 3 "$dir/log/slurmctld.out")"
  slurmd -c -f "$conf" >>"$dir/log/slurmd.out" 2>&1 || fail "slurmd exited: $(tail -n 3 "$dir/log/slurmd.out")"
  local state=""
  for _ in $(seq 150); do
    state="$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)"
    [[ "$state" == "idle" ]] && break
    sleep 0.2
  done
  [[ "$state" == "idle" ]] || fail "node $host is '${state:-not listed}' after 30 s (sinfo), not idle"
  echo "$conf"
}

case "$cmd" in
  up) up ;;
  down) stop ;;
  *) echo "usage: $0 up|down DIR" >&2; exit 64 ;;
esac
