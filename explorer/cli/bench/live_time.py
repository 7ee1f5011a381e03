"""`python -m explorer.bench live-time`: the Train tab's image run, from the moment Start is pressed,
until its sample grid shows recognisable pictures; the figure a room watching a live demo feels.

It builds the run exactly as the Train tab does (`explorer.live.settings.image_trainer`: the tab's
DCGAN, batch 64, Adam at 2e-4, the dataset's own training split; on CUDA the whole step as one CUDA
graph) and, every `eval_every` steps, measures FD in the dataset's classifier features: samples from
fixed latents against as many of its test pictures (all 757 for emoji). "Recognisable" is an FD
threshold read off sample grids: for emoji, `RECOGNISABLE`, where a CPU run at the tab's settings
first drew faces with hair and other emoji-like shapes instead of coloured blobs (README, "Colour
models": its FD every 250 steps and what the grids showed). `--grids DIR` writes the grid at every reading, to
look at rather than trust the threshold.

The clock starts when the trainer is built (Start: the data is read then), and the seconds to each
threshold leave out the evaluation before it, so they mean what the tab would take. The target,
recognisable within `TARGET_S` seconds, is judged on CUDA only (the CPU makes about a step a second
at 64 px).
"""
from __future__ import annotations

import time
from pathlib import Path

from explorer.cli.bench.quality_time import first_below

RECOGNISABLE = {"emoji": 15.0}     # FD on the 757 test emoji; see the module docstring
TARGET_S = 60.0                    # "on a GPU the grid must show recognisable emoji shapes within a minute"
DEFAULT = {"steps": 6000, "eval_every": 250, "samples": 1000}
QUICK = {"steps": 4, "eval_every": 2, "samples": 64}
GRID_SIDE = 8                      # the grid written with --grids: 8 x 8 samples


