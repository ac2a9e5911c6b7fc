#!/bin/bash
# A one-node Slurm cluster on this machine, for trying the scripts here and for the test
# (packages/eval/test/slurm.test.ts): munged, slurmctld and slurmd for localhost, every file under DIR.
#   deploy/slurm/local-cluster.sh start DIR   # writes DIR/slurm.conf, starts the daemons, waits for the node
#   SLURM_CONF=DIR/slurm.conf sbatch ...        # use it
#   deploy/slurm/local-cluster.sh stop DIR
# Needs Debian's slurm-wlm and munge (apt-get install slurm-wlm munge) and root (the daemons run as root).
set -euo pipefail
cmd="${1:?usage: $0 start|stop DIR}"
dir="$(realpath -m "${2:?usage: $0 start|stop DIR}")"
host="$(hostname -s)"
# The daemons' ports: SLURM_PORT (slurmctld) and SLURM_PORT + 1 (slurmd).
port="${SLURM_PORT:-6817}"

stop() {
  if [ -f "$dir/slurm.conf" ]; then SLURM_CONF="$dir/slurm.conf" scontrol shutdown >/dev/null 2>&1 || true; fi
  for file in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [ -f "$file" ] || continue
    pid="$(cat "$file")"
    kill "$pid" 2>/dev/null || true
    # Gone before DIR may be removed (slurmctld writes its state as it stops).
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  done
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "local-cluster: needs root (the daemons run as root)" >&2; exit 3; }
for bin in munged slurmctld slurmd sbatch scontrol; do
  command -v "$bin" >/dev/null || { echo "local-cluster: $bin is missing: apt-get install slurm-wlm munge" >&2; exit 3; }
done
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
# munge: its own key and socket under DIR (the system's are left alone).
[ -f "$dir/munge/munge.key" ] || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/socket" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/seed"
cpus="$(nproc)"
cat > "$dir/slurm.conf" <<CONF
ClusterName=advx-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
# cred_expire: how long a requeued job waits before it starts again (default 120 s).
AuthInfo=socket=$dir/munge/socket,cred_expire=10
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobRequeue=1
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld
slurmd
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qx 'idle'; then exit 0; fi
  sleep 0.5
done
echo "local-cluster: the node did not come up; see $dir/slurmctld.log and $dir/slurmd.log" >&2
tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
exit 4
