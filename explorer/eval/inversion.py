"""How close is a reconstruction? Per-picture scores in plain words, and the inversion figures.

Scores compare a picture x with its reconstruction x' three ways: pixel MSE (images in [0, 1]),
the distance between their classifier features (for scale: two different Fashion-MNIST test
pictures are 12.8 apart on average; `test_pair_feature_distance` gives it for any dataset), and
whether the classifier gives both the same label. The plain-words verdict combines them: "very
close", "close" or "rough".

`evaluate_inversion` gives the figures of a GAN's encoder on its dataset's test pictures: encoder
alone, encoder + refinement on a fixed random subset, the same for the GAN's own samples G(z),
the VAE's reconstruction beside it, and the time per picture.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from explorer.core.data import load_dataset, to_unit
from explorer.eval.features import classify
from explorer.eval.refine import REFINE_SECONDS, REFINE_STEPS, refine_latent

# Pixel MSE between a test picture and a random other one of the same class: median 0.06-0.15,
# 10th percentile 0.03-0.08 by class. "Close" is nearer than 9 in 10 such look-alikes would be.
VERY_CLOSE_MSE = 0.01
CLOSE_MSE = 0.03

EXPLAIN = {
    "test_pictures": "test pictures of the GAN's dataset measured",
    "encoder_class_kept": "share of test pictures whose reconstruction G(E(x)) gets the same label",
    "encoder_pixel_mse": "mean squared pixel error of G(E(x)), pictures in [0, 1]",
    "encoder_feature_distance": "mean classifier-feature distance of G(E(x)) (for scale: test_pair_feature_distance)",
    "test_pair_feature_distance": "mean classifier-feature distance between two different test pictures (a scale)",
    "refined_class_kept": "the same after refinement (on the refined subset)",
    "refined_pixel_mse": "pixel MSE after refinement (refined subset)",
    "refined_feature_distance": "feature distance after refinement (refined subset)",
    "refined_subset": "test pictures refined (a fixed random subset)",
    "encoder_latent_norm": "mean length |E(x)| (a typical N(0, I) latent: sqrt(latent size))",
    "refined_latent_norm": "mean length of the refined latents (refined subset)",
    "refine_steps": "Adam steps of refinement per picture",
    "gan_samples": "GAN samples G(z) inverted (a class-conditional GAN's in the class each was drawn in)",
    "gan_samples_encoder_mse": "pixel MSE of inverting G(z), encoder alone",
    "gan_samples_refined_mse": "pixel MSE of inverting G(z), encoder + refinement",
    "vae_class_kept": "the VAE's reconstruction, same label (all test pictures)",
    "vae_pixel_mse": "the VAE's reconstruction, pixel MSE",
    "vae_feature_distance": "the VAE's reconstruction, feature distance",
    "encoder_ms": "milliseconds per picture: encoder + decoding its guess (one picture at a time)",
    "refined_ms": "milliseconds per picture: encoder + refinement (one picture at a time)",
    "refined_steps_in_budget": "refinement steps one picture reaches within the time budget",
    "threads": "CPU threads PyTorch used for the timings",
}


def verdict(pixel_mse: float, same_label: bool) -> str:
    """Plain words for how close a reconstruction is."""
    if same_label and pixel_mse <= VERY_CLOSE_MSE:
        return "very close"
    if same_label and pixel_mse <= CLOSE_MSE:
        return "close"
    return "rough"


@torch.no_grad()
def compare(classifier, original: torch.Tensor, reconstruction: torch.Tensor,
            original_read: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Pictures (B, C, H, W) in [0, 1] -> per-picture pixel_mse, feature_distance (B,) float,
    label, label_reconstruction (B,) long and same_label (B,) bool. `original_read`: the originals'
    (features, labels) when the caller has classified them already."""
    f1, l1 = original_read if original_read is not None else classify(classifier, original)
    f2, l2 = classify(classifier, reconstruction)
    return {"pixel_mse": (original.cpu() - reconstruction.cpu()).pow(2).flatten(1).mean(1),
            "feature_distance": (f1 - f2).norm(dim=1).float(),
            "label": l1, "label_reconstruction": l2, "same_label": l1 == l2}


