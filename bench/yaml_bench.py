#!/usr/bin/env python3
"""bench/yaml_bench.py - the config reader against PyYAML, side by side (issue 15).

Run by bench/yaml.sh, which builds multirun-fuzz first. In one run it
  1. generates, from a seed, a ~1.5 MB research config (a sweep written by a script) and
     1,000 typical ~1 KB configs modelled on ../shared/yaml-corpus; each in two variants
     holding the same data: `full` (anchors and aliases, merge keys, block scalars, as often
     as the corpus has them) and `plain` (the aliases and merges written out, the block
     scalars as double-quoted strings) - today's reader refuses the first, so the second
     gives a number today;
  2. times, in process, our reader (multirun-fuzz time-set: ConfigParser.parse, and the
     read multirun makes of a config) and PyYAML's yaml.load with SafeLoader (pure Python)
     and CSafeLoader (libyaml), on the same bytes, by the same method: each file read alone
     between two readings of the monotonic clock, passes interleaved reader by reader;
     the big config's time is the best of its passes, each small config's time the best
     of its passes, the set's total the best pass's sum;
  3. prints one table and the verdict against issue 15's two targets.
Nothing is asserted unless --strict is given (speed belongs here, not in the tests).
"""
import argparse
import gc
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

import yaml

# --------------------------------------------------------------------------- generation
# A config is built as a tree first, then written twice: with the YAML features today's
# reader refuses (full) and without them (plain). Both load to the same value in PyYAML
# (checked below), so the two variants differ only in how the data is written.


class Scalar:
    """A scalar written as `text` (plain or quoted YAML)."""

    def __init__(self, text):
        self.text, self.anchor = text, None


class Block:
    """A block scalar: `style` is |, |- or >; `lines` hold no line breaks."""

    def __init__(self, style, lines):
        self.style, self.lines, self.anchor = style, lines, None

    def value(self):
        if self.style == ">":
            return " ".join(self.lines) + "\n"
        return "\n".join(self.lines) + ("" if self.style == "|-" else "\n")


class Map:
    """`entries`: (key, node, trailing comment or None), or (None, None, text) for a
    comment line; `merge`: anchored Maps merged in with `<<:` (explicit entries win, as
    YAML's merge key says)."""

    def __init__(self, entries, flow=False, merge=()):
        self.entries, self.flow, self.merge, self.anchor = entries, flow, list(merge), None


class Seq:
    def __init__(self, items, flow=False):
        self.items, self.flow, self.anchor = items, flow, None


class Alias:
    def __init__(self, target):
        self.target = target


def comment_text(comment):
    return f"  # {comment}" if comment else ""


def inline(node, full):
    """`node` on one line (scalars, flow collections, aliases)."""
    if isinstance(node, Alias):
        return f"*{node.target.anchor}" if full else inline(node.target, full)
    anchor = f"&{node.anchor} " if full and node.anchor else ""
    if isinstance(node, Scalar):
        return anchor + node.text
    if isinstance(node, Block):
        return anchor + json.dumps(node.value())
    if isinstance(node, Seq):
        return anchor + "[" + ", ".join(inline(item, full) for item in node.items) + "]"
    return anchor + "{" + ", ".join(f"{key}: {inline(value, full)}" for key, value, _ in merged_entries(node, full) if key is not None) + "}"


def merged_entries(node, full):
    """A mapping's entries as written: in `plain`, the merged mappings' entries that no
    explicit key overrides come first, written out."""
    if full or not node.merge:
        return node.entries
    explicit = {key for key, _, _ in node.entries}
    out, seen = [], set(explicit)
    for source in node.merge:
        for key, value, comment in merged_entries(source, False):
            if key is not None and key not in seen:
                seen.add(key)
                out.append((key, value, comment))
    return out + node.entries


def is_block(node, full):
    if isinstance(node, Alias):
        return not full and is_block(node.target, full)
    return isinstance(node, (Map, Seq)) and not node.flow and bool(node.items if isinstance(node, Seq) else node.entries)


