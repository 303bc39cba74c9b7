#!/usr/bin/env python3
"""runone's whole-brain models against TVB (The Virtual Brain), on tvb-data's 76-region connectome.

Run it with the venv of Tests/tvb/setup.sh (or through Tests/tvb/run.sh):

    .build/tvb-venv/bin/python Tests/tvb/compare.py [--runone .build/release/runone] [--quick]

What it does (issue 17, "Validated against TVB"):
1. Exports tvb-data's connectivity_76.zip to WORK/conn76/ as weights.txt and tract_lengths.txt,
   the archive's own text byte for byte (TVB reads the same text with numpy.loadtxt; the
   script checks that the parsed numbers equal TVB's Connectivity.weights, else it writes
   weights.npy instead), which runone reads through `connectivity: ../conn76`.
2. Deterministic trajectories (noise 0): for each model runone knows (wong_wang,
   generic_2d_oscillator), runone and TVB at the same settings: Heun (TVB's HeunDeterministic),
   dt 0.1 ms, 10 s, no delays, linear coupling a = G, b = 0, the same constant initial state in
   every region and state variable (TVB: initial_conditions of shape (1, nvar, 76, 1), which
   is also the whole history since the horizon is 1 without delays), sampled densely: runone's
   neural output with TR 1 ms against TVB's TemporalAverage(period = 1 ms). Both average the
   states after steps (k-1)m+1 .. km for sample k (m = TR/dt; TVB's monitors/TemporalAverage:
   the stock holds steps 1..m, the initial state is not in it). Target: max |dS| <= 1e-8 over
   all regions and samples. TVB 2.10 keeps its history (the states the coupling is summed
   from) and the weights in float32, so TVB as shipped is itself ~1e-8..1e-7 away from the
   exact float64 trajectory; the target is checked against TVB run with that history in
   float64 (set_history_precision), and the distance to TVB as shipped is printed beside it
   together with TVB's own float32-vs-float64 distance.
3. Noise on (HeunStochastic, additive noise nsig, both with their own random streams), 5 seeds
   x 200 s at dt 2 ms sampled every 20 ms (the same discrete SDE in both; dt 0.1 would make
   TVB's side 20 times longer), in a regime where FC has structure (see `settings` below):
   per seed the per-region mean and standard deviation over time (after a transient) and the
   functional connectivity (Pearson correlation matrix of the regions' series); averaged over
   the seeds, runone against TVB: every region's mean and std within 5 % (relative to TVB's),
   and the correlation of the two FC matrices' upper triangles >= 0.9.
Prints one table; exits 1 when a target is missed, 2 on a usage or setup problem.

`--runone Tests/tvb/stub_runone.py` runs the numpy stand-in instead: a check of this script.
"""
import argparse
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import warnings
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# TVB's names for the models runone knows, and the number of state variables.
MODELS = {"wong_wang": ("ReducedWongWang", 1), "generic_2d_oscillator": ("Generic2dOscillator", 2)}


def fail_setup(message):
    print("compare.py: " + message, file=sys.stderr)
    sys.exit(2)


def import_tvb():
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    try:
        import tvb_data  # noqa: F401
        from tvb.simulator import simulator, models, coupling, integrators, monitors, noise  # noqa: F401
        from tvb.datatypes import connectivity  # noqa: F401
    except ImportError as error:
        fail_setup("TVB is not importable (%s); run bash Tests/tvb/setup.sh and use .build/tvb-venv/bin/python" % error)


def yaml_number(x):
    """A float written so YAML 1.1 reads it back as the same number (it needs a '.' and a
    signed exponent: PyYAML and runone read 1e-05 as text)."""
    text = repr(float(x))
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[0] not in "+-":
            exponent = "+" + exponent
        text = mantissa + "e" + exponent
    return text


def tr_seconds(tr_ms):
    return float(tr_ms) / 1000.0


# ---------------------------------------------------------------- the connectome

def connectome_zip():
    import tvb_data
    path = os.path.join(os.path.dirname(tvb_data.__file__), "connectivity", "connectivity_76.zip")
    if not os.path.exists(path):
        fail_setup("tvb-data has no %s; is tvb-data 3.0.0 installed?" % path)
    return path


def tvb_connectivity():
    from tvb.datatypes import connectivity
    con = connectivity.Connectivity.from_file(connectome_zip())
    con.configure()
    return con


