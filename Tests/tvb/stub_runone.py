#!/usr/bin/env python3
"""A stand-in for runone's whole-brain models, for checking Tests/tvb/compare.py itself.

`stub_runone.py -c CONFIG -o DIR [--overwrite]` reads the flat `model_params:` configs that
compare.py writes (not general YAML), integrates wong_wang or generic_2d_oscillator the way
models-interface.md and TVB's simulator do (coupling once per step from the current state,
c = G W x, Heun with the state clipped after each stage, additive noise sqrt(2 nsig dt) z,
neural output = mean of the first state variable over each TR window of steps 1..k), and
writes `sim_{N}nodes_{tp}tp_TR{tr}_neural.npy` (timepoints x nodes, float64) to DIR.
No delays, no BOLD. Its noise stream is numpy's, not runone's, so only statistics match.
With compare.py --runone Tests/tvb/stub_runone.py the harness must pass: a harness that
fails against this stub is wrong, not runone.
"""
import argparse, os, sys
import numpy as np


def read_config(path):
    params = {}
    for line in open(path):
        line = line.split("#", 1)[0].rstrip()
        if not line.startswith("  ") or ":" not in line:
            continue
        key, value = (s.strip() for s in line.split(":", 1))
        params[key] = value
    return params


def load_matrix(folder, stem):
    for ext in ("npy", "txt", "csv"):
        p = os.path.join(folder, stem + "." + ext)
        if os.path.exists(p):
            return np.load(p) if ext == "npy" else np.loadtxt(p, delimiter="," if ext == "csv" else None)
    return None


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("-c", required=True)
    ap.add_argument("-o", required=True)
    ap.add_argument("--overwrite", "-w", action="store_true")
    a = ap.parse_args(argv)
    p = read_config(a.c)
    folder = os.path.join(os.path.dirname(os.path.abspath(a.c)), p["connectivity"])
    W = load_matrix(folder, "weights")
    n = W.shape[0]
    G = float(p.get("G", 0.5)); nsig = float(p.get("noise", 0)); dt = float(p.get("dt", 0.1))
    TR = float(p["TR"]); tp = int(p["timepoints"]); k = int(round(TR * 1000 / dt))
    rng = np.random.default_rng([int(p.get("seed", 0)), int(p.get("subject", 0))])
    name = p["name"]
    init = float(p.get("initial", 0.1 if name == "wong_wang" else 0.0))
    if name == "wong_wang":
        c = dict(a=0.270, b=0.108, d=154.0, gamma=0.641, tau_s=100.0, w=0.6, J_N=0.2609, I_o=0.33)
        c.update({key: float(p[key]) for key in c if key in p})
        def f(x, cp):
            u = c["a"] * (c["w"] * c["J_N"] * x[0] + c["I_o"] + c["J_N"] * cp) - c["b"]
            return np.array([-(x[0] / c["tau_s"]) + (1.0 - x[0]) * (u / (1 - np.exp(-c["d"] * u))) * c["gamma"]])
        bound = lambda x: np.clip(x, 0.0, 1.0)
        nv = 1
    else:
        c = dict(tau=1.0, I=0.0, a=-2.0, b=-10.0, c=0.0, d=0.02, e=3.0, f=1.0, g=0.0, alpha=1.0, beta=1.0, gamma=1.0)
        c.update({key: float(p[key]) for key in c if key in p})
        def f(x, cp):
            V, Wv = x
            return np.array([c["d"] * c["tau"] * (c["alpha"] * Wv - c["f"] * V**3 + c["e"] * V**2 + c["g"] * V + c["gamma"] * c["I"] + c["gamma"] * cp),
                             c["d"] * (c["a"] + c["b"] * V + c["c"] * V**2 - c["beta"] * Wv) / c["tau"]])
        bound = lambda x: x
        nv = 2
    x = bound(np.full((nv, n), init))
    out = np.empty((tp, n))
    sig = np.sqrt(2 * nsig * dt)
    for t in range(tp):
        acc = np.zeros(n)
        for _ in range(k):
            cp = G * (W @ x[0])
            f1 = f(x, cp)
            eta = sig * rng.standard_normal((nv, n)) if nsig > 0 else 0.0
            inter = bound(x + dt * f1 + eta)
            x = bound(x + (f1 + f(inter, cp)) * dt / 2.0 + eta)
            acc += x[0]
        out[t] = acc / k
    os.makedirs(a.o, exist_ok=True)
    tr = repr(TR).rstrip("0").rstrip(".") if "." in repr(TR) else repr(TR)
    np.save(os.path.join(a.o, "sim_%dnodes_%dtp_TR%s_neural.npy" % (n, tp, tr)), out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