def write_entries(node, indent, full, out):
    pad = " " * indent
    if full:
        for source in node.merge:
            out.append(f"{pad}<<: *{source.anchor}")
    for key, value, comment in merged_entries(node, full):
        if key is None:
            out.append(f"{pad}# {comment}")
        else:
            write_value(f"{pad}{key}:", value, indent, full, comment, out)


def write_value(head, value, indent, full, comment, out):
    """`head` (`  key:` or `  -`) followed by `value`, block collections on the lines below."""
    target = value.target if isinstance(value, Alias) and not full else value
    anchor = f" &{target.anchor}" if full and getattr(target, "anchor", None) and not isinstance(value, Alias) else ""
    if isinstance(target, Block) and full:
        out.append(f"{head}{anchor} {target.style}{comment_text(comment)}")
        out.extend(" " * (indent + 2) + line for line in target.lines)
    elif is_block(target, full):
        out.append(f"{head}{anchor}{comment_text(comment)}")
        write_block(target, indent + 2, full, out)
    else:
        out.append(f"{head} {inline(value, full)}{comment_text(comment)}")


def write_block(node, indent, full, out):
    if isinstance(node, Map):
        write_entries(node, indent, full, out)
        return
    pad = " " * indent
    for item in node.items:
        if isinstance(item, Map) and not item.flow and item.entries and item.entries[0][0] is not None and not item.anchor:
            # "- key: value" with the item's other keys below it.
            lines = []
            write_entries(item, indent + 2, full, lines)
            lines[0] = pad + "- " + lines[0][indent + 2:]
            out.extend(lines)
        else:
            write_value(pad + "-", item, indent, full, None, out)


def document(entries, header, full):
    """A config: header comment lines, then top-level entries with blank lines and section
    comments between them (entries: (key, node, comment, comment line above or None))."""
    out = list(header)
    for key, node, comment, above in entries:
        if above is not None:
            if out:
                out.append("")
            if above:
                out.append(f"#{above}" if above.startswith("#") else f"# {above}")
        write_value(f"{key}:", node, 0, full, comment, out)
    return "\n".join(out) + "\n"


# Words and values as the corpus's configs (Hydra, Lightning, HF Trainer, RL zoo, detectron2,
# neural and physical simulations) use them.
SECTIONS = {
    "trainer": ["max_epochs", "min_epochs", "accelerator", "devices", "num_nodes", "precision", "strategy",
                "gradient_clip_val", "accumulate_grad_batches", "log_every_n_steps", "val_check_interval",
                "check_val_every_n_epoch", "deterministic", "benchmark", "max_steps", "limit_val_batches"],
    "model": ["_target_", "name", "hidden_size", "num_layers", "num_heads", "dropout", "activation", "embed_dim",
              "patch_size", "in_channels", "out_channels", "kernel_size", "depth", "width", "modes", "norm",
              "backbone", "pretrained", "compile", "init_scale"],
    "data": ["_target_", "data_dir", "train_path", "val_path", "batch_size", "num_workers", "pin_memory",
             "image_size", "crop_size", "shuffle", "max_samples", "seq_len", "tokenizer", "split", "num_classes"],
    "optimizer": ["_target_", "name", "lr", "learning_rate", "weight_decay", "betas", "eps", "momentum", "nesterov",
                  "amsgrad"],
    "scheduler": ["_target_", "name", "warmup_steps", "warmup_ratio", "T_max", "eta_min", "gamma", "step_size",
                  "milestones", "patience", "factor", "mode"],
    "simulation": ["dt", "t_end", "n_steps", "nx", "ny", "nz", "dx", "tau", "noise", "coupling", "solver",
                   "tolerance", "output_interval", "boundary", "integrator", "temperature", "cutoff", "seed"],
    "network": ["n_neurons", "n_excitatory", "n_inhibitory", "connection_prob", "v_thresh", "v_reset", "tau_m",
                "tau_syn", "delay", "weight_scale", "input_rate", "record", "synapse_model"],
    "env": ["env_id", "n_envs", "n_timesteps", "policy", "gamma", "gae_lambda", "ent_coef", "vf_coef",
            "clip_range", "n_epochs", "buffer_size", "learning_starts", "train_freq", "target_update_interval",
            "exploration_fraction", "normalize", "frame_stack"],
    "logger": ["name", "project", "entity", "save_dir", "offline", "log_model", "tags", "group", "job_type"],
    "callbacks": ["monitor", "mode", "save_top_k", "save_last", "patience", "min_delta", "dirpath", "filename",
                  "every_n_epochs", "verbose"],
    "paths": ["root_dir", "data_dir", "log_dir", "output_dir", "work_dir", "cache_dir"],
    "output": ["dir", "format", "every", "fields", "compress", "overwrite", "prefix"],
    "eval": ["metrics", "batch_size", "num_samples", "every_n_steps", "split", "save_predictions"],
    "hydra": ["run", "sweep", "job", "output_subdir", "verbose"],
}
WORDS = ("model data train test val loss run sweep grid step epoch batch layer encoder decoder attention "
         "spike neuron field grid mesh solver noise signal image token input output scale mean std "
         "learning rate warmup decay cosine linear adam adamw sgd relu gelu tanh resnet50 vit_base "
         "mnist cifar10 imagenet wikitext bf16 fp32 ddp auto cpu gpu cuda nccl euler rk4 leapfrog "
         "periodic dirichlet neumann xavier kaiming uniform normal").split()
