"""What only a style-based model shows: style mixing, and interpolation in Z beside W.

Style mixing (Karras et al. 2019, section 3.1 and figure 3): a picture's coarse layers (4-8 px: pose and
shape) with another picture's middle and fine layers (features, colour and texture), or the reverse. The row
keeps this picture's layers of one range and takes the rest from each of MIX_SEEDS.

Interpolation: W is what the layers read; the mapping network bends straight paths of Z, so along a path in
Z the picture changes little, then a lot, where along a path in W it changes evenly (the perceptual path
length of section 4.2 is much shorter in W). Both are drawn between two seeds, and the sentence says how
even each one's steps were: the largest change between neighbouring frames over the average one.
"""
from __future__ import annotations

import numpy as np
import torch

from explorer.core.latent import fractions, lerp, sample_z, slerp
from explorer.core.validation import UserError, check_choice

MIX_SEEDS = (11, 23, 37, 42, 58, 64, 77, 91)     # the row's other pictures, fixed so a room sees the same row
KEEP = ("coarse", "fine")                         # what the row keeps of this picture


def _layered(model):
    groups = model.family.layer_groups()
    if not groups:
        raise UserError(f"{model.name} is not a style-based model: it has no layers to mix.")
    return groups, max(g.stop for g in groups.values())


def mixed_latents(model, x: torch.Tensor, keep: str = "coarse") -> torch.Tensor:
    """Latents (len(MIX_SEEDS), D): this picture's `keep` layers ("coarse": shape; "fine": colours), the rest
    each seed's; with "coarse" this picture's coarse layers, with "fine" its middle and fine ones too."""
    check_choice("Keep", keep, KEEP)
    groups, layers = _layered(model)
    others = torch.cat([model.family.seed_latents(1, s) for s in MIX_SEEDS])       # (S, L * w_dim), as Explore's seeds
    mine = x.reshape(layers, -1)
    out = others.reshape(len(MIX_SEEDS), layers, -1).clone()                         # (S, L, w_dim)
    kept = groups["coarse"] if keep == "coarse" else range(groups["coarse"].stop, layers)
    out[:, kept.start:kept.stop] = mine[kept.start:kept.stop]
    return out.reshape(len(MIX_SEEDS), -1)


def mix_sentence(keep: str) -> str:
    if keep == "coarse":
        return ("Style mixing: each picture keeps this picture's shape and pose (its coarse layers) and takes its "
                "details and colours (the middle and fine layers) from the seed under it. Click one to continue from it.")
    return ("Style mixing: each picture keeps this picture's details and colours (its middle and fine layers) and "
            "takes its shape and pose (the coarse layers) from the seed under it. Click one to continue from it.")


def unevenness(frames: np.ndarray) -> float:
    """The largest change between neighbouring frames over the average change (1: perfectly even)."""
    steps = np.abs(np.diff(frames.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))     # (T - 1,)
    return float(steps.max() / max(steps.mean(), 1e-8))


@torch.no_grad()
def w_and_z_paths(model, seed_a: int, seed_b: int, frames: int, cls: int | None = None) -> dict:
    """Between two seeds: {"w": pictures along the straight line in W, "z": along the great circle in Z (each
    point through the mapping network), "w_path" and "z_path": their latents, "w_even" and "z_even": unevenness}."""
    _layered(model)
    f = model.family
    za, zb = sample_z(1, f.z_dim, seed_a)[0], sample_z(1, f.z_dim, seed_b)[0]
    t = fractions(frames)
    with model.lock:
        w_path = lerp(f.latents_from_z(za[None].to(f.device))[0].cpu(), f.latents_from_z(zb[None].to(f.device))[0].cpu(), t)
        z_path = f.latents_from_z(slerp(za, zb, t).to(f.device)).cpu()                 # (T, D)
    both = model.decode(torch.cat([w_path, z_path]), cls)
    w, z = both[:frames], both[frames:]
    return {"w": w, "z": z, "w_path": w_path, "z_path": z_path, "w_even": unevenness(w), "z_even": unevenness(z), "t": t}


def w_z_sentence(res: dict) -> str:
    why = ("The mapping network bends paths of Z on their way to W, so along them the picture changes little, then a "
           "lot; W is what the layers read, where StyleGAN's authors measured the shortest perceptual paths.")
    if res["w_even"] <= res["z_even"]:
        return (f"Step by step, the straight path in **W** changes the picture more evenly (its biggest step is "
                f"{res['w_even']:.1f}× its average step) than the great circle in **Z** ({res['z_even']:.1f}×). " + why)
    return (f"Between these two seeds the path in **Z** happened to be the more even one ({res['z_even']:.1f}× against "
            f"{res['w_even']:.1f}× in **W**, biggest step over average step). Usually it is the other way: " + why)
