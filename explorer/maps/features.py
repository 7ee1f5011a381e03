"""What a map lays out: the items of a model's map and the key space they are compared in.

  VAE: posterior means of up to 10 000 test images, labelled with their true classes.
  GAN: generated samples (latents regenerated from a stored seed), labelled by the shipped
       classifier, until GAN inversion exists. Their latents are i.i.d. Gaussian noise, so a UMAP of
       the latents themselves is a structureless disc; the layout instead uses what each sample
       *looks like*: the classifier's features of the picture (or, for datasets the classifier does
       not know, the generator's first-layer activations). Each dot still carries its latent.
  2-d VAE: the latent plane *is* the map: no UMAP, the means are drawn as they are.
"""
from __future__ import annotations

import numpy as np
import torch

from explorer.core.data import load_dataset, to_unit
from explorer.core.latent import sample_z
from explorer.core.metadata import DatasetInfo
from explorer.core.models import decoder_of
from explorer.maps.layout import MapParams


@torch.no_grad()
def map_keys(model, z: np.ndarray | torch.Tensor, classifier=None, key_space: str = "latent") -> np.ndarray:
    """Latents (M, D) -> the map's key space (M, F): see LatentMap.key_space."""
    z = torch.as_tensor(np.asarray(z, np.float32))
    if key_space == "latent":
        return z.numpy()
    G = decoder_of(model.checkpoint.modules)
    out = []
    for i in range(0, len(z), 500):
        zb = z[i:i + 500].to(model.device)
        if key_space == "classifier-features":
            out.append(classifier.features(G.generate(zb)).cpu())
        else:   # generator-features: the first BatchNorm+ReLU activations, as GANSpace's directions use
            out.append(G.early_features(zb).cpu())
    return torch.cat(out).numpy()


def encode_items(model, params: MapParams, classifier=None, data_dir=None):
    """(latents (N, D), labels (N,), source, keys (N, F), key_space) for a LoadedModel."""
    ck = model.checkpoint
    if model.kind == "vae":
        vae = ck.modules["vae"]
        test = load_dataset(DatasetInfo.from_meta(ck.meta).name, "test", data_dir)
        x = to_unit(test.images[:params.points])
        with torch.inference_mode():
            means = torch.cat([vae.encode(x[i:i + 1000].to(model.device))[0].cpu() for i in range(0, len(x), 1000)])
        return means.numpy(), test.labels[:params.points].numpy(), "test-images", means.numpy(), "latent"
    z = sample_z(params.points, model.latent_dim, params.seed)
    labels = np.full(params.points, -1, np.int64)
    if classifier is not None:
        from explorer.eval.features import classify
        G = decoder_of(ck.modules)
        with torch.inference_mode():
            imgs = torch.cat([G.generate(z[i:i + 500].to(model.device)).cpu() for i in range(0, len(z), 500)])
        feats, pred = classify(classifier, imgs)
        return z.numpy(), pred.numpy(), "samples", feats.float().numpy(), "classifier-features"
    return z.numpy(), labels, "samples", map_keys(model, z, None, "generator-features"), "generator-features"