def scores(classifier, original: torch.Tensor, reconstruction: torch.Tensor, class_names=None) -> dict:
    """One picture (1, C, H, W) and its reconstruction -> plain-number scores and a verdict."""
    c = compare(classifier, original, reconstruction)
    name = (lambda i: class_names[i] if class_names and i < len(class_names) else str(i))
    out = {"pixel_mse": float(c["pixel_mse"][0]), "feature_distance": float(c["feature_distance"][0]),
           "label": name(int(c["label"][0])), "label_reconstruction": name(int(c["label_reconstruction"][0])),
           "same_label": bool(c["same_label"][0])}
    out["verdict"] = verdict(out["pixel_mse"], out["same_label"])
    return out


def _summary(prefix: str, c: dict[str, torch.Tensor]) -> dict[str, float]:
    return {f"{prefix}_class_kept": float(c["same_label"].double().mean()),
            f"{prefix}_pixel_mse": float(c["pixel_mse"].double().mean()),
            f"{prefix}_feature_distance": float(c["feature_distance"].double().mean())}


def _decoder(generator, y: torch.Tensor | None = None):
    """z -> G(z) in [0, 1] with gradients kept (a model family whose inversion is "refine"); a
    class-conditional G draws in the classes y (B,)."""
    return lambda z: generator.decode_with_grad(z, None if y is None else y.to(z.device))


def _part(y: torch.Tensor | None, i: int, j: int) -> torch.Tensor | None:
    return None if y is None else y[i:j]