def live_time(quick: bool = False, dataset: str = "emoji", device: str | None = None, steps: int | None = None,
              eval_every: int | None = None, samples: int | None = None, threshold: float | None = None,
              fast_path: bool = True, data_dir=None, grids: Path | None = None) -> dict:
    from explorer.core.validation import UserError, check_int, check_number
    steps, eval_every, samples = (check_int(name, v, lo, hi) for name, v, lo, hi in (
        ("--steps", steps or (QUICK if quick else DEFAULT)["steps"], 1, 10**7),
        ("--eval-every", eval_every or (QUICK if quick else DEFAULT)["eval_every"], 1, 10**7),
        ("--samples", samples or (QUICK if quick else DEFAULT)["samples"], 2, 10**6)))
    if threshold is None and dataset not in RECOGNISABLE:
        raise UserError(f"live-time: no recognisable-FD threshold is known for {dataset!r}: give one with --threshold "
                        f"(known: {', '.join(RECOGNISABLE)})")
    threshold = check_number("--threshold", RECOGNISABLE[dataset] if threshold is None else threshold, 0.0, 1e6)
    import torch

    from explorer.core.data import load_dataset, to_uint8
    from explorer.core.device import choose_device, synchronize
    from explorer.core.imaging import image_grid, save_png
    from explorer.core.latent import sample_z
    from explorer.eval.features import classifier_for, classify
    from explorer.eval.metrics import frechet_distance
    from explorer.live.settings import ImageSettings, image_trainer
    dev = choose_device(device)                               # a UserError for an unknown or missing device

    start = time.monotonic()                                  # Start pressed
    settings = ImageSettings(dataset=dataset, model="dcgan")
    trainer, train, note = image_trainer(settings, dev, data_dir)
    if not fast_path:
        trainer.use_fast_path(False)
    built_s = time.monotonic() - start

    t_eval = time.monotonic()                                 # evaluation set-up, timed apart
    net = classifier_for(dataset, dev)
    test = load_dataset(dataset, "test", data_dir)
    n = min(samples, len(test))
    order = torch.from_numpy(__import__("numpy").random.default_rng(0).permutation(len(test)))[:n]
    real_feats, _ = classify(net, test.images[order].float() / 255)
    z = sample_z(n, trainer.latent_dim, seed=0).to(dev)
    if grids is not None:
        grids.mkdir(parents=True, exist_ok=True)
    eval_s = time.monotonic() - t_eval
    history: list[dict] = []

    def evaluate(step: int) -> None:
        nonlocal eval_s
        synchronize(dev)
        t = time.monotonic()
        x = (torch.cat([trainer.samples(z[i:i + 500]) for i in range(0, n, 500)]) + 1) / 2
        feats, _ = classify(net, x.clamp(0, 1))
        history.append({"step": step, "fd": frechet_distance(feats, real_feats), "seconds": t - start - eval_s})
        if grids is not None:
            side = min(GRID_SIDE, int(n ** 0.5))
            save_png(image_grid(to_uint8(x[:side * side]).cpu(), nrow=side), grids / f"{dataset}-step{step:06d}.png")
        eval_s += time.monotonic() - t

    evaluate(0)
    first_step_s = warm_steps = warm_end = eval_at_warm = None
    for rec in trainer.run(steps):
        if first_step_s is None:
            first_step_s = time.monotonic() - start - eval_s
        if warm_steps is None and not trainer.fast_path_status.endswith("(warming up)"):
            synchronize(dev)
            warm_steps, warm_end, eval_at_warm = rec.step, time.monotonic(), eval_s
        if rec.step % eval_every == 0 or rec.step == steps:
            evaluate(rec.step)
    synchronize(dev)
    end = time.monotonic()
    hit = first_below(history, threshold)
    trained = steps - (warm_steps or steps)
    rate = trained / max(end - warm_end - (eval_s - eval_at_warm), 1e-9) if trained else None   # evaluation left out
    judged = dev.type == "cuda" and samples == DEFAULT["samples"] and threshold == RECOGNISABLE.get(dataset)
    return {
        "device": str(dev) + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "fast_path": trainer.fast_path_status,
        "quick": quick, "settings": {"run": settings.describe(note), "steps": steps, "eval_every": eval_every,
                                     "samples": n, "threshold": threshold},
        "built_s": built_s, "first_step_s": first_step_s, "warm_up_steps": warm_steps, "steps_per_s": rate,
        "history": history, "final_fd": history[-1]["fd"],
        "recognisable": hit if hit["step"] is not None else None,
        "target": {"target": f"FD <= {threshold:g} within {TARGET_S:g} s of Start",
                   "met": (hit["seconds"] is not None and hit["seconds"] <= TARGET_S) if judged else None,
                   **({} if judged else {"why_not_judged": "not on a CUDA GPU" if dev.type != "cuda" else
                                         "not the default --samples and --threshold"})},
    }


def print_live_time(res: dict) -> None:
    s = res["settings"]
    print(f"live-time on {res['device']} ({res['threads']} threads), fast path: {res['fast_path']}")
    print(f"  the Train tab's run: {s['run']}; {s['steps']} steps, FD every {s['eval_every']} on {s['samples']} samples")
    print(f"  built (Start pressed -> trainer ready, data read) in {res['built_s']:.1f} s; "
          f"first step {res['first_step_s']:.1f} s after Start")
    for h in res["history"]:
        print(f"    step {h['step']:6d}  {h['seconds']:7.1f} s  FD {h['fd']:.2f}")
    r = res["recognisable"]
    print(f"  FD <= {s['threshold']:g} (recognisable): " + (f"{r['seconds']:.1f} s after Start (step {r['step']})"
                                                             if r else f"not reached in {s['steps']} steps"))
    if res["steps_per_s"]:
        print(f"  {res['steps_per_s']:.1f} steps/s after warm-up ({res['warm_up_steps']} steps)")
    t = res["target"]
    print(f"  target {t['target']}: " + ("met" if t["met"] else "NOT met" if t["met"] is False
                                         else f"not judged ({t['why_not_judged']})"))
