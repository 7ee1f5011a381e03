"""Training the evaluation classifier: cross-entropy with light augmentation (flip, shift)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from explorer.core.validation import UserError
from explorer.training.base import Trainer, make_adam


@dataclass
class ClassifierTrainConfig:
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 5e-4
    max_shift: float = 2.0     # random translation, in pixels
    flip: bool = True          # random horizontal flips (clothes are left/right symmetric)
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class ClassifierTrainer(Trainer):
    kind = "classifier"

    def __init__(self, modules: dict, sampler, cfg: ClassifierTrainConfig, device="cpu", check_every: int = 50):
        super().__init__(device, cfg.seed, check_every)
        if sampler.labels is None:
            raise UserError("The classifier needs labelled data.")
        self.cfg, self.sampler = cfg, sampler
        self.net = modules["classifier"].to(self.device)
        self.modules = {"classifier": self.net}
        self.optimizers = {"classifier": make_adam(list(self.net.parameters()), self.device, decoupled_weight_decay=True,
                                                   lr=cfg.lr, weight_decay=cfg.weight_decay)}
        self.dataset_size = sampler.size


    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        B, _, H, _ = x.shape
        shift = (torch.rand(B, 2, device=self.device, generator=self.gen) * 2 - 1) * (2 * self.cfg.max_shift / H)
        sx = torch.ones(B, device=self.device)
        if self.cfg.flip:
            sx = torch.where(torch.rand(B, device=self.device, generator=self.gen) < 0.5, -sx, sx)
        theta = torch.zeros(B, 2, 3, device=self.device)
        theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = sx, 1.0, shift
        grid = F.affine_grid(theta, x.shape, align_corners=False)
        return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")

    def _step(self) -> dict[str, torch.Tensor]:
        idx = self.sampler.indices(self.cfg.batch_size, self.gen)
        x, y = self._augment(self.sampler.take(idx)), self.sampler.labels[idx]
        logits = self.net(x)
        loss = F.cross_entropy(logits, y)
        self.optimizers["classifier"].zero_grad(set_to_none=self.zero_grad_to_none)
        loss.backward()
        self.optimizers["classifier"].step()
        self._watch(loss)
        self.images_seen += x.shape[0]
        return {"loss": loss.detach(), "accuracy": (logits.argmax(1) == y).float().mean()}