def export_connectome(folder):
    """Writes weights.txt and tract_lengths.txt as the archive holds them; returns the
    weights TVB uses (rows = target region, as TVB's coupling sums w_ij x_j over j)."""
    os.makedirs(folder, exist_ok=True)
    con = tvb_connectivity()
    with zipfile.ZipFile(connectome_zip()) as archive:
        for name in ("weights.txt", "tract_lengths.txt"):
            data = archive.read(name)
            parsed = np.loadtxt(io.BytesIO(data))
            tvb_array = con.weights if name == "weights.txt" else con.tract_lengths
            if parsed.shape == tvb_array.shape and np.array_equal(parsed, tvb_array):
                with open(os.path.join(folder, name), "wb") as out:
                    out.write(data)
            else:  # TVB changed the numbers on reading: give runone TVB's own array
                np.save(os.path.join(folder, name.replace(".txt", ".npy")), tvb_array)
    return con


# ---------------------------------------------------------------- TVB

def set_history_precision(dtype):
    """TVB 2.10's history (tvb/simulator/history.py) declares its buffer and the weights as
    float32 ('f'): the coupling is summed from float32 copies of the state and the weights,
    about 1e-7 relative. 'd' makes them float64 (a patch of the class attributes), to show
    what is left when that rounding is gone; 'f' is TVB as shipped."""
    from tvb.simulator import history
    from tvb.simulator.descriptors import NDArray
    for cls in (history.BaseHistory, history.DenseHistory, history.SparseHistory):
        for name, attr in vars(cls).items():
            if isinstance(attr, NDArray) and attr.dtype in ("f", "d") and name != "delays":
                attr.dtype = dtype


def run_tvb(con, model, G, nsig, dt, tr_ms, seconds, seed, initial, history_dtype="f"):
    """Returns TVB's TemporalAverage of the first state variable, shape (samples, regions),
    and the sample times in ms. history_dtype 'f' is TVB as shipped, 'd' see set_history_precision."""
    from tvb.simulator import simulator, models, coupling, integrators, monitors, noise
    set_history_precision(history_dtype)
    tvb_name, nvar = MODELS[model]
    con.speed = np.array([np.inf])  # no conduction delays: every delay is 0 steps
    if nsig > 0:
        integrator = integrators.HeunStochastic(dt=dt, noise=noise.Additive(nsig=np.array([nsig]), noise_seed=seed))
    else:
        integrator = integrators.HeunDeterministic(dt=dt)
    n = con.number_of_regions
    steps_per_sample = int(round(tr_ms / dt))
    samples = int(round(seconds * 1000.0 / tr_ms))
    sim = simulator.Simulator(
        model=getattr(models, tvb_name)(variables_of_interest=(getattr(models, tvb_name).state_variables[0],)),
        connectivity=con,
        coupling=coupling.Linear(a=np.array([G]), b=np.array([0.0])),
        integrator=integrator,
        monitors=(monitors.TemporalAverage(period=tr_ms),),
        initial_conditions=np.full((1, nvar, n, 1), float(initial)),
        simulation_length=samples * tr_ms,
    )
    sim.configure()
    assert con.horizon == 1, "delays were not switched off"
    assert sim.history.buffer.dtype == np.dtype(history_dtype)
    # n_steps, not simulation_length: ceil(T/dt) can add a step through rounding.
    (times, data), = sim.run(n_steps=samples * steps_per_sample)
    run_tvb.last_times = np.asarray(times)
    return np.asarray(data)[:, 0, :, 0], np.asarray(times)


# ---------------------------------------------------------------- runone

def write_config(path, model, G, nsig, dt, tr_ms, seconds, seed, initial):
    samples = int(round(seconds * 1000.0 / tr_ms))
    lines = [
        "# written by Tests/tvb/compare.py: runone at the settings of a TVB run",
        "model_params:",
        "  name: " + model,
        "  connectivity: ../conn76",
        "  G: " + yaml_number(G),
        "  noise: " + yaml_number(nsig),
        "  integrator: heun",
        "  dt: " + yaml_number(dt),
        "  TR: " + yaml_number(tr_seconds(tr_ms)),
        "  timepoints: %d" % samples,
        "  bold: false",
        "  seed: %d" % seed,
        "  subject: 0",
        "  initial: " + yaml_number(initial),
    ]
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")
    return samples


