"""What a map lays out: the items of a model's map and the key space they are compared in.

  VAE: posterior means of up to 10 000 test images, labelled with their true classes.
  GAN: generated samples (latents regenerated from a stored seed), labelled by the shipped
       classifier, until GAN inversion exists. Their latents are i.i.d. Gaussian noise, so a UMAP of
       the latents themselves is a structureless disc; the layout instead uses what each sample
       *looks like*: the classifier's features of the picture (or, for datasets the classifier does
       not know, the generator's first-layer activations). Each dot still carries its latent.
  2-d VAE: the latent plane *is* the map: no UMAP, the means are drawn as they are.
  Class-conditional models: every dot also records the class its picture is drawn with. A cVAE's
       dots are test images encoded *with* their true class, so the map shows z without the class
       (the style space): coloured by class, the classes mix. A conditional GAN's samples are drawn
       in every class in turn and coloured by the class asked for.
"""
from __future__ import annotations

import numpy as np
import torch

from explorer.core.data import load_dataset, to_unit
from explorer.maps.layout import MapParams


@torch.no_grad()
def map_keys(model, z: np.ndarray | torch.Tensor, classifier=None, key_space: str = "latent",
             classes=None) -> np.ndarray:
    """Latents (M, D) -> the map's key space (M, F): see LatentMap.key_space. A conditional GAN
    also needs the class of each latent (M,) (or one for all)."""
    z = torch.as_tensor(np.asarray(z, np.float32))
    if key_space == "latent":
        return z.numpy()
    family = model.family
    y = None
    if family.num_classes:
        y = torch.as_tensor(np.broadcast_to(np.asarray(0 if classes is None else classes, np.int64), (len(z),)).copy())
    out = []
    for i in range(0, len(z), 500):
        zb = z[i:i + 500].to(model.device)
        yb = None if y is None else y[i:i + 500].to(model.device)
        with family.lock:
            if key_space == "classifier-features":
                out.append(classifier.features(family.decode(zb, yb)).cpu())
            else:   # generator-features: what GANSpace's directions read (a DCGAN's first BatchNorm+ReLU)
                out.append(family.direction_features(zb, yb).cpu())
    return torch.cat(out).numpy()


def drawn_classes(model, n: int) -> np.ndarray | None:
    """The class each of a conditional GAN's n map samples is drawn with (every class in turn), or None."""
    k = model.num_classes
    return np.arange(n, dtype=np.int64) % k if k else None


def encode_items(model, params: MapParams, classifier=None, data_dir=None):
    """(latents (N, D), labels (N,), source, keys (N, F), key_space, classes (N,) or None) for a
    LoadedModel; `classes`: what a conditional model draws each dot with."""
    family = model.family
    if family.map_items == "test-images":
        test = load_dataset(family.dataset, "test", data_dir)
        x, y = to_unit(test.images[:params.points]), test.labels[:params.points]
        cond = family.num_classes > 0             # a cVAE encodes each image with its true class
        means = torch.cat([family.encode(x[i:i + 1000].to(model.device), y[i:i + 1000].to(model.device) if cond else None)[0].cpu()
                           for i in range(0, len(x), 1000)])
        labels = y.numpy()
        return means.numpy(), labels, "test-images", means.numpy(), "latent", labels.copy() if cond else None
    z = family.seed_latents(params.points, params.seed)
    classes = drawn_classes(model, params.points)
    labels = np.full(params.points, -1, np.int64) if classes is None else classes.copy()
    if classifier is not None:
        from explorer.eval.features import classify
        y = None if classes is None else torch.from_numpy(classes)
        imgs = []
        for i in range(0, len(z), 500):
            with family.lock:
                imgs.append(family.decode(z[i:i + 500].to(model.device), None if y is None else y[i:i + 500].to(model.device)).cpu())
        feats, pred = classify(classifier, torch.cat(imgs))
        # an unconditional GAN's dots are labelled by what the classifier sees; a conditional one's by the class asked for
        return (z.numpy(), pred.numpy() if classes is None else labels, "samples", feats.float().numpy(),
                "classifier-features", classes)
    return (z.numpy(), labels, "samples", map_keys(model, z, None, "generator-features", classes), "generator-features",
            classes)
