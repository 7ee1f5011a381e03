"""Epoch-ordered minibatches, each process of a data-parallel run taking its own share.

What `torch.utils.data.DistributedSampler` does (a seeded permutation per epoch, split across the
processes, no picture seen twice in an epoch), for the project's image tensors that live whole on
the training device, and in a form a CUDA graph can replay:

- epoch e is a permutation of the N pictures drawn from (seed, e) alone; its first n * G pictures
  make n = N // G global batches of G = B * world_size (the N mod G left over are skipped in that
  epoch, a different few each epoch: every batch is full, so shapes never change);
- global batch i hands process r its rows r*B ... (r+1)*B.

So within an epoch no two processes see the same picture, and the global batches, in order,
depend on the seed and G alone: a one-process run with batch G sees exactly what W processes
with batch G / W see together. Where a run stands is `images_seen // G` global batches, so a
rollback, a resume or a resume at another world size continues from the right place.

Two epochs' orders sit on the device, (2n, G): global batch j is row j mod 2n. A device counter
picks the row and steps on, so a captured step draws fresh batches on every replay; the host
(`prepare`, called by `Trainer.train_step` before each step) sets the counter from
`images_seen` and loads the next epoch's order before any step can reach it.
"""
from __future__ import annotations

import numpy as np
import torch

from explorer.core.validation import UserError
from explorer.training.samplers import ImageSampler


def epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit seed for epoch `epoch` of a run seeded `seed` (NumPy's SeedSequence: distinct
    (seed, epoch) pairs give independent streams)."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0] >> np.uint64(1))


class EpochShards(ImageSampler):
    """Minibatches of `batch` pictures in epoch order; this process's share (`rank` of `world_size`)."""

    def __init__(self, images: torch.Tensor, device, value_range=(-1.0, 1.0), labels: torch.Tensor | None = None,
                 *, batch: int, rank: int = 0, world_size: int = 1, seed: int = 0):
        super().__init__(images, device, value_range, labels)
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside a world of {world_size} processes")
        self.batch, self.rank, self.world_size, self.seed = batch, rank, world_size, seed
        self.global_batch = batch * world_size
        self.batches_per_epoch = self.size // self.global_batch
        if self.batches_per_epoch < 1:
            raise UserError(
                f"The data has {self.size} pictures, fewer than one global batch ({batch} per process x "
                f"{world_size} processes = {self.global_batch}): some processes would get no pictures. "
                f"Use a smaller --batch-size or fewer processes.")
        n = self.batches_per_epoch
        self.orders = torch.empty(2 * n, self.global_batch, dtype=torch.long, device=self.images.device)  # (2n, G)
        self._loaded = [-1, -1]                     # the epoch each half of `orders` holds
        self.cursor = torch.zeros((), dtype=torch.long, device=self.images.device)   # global batches drawn
        self.prepare(0)

    def epoch_order(self, epoch: int) -> torch.Tensor:
        """The pictures epoch `epoch` uses, in order: (n*G,) indices on the CPU."""
        g = torch.Generator().manual_seed(epoch_seed(self.seed, epoch))
        return torch.randperm(self.size, generator=g)[:self.batches_per_epoch * self.global_batch]

    def check_step(self, batches_per_step: int) -> None:
        """UserError unless one epoch holds a whole step's batches (a GAN draws k per step): the
        device keeps two epochs' orders, so a step may span two epochs but not three."""
        if batches_per_step > self.batches_per_epoch:
            raise UserError(
                f"One training step draws {batches_per_step} global batches of {self.global_batch} pictures, "
                f"but the data ({self.size} pictures) holds only {self.batches_per_epoch}: use a smaller "
                f"--batch-size, a smaller --k or fewer processes.")

    def prepare(self, images_seen: int) -> None:
        """Position the sampler at global batch `images_seen // G` (host side, no sync): load that
        epoch's order and the next one's where missing, and set the device counter."""
        j = images_seen // self.global_batch
        n = self.batches_per_epoch
        for epoch in (j // n, j // n + 1):
            half = epoch % 2
            if self._loaded[half] != epoch:
                order = self.epoch_order(epoch).view(n, self.global_batch)   # (n*G,) -> (n, G)
                self.orders[half * n:(half + 1) * n].copy_(order)
                self._loaded[half] = epoch
        self.cursor.fill_(j)

    def indices(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """This process's `batch` indices of the next global batch, (B,); `generator` is unused
        (the order comes from the seed and the epoch). Device ops only: capturable."""
        if batch != self.batch:
            raise ValueError(f"EpochShards serves batches of {self.batch}, not {batch}")
        row = self.orders.index_select(0, (self.cursor % self.orders.shape[0]).view(1))   # (1, G)
        self.cursor.add_(1)
        return row[0, self.rank * batch:(self.rank + 1) * batch]                          # (B,)