@torch.no_grad()
def _encode_decode(generator, encoder, x: torch.Tensor, y: torch.Tensor | None = None,
                   batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    device = next(encoder.parameters()).device
    zs, outs = [], []
    for i in range(0, len(x), batch):
        z = encoder(x[i:i + batch].to(device))
        zs.append(z)
        outs.append(_decoder(generator, _part(y, i, i + batch))(z).cpu())
    return torch.cat(zs), torch.cat(outs)


def _refine_all(generator, classifier, x: torch.Tensor, z0: torch.Tensor, steps: int, y: torch.Tensor | None = None,
                batch: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """(refined latents, their pictures) for x (N, C, H, W): batches of independent pictures, no time limit."""
    device = z0.device
    zs, out = [], []
    for i in range(0, len(x), batch):
        decode = _decoder(generator, _part(y, i, i + batch))
        r = refine_latent(decode, classifier.features, x[i:i + batch].to(device), z0[i:i + batch],
                          steps=steps, seconds=None)
        zs.append(r.z)
        with torch.no_grad():
            out.append(decode(r.z).cpu())
    return torch.cat(zs), torch.cat(out)


def _timing(generator, encoder, classifier, x: torch.Tensor, y: torch.Tensor | None, repeats: int,
            refine_repeats: int) -> dict[str, float]:
    device = next(encoder.parameters()).device
    times = []
    with torch.no_grad():
        for i in range(repeats + 3):
            t = time.perf_counter()
            _decoder(generator, _part(y, i, i + 1))(encoder(x[i:i + 1].to(device)))
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - t)
    ref_times, ref_steps = [], []
    for i in range(refine_repeats + 1):
        t = time.perf_counter()
        with torch.no_grad():
            z0 = encoder(x[i:i + 1].to(device))
        r = refine_latent(_decoder(generator, _part(y, i, i + 1)), classifier.features, x[i:i + 1].to(device), z0,
                          steps=REFINE_STEPS, seconds=REFINE_SECONDS - (time.perf_counter() - t))
        ref_times.append(time.perf_counter() - t)
        ref_steps.append(r.steps)
    return {"encoder_ms": 1000 * float(np.median(times[3:])), "refined_ms": 1000 * float(np.median(ref_times[1:])),
            "refined_steps_in_budget": float(np.median(ref_steps[1:]))}


def evaluate_inversion(generator, encoder, classifier, *, dataset: str = "fashion-mnist", refine_subset: int = 500,
                       gan_samples: int = 500, refine_steps: int = REFINE_STEPS, seed: int = 0, data_dir=None,
                       vae=None, timing: bool = True, test_limit: int | None = None, log=None) -> dict[str, float]:
    """All inversion figures as a flat dict (see EXPLAIN), on the test pictures of `dataset` (the GAN's).
    `generator` and `vae` are model families (explorer/core/families), `encoder` and `classifier` modules, all
    in eval mode on one device. A class-conditional GAN draws each test picture in the class
    the classifier reads in it, as the app does; its own samples G(z, y) are inverted in their class y.
    `test_limit` uses only the first N test pictures (quick checks; the figures use all)."""
    log = log or (lambda text: None)
    encoder.eval(), classifier.eval()
    num_classes = generator.num_classes
    test = load_dataset(dataset, "test", data_dir)
    x = to_unit(test.images[:test_limit])                                  # (N, C, H, W)
    x_features, x_read = classify(classifier, x)                          # (N, F), (N,): what the classifier sees
    y = x_read if num_classes else None                                    # the classes the app would draw them in
    z_hat, rec = _encode_decode(generator, encoder, x, y)
    out = {"test_pictures": float(len(x)), **_summary("encoder", compare(classifier, x, rec, (x_features, x_read)))}
    if len(x) > 1:   # each picture's features against the next one's in a fixed shuffle: the scale of a distance
        f = x_features[torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))]
        out["test_pair_feature_distance"] = float((f - f.roll(1, 0)).norm(dim=1).mean())
    out["encoder_latent_norm"] = float(z_hat.norm(dim=1).mean())
    log(f"encoder alone on {len(x)} test pictures: class kept {out['encoder_class_kept']:.3f}")
    if refine_subset:
        idx = torch.from_numpy(np.random.default_rng(seed).choice(len(x), min(refine_subset, len(x)), replace=False))
        z_refined, refined = _refine_all(generator, classifier, x[idx], z_hat[idx], refine_steps,
                                         None if y is None else y[idx])
        out.update(_summary("refined", compare(classifier, x[idx], refined, (x_features[idx], x_read[idx]))))
        out["refined_latent_norm"] = float(z_refined.norm(dim=1).mean())
        out.update(refined_subset=float(len(idx)), refine_steps=float(refine_steps))
        log(f"refined {len(idx)} test pictures: class kept {out['refined_class_kept']:.3f}")
    if gan_samples:
        device = next(encoder.parameters()).device
        y_fake = (torch.randint(num_classes, (gan_samples,), generator=torch.Generator().manual_seed(seed + 2))
                  if num_classes else None)
        with torch.no_grad():
            z = generator.seed_latents(gan_samples, seed + 1).to(device)
            fake = _decoder(generator, y_fake)(z).cpu()
        z_fake, fake_rec = _encode_decode(generator, encoder, fake, y_fake)
        _, fake_refined = _refine_all(generator, classifier, fake, z_fake, refine_steps, y_fake)
        out["gan_samples"] = float(gan_samples)
        out["gan_samples_encoder_mse"] = float((fake_rec - fake).pow(2).mean())
        out["gan_samples_refined_mse"] = float((fake_refined - fake).pow(2).mean())
        log(f"inverted {gan_samples} GAN samples: pixel MSE {out['gan_samples_refined_mse']:.4f}")
    if vae is not None:
        y_vae = x_read.to(vae.device) if vae.num_classes else None            # a cVAE: the class read
        vae_rec = torch.cat([vae.decode(vae.encode(x[i:i + 1000].to(vae.device), _part(y_vae, i, i + 1000))[0],
                                        _part(y_vae, i, i + 1000)).cpu() for i in range(0, len(x), 1000)])
        out.update(_summary("vae", compare(classifier, x, vae_rec, (x_features, x_read))))
    if timing:
        out.update(_timing(generator, encoder, classifier, x, y, repeats=min(200, len(x) - 3),
                           refine_repeats=min(10, len(x) - 1)))
    return out