TOP_SCALARS = ["seed", "task_name", "name", "experiment", "version", "debug", "output_dir", "num_gpus", "tags",
               "notes", "project", "run_name", "resume_from_checkpoint", "train", "test", "ckpt_path"]


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.anchors = 0

    def word(self):
        return self.rng.choice(WORDS)

    def words(self, low, high):
        return " ".join(self.word() for _ in range(self.rng.randint(low, high)))

    def number(self):
        r = self.rng
        kind = r.random()
        if kind < 0.35:
            return Scalar(str(r.choice([0, 1, 2, 3, 4, 8, 10, 16, 32, 64, 100, 128, 256, 512, 1000, 1024, 2048,
                                        5000, 10000, 100000, 1000000, r.randint(0, 999)])))
        if kind < 0.75:
            return Scalar(r.choice(["0.1", "0.5", "0.9", "0.99", "0.999", "1.0", "0.01", "0.001", "0.0001", "2.5",
                                    f"{r.uniform(-1, 1):.4f}", f"{r.uniform(0, 10):.3f}", f"{r.random():.6f}"]))
        if kind < 0.92:  # a dot: a float to YAML 1.1
            return Scalar(f"{r.choice([1, 2, 3, 5])}.0e-{r.randint(1, 8)}")
        return Scalar(f"{r.choice([1, 2, 3, 5])}e-{r.randint(1, 8)}")  # no dot: a string to PyYAML

    def string(self, block_context=True):
        r = self.rng
        kind = r.random()
        if kind < 0.35:
            return Scalar(r.choice(WORDS))
        if kind < 0.50:
            return Scalar(f"{self.word()}_{self.word()}")
        if kind < 0.62:
            return Scalar("/" + "/".join(self.word() for _ in range(r.randint(2, 5))) + r.choice(["", ".pt", ".npy", ".h5", "/"]))
        if kind < 0.70 and block_context:
            return Scalar(r.choice(["${paths.data_dir}", "${oc.env:PROJECT_ROOT}/data", "${hydra:runtime.output_dir}",
                                    "outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}", "${trainer.devices}"]))
        if kind < 0.85:
            return Scalar('"' + self.words(1, 6).replace("loss", 'loss \\"nan\\"') + '"')
        return Scalar("'" + self.words(1, 6).replace("run", "run's").replace("'", "''") + "'")

    def scalar(self, block_context=True):
        r = self.rng.random()
        if r < 0.45:
            return self.number()
        if r < 0.58:
            return Scalar(self.rng.choice(["true", "false", "True", "False"]))
        if r < 0.64:
            return Scalar(self.rng.choice(["null", "~", "None"]))
        return self.string(block_context)

    def flow_list(self, low=2, high=8):
        r = self.rng
        kind = r.random()
        count = r.randint(low, high)
        if kind < 0.4:
            return Seq([Scalar(str(r.choice([16, 32, 64, 128, 256, 512]) * (i + 1) if r.random() < 0.5 else i))
                        for i in range(count)], flow=True)
        if kind < 0.75:
            return Seq([Scalar(f"{r.uniform(-1, 1):.4f}") for _ in range(count)], flow=True)
        if kind < 0.95:
            return Seq([Scalar(f'"{self.word()}"' if r.random() < 0.5 else self.word()) for _ in range(count)], flow=True)
        return Seq([], flow=True)

    def flow_map(self):
        keys = self.rng.sample(SECTIONS[self.rng.choice(list(SECTIONS))], self.rng.randint(1, 4))
        return Map([(key, self.scalar(block_context=False), None) for key in keys], flow=True)

    def comment(self):
        return self.words(2, 8) if self.rng.random() < 0.08 else None

    def value(self, depth):
        r = self.rng.random()
        if r < 0.64 or depth > 3:
            return self.scalar()
        if r < 0.72:
            return self.flow_list()
        if r < 0.75:
            return self.flow_map()
        if r < 0.80:
            return Seq([self.scalar() for _ in range(self.rng.randint(2, 4))])
        return self.section(depth + 1, 2, 6)

    def section(self, depth, low, high, name=None):
        keys = SECTIONS[name] if name in SECTIONS else SECTIONS[self.rng.choice(list(SECTIONS))]
        chosen = self.rng.sample(keys, min(len(keys), self.rng.randint(low, high)))
        entries = []
        for key in chosen:
            if self.rng.random() < 0.12:
                entries.append((None, None, self.words(2, 8)))  # a comment line of its own
            entries.append((key, self.value(depth), self.comment()))
        return Map(entries)

    def anchor_name(self, stem):
        self.anchors += 1
        return f"{stem}{self.anchors}"

    def block_scalar(self):
        style = self.rng.choice(["|", "|", ">", "|-"])
        return Block(style, [self.words(3, 10) for _ in range(self.rng.randint(2, 5))])

    def typical(self, target):
        """Top-level entries of one ~`target`-byte config, and its header comments."""
        r = self.rng
        header = [f"# {self.words(3, 9)}" for _ in range(r.choice([0, 0, 1, 2, 3]))]
        if r.random() < 0.15:
            header.insert(0, "# @package _global_")
        entries, size, used = [], sum(len(line) + 1 for line in header), set()
        # As often as the corpus has them: block scalars in ~8% of files, anchors and
        # aliases in ~11%, merge keys in ~6%.
        anchored = None
        if r.random() < 0.11:
            anchored = self.section(1, 3, 6)
            anchored.anchor = self.anchor_name("base")
            entries.append(("defaults", anchored, None, r.choice(["", self.words(2, 5)])))
        for key in r.sample(TOP_SCALARS, r.randint(0, 4)):
            entries.append((key, self.scalar(), self.comment(), None if entries else ""))
            used.add(key)
        if r.random() < 0.08:
            entries.append(("description", self.block_scalar(), None, ""))
            used.add("description")
        while size < target:
            name = r.choice([n for n in SECTIONS if n not in used] or [f"extra{len(used)}"])
            used.add(name)
            section = self.section(1, 3, 9, name)
            if anchored is not None and r.random() < 0.6:
                if r.random() < 0.6:
                    section.merge.append(anchored)
                else:
                    section.entries.append(("shared", Alias(anchored), None))
                anchored = None  # one use per file is enough to make the file need it
            entries.append((name, section, None, r.choice(["", "", self.words(1, 4), f"## {name}"])))
            size = len(document(entries, header, True))
        if anchored is not None:  # an anchor with no alias is rare: use it once
            entries.append(("override", Map([("lr", self.number(), None)], merge=[anchored]), None, ""))
        return header, entries

    def sweep(self, target):
        """A ~`target`-byte config written by a sweep script: shared defaults (anchored,
        merged into runs), grids of numbers, and runs with nested model descriptions,
        schedules, notes (block scalars) and aliases to shared pieces."""
        r = self.rng
        header = ["# Generated by sweep.py - do not edit by hand.",
                  f"# sweep {self.words(2, 4)}: {r.randint(100, 999)} runs, seed {r.randint(0, 99)}"]
        defaults = Map([
            ("trainer", Map([("max_epochs", Scalar("100"), None), ("precision", Scalar("bf16-mixed"), None),
                             ("devices", Scalar("4"), None), ("strategy", Scalar("ddp"), None)], flow=True), None),
            ("optimizer", Map([("name", Scalar("adamw"), None), ("lr", Scalar("3.0e-4"), "peak"),
                               ("betas", Seq([Scalar("0.9"), Scalar("0.999")], flow=True), None),
                               ("weight_decay", Scalar("0.05"), None)]), None),
            ("data", Map([("root", Scalar('"/scratch/shared/datasets/imagenet-1k"'), None),
                          ("batch_size", Scalar("256"), None), ("num_workers", Scalar("8"), None),
                          ("mean", Seq([Scalar("0.485"), Scalar("0.456"), Scalar("0.406")], flow=True), None),
                          ("std", Seq([Scalar("0.229"), Scalar("0.224"), Scalar("0.225")], flow=True), None)]), None),
            ("log_every_n_steps", Scalar("50"), None),
        ])
        defaults.anchor = "defaults"
        channels = Seq([Scalar(str(i)) for i in range(r.randint(16, 32))], flow=True)
        channels.anchor = "channels"
        entries = [
            ("version", Scalar("3"), None, None),
            ("experiment", Map([("name", Scalar('"scaling-sweep"'), None), ("owner", Scalar("lab-ml"), None),
                                ("description", Block("|", [self.words(6, 12) for _ in range(4)]), None),
                                ("created", Scalar("'2024-05-01T12:00:00'"), None)]), None, ""),
            ("defaults", defaults, None, "shared by every run (merged in with <<)"),
            ("channels", channels, None, ""),
            ("grids", Map([(name, Seq([Scalar(f"{r.uniform(-2, 2):.6f}") for _ in range(r.randint(80, 160))], flow=True), None)
                           for name in ("lr", "weights", "bias", "offsets")]), None, "search grids"),
        ]
        head = document(entries, header, True)
        size, runs, shared_models, index = len(head), [], [], 0
        while size < target:
            run = self.run(index, defaults, channels, shared_models)
            size += len(write_list_item(run, 2, True)) + 1
            runs.append(run)
            index += 1
        entries.append(("runs", Seq(runs), None, "one entry per run"))
        return header, entries

    def run(self, index, defaults, channels, shared_models):
        r = self.rng
        entries = [("name", Scalar(f'"run-{index:05d}"'), f"lr={r.choice(['1e-4', '3e-4', '1e-3'])} seed={index % 5}"),
                   ("seed", Scalar(str(index % 5)), None)]
        merge = [defaults] if index % 3 == 0 else []
        if merge and r.random() < 0.2:  # a run that overrides a merged default
            entries.append(("log_every_n_steps", Scalar(str(r.choice([10, 25, 100]))), "overrides the default"))
        if shared_models and r.random() < 0.1:
            model = Alias(r.choice(shared_models))
        else:
            layers = Seq([Map([("type", Scalar(r.choice(["conv", "attn", "mlp", "norm"])), None),
                               ("channels", Scalar(str(r.choice([64, 128, 256, 512]))), None),
                               ("kernel", Scalar(str(r.choice([1, 3, 5]))), None)], flow=True)
                          for _ in range(r.randint(2, 6))])
            model = Map([("depth", Scalar(str(r.choice([12, 24, 36]))), None),
                         ("width", Scalar(str(r.choice([384, 768, 1024]))), "hidden size"),
                         ("dropout", self.number(), None),
                         ("layers", layers, None),
                         ("init", Map([("scheme", Scalar(r.choice(["xavier", "kaiming", "normal"])), None),
                                       ("gain", Scalar(f"{r.uniform(0.5, 2):.3f}"), None)], flow=True), None)])
            if index % 25 == 0:
                model.anchor = f"model{index}"
                shared_models.append(model)
        entries += [("model", model, None),
                    ("schedule", Seq([Scalar(f"{r.uniform(0, 0.1):.5f}") for _ in range(r.randint(16, 48))], flow=True), None),
                    ("loss_weights", Seq([Scalar(f"{r.uniform(0, 1):.3f}") for _ in range(r.randint(3, 8))]), None),
                    ("milestones", Seq([Scalar(str(m)) for m in sorted(r.sample(range(10, 100), 3))]), None),
                    ("tags", Seq([Scalar('"sweep"'), Scalar(f"'lr-{r.choice(['1e-4', '3e-4'])}'"), Scalar(self.word())], flow=True), None),
                    ("paths", Map([("out", Scalar(f'"/scratch/runs/run-{index:05d}"'), None),
                                   ("ckpt", Scalar(f"'/scratch/ckpt/run-{index:05d}/last.ckpt'"), None)]), None)]
        if r.random() < 0.3:
            entries.append(("input_channels", Alias(channels) if r.random() < 0.5 else Seq(channels.items, flow=True), None))
        if r.random() < 0.1:
            entries.append(("notes", self.block_scalar(), None))
        if r.random() < 0.3:
            entries.append(("metrics", Map([(m, Scalar(f"{r.random():.4f}"), None) for m in ("val_loss", "val_acc", "top5")]), "filled in after the run"))
        return Map(entries, merge=merge)


