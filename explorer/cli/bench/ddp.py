"""`python -m explorer.bench ddp`: data-parallel training speed on this machine, 1 process vs N.

For the DCGAN and the VAE at the shipped settings (per-process batch as shipped, so the global
batch grows with N: weak scaling, the way torchrun is used), steps/s and pictures/s of
- one plain process (no DDP), the baseline;
- N processes under DDP, launched here the way torchrun launches them (RANK, WORLD_SIZE,
  LOCAL_RANK, MASTER_ADDR/PORT in each one's environment), on N GPUs (NCCL) or on the CPU (gloo,
  one thread each);
- on the CPU also one process with N threads: the other way to use the same cores.
Scaling efficiency = pictures/s of N processes / (N x pictures/s of one). Each figure is timed on
a warm run (warm-up steps first), between barriers so every process is counted. Data: random
uint8 pictures kept on the device, as `bench train` (the data's content does not change the speed).

On CUDA, `--fast-path` also times N processes with their steps captured as CUDA graphs (opt-in
under torchrun; a capture that fails is reported, not hidden). `--quick`: a tiny model, seconds.
The workers are this module run as `python -m explorer.cli.bench.ddp --worker ...`.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]   # the repository

QUICK_TRAINING = {
    "dcgan": ({"latent_dim": 8, "width": 8, "d_width": 8}, {"batch_size": 16}),
    "vae": ({"latent_dim": 4, "width": 8, "hidden": 32}, {"batch_size": 16}),
}


# ---------------------------------------------------------------- launching processes
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_local(module_args: list[str], nprocs: int, log_dir: Path, threads: int = 1,
                env: dict | None = None) -> list[subprocess.Popen]:
    """`python -m MODULE ...` in `nprocs` processes on this machine, each with the environment
    torchrun gives its workers; output of rank r goes to log_dir/rank{r}.log."""
    port = _free_port()
    procs = []
    for rank in range(nprocs):
        e = dict(os.environ, **(env or {}), RANK=str(rank), WORLD_SIZE=str(nprocs), LOCAL_RANK=str(rank),
                 LOCAL_WORLD_SIZE=str(nprocs), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                 OMP_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
        with open(log_dir / f"rank{rank}.log", "wb") as log:
            procs.append(subprocess.Popen([sys.executable, "-m", *module_args], env=e, cwd=ROOT,
                                          stdout=log, stderr=subprocess.STDOUT))
    return procs


def wait_all(procs: list[subprocess.Popen], timeout_s: float) -> list[int | None]:
    """Exit codes, waiting at most `timeout_s` in all; whatever still runs then is killed (None)."""
    end = time.monotonic() + timeout_s
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=max(0.0, end - time.monotonic())))
        except subprocess.TimeoutExpired:
            codes.append(None)
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    return codes


# ---------------------------------------------------------------- one timed run (a worker)
def worker(kind: str, quick: bool, warm: int, steps: int, fast: bool, device: str | None, out: Path) -> None:
    import torch

    from explorer.cli.bench.speed import SHIPPED_TRAINING
    from explorer.core.device import choose_device
    from explorer.training import GANTrainConfig, VAETrainConfig, distributed, make_trainer
    from explorer.training.shards import EpochShards
    launch = distributed.from_environment()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    dev = distributed.device_for(launch, choose_device(device))
    model_cfg, train_cfg = (QUICK_TRAINING if quick else SHIPPED_TRAINING)[kind]
    batch = train_cfg["batch_size"]
    images = torch.randint(0, 256, (max(4096, 4 * batch * launch.world_size), 1, 28, 28), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    sampler = EpochShards(images, dev, (-1.0, 1.0) if kind == "dcgan" else (0.0, 1.0), batch=batch,
                          rank=launch.rank, world_size=launch.world_size)
    cfg = GANTrainConfig(**train_cfg) if kind == "dcgan" else VAETrainConfig(**train_cfg)
    trainer = make_trainer(kind, model_cfg, cfg, sampler, dev)
    ddp = launch.world_size > 1
    if ddp:
        distributed.start(launch, dev, 120, graphs=fast)
        distributed.wrap_for_ddp(trainer, launch, graphs=fast)
    status = trainer.use_fast_path() if fast else "off"
    timed = _timed(trainer, warm + (11 if fast else 0), steps, ddp)
    if launch.is_main:
        out.write_text(json.dumps(dict(timed, processes=launch.world_size, threads=torch.get_num_threads(),
                                       batch_per_process=batch, global_batch=batch * launch.world_size,
                                       fast_path=trainer.fast_path_status if fast else status, device=str(dev))))
    if ddp:
        distributed.stop()


def _timed(trainer, warm: int, steps: int, ddp: bool) -> dict:
    import torch
    import torch.distributed as dist

    def sync():
        if trainer.device.type == "cuda":
            torch.cuda.synchronize(trainer.device)
        if ddp:
            dist.barrier()
    for _ in trainer.run(warm):
        pass
    sync()
    seen, t0 = trainer.images_seen, time.perf_counter()
    for _ in trainer.run(warm + steps):
        pass
    sync()
    dt = time.perf_counter() - t0
    return {"steps_per_s": steps / dt, "pictures_per_s": (trainer.images_seen - seen) / dt, "seconds": dt}


# ---------------------------------------------------------------- the bench
def _run(kind: str, nprocs: int, threads: int, quick: bool, fast: bool, device: str | None) -> dict:
    warm, steps = (2, 4) if quick else (5, 30)
    with tempfile.TemporaryDirectory(prefix="bench-ddp-") as tmp:
        tmp = Path(tmp)
        args = ["explorer.cli.bench.ddp", "--worker", kind, "--warm", str(warm), "--steps", str(steps),
                "--out", str(tmp / "result.json")] + (["--quick"] if quick else []) + \
               (["--fast-path"] if fast else []) + (["--device", device] if device else [])
        procs = start_local(args, nprocs, tmp, threads)
        codes = wait_all(procs, 120 if quick else 600)
        if codes != [0] * nprocs or not (tmp / "result.json").exists():
            tail = (tmp / "rank0.log").read_text(errors="replace").strip().splitlines()[-3:]
            return {"error": f"exit codes {codes}: " + " | ".join(tail)}
        return json.loads((tmp / "result.json").read_text())


def ddp_bench(quick: bool = False, nprocs: int | None = None, device: str | None = None, fast: bool = False,
              kinds=("dcgan", "vae")) -> dict:
    """The figures described at the top of this file, as one JSON-able dict."""
    import torch
    cuda = (device or ("cuda" if torch.cuda.is_available() else "cpu")).startswith("cuda")
    n = nprocs if nprocs is not None else (torch.cuda.device_count() if cuda else 2)
    out = {"machine": {"cpus": os.cpu_count(), "device": "cuda" if cuda else "cpu",
                       "backend": "nccl" if cuda else "gloo", "gpus": torch.cuda.device_count() if cuda else 0,
                       "date": time.strftime("%Y-%m-%d"), "load_average_before": _load()}, "processes": n, "quick": quick}
    for kind in kinds:
        one = _run(kind, 1, 1, quick, False, device)
        many = _run(kind, n, 1, quick, False, device)
        row = {"one_process": one, f"{n}_processes": many}
        if "error" not in one and "error" not in many:
            row["scaling_efficiency"] = many["pictures_per_s"] / (n * one["pictures_per_s"])
        if not cuda:
            row[f"one_process_{n}_threads"] = _run(kind, 1, n, quick, False, device)
        if cuda and fast:
            row[f"{n}_processes_fast_path"] = _run(kind, n, 1, quick, True, device)
        out[kind] = row
    out["machine"]["load_average_after"] = _load()
    return out


def _load() -> list[float] | None:
    """The 1, 5 and 15-minute load averages: other work on the machine skews every figure here."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def print_ddp(res: dict) -> None:
    m = res["machine"]
    print(f"data-parallel training, {res['processes']} processes, {m['device']} ({m['backend']}), {m['cpus']} CPUs, "
          f"load average {m['load_average_before']} before, {m['load_average_after']} after")
    for kind in ("dcgan", "vae"):
        if kind not in res:
            continue
        print(f"  {kind}")
        for name, r in res[kind].items():
            if name == "scaling_efficiency":
                print(f"    {'scaling efficiency':28s} {r:.2f}")
            elif "error" in r:
                print(f"    {name:28s} error: {r['error']}")
            else:
                print(f"    {name:28s} {r['steps_per_s']:8.2f} steps/s {r['pictures_per_s']:9.0f} pictures/s "
                      f"(global batch {r['global_batch']}, {r['threads']} thread(s) each; fast path: {r['fast_path']})")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.cli.bench.ddp")
    p.add_argument("--worker", choices=["dcgan", "vae"], required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--warm", type=int, default=5)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--fast-path", action="store_true")
    p.add_argument("--device")
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    worker(a.worker, a.quick, a.warm, a.steps, a.fast_path, a.device, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
