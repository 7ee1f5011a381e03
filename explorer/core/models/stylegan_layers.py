"""The layers of the style-based generator and its residual discriminator (models/stylegan.py).

After NVlabs' stylegan2-ada-pytorch `training/networks.py` (Karras et al. 2020, "Analyzing and
Improving the Image Quality of StyleGAN", and "Training Generative Adversarial Networks with Limited
Data"), in plain PyTorch operators only, so that CPUs, MPS and ONNX Runtime run it as it is:

- equalised learning rate (Karras et al. 2018, sec. 4.1): weights start as N(0, 1) and are scaled by
  1/sqrt(fan_in) at every use, so Adam's step is the same size for every layer; the mapping network's
  layers also scale their weights and biases by a learning-rate multiplier (0.01);
- modulated convolution (StyleGAN2 sec. 2.2, eq. 1-3): the style s scales the input channels of the
  weight, and demodulation divides each output channel by the norm of its modulated weight, so a
  unit-variance input gives a unit-variance output whatever the style;
- resampling: StyleGAN2 blurs with the [1, 3, 3, 1] filter around its strided convolutions (custom
  CUDA ops there); here x2 upsampling is bilinear (half-pixel centres, which is that same filter
  inside the picture) and x2 downsampling a 2x2 average, both standard operators (ONNX Resize and
  AveragePool).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_GAIN = math.sqrt(2.0)      # keeps the signal's variance through leaky ReLU(0.2) (bias_act's def_gain)


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each row scaled to unit root-mean-square (StyleGAN's pixel norm of z): (B, D) -> (B, D)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, 2H, 2W), bilinear: the [1, 3, 3, 1] low-pass of StyleGAN2's upsampling."""
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H/2, W/2): the mean of each 2x2 square."""
    return F.avg_pool2d(x, 2)


def _standard_normal(*shape: int) -> torch.Tensor:
    # nn.init.normal_ rather than torch.randn: counting parameters on the meta device skips it (models/__init__.py)
    return nn.init.normal_(torch.empty(*shape))


class EqualLinear(nn.Module):
    """A fully connected layer with equalised learning rate: (B, in) -> (B, out)."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0, lr_multiplier: float = 1.0,
                 activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(_standard_normal(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)   # (B, in) -> (B, out)
        return lrelu(x) if self.activation else x


class EqualConv2d(nn.Module):
    """A convolution with equalised learning rate, same padding, optionally halving the picture first
    (the discriminator's layers): (B, in, H, W) -> (B, out, H, W) or (B, out, H/2, W/2)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, bias: bool = True,
                 activation: bool = True, down: bool = False):
        super().__init__()
        self.weight = nn.Parameter(_standard_normal(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel * kernel)
        self.activation, self.down = activation, down

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        if self.down:
            x = downsample2x(x)                                                        # -> (B, in, H/2, W/2)
        x = F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.weight.shape[-1] // 2)
        return (lrelu(x) if self.activation else x) * gain


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True,
                     grouped: bool = False) -> torch.Tensor:
    """StyleGAN2's modulated convolution: x (B, I, H, W), weight (O, I, k, k), styles (B, I) -> (B, O, H, W).

    Two equal ways to compute it (StyleGAN2-ADA's fused_modconv True / False):
      grouped  one convolution with a weight of its own per picture, (B*O, I, k, k), as B groups;
      scaled   the input scaled by the style, the shared weight, the output scaled by the
               demodulation factor. The default: one ordinary convolution over the whole batch is
               faster on a CPU, and in ONNX a grouped convolution's group count is a fixed
               attribute, which would fix the batch size of an exported model.
    """
    B, I = styles.shape
    O, _, k, _ = weight.shape
    pad = k // 2
    if demodulate:   # 1 / ||w'_o||, w'_oik = s_i w_oik: (B, I) @ (I, O) -> (B, O)
        dcoefs = (styles.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()
    if not grouped:
        x = x * styles.reshape(B, I, 1, 1)                                             # modulate the input
        x = F.conv2d(x, weight, padding=pad)                                           # -> (B, O, H, W)
        return x * dcoefs.reshape(B, O, 1, 1) if demodulate else x
    w = weight.unsqueeze(0) * styles.reshape(B, 1, I, 1, 1)                            # (B, O, I, k, k)
    if demodulate:
        w = w * dcoefs.reshape(B, O, 1, 1, 1)
    x = F.conv2d(x.reshape(1, B * I, *x.shape[2:]), w.reshape(B * O, I, k, k), padding=pad, groups=B)  # (1, B*O, H, W)
    return x.reshape(B, O, *x.shape[2:])                                               # -> (B, O, H, W)


class SynthesisLayer(nn.Module):
    """A modulated 3x3 convolution (after x2 upsampling when `up`), per-pixel noise with a learned
    strength, bias and leaky ReLU: (B, in, r/2 or r, .) + w (B, w_dim) -> (B, out, r, r)."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool = False):
        super().__init__()
        self.resolution, self.up = resolution, up
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)      # styles start at 1: the plain conv
        self.weight = nn.Parameter(_standard_normal(out_channels, in_channels, 3, 3))
        self.register_buffer("noise_const", _standard_normal(resolution, resolution))   # the fixed noise ("const")
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None, grouped: bool = False) -> torch.Tensor:
        """`noise`: (B, 1, r, r) or (r, r) unit noise (scaled here by the learned strength), or None."""
        if self.up:
            x = upsample2x(x)                                                          # (B, in, r/2, .) -> (B, in, r, .)
        x = modulated_conv2d(x, self.weight, self.affine(w), grouped=grouped)          # -> (B, out, r, r)
        if noise is not None:
            x = x + noise * self.noise_strength
        return lrelu(x + self.bias.reshape(1, -1, 1, 1))