def write_list_item(item, indent, full):
    out = []
    write_block(Seq([item]), indent, full, out)
    return "\n".join(out)


def generate(folder, seed, big_bytes, count):
    """Writes folder/{full,plain}/{big.yaml, set/NNNN.yaml}; returns the workload sizes."""
    info = {}
    header, entries = Generator(f"big-{seed}").sweep(big_bytes)
    texts = {variant: document(entries, header, variant == "full") for variant in ("full", "plain")}
    small, gen = [], Generator(f"set-{seed}")  # --quick's 100 are the first 100 of the 1,000
    for i in range(count):
        # Sizes around 1 KB: the corpus's configs are 0.3 to 3 KB for the most part.
        target = int(gen.rng.lognormvariate(math.log(640), 0.35))
        small.append(gen.typical(max(250, min(target, 2000))))
    for variant in ("full", "plain"):
        full = variant == "full"
        os.makedirs(f"{folder}/{variant}/set")
        with open(f"{folder}/{variant}/big.yaml", "w") as f:
            f.write(texts[variant])
        sizes, digest = [], hashlib.sha256(texts[variant].encode())
        for i, (header, entries) in enumerate(small):
            text = document(entries, header, full)
            digest.update(text.encode())
            sizes.append(len(text.encode()))
            with open(f"{folder}/{variant}/set/{i:04d}.yaml", "w") as f:
                f.write(text)
        info[variant] = {"big": len(texts[variant].encode()), "sizes": sorted(sizes), "sha": digest.hexdigest()[:12]}
    return info


