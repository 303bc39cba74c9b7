/// Help for both executables, in the shape swift-argument-parser prints.
enum HelpText {
    static let multirun = """
    OVERVIEW: Run every selected config (or command) on GPU or CPU slots, one task per slot,
    starting the next task the moment one ends.

    USAGE: multirun -c REGEX [-d N_0 N_1 ...] [-gpu true|false] [-check true|false] [options]
           multirun --commands FILE -gpu false -d N -check false
           multirun daemon -d N_0 N_1 ... [-gpu false] [--exit-when-idle] [--queue DIR]
           multirun submit -c REGEX | --commands FILE [-w] [--runner CMD] [--no-env] [--queue DIR]
           multirun status [--json] | cancel ID... | cancel --all | wait [ID...] | drain
           multirun devices [-d N_0 N_1 ...] [--cpu-slots N] [--cvd index|uuid] [--json]

    SELECTING TASKS:
      -c, --config-regex REGEX  Run each config whose path (configs/exp-1/exp-1-2.yaml) the
                                regex matches anywhere. Files named *-base.* or *_base.* never run.
      --configs DIR             Folder searched for *.yaml, *.yml and *.json (default: configs).
      --commands FILE           Run each non-empty line of FILE (- for stdin) as one task instead.
                                Lines with shell syntax run under /bin/sh -c.

    PLACEMENT:
      -d, --slots N_0 N_1 ...   GPU mode: GPU i runs N_i tasks at once (0 = unused).
                                CPU mode: one value, the number of tasks at once.
                                Default: 1 per GPU, or 1 on the CPU.
      -gpu, --gpu true|false    Use GPUs found by nvidia-smi (default: true). --no-gpu = false.
                                An inherited CUDA_VISIBLE_DEVICES (indices or GPU-/MIG- UUIDs)
                                is the GPU list instead: -d positions index into it.
      --cvd index|uuid          What tasks get in CUDA_VISIBLE_DEVICES (default: index, or the
                                inherited entries). Always with CUDA_DEVICE_ORDER=PCI_BUS_ID.
      --cpu-slots N             A CPU pool of N slots beside the GPUs, for configs with
                                resources: {device: cpu} or {mpi: {np: K}}.
      --min-free-mem SIZE       Start a GPU task only on a GPU with SIZE free (e.g. 20GiB), as
                                nvidia-smi reports it less what multirun promised to tasks it
                                just started. A config's resources.gpu_memory overrides it.
      --mpi-launcher 'CMD'      Launcher for resources.mpi (default: mpiexec); -np K is added.
      devices [--json]          Print the GPUs as multirun sees them, with their slots.

    RESOURCES (a config's own needs; one-shot runs and the daemon):
      resources:
        gpus: 2                 2 GPUs at once (one slot on each); CUDA_VISIBLE_DEVICES=a,b
        device: cpu             The CPU pool (--cpu-slots), never a GPU slot
        mpi: {np: 4}            Run under the MPI launcher with 4 processes, on 4 CPU slots
        gpu_memory: 20GiB       Free memory each of its GPUs needs (see --min-free-mem)
      A task first in line that does not fit reserves the GPUs it waits for: later tasks
      may use other GPUs, never those, so it starts once their running tasks end.

    RUNNING:
      --runner 'CMD ARGS'       What each config runs (default: runone -c {config} {overwrite}).
                                Placeholders: {config} {output} {gpu} {slot} {overwrite}.
                                {overwrite?WITH:WITHOUT}: WITH under -w, else WITHOUT
                                (python run.py -d 0 --overwrite {overwrite?True:False}).
                                Without {config}, '-c {config}' is appended.
      -w, --overwrite           Run configs that completed before (and pass --overwrite on).
      --timeout SECONDS         Stop a task that runs longer: TERM its process group, then KILL.
      --grace SECONDS           Time between TERM and KILL (default: 10).
                                Times: 90 (seconds), 30s, 45m, 2h, 1d, HH:MM:SS, D-HH:MM:SS;
                                a config's resources: {time: 2h} overrides --timeout.
      --retries N               Run a failed task up to N more times (submit: the daemon does).
      --retry-on CODES          Only these exit codes (e.g. 137,143; signal N = 128+N, timeout = 124).
      --halt now|soon,fail=N|fail=P%|success=N|success=P%
                                Stop the run (or daemon) when N tasks (P% of those ended) failed
                                or succeeded: soon lets running tasks end, now stops them.
      --probe-timeout SECONDS   How long nvidia-smi may take before it counts as hung
                                (default: 10; a memory reading while tasks run: 2 at most).
      -check, --check true|false
                                List the tasks and ask before starting (default: true).
                                --no-check = false; needed when stdin is not a terminal (cron).
      --results DIR             Where results, logs and run summaries go (default: results).
      -n, --dry-run             Print the plan (each task's command, first-wave device and
                                slot, skips and why) and start and write nothing.
      --joblog FILE             GNU parallel's joblog, a line per task end (+FILE appends).
      --on-finish 'CMD'         Run CMD under /bin/sh after each task, facts in MULTIRUN_STATUS,
                                _EXIT_CODE, _SIGNAL, _DURATION, _DEVICE, _LOG, _CONFIG, ...
      --on-finish-timeout SECONDS
                                How long one hook may run (default: 60).

    QUEUE (daemon mode):
      daemon                    The one scheduler of a queue folder (default .multirun, or
                                $MULTIRUN_QUEUE). SIGTERM/SIGINT: stop, interrupted tasks run
                                again next start. SIGHUP or 'multirun drain': finish running
                                tasks, start nothing new, exit.
        --on-empty 'CMD'        Run CMD under /bin/sh each time the queue becomes empty
                                (limit: --on-finish-timeout; output: .multirun/on-empty.log).
      --exit-when-idle          daemon: exit once the queue is empty (for cron); exit 0 at once
                                if another scheduler already holds the queue.
      submit                    Add tasks and return; configs already queued, running or
                                completed with the same content are not added (-w forces).
                                Tasks run in the submitter's folder with its environment
                                (PATH, an activated venv, exported variables), less
                                CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER and MULTIRUN_*.
      --no-env                  submit: do not capture the environment; tasks get the
                                scheduler's, as before.
      status [--json]           Counts, running tasks (device, slot, pid, elapsed, last log
                                lines), queued and failed tasks.
      cancel ID... | --all      Drop queued tasks; TERM, then KILL after --grace, running ones.
      wait [ID...]              Block until those (or all) tasks ended; exit 0 if all succeeded.
      log ID [-n N] [-f]        The last N (10) lines of a task's log; -f follows it until the
                                task ends. log CONFIG: its newest one-shot run's log.
      restart ID... | --failed  Queue ended failed, timed-out or cancelled tasks again (a new
                                attempt); a succeeded one only with -w.
      --queue DIR               The queue folder.

      -h, --help                Show this help.
      --version                 Show the version.

    EXIT STATUS: 0 all succeeded or skipped, 1 a task failed or timed out, 2 usage error,
    128+N when stopped by signal N (130 for Ctrl-C, 143 for SIGTERM).

    EXAMPLES:
      multirun -c "exp-(2|3)-1" -d 0 1 0 1        # GPUs 1 and 3, one task each
      multirun -c exp-1 -gpu false -d 3 -check false
      multirun -c exp- --runner 'python run.py' -gpu false -d 4 -check false
    """

    static let runone = """
    OVERVIEW: Run one config and write its results to results/<dir>/<stem>/.

    USAGE: runone -c FILE [--overwrite] [-o DIR]

    OPTIONS:
      -c, --config FILE   The config (YAML or JSON): a `command:` with `params:`, or
                          `model_params:` for a built-in model (kuramoto, wong_wang,
                          generic_2d_oscillator; see docs/models.md). `extends: F`
                          merges it over base F (relative to its folder); keys x-* and .*
                          are ignored.
      -o, --output DIR    Results folder (default: $MULTIRUN_OUTPUT, else the config path
                          with configs/ replaced by results/ and the extension removed).
      --overwrite         Run even if the results folder holds a successful run.
      -h, --help          Show this help.
      -V, --version       Show the version (the same as multirun's).

    ENVIRONMENT:
      RUNONE_KERNELS      baseline or avx2: which build of the whole-brain models' inner
                          loops to run (default: avx2 where the CPU has AVX2 and FMA).

    EXIT STATUS: 0 success, 2 bad config or usage, otherwise the command's exit code
    (1 for a whole-brain run that diverged or could not read its connectome).
    """
}