class ToRGB(nn.Module):
    """A modulated 1x1 convolution without demodulation: features (B, in, r, r) -> picture (B, C, r, r)."""

    def __init__(self, in_channels: int, img_channels: int, w_dim: int):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(_standard_normal(img_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(img_channels))
        self.weight_gain = 1.0 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor, grouped: bool = False) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, grouped=grouped)
        return x + self.bias.reshape(1, -1, 1, 1)


class SynthesisBlock(nn.Module):
    """One resolution r of the synthesis network, skip architecture (StyleGAN2 fig. 7b).

    The first block starts from a learned constant (StyleGAN sec. 2) and has one convolution; the
    others upsample and have two. Each adds its toRGB output to the picture so far, upsampled.
    Styles it reads, `ws` (B, n, w_dim): one per convolution, then one for toRGB, which is the next
    block's first (StyleGAN2-ADA's layout of the ws)."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int):
        super().__init__()
        self.first = in_channels == 0
        if self.first:
            self.const = nn.Parameter(_standard_normal(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=True)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution)
        self.torgb = ToRGB(out_channels, img_channels, w_dim)
        self.num_conv = 1 if self.first else 2

    def layers(self) -> list[SynthesisLayer]:
        return [self.conv1] if self.first else [self.conv0, self.conv1]

    def forward(self, x, img, ws: torch.Tensor, noise: list, grouped: bool = False):
        """x (B, in, r/2, r/2) or None, img (B, C, r/2, r/2) or None, ws (B, num_conv + 1, w_dim),
        noise: one per convolution -> (x (B, out, r, r), img (B, C, r, r))."""
        if self.first:
            x = self.const.unsqueeze(0) + torch.zeros_like(ws[:, :1, :1, None])    # (out, r, r) -> (B, out, r, r)
        for i, layer in enumerate(self.layers()):
            x = layer(x, ws[:, i], noise[i], grouped)
        y = self.torgb(x, ws[:, self.num_conv], grouped)                           # (B, C, r, r)
        img = y if img is None else upsample2x(img) + y
        return x, img


def minibatch_stddev(x: torch.Tensor, group_size: int) -> torch.Tensor:
    """Minibatch standard deviation (Karras et al. 2018, sec. 3; one feature as StyleGAN2):
    (B, C, H, W) -> (B, C+1, H, W). The batch is cut into consecutive groups of G pictures (G the
    largest divisor of B up to `group_size`); each picture gets, as an extra channel, the std over
    its group averaged over channels and pixels, so the discriminator can see a lack of variety.
    Consecutive groups keep a data-parallel process's share of the batch whole groups."""
    B, C, H, W = x.shape
    G = max(g for g in range(1, min(group_size, B) + 1) if B % g == 0)
    y = x.reshape(B // G, G, C, H, W)                                                 # (n, G, C, H, W)
    y = (y - y.mean(dim=1, keepdim=True)).square().mean(dim=1)                        # variance over the group: (n, C, H, W)
    y = (y + 1e-8).sqrt().mean(dim=(1, 2, 3))                                         # -> (n,)
    y = y.repeat_interleave(G).reshape(B, 1, 1, 1).expand(B, 1, H, W)                 # -> (B, 1, H, W)
    return torch.cat([x, y], dim=1)                                                   # -> (B, C+1, H, W)


class DiscriminatorBlock(nn.Module):
    """Residual block (StyleGAN2 fig. 7c): (B, c, r, r) -> (B, c_out, r/2, r/2), the two paths each
    scaled by sqrt(1/2) so their sum keeps the variance."""

    def __init__(self, channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualConv2d(channels, channels, 3)
        self.conv1 = EqualConv2d(channels, out_channels, 3, down=True)
        self.skip = EqualConv2d(channels, out_channels, 1, bias=False, activation=False, down=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = math.sqrt(0.5)
        return self.skip(x, gain=g) + self.conv1(self.conv0(x), gain=g)