def check_same_values(folder, count):
    """Each file's two variants load to the same value (PyYAML's C loader): the variants
    differ in how the data is written only."""
    load = lambda path: yaml.load(open(path, "rb").read(), Loader=yaml.CSafeLoader)
    names = ["big.yaml"] + [f"set/{i:04d}.yaml" for i in range(count)]
    for name in names:
        if load(f"{folder}/full/{name}") != load(f"{folder}/plain/{name}"):
            sys.exit(f"yaml_bench: generator bug: full/{name} and plain/{name} load to different values")


# ------------------------------------------------------------------------------- timing


def time_python(loader, datas):
    """One pass: each document loaded alone; per file (ns, refused)."""
    out = []
    for data in datas:
        start = time.perf_counter_ns()
        try:
            value = yaml.load(data, Loader=loader)
            end = time.perf_counter_ns()
            refused = False
        except yaml.YAMLError:
            end = time.perf_counter_ns()
            refused = True
        out.append((end - start, refused))
        value = None
    return out


def time_ours(fuzz, what, paths):
    """One pass in a fresh multirun-fuzz process (its start is not timed, nor are the
    readings before the first file it accepts); per file (ns, refused), and the refusals."""
    run = subprocess.run([fuzz, "time-set", "--passes", "1", "--what", what, "--each", *paths],
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"yaml_bench: multirun-fuzz time-set failed ({run.returncode}): {run.stderr.strip()}")
    out, messages = [], []
    for line in run.stdout.splitlines():
        fields = line.split("\t")
        if fields[0] == "file":
            out.append((int(fields[1]), fields[3] != "ok"))
        elif line.startswith("refused: "):
            messages.append(line[len("refused: "):])
    if len(out) != len(paths):
        sys.exit(f"yaml_bench: multirun-fuzz time-set printed {len(out)} files for {len(paths)}")
    return out, messages