def run_runone(runone, config, output, samples, n):
    if os.path.isdir(output):
        shutil.rmtree(output)
    argv = ([sys.executable, runone] if runone.endswith(".py") else [runone]) + ["-c", config, "-o", output, "--overwrite"]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        return None, elapsed, (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["exit %d" % proc.returncode]
    found = [f for f in os.listdir(output) if f.endswith("_neural.npy")]
    if len(found) != 1:
        return None, elapsed, ["runone wrote %s in %s, expected one *_neural.npy" % (sorted(os.listdir(output)), output)]
    data = np.load(os.path.join(output, found[0]))
    expected_name = "sim_%dnodes_%dtp_TR" % (n, samples)
    if data.shape != (samples, n) or data.dtype != np.float64 or not found[0].startswith(expected_name):
        return None, elapsed, ["%s: shape %s %s, expected float64 (%d, %d) named %s*" % (found[0], data.shape, data.dtype, samples, n, expected_name)]
    return data, elapsed, []


# ---------------------------------------------------------------- statistics

def statistics(series, transient_samples):
    """Per-region mean and std over time and the FC matrix, after the transient."""
    x = series[transient_samples:]
    return x.mean(axis=0), x.std(axis=0), np.corrcoef(x.T)


def upper(matrix):
    return matrix[np.triu_indices_from(matrix, k=1)]


# ---------------------------------------------------------------- main

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runone", default=os.path.join(ROOT, ".build/release/runone"),
                    help="runone binary (or Tests/tvb/stub_runone.py); default .build/release/runone")
    ap.add_argument("--work", default=os.path.join(ROOT, ".build/tvb-compare"), help="scratch folder (default .build/tvb-compare)")
    ap.add_argument("--models", default="wong_wang,generic_2d_oscillator",
                    help="comma list; a model runone refuses is reported as not compared")
    ap.add_argument("--quick", action="store_true",
                    help="1 s deterministic, 5 seeds x 20 s with noise (a smoke run: the noisy runs are too short for their targets, so their misses are shown, not counted)")
    ap.add_argument("--seconds", type=float, default=10.0, help="deterministic run length, s (10)")
    ap.add_argument("--dt", type=float, default=0.1, help="deterministic step, ms (0.1)")
    ap.add_argument("--tr", type=float, default=1.0, help="deterministic sampling period, ms (1)")
    ap.add_argument("--tolerance", type=float, default=1e-8,
                    help="max |dS| allowed against TVB's algorithm with a float64 history (1e-8); TVB as shipped is shown beside it")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--noise-seconds", type=float, default=200.0, help="each noisy run, s (200)")
    ap.add_argument("--noise-dt", type=float, default=2.0,
                    help="step of the noisy runs, ms (2: both integrate the same discrete SDE; TVB's ~0.3 ms per step makes dt 0.1 cost 20x)")
    ap.add_argument("--noise-tr", type=float, default=20.0, help="sampling period of the noisy runs, ms (20)")
    ap.add_argument("--transient", type=float, default=10.0, help="seconds dropped before the statistics (10)")
    ap.add_argument("--no-noise", action="store_true", help="skip the noisy comparison")
    ap.add_argument("--no-deterministic", action="store_true", help="skip the trajectory comparison")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds, args.seeds, args.noise_seconds, args.transient = 1.0, 5, 20.0, 2.0

    runone = os.path.abspath(args.runone)
    if not os.path.exists(runone):
        fail_setup("no runone at %s; build it (swift build -c release --product runone) or pass --runone PATH" % runone)
    import_tvb()
    # Per model: coupling gain, noise intensity (TVB's Additive nsig) and the initial state.
    # Deterministic runs: from 0.1 most wong_wang regions climb to the high state (0.55-0.73)
    # within the 10 s, a transient through the nonlinearity; the oscillator relaxes to its
    # fixed point (V -0.35..0.11 on the way).
    # Noisy runs: the regime must give the FC matrix structure, or the FC check compares
    # sampling noise with sampling noise. With additive noise on S, FC is nearly zero (mean
    # |r| < 0.01, from the linearisation's Lyapunov equation) for wong_wang except near the
    # low state's saddle-node (G ~0.0075 here): G 0.007 gives an FC spread of ~0.07 and is
    # stationary with nsig 1e-6 (S std 0.01-0.02, no switching). For the oscillator G 0.05
    # (stable fixed point, FC spread ~0.07, slowest mode ~270 ms).
    settings = {
        "wong_wang": dict(G=0.01, G_noise=0.007, nsig=1e-6, initial=0.1),
        "generic_2d_oscillator": dict(G=0.01, G_noise=0.05, nsig=1e-4, initial=0.1),
    }
    work = os.path.abspath(args.work)
    os.makedirs(os.path.join(work, "configs"), exist_ok=True)
    con = export_connectome(os.path.join(work, "conn76"))
    n = con.number_of_regions
    import importlib.metadata as md
    versions = {p: md.version(p) for p in ("tvb-library", "tvb-data", "numpy", "numba")}
    print("TVB: " + ", ".join("%s %s" % kv for kv in versions.items()))
    print("runone: " + runone)
    print("connectome: tvb-data connectivity_76.zip, %d regions, weights max %.3g, mean row sum %.3g" %
          (n, con.weights.max(), con.weights.sum(axis=1).mean()))

    rows = []      # (check, model, figure, target, verdict)
    figures = {"versions": versions, "runone": runone}
    misses = 0
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        if model not in MODELS:
            fail_setup("unknown model '%s'; known: %s" % (model, ", ".join(MODELS)))
        s = settings[model]
        if not args.no_deterministic:
            cfg = os.path.join(work, "configs", "%s-deterministic.yaml" % model)
            samples = write_config(cfg, model, s["G"], 0.0, args.dt, args.tr, args.seconds, 0, s["initial"])
            ours, ours_s, problem = run_runone(runone, cfg, os.path.join(work, "results", "%s-deterministic" % model), samples, n)
            if ours is None:
                rows.append(("trajectory, noise 0", model, "not compared: " + " ".join(problem), "", "SKIP" if model != "wong_wang" else "MISS"))
                misses += model == "wong_wang"
            else:
                runs = {}
                for dtype in ("d", "f"):
                    start = time.perf_counter()
                    runs[dtype] = run_tvb(con, model, s["G"], 0.0, args.dt, args.tr, args.seconds, 0, s["initial"], dtype)[0], time.perf_counter() - start
                times = run_tvb.last_times
                own = float(np.abs(runs["f"][0] - runs["d"][0]).max())
                for dtype, label in (("d", "TVB, float64 history"), ("f", "TVB as shipped (float32 history)")):
                    theirs, tvb_s = runs[dtype]
                    diff = np.abs(ours - theirs)
                    k, i = np.unravel_index(np.argmax(diff), diff.shape)
                    worst = float(diff.max())
                    if dtype == "d":
                        ok = worst <= args.tolerance
                        misses += not ok
                        target, verdict = "<= %.0e" % args.tolerance, "ok" if ok else "MISS"
                    else:
                        target, verdict = "(TVB's own float32 error: %.3g)" % own, "info"
                    rows.append(("trajectory, noise 0, vs " + label, model,
                                 "max abs diff %.3g (sample %d, t=%.1f ms, region %d); TVB's range %.3g..%.3g; runone %.2f s, TVB %.1f s"
                                 % (worst, k, times[k], i, theirs.min(), theirs.max(), ours_s, tvb_s),
                                 target, verdict))
                    figures["%s/deterministic/%s" % (model, "float64-history" if dtype == "d" else "float32-history")] = dict(
                        max_abs_diff=worst, sample=int(k), region=int(i), samples=int(samples),
                        seconds=args.seconds, dt=args.dt, tr_ms=args.tr, G=s["G"], initial=s["initial"],
                        runone_s=ours_s, tvb_s=tvb_s, tvb_min=float(theirs.min()), tvb_max=float(theirs.max()),
                        first_sample_time_ms=float(times[0]), tvb_float32_vs_float64=own)
        if not args.no_noise:
            transient = int(round(args.transient * 1000.0 / args.noise_tr))
            stats = {"runone": [], "tvb": []}
            problem, ours_total, tvb_total = [], 0.0, 0.0
            for seed in range(args.seeds):
                cfg = os.path.join(work, "configs", "%s-noise-seed%d.yaml" % (model, seed))
                samples = write_config(cfg, model, s["G_noise"], s["nsig"], args.noise_dt, args.noise_tr, args.noise_seconds, seed, s["initial"])
                ours, ours_s, problem = run_runone(runone, cfg, os.path.join(work, "results", "%s-noise-seed%d" % (model, seed)), samples, n)
                if ours is None:
                    break
                ours_total += ours_s
                start = time.perf_counter()
                theirs, _ = run_tvb(con, model, s["G_noise"], s["nsig"], args.noise_dt, args.noise_tr, args.noise_seconds, seed, s["initial"])
                tvb_total += time.perf_counter() - start
                stats["runone"].append(statistics(ours, transient))
                stats["tvb"].append(statistics(theirs, transient))
            if problem:
                rows.append(("noise, %d seeds" % args.seeds, model, "not compared: " + " ".join(problem), "", "SKIP" if model != "wong_wang" else "MISS"))
                misses += model == "wong_wang"
                continue
            mean = {k: np.mean([x[0] for x in v], axis=0) for k, v in stats.items()}
            std = {k: np.mean([x[1] for x in v], axis=0) for k, v in stats.items()}
            fc = {k: np.mean([x[2] for x in v], axis=0) for k, v in stats.items()}
            mean_rel = np.abs(mean["runone"] - mean["tvb"]) / np.abs(mean["tvb"])
            std_rel = np.abs(std["runone"] - std["tvb"]) / std["tvb"]
            fc_r = float(np.corrcoef(upper(fc["runone"]), upper(fc["tvb"]))[0, 1])
            # The floor of these figures: TVB against itself, seeds split in two halves.
            half = max(1, args.seeds // 2)
            tvb_a = np.mean([x[2] for x in stats["tvb"][:half]], axis=0)
            tvb_b = np.mean([x[2] for x in stats["tvb"][half:]], axis=0) if args.seeds > 1 else tvb_a
            fc_floor = float(np.corrcoef(upper(tvb_a), upper(tvb_b))[0, 1])
            detail = "(%d seeds x %g s, dt %g ms, TR %g ms, G %g, nsig %g, first %g s dropped; runone %.1f s, TVB %.1f s)" % (
                args.seeds, args.noise_seconds, args.noise_dt, args.noise_tr, s["G_noise"], s["nsig"], args.transient, ours_total, tvb_total)
            # Sampling error: the spread over seeds of each simulator's per-seed figure.
            def z_scores(index, average):
                se2 = sum(np.var([x[index] for x in v], axis=0, ddof=1) / len(v) for v in stats.values()) if args.seeds > 1 else np.inf
                return np.abs(average["runone"] - average["tvb"]) / np.sqrt(se2)
            zs = {"mean": z_scores(0, mean), "std": z_scores(1, std)}
            for label, rel, ref in (("mean", mean_rel, mean["tvb"]), ("std", std_rel, std["tvb"])):
                worst = float(rel.max())
                figures.setdefault(model + "/noise", {})[label + "_max_z"] = float(zs[label].max())
                ok = worst <= 0.05
                misses += (not ok) and not args.quick
                rows.append(("noise: per-region %s" % label, model,
                             "max rel. diff %.2f%% (region %d), median %.2f%%, max z %.1f (diff / sampling s.e. over seeds); TVB's %.3g..%.3g %s" % (
                                 100 * worst, int(rel.argmax()), 100 * float(np.median(rel)), float(zs[label].max()), ref.min(), ref.max(),
                                 detail if label == "mean" else ""),
                             "<= 5%", "ok" if ok else ("miss (--quick: not counted)" if args.quick else "MISS")))
            ok = fc_r >= 0.9
            misses += (not ok) and not args.quick
            rows.append(("noise: FC correlation", model,
                         "r = %.4f (TVB against itself, seeds 0-%d vs %d-%d: r = %.4f); mean abs FC: TVB %.3f, runone %.3f" % (
                             fc_r, half - 1, half, args.seeds - 1, fc_floor, np.abs(upper(fc["tvb"])).mean(), np.abs(upper(fc["runone"])).mean()),
                         ">= 0.9", "ok" if ok else ("miss (--quick: not counted)" if args.quick else "MISS")))
            figures.setdefault(model + "/noise", {}).update(seeds=args.seeds, seconds=args.noise_seconds, dt=args.noise_dt, tr_ms=args.noise_tr,
                                             G=s["G_noise"], nsig=s["nsig"], transient_s=args.transient,
                                             mean_max_rel=float(mean_rel.max()), std_max_rel=float(std_rel.max()),
                                             mean_median_rel=float(np.median(mean_rel)), std_median_rel=float(np.median(std_rel)),
                                             fc_r=fc_r, fc_r_tvb_halves=fc_floor, runone_s=ours_total, tvb_s=tvb_total,
                                             fc_spread_tvb=float(upper(fc["tvb"]).std()),
                                             per_region={k: dict(mean=mean[k].tolist(), std=std[k].tolist()) for k in mean})

    print()
    print("| check | model | figure | target | verdict |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=1)
    print()
    print("all targets met" if misses == 0 else "%d target(s) missed" % misses)
    return 0 if misses == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
