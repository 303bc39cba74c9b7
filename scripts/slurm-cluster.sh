#!/usr/bin/env bash
# slurm-cluster.sh up|down|status|forget — a throw-away single-node Slurm cluster on this
# machine (munged, slurmctld, slurmd from Debian's packages) with fake GPUs, to try
# `multirun --backend slurm` and to run its tests (Tests/EndToEndTests/SlurmTests.swift).
#
# Needs root (device nodes for the fake GPUs, munged as the munge user, daemons as
# SlurmUser=root) and Debian/Ubuntu's apt for the packages it installs when missing.
# Works without systemd and without cgroups (proctrack/linuxproc, task/none).
# About 1 s when the packages are there (plus ~5 s for apt the first time).
#
# Environment:
#   MULTIRUN_SLURM_DIR    state, spool, logs, pid files, fake GPUs (default /tmp/multirun-slurm)
#   MULTIRUN_SLURM_GPUS   fake GPUs, gres gpu (default 4)
#   MULTIRUN_SLURM_CPUS   CPUs the node advertises (default 8; more than the real cores is fine)
#   MULTIRUN_SLURM_MAX_ARRAY_SIZE   MaxArraySize (default 1001, Slurm's own default)
#
# After `up`, plain sbatch/squeue/scontrol/scancel work: /etc/slurm/slurm.conf and
# gres.conf are symlinks into $MULTIRUN_SLURM_DIR/etc (an existing real file there is
# never replaced: then `up` fails and says so).
set -euo pipefail

D=${MULTIRUN_SLURM_DIR:-/tmp/multirun-slurm}
GPUS=${MULTIRUN_SLURM_GPUS:-4}
CPUS=${MULTIRUN_SLURM_CPUS:-8}
MAXARRAY=${MULTIRUN_SLURM_MAX_ARRAY_SIZE:-1001}
NODE=$(hostname -s)
PORT=6817
export SLURM_CONF=$D/etc/slurm.conf

say() { printf 'slurm-cluster: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
# A pid that exists and is not a zombie (PID 1 may reap orphans late; kill -0 says yes to zombies).
live() { local s; s=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) && [[ -n $s && $s != [ZX] ]]; }
livefile() { [[ -s $1 ]] && live "$(cat "$1")"; }
munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
# until_ok SECONDS CMD...: retry CMD every 0.1 s
until_ok() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS < end)) || return 1; sleep 0.1; done
}
node_state() { timeout 5 sinfo -h -n "$NODE" -o %T 2>/dev/null || true; }

stop() { # PIDFILE
  livefile "$1" || { rm -f "$1"; return 0; }
  local pid; pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do live "$pid" || break; sleep 0.1; done
  live "$pid" && kill -KILL "$pid" 2>/dev/null
  rm -f "$1"
}

down() {
  if livefile "$D/run/slurmctld.pid"; then
    local jobs; jobs=$(timeout 5 squeue -h -o %A 2>/dev/null | sort -u || true)
    # shellcheck disable=SC2086
    [[ -z $jobs ]] || timeout 5 scancel $jobs 2>/dev/null || true
  fi
  # slurmd first: one that never registered takes seconds to exit once slurmctld is gone
  stop "$D/run/slurmd.pid"
  stop "$D/run/slurmctld.pid"
  if [[ -e $D/run/munged.ours ]]; then stop /run/munge/munged.pid; fi
  for f in slurm.conf gres.conf; do
    [[ -L /etc/slurm/$f && $(readlink "/etc/slurm/$f") == "$D/etc/$f" ]] && rm -f "/etc/slurm/$f"
  done
  rm -rf "${D:?}"
  say "down"
}

up() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (fake GPU device nodes, munged as the munge user, slurmd as root); run it with sudo"
  [[ $GPUS =~ ^[0-9]+$ && $CPUS =~ ^[1-9][0-9]*$ && $MAXARRAY =~ ^[1-9][0-9]*$ ]] ||
    die "MULTIRUN_SLURM_GPUS, _CPUS and _MAX_ARRAY_SIZE must be whole numbers"
  if livefile "$D/run/slurmctld.pid" && livefile "$D/run/slurmd.pid" && [[ $(node_state) =~ ^(idle|mixed|allocated)$ ]]; then
    say "already up (node $NODE $(node_state))"; return 0
  fi
  [[ -d $D ]] && down
  local need=() p
  for p in munge slurmctld slurmd slurm-client; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
  done
  if ((${#need[@]})); then
    command -v apt-get >/dev/null || die "missing packages ${need[*]} and no apt-get to install them"
    say "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
      die "apt-get install ${need[*]} failed"
  fi
  for f in slurm.conf gres.conf; do
    [[ -e /etc/slurm/$f && ! -L /etc/slurm/$f ]] && die "/etc/slurm/$f is a real file (a real cluster's?); not replacing it"
  done
  mkdir -p "$D"/{etc,state,"spool/slurmd.$NODE",log,run,dev} /etc/slurm

  local gres="" gresconf="AutoDetect=off" i
  if ((GPUS > 0)); then
    gres="Gres=gpu:$GPUS"
    # slurmd sets CUDA_VISIBLE_DEVICES only for File= entries that are device nodes
    for ((i = 0; i < GPUS; i++)); do
      mknod "$D/dev/nvidia$i" c 195 "$i" 2>/dev/null || ln -s /dev/null "$D/dev/nvidia$i"
      gresconf+=$'\n'"NodeName=$NODE Name=gpu File=$D/dev/nvidia$i"
    done
  fi
  printf '%s\n' "$gresconf" >"$D/etc/gres.conf"
  cat >"$SLURM_CONF" <<EOF
# written by multirun's scripts/slurm-cluster.sh: a single-node test cluster
ClusterName=multirun
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool/slurmd.%n
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobContainerType=job_container/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
$( ((GPUS > 0)) && echo GresTypes=gpu)
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.log
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=300
MaxArraySize=$MAXARRAY
KillWait=5
InactiveLimit=0
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=4096 $gres State=UNKNOWN
# urgent preempts debug: its jobs requeue debug's (the preemption test)
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP PriorityTier=1
PartitionName=urgent Nodes=$NODE MaxTime=INFINITE State=UP PriorityTier=10 PreemptMode=OFF
EOF
  ln -sfn "$SLURM_CONF" /etc/slurm/slurm.conf
  ln -sfn "$D/etc/gres.conf" /etc/slurm/gres.conf

  if ! munge_ok; then
    # munged refuses to run as root ("Logfile is insecure"): run it as munge, like its unit
    mkdir -p /etc/munge
    [[ -s /etc/munge/munge.key ]] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 status=none
    chown munge:munge /etc/munge /etc/munge/munge.key && chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    runuser -u munge -- /usr/sbin/munged || die "munged did not start"
    touch "$D/run/munged.ours"
    until_ok 20 munge_ok || die "munged does not answer"
  fi
  # Foreground daemons in their own sessions: their pids are known at once, and they
  # never hold the caller's output open. -c: cold start, no jobs of an earlier cluster.
  setsid -w slurmctld -D -c -f "$SLURM_CONF" </dev/null >>"$D/log/slurmctld.out" 2>&1 &
  until_ok 30 timeout 5 scontrol ping >/dev/null 2>&1 || { tail -5 "$D/log/slurmctld.log" >&2; die "slurmctld did not come up (log above)"; }
  setsid -w slurmd -D -f "$SLURM_CONF" -N "$NODE" </dev/null >>"$D/log/slurmd.out" 2>&1 &
  idle() { [[ $(node_state) == idle ]]; }
  until_ok 30 idle || { tail -5 "$D/log/slurmd.log" >&2; die "node $NODE did not become idle (log above)"; }
  say "up: node $NODE idle, $CPUS CPUs, gpu:$GPUS, MaxArraySize=$MAXARRAY (logs in $D/log)"
}

# Restarts slurmctld cold (-c): it forgets every job, as it does MinJobAge after a job
# ended. For the test of a job that vanished without an exit record.
forget() {
  [[ $(id -u) -eq 0 ]] || die "must run as root"
  livefile "$D/run/slurmctld.pid" || die "no cluster of this script is up in $D"
  stop "$D/run/slurmctld.pid"
  setsid -w slurmctld -D -c -f "$SLURM_CONF" </dev/null >>"$D/log/slurmctld.out" 2>&1 &
  until_ok 30 timeout 5 scontrol ping >/dev/null 2>&1 || die "slurmctld did not come back"
  idle() { [[ $(node_state) == idle ]]; }
  until_ok 30 idle || die "node $NODE is not idle after the restart"
  say "slurmctld restarted cold: every job forgotten"
}

case ${1:-} in
  up) up ;;
  forget) forget ;;
  down) down ;;
  status) livefile "$D/run/slurmctld.pid" && echo "up: node $NODE $(node_state)" || { echo "down"; exit 1; } ;;
  *) echo "usage: $0 up|down|status|forget" >&2; exit 2 ;;
esac