def summary(passes):
    """passes: per pass, per file (ns, refused). Per file: best of the passes; total: the
    best pass's sum; median (of an even count: the mean of the middle two), p90 (nearest
    rank) over the files."""
    files = len(passes[0])
    best = sorted(min(p[i][0] for p in passes) for i in range(files))
    refused = sum(1 for i in range(files) if any(p[i][1] for p in passes))
    median = best[files // 2] if files % 2 else (best[files // 2 - 1] + best[files // 2]) / 2
    p90 = best[max(0, math.ceil(0.9 * files) - 1)]
    return {"total": min(sum(ns for ns, _ in p) for p in passes) / 1e6, "median": median / 1e6, "p90": p90 / 1e6,
            "refused": refused, "files": files}


READERS = [("multirun parse", "ours", "parse"), ("multirun read", "ours", "read"),
           ("PyYAML C", "python", "CSafeLoader"), ("PyYAML pure", "python", "SafeLoader")]


def measure(fuzz, folder, variant, count, big_passes, set_passes, readers):
    """{reader: {"big": summary, "set": summary}} for one variant; passes interleave the readers."""
    paths = {"big": [f"{folder}/{variant}/big.yaml"], "set": [f"{folder}/{variant}/set/{i:04d}.yaml" for i in range(count)]}
    datas = {k: [open(p, "rb").read() for p in v] for k, v in paths.items()}
    results, messages = {}, {}
    for name, kind, arg in readers:  # untimed, as multirun-fuzz does: small files up to the first accepted
        if kind == "python":
            for data in datas["set"]:
                if not time_python(getattr(yaml, arg), [data])[0][1]:
                    break
    for workload, passes in (("big", big_passes), ("set", set_passes)):
        runs = {name: [] for name, _, _ in readers}
        for _ in range(passes):
            for name, kind, arg in readers:
                gc.collect()
                if kind == "ours":
                    one, refusals = time_ours(fuzz, arg, paths[workload])
                    if refusals:
                        messages.setdefault(name, refusals[0])
                else:
                    one = time_python(getattr(yaml, arg), datas[workload])
                runs[name].append(one)
        for name in runs:
            results.setdefault(name, {})[workload] = summary(runs[name])
    return results, messages


# ------------------------------------------------------------------------------- report


def cell(result, key, width):
    if result["refused"]:
        text = "-" if key != "total" else "refused" if result["files"] == 1 else f"refused {result['refused']}"
    else:
        value = result[key]
        text = f"{value:.1f}" if value >= 100 else f"{value:.2f}" if value >= 1 else f"{value:.3f}"
    return text.rjust(width)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz", required=True, help="the multirun-fuzz binary (release build)")
    parser.add_argument("--quick", action="store_true", help="a ~100 KB config and 100 small ones, fewer passes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", metavar="DIR", help="write the generated configs to DIR (new) and keep them")
    parser.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    parser.add_argument("--no-pure", action="store_true", help="leave out PyYAML's pure-Python loader (the slowest)")
    parser.add_argument("--corpus", default=None, help="the corpus to compare the small configs' sizes with")
    args = parser.parse_args()

    big_bytes, count, big_passes, set_passes = (30_000, 100, 3, 1) if args.quick else (1_500_000, 1000, 3, 2)
    readers = [r for r in READERS if (yaml.__with_libyaml__ or r[2] != "CSafeLoader") and not (args.no_pure and r[2] == "SafeLoader")]
    started = time.monotonic()
    folder = args.keep or tempfile.mkdtemp(prefix="yaml-bench-")
    if args.keep:
        os.makedirs(folder)
    try:
        info = generate(folder, args.seed, big_bytes, count)
        check_same_values(folder, count)
        generated = time.monotonic() - started
        results = {v: measure(args.fuzz, folder, v, count, big_passes, set_passes, readers) for v in ("full", "plain")}
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", folder])

    print(f"config readers side by side (bench/yaml.sh{' --quick' if args.quick else ''}, seed {args.seed}, "
          f"{os.cpu_count()} CPUs, PyYAML {yaml.__version__}{' with libyaml' if yaml.__with_libyaml__ else ', no libyaml'}, "
          f"python {sys.version.split()[0]})")
    for variant in ("full", "plain"):
        i = info[variant]
        sizes = i["sizes"]
        what = ("anchors/aliases, merge keys, block scalars as often as the corpus has them" if variant == "full"
                else "the same data with aliases and merges written out, block scalars quoted")
        print(f"  {variant:5}: {what}; big {i['big']:,} B; {len(sizes):,} configs, median {sizes[len(sizes) // 2]:,} B, "
              f"{sizes[0]:,} to {sizes[-1]:,} B (inputs {i['sha']})")
    if args.corpus and os.path.isdir(args.corpus):
        corpus = sorted(os.path.getsize(os.path.join(args.corpus, n)) for n in os.listdir(args.corpus))
        print(f"  corpus ({len(corpus)} real configs): median {corpus[len(corpus) // 2]:,} B, "
              f"quartiles {corpus[len(corpus) // 4]:,} and {corpus[3 * len(corpus) // 4]:,} B")
    big_label = f"{big_bytes / 1e6:.1f} MB" if big_bytes >= 1e6 else f"{big_bytes // 1000} KB"
    print(f"  in process, ms; big config: best of {big_passes}; small configs: each the best of {set_passes} passes, "
          f"total = the best pass's sum")
    print()
    head = ["reader", "variant", f"{big_label} config", f"{count:,} configs total", "median per config", "p90 per config"]
    widths = [15, 7, 14, 19, 17, 14]
    print("  ".join(h.ljust(w) if k < 2 else h.rjust(w) for k, (h, w) in enumerate(zip(head, widths))))
    for variant in ("full", "plain"):
        for name, _, _ in readers:
            r = results[variant][0][name]
            print("  ".join([name.ljust(widths[0]), variant.ljust(widths[1]), cell(r["big"], "total", widths[2]),
                             cell(r["set"], "total", widths[3]), cell(r["set"], "median", widths[4]),
                             cell(r["set"], "p90", widths[5])]))
    for variant in ("full", "plain"):
        for name, message in results[variant][1].items():
            print(f"  {name}, {variant}, first refusal: {message.replace(folder + '/', '')[:160]}")
    print()

    missed = False
    ok_median = "yes"
    print("targets (issue 15), multirun parse:")
    for variant in ("full", "plain"):
        ours = results[variant][0]["multirun parse"]
        s = ours["set"]
        if s["refused"]:
            verdict, ok_median = f"FAIL (refused {s['refused']} of {s['files']})", False
        elif s["median"] <= 0.2:
            verdict = f"PASS ({s['median']:.3f} ms)"
        else:
            verdict, ok_median = f"FAIL ({s['median']:.3f} ms)", False
        missed |= verdict.startswith("FAIL")
        print(f"  median <= 0.2 ms per ~1 KB config, {variant:5}: {verdict}")
    for variant in ("full", "plain"):
        res = results[variant][0]
        ours = res["multirun parse"]["big"]
        if "PyYAML C" not in res:
            verdict = "n/a (PyYAML has no libyaml here)"
        elif ours["refused"]:
            verdict = "FAIL (refused)"
        else:
            c = res["PyYAML C"]["big"]["total"]
            verdict = (f"{'PASS' if ours['total'] <= c else 'FAIL'} ({ours['total']:.2f} ms against {c:.2f} ms: "
                       f"{c / ours['total']:.1f}x {'faster' if ours['total'] <= c else 'slower'})")
        missed |= verdict.startswith("FAIL")
        print(f"  {big_label} config no slower than PyYAML C, {variant:5}: {verdict}")
    print(f"(generated in {generated:.1f} s, whole bench {time.monotonic() - started:.1f} s)")
    if args.strict and missed:
        sys.exit(3)


if __name__ == "__main__":
    main()
