#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the CI check of the Slurm recipe: Debian's munge,
# slurmctld and slurmd, run as root without systemd, configured in <state-dir> (nothing under /etc is
# changed). `stop` ends every daemon `start` started, by its PID.
#   slurm-local.sh start <state-dir>   # prints the SLURM_CONF to export
#   slurm-local.sh stop <state-dir>
set -euo pipefail
cmd="${1:?start|stop}"
state="$(mkdir -p "${2:?state dir}" && cd "$2" && pwd)"
conf="$state/slurm.conf"

stop() {
  for d in slurmd slurmctld munged; do
    pid_file="$state/$d.pid"
    [ -f "$pid_file" ] || continue
    pid="$(cat "$pid_file")"
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
  done
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi
[ "$cmd" = start ] || { echo "slurm-local.sh: start or stop, not '$cmd'" >&2; exit 2; }
for bin in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$bin" > /dev/null || { echo "slurm-local.sh: $bin not found (Debian: apt-get install munge slurmctld slurmd slurm-client)" >&2; exit 2; }
done
trap 'stop' ERR

host="$(hostname -s)"
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p "$state/spool/ctld" "$state/spool/d" "$state/log" "$state/munge"
cat > "$conf" << EOF
ClusterName=movinet
SlurmctldHost=$host
AuthType=auth/munge
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobRequeue=1
DependencyParameters=kill_invalid_depend
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) RealMemory=$mem_mb State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

# munge: a key of its own in the state dir (the system's key and daemon are left alone), its socket there too.
key="$state/munge/munge.key"
(command -v mungekey > /dev/null && mungekey --create --keyfile="$key" 2> /dev/null) || dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
chmod 400 "$key"
socket="$state/munge/munge.socket"
munged --force --key-file="$key" --socket="$socket" --pid-file="$state/munged.pid" --log-file="$state/log/munged.log" --seed-file="$state/munge/seed"
# Slurm's munge plugin finds the socket through its AuthInfo.
sed -i "s#^AuthType=auth/munge#AuthType=auth/munge\nAuthInfo=socket=$socket#" "$conf"

export SLURM_CONF="$conf"
slurmctld -f "$conf"
slurmd -f "$conf"
for _ in $(seq 150); do
  if sinfo -h -o '%t' 2> /dev/null | grep -qE '^idle'; then
    echo "export SLURM_CONF=$conf"
    exit 0
  fi
  sleep 0.2
done
echo "slurm-local.sh: the node did not come up; see $state/log" >&2
stop
exit 1
