#!/usr/bin/env bash
# Checks that the README's cron line and contrib/multirun.service work as documented:
#  1. contrib/install.sh installs multirun and runone into a temp HOME's ~/.local/bin;
#  2. the README's crontab line, run by sh under cron's bare environment
#     (env -i HOME=... PATH=/usr/bin:/bin), works before .multirun/ exists, then runs a
#     submitted task;
#  3. systemd-analyze verify accepts the unit (paths substituted), when it is installed;
#  4. the unit's ExecStart, ExecReload and a stop (SIGTERM, as systemd sends) behave:
#     reload drains (exit 0), stop exits with a status listed in SuccessExitStatus.
# Without nvidia-smi on /usr/bin:/bin, "-d 1 1" (two GPUs) is run as "-gpu false -d 1".
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d /tmp/multirun-cron-unit.XXXXXX)
daemon_pid=
cleanup() {
    if [ -n "$daemon_pid" ]; then kill -KILL "$daemon_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# Waits up to 20 s for a command to succeed.
until_ok() { for _ in $(seq 200); do "$@" && return 0; sleep 0.1; done; return 1; }

home=$work/home
mkdir -p "$home"
# 1. Install.
HOME=$home bash contrib/install.sh > "$work/install.out" 2>&1 || { cat "$work/install.out" >&2; fail "contrib/install.sh failed"; }
bin=$home/.local/bin
[ -x "$bin/multirun" ] && [ -x "$bin/runone" ] || fail "install.sh did not put multirun and runone in $bin"
echo "ok: installed multirun and runone in \$HOME/.local/bin"

gpus_from_path() { env -i PATH=/usr/bin:/bin sh -c 'command -v nvidia-smi' > /dev/null; }
no_gpu() { if gpus_from_path; then cat; else sed 's/-d 1 1/-gpu false -d 1/'; fi; }
gpus_from_path || echo "note: no nvidia-smi on /usr/bin:/bin; running '-d 1 1' as '-gpu false -d 1'"

# 2. The crontab line, verbatim from the README but for /proj (and the GPU note above).
line=$(grep -E '^\*/10 \* \* \* \* ' README.md | head -1)
[ -n "$line" ] || fail "no crontab line in README.md"
proj=$work/proj
mkdir -p "$proj"
command=$(printf '%s\n' "$line" | sed -E 's/^([^ ]+ +){5}//' | sed "s#/proj#$proj#g" | no_gpu)
echo "cron command: $command"
case "$command" in *%*) fail "a % in a crontab line is a newline to cron";; esac
# Before .multirun/ exists: an empty queue, so the scheduler exits at once, logging.
env -i HOME="$home" PATH=/usr/bin:/bin sh -c "$command" || fail "the cron line failed on a fresh project (exit $?)"
[ -f "$proj/.multirun/cron.log" ] || fail "no $proj/.multirun/cron.log"
mode=$(stat -c %a "$proj/.multirun")
[ "$mode" = 700 ] || fail ".multirun made with mode $mode, not 700"
# One task, submitted from the project, then the cron line again.
printf '%s\n' "sh -c 'echo ran-by-cron > ran.txt'" > "$proj/jobs.txt"
(cd "$proj" && "$bin/multirun" submit --commands jobs.txt > /dev/null) || fail "submit failed"
env -i HOME="$home" PATH=/usr/bin:/bin sh -c "$command" || fail "the cron line failed with a queued task (exit $?)"
[ "$(cat "$proj/ran.txt" 2>/dev/null)" = ran-by-cron ] || { cat "$proj/.multirun/cron.log" >&2; fail "the task did not run from the cron line"; }
grep -q "Queue is empty; exiting" "$proj/.multirun/scheduler.log" || fail "scheduler.log lacks the scheduler's lines"
echo "ok: the cron line runs under env -i HOME PATH=/usr/bin:/bin, before and after .multirun/ exists"

# 3. The unit, with its paths made this test's.
unit=$work/multirun.service
sed -e "s#%h/project#$proj#g" -e "s#%h/.local/bin#$bin#g" contrib/multirun.service > "$unit"
if command -v systemd-analyze > /dev/null; then
    # --user: a user unit (default.target is the user manager's). Without a user
    # manager's runtime folder (a container) that cannot start; verify it as a system unit.
    if ! out=$(systemd-analyze --user verify "$unit" 2>&1) && ! out=$(systemd-analyze verify "$unit" 2>&1); then
        echo "$out" >&2
        fail "systemd-analyze verify rejects the unit"
    fi
    if [ -n "$out" ]; then echo "$out"; fi
    echo "ok: systemd-analyze verify accepts the unit"
else
    echo "notice: systemd-analyze is not installed; skipping the unit's verify step"
fi
grep -Eq '^After=.*default\.target' "$unit" && grep -Eq '^WantedBy=.*default\.target' "$unit" && fail "After= and WantedBy= default.target: an ordering cycle"
key() { sed -n "s/^$1=//p" "$unit" | head -1; }
start=$(key ExecStart | no_gpu)
reload=$(key ExecReload)
success=" $(key SuccessExitStatus) "
workdir=$(key WorkingDirectory)
[ "${start#"$bin"/multirun }" != "$start" ] || fail "ExecStart does not run the installed $bin/multirun: $start"

# 4. ExecStart, then ExecReload: a drain, exit 0.
run_start() {
    (cd "$workdir" && exec env -i HOME="$home" PATH=/usr/local/bin:/usr/bin:/bin $start > "$work/unit.out" 2>&1) &
    daemon_pid=$!
    until_ok sh -c "cd '$workdir' && '$bin/multirun' status | grep -q 'scheduler running (pid $daemon_pid)'" || fail "ExecStart did not start a scheduler: $(cat "$work/unit.out")"
}
run_start
sh -c "${reload//\$MAINPID/$daemon_pid}" || fail "ExecReload failed: $reload"
status=0; wait "$daemon_pid" || status=$?; daemon_pid=
[ "$status" = 0 ] || fail "after ExecReload the scheduler exited $status, not 0 (a drain)"
echo "ok: ExecStart runs the scheduler; ExecReload drains it (exit 0)"
# A stop: systemd sends SIGTERM to the main process (KillMode=process).
run_start
kill -TERM "$daemon_pid"
status=0; wait "$daemon_pid" || status=$?; daemon_pid=
case "$success" in *" $status "*) ;; *) fail "stop: exit $status is not in SuccessExitStatus=$success";; esac
echo "ok: a stop (SIGTERM) exits $status, listed in SuccessExitStatus"
echo "PASS: cron line and systemd unit"
