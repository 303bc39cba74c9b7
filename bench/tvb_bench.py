#!/usr/bin/env python3
"""TVB's ReducedWongWang against runone's wong_wang at issue 17's speed settings, side by side.

Run through bench/tvb.sh (it makes the venv and picks the runone binary). Settings, both
simulators: 360 regions on one dense seeded synthetic connectome (written to
WORK/conn360/weights.npy and tract_lengths.npy, which runone reads through `connectivity:`,
so both integrate the same network; its weights rounded to float32 values, and a float64 copy
in WORK/conn360-f64 times runone's full-precision path too), stochastic Heun at dt 0.1 ms, additive noise, linear
coupling, neural output averaged over TR = 0.8 s (TVB's TemporalAverage) and Balloon BOLD at
TR 0.8 s (TVB's Bold monitor, period 800 ms; runone's Balloon-Windkessel), one core.
TVB runs for 300 s take hours, so TVB is timed at three short lengths, each in a fresh
process (whole multiples of TR, so TVB's
BOLD convolution, done once per TR, falls in the slope), and the CPU time is fitted with time = a + b * simulated_seconds (least squares)
and extrapolated to 300 s; runone is timed at the full length. Peak RSS is each child's
(os.wait4). Without delays, then (unless --no-delays) with conduction delays at 3 mm/ms
over the synthetic tract lengths.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ------------------------------------------------------------------ the network

def synthetic_connectome(n, seed):
    """Dense, symmetric, seeded; the recipe runone documents for `nodes:` (region centres
    uniform in a ball of radius 70 mm, tract length = distance, weight exp(-L/40 + 0.5 z),
    zero diagonal, mean row sum 1), drawn here with numpy's generator."""
    rng = np.random.default_rng(seed)
    centres = []
    while len(centres) < n:
        p = rng.uniform(-1, 1, 3)
        if p @ p <= 1:
            centres.append(70.0 * p)
    centres = np.array(centres)
    lengths = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
    z = rng.standard_normal((n, n))
    z = np.triu(z, 1)
    z = z + z.T
    weights = np.exp(-lengths / 40.0 + 0.5 * z)
    np.fill_diagonal(weights, 0.0)
    weights *= n / weights.sum()
    return weights, lengths


# ------------------------------------------------------------------ one TVB run (child)

def tvb_child(args):
    import warnings, logging
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    t0 = time.process_time()
    from tvb.simulator import simulator, models, coupling, integrators, monitors, noise
    from tvb.datatypes import connectivity
    t_import = time.process_time() - t0
    w = np.load(os.path.join(args.conn, "weights.npy"))
    L = np.load(os.path.join(args.conn, "tract_lengths.npy"))
    n = w.shape[0]
    con = connectivity.Connectivity(weights=w, tract_lengths=L, region_labels=np.array(["r%d" % i for i in range(n)]),
                                    centres=np.zeros((n, 3)), speed=np.array([args.speed if args.speed > 0 else np.inf]))
    horizon = 1 if args.speed <= 0 else int(np.rint(L.max() / args.speed / args.dt)) + 1
    t1 = time.process_time()
    sim = simulator.Simulator(
        model=models.ReducedWongWang(),
        connectivity=con,
        coupling=coupling.Linear(a=np.array([args.G]), b=np.array([0.0])),
        integrator=integrators.HeunStochastic(dt=args.dt, noise=noise.Additive(nsig=np.array([args.nsig]), noise_seed=args.seed)),
        monitors=(monitors.TemporalAverage(period=args.tr_ms), monitors.Bold(period=args.tr_ms)),
        # The whole history constant, as runone starts (horizon = longest delay + 1 steps).
        initial_conditions=np.full((horizon, 1, n, 1), 0.1),
        simulation_length=args.seconds * 1000.0,
    )
    sim.configure()
    t2 = time.process_time()
    steps = int(round(args.seconds * 1000.0 / args.dt))
    outputs = sim.run(n_steps=steps)
    t3 = time.process_time()
    print(json.dumps(dict(import_s=t_import, configure_s=t2 - t1, run_s=t3 - t2, steps=steps, horizon=int(con.horizon),
                          samples=[int(len(o[0])) for o in outputs])))


# ------------------------------------------------------------------ parent

def run_child(argv):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return proc.returncode, out, err, wall, cpu, usage.ru_maxrss / 1024.0


def fit(xs, ys):
    """Least squares y = a + b x; returns a, b and the largest relative residual."""
    A = np.vstack([np.ones(len(xs)), xs]).T
    (a, b), *_ = np.linalg.lstsq(A, np.array(ys), rcond=None)
    resid = max(abs(a + b * x - y) / y for x, y in zip(xs, ys))
    return float(a), float(b), float(resid)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def yaml_number(x):
    """A float YAML 1.1 reads back as a number: a '.' and a signed exponent (1.0e-05)."""
    text = repr(float(x))
    if "e" in text:
        mantissa, exponent = text.split("e")
        mantissa += "" if "." in mantissa else ".0"
        text = mantissa + "e" + (exponent if exponent[0] in "+-" else "+" + exponent)
    return text


def write_runone_config(path, conn, args, speed, seconds):
    lines = [
        "# bench/tvb.sh: runone at the settings of the TVB runs",
        "model_params:",
        "  name: wong_wang",
        "  connectivity: " + os.path.relpath(conn, os.path.dirname(path)),
        "  speed: " + (yaml_number(speed) if speed > 0 else "null"),
        "  G: " + yaml_number(args.G),
        "  noise: " + yaml_number(args.nsig),
        "  integrator: heun",
        "  dt: " + yaml_number(args.dt),
        "  TR: " + yaml_number(args.tr_ms / 1000.0),
        "  timepoints: %d" % int(round(seconds * 1000.0 / args.tr_ms)),
        "  bold: true",
        "  seed: %d" % args.seed,
        "  subject: 0",
        "  initial: 0.1",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--conn", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--speed", type=float, default=0.0, help=argparse.SUPPRESS)
    ap.add_argument("--runone", default=os.path.join(ROOT, ".build/release/runone"))
    ap.add_argument("--work", default=os.path.join(ROOT, ".build/tvb-bench"))
    ap.add_argument("--nodes", type=int, default=360)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--G", type=float, default=0.5)
    ap.add_argument("--nsig", type=float, default=1e-5, help="TVB's Additive nsig (runone's noise)")
    ap.add_argument("--dt", type=float, default=0.1, help="ms")
    ap.add_argument("--tr-ms", type=float, default=800.0)
    ap.add_argument("--lengths", default="0.8,1.6,3.2", help="TVB's run lengths without delays, simulated s")
    ap.add_argument("--delay-lengths", default="0.8,1.6,2.4", help="TVB's run lengths with delays, simulated s")
    ap.add_argument("--target", type=float, default=300.0, help="simulated s to extrapolate to and to run runone for")
    ap.add_argument("--runone-seconds", type=float, default=None, help="runone's run length (default: --target)")
    ap.add_argument("--runone-delay-seconds", type=float, default=60.0,
                    help="runone's run length with delays (default 60 s: its gather runs ~0.4 ms/step here, 300 s would take ~20 min)")
    ap.add_argument("--speed-delays", type=float, default=3.0, help="conduction speed of the delay runs, mm/ms")
    ap.add_argument("--no-delays", action="store_true", help="skip the runs with conduction delays")
    ap.add_argument("--quick", action="store_true", help="TVB at 0.1/0.2/0.4 s (0.05/0.1/0.2 with delays), runone at 30 s")
    ap.add_argument("--results", help="append the table to this markdown file")
    args = ap.parse_args(argv)
    if args.child:
        return tvb_child(args)
    if args.quick:
        args.lengths, args.delay_lengths = "0.1,0.2,0.4", "0.05,0.1,0.2"
        if args.runone_seconds is None:
            args.runone_seconds = 30.0
        args.runone_delay_seconds = min(args.runone_delay_seconds, 8.0)
    if args.runone_seconds is None:
        args.runone_seconds = args.target
    work = os.path.abspath(args.work)
    conn = os.path.join(work, "conn%d" % args.nodes)
    os.makedirs(conn, exist_ok=True)
    w, L = synthetic_connectome(args.nodes, args.seed)
    # TVB and runone read the weights rounded to float32 values (stored as float64), as
    # runone's own `nodes:` networks are and as float32 connectome files give them; a copy
    # at full float64 precision times runone's slower path for such weights.
    np.save(os.path.join(conn, "weights.npy"), w.astype(np.float32).astype(np.float64))
    np.save(os.path.join(conn, "tract_lengths.npy"), L)
    conn_f64 = os.path.join(work, "conn%d-f64" % args.nodes)
    os.makedirs(conn_f64, exist_ok=True)
    np.save(os.path.join(conn_f64, "weights.npy"), w)
    np.save(os.path.join(conn_f64, "tract_lengths.npy"), L)

    import importlib.metadata as md
    load_before = loadavg()
    print("machine: %s, %d CPUs online, load %s (1/5/15 min) at start" % (cpu_model(), os.cpu_count(), load_before))
    print("TVB %s (numpy %s, numba %s), Python %s" % (md.version("tvb-library"), md.version("numpy"), md.version("numba"), platform.python_version()))
    print("settings: %d regions dense (%d nonzero weights), ReducedWongWang, HeunStochastic dt %g ms, nsig %g, G %g, "
          "TemporalAverage + Bold at %g ms; TVB extrapolated to %g s" % (args.nodes, int((w != 0).sum()), args.dt, args.nsig, args.G, args.tr_ms, args.target))
    have_runone = os.path.exists(args.runone)
    if not have_runone:
        print("runone: none at %s: only TVB is timed" % args.runone)
    env1 = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    os.environ.update(env1)

    table = []   # rows of the markdown table
    summary = {}
    variants = [("no delays", 0.0, args.lengths)]
    if not args.no_delays:
        variants.append(("delays %g mm/ms" % args.speed_delays, args.speed_delays, args.delay_lengths))
    for label, speed, lengths in variants:
        xs, cpus, runs, rss, walls = [], [], [], [], []
        for seconds in [float(x) for x in lengths.split(",")]:
            child = [sys.executable, os.path.abspath(__file__), "--child", "--conn", conn, "--seconds", repr(seconds),
                     "--speed", repr(speed), "--G", repr(args.G), "--nsig", repr(args.nsig), "--dt", repr(args.dt),
                     "--tr-ms", repr(args.tr_ms), "--seed", str(args.seed)]
            rc, out, err, wall, cpu, maxrss = run_child(child)
            if rc != 0:
                print("TVB run of %g s failed (exit %d): %s" % (seconds, rc, err.strip().splitlines()[-1:] or ""), file=sys.stderr)
                return 1
            r = json.loads(out.strip().splitlines()[-1])
            xs.append(seconds); cpus.append(cpu); runs.append(r["run_s"]); rss.append(maxrss); walls.append(wall)
            print("  TVB %-16s %5g s simulated: process CPU %7.1f s (import %.1f, configure %.1f, run %.1f; %.3f ms/step), wall %.1f s, peak RSS %.0f MiB, horizon %d steps, load %s"
                  % (label, seconds, cpu, r["import_s"], r["configure_s"], r["run_s"], 1e3 * r["run_s"] / r["steps"], wall, maxrss, r["horizon"], loadavg()), flush=True)
            table.append("| TVB | %s | %g | %.1f | %.1f | %.3f | %.0f |" % (label, seconds, cpu, r["run_s"], 1e3 * r["run_s"] / r["steps"], maxrss))
        a, b, resid = fit(xs, cpus)
        extrapolated = a + b * args.target
        print("  TVB %s fit: CPU s = %.2f + %.2f * simulated s (largest residual %.1f%%) -> %g s simulated: %.0f s = %.2f h"
              % (label, a, b, 100 * resid, args.target, extrapolated, extrapolated / 3600), flush=True)
        entry = dict(lengths=xs, cpu_s=cpus, run_s=runs, wall_s=walls, rss_mib=rss, fit_a=a, fit_b=b, fit_max_resid=resid,
                     extrapolated_cpu_s=extrapolated, ms_per_step=1e3 * b / (1000.0 / args.dt))
        table.append("| TVB fit | %s | %g (extrapolated) | **%.0f** (= %.2f + %.2f·s; residual ≤ %.1f%%) | | %.3f | max %.0f |"
                     % (label, args.target, extrapolated, a, b, 100 * resid, entry["ms_per_step"], max(rss)))
        # runone on the same files; without delays also on weights kept to full float64
        # precision (conn_f64), which its coupling cannot stream as float32.
        runone_runs = [(label, conn, "")] + ([(label + ", float64 weights", conn_f64, "_f64")] if speed <= 0 else [])
        for run_label, run_conn, suffix in runone_runs if have_runone else []:
            cfg = os.path.join(work, "runone-%s%s.yaml" % ("nodelay" if speed <= 0 else "delay", suffix))
            runone_seconds = args.runone_seconds if speed <= 0 else min(args.runone_seconds, args.runone_delay_seconds)
            write_runone_config(cfg, run_conn, args, speed, runone_seconds)
            rc, out, err, wall, cpu, maxrss = run_child([args.runone, "-c", cfg, "-o", os.path.join(work, "results", os.path.basename(cfg)[:-5]), "--overwrite"])
            key = "" if not suffix else suffix + "_"
            if rc != 0:
                print("  runone failed (exit %d): %s" % (rc, (err or out).strip().splitlines()[-1:]), flush=True)
                entry["runone%s_error" % key] = (err or out).strip().splitlines()[-1:] or ["exit %d" % rc]
                table.append("| runone | %s | %g | failed: %s | | | |" % (run_label, runone_seconds, " ".join(entry["runone%s_error" % key])))
            else:
                steps = runone_seconds * 1000.0 / args.dt
                tvb_at = a + b * runone_seconds
                ratio = tvb_at / cpu
                print("  runone %-13s %5g s simulated: CPU %.1f s (%.2f us/step), wall %.1f s, peak RSS %.1f MiB; TVB/runone CPU at %g s: %.0fx, load %s"
                      % (run_label, runone_seconds, cpu, 1e6 * cpu / steps, wall, maxrss, runone_seconds, ratio, loadavg()), flush=True)
                entry.update({"runone%s_seconds" % key: runone_seconds, "runone%s_cpu_s" % key: cpu, "runone%s_wall_s" % key: wall,
                              "runone%s_rss_mib" % key: maxrss, "runone%s_us_per_step" % key: 1e6 * cpu / steps, "ratio%s" % key: ratio})
                table.append("| runone | %s | %g | **%.1f** | | %.4f | %.1f |" % (run_label, runone_seconds, cpu, 1e3 * cpu / steps, maxrss))
                table.append("| **TVB ÷ runone** | %s | %g | **%.0f×** | | | |" % (run_label, runone_seconds, ratio))
        summary[label] = entry
    load_after = loadavg()
    print()
    header = ["| simulator | network | simulated s | CPU s | TVB run() s | ms/step | peak RSS MiB |", "|---|---|---:|---:|---:|---:|---:|"]
    print("\n".join(header + table))
    print("\nload (1/5/15 min): %s at start, %s at end" % (load_before, load_after))
    with open(os.path.join(work, "summary.json"), "w") as f:
        json.dump(dict(summary=summary, load_before=load_before, load_after=load_after, args=vars(args)), f, indent=1)
    if args.results:
        with open(args.results, "a") as f:
            shown = [a for a in argv if a != "--results" and a != args.results]
            f.write("\n## %s UTC: `bench/tvb.sh %s`\n\n" % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), " ".join(shown)))
            f.write("Machine: %s, %d CPUs online (shared); load %s at start, %s at end. TVB %s, numpy %s, numba %s, Python %s. "
                    "runone: %s.\n\n" % (cpu_model(), os.cpu_count(), load_before, load_after, md.version("tvb-library"), md.version("numpy"),
                                         md.version("numba"), platform.python_version(), args.runone if have_runone else "not built"))
            f.write("\n".join(header + table) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
