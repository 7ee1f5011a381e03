import math

import pytest
import torch

from explorer.core.models import build, decoder_of, make_config
from explorer.core.validation import UserError


@pytest.mark.parametrize("upsample", ["nearest", "transposed"])
def test_dcgan_shapes_and_range(upsample):
    m = build("dcgan", {"width": 8, "d_width": 8, "latent_dim": 10, "upsample": upsample})
    x = m["generator"](torch.randn(3, 10))
    assert x.shape == (3, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert m["discriminator"](x).shape == (3,)
    img = m["generator"].eval().generate(torch.randn(2, 10))
    assert img.min() >= 0 and img.max() <= 1


def test_dcgan_init_is_n002():
    g = build("dcgan", {"width": 16})["generator"]
    w = g.project.weight
    assert abs(float(w.std()) - 0.02) < 0.003 and abs(float(w.mean())) < 0.002


def test_dcgan_other_sizes_and_rgb():
    m = build("dcgan", {"width": 8, "d_width": 8, "image_size": 32, "channels": 3, "d_norm": "layer"})
    x = m["generator"](torch.randn(2, 64))
    assert x.shape == (2, 3, 32, 32) and m["discriminator"](x).shape == (2,)


@pytest.mark.parametrize("recon", ["bernoulli", "gaussian"])
def test_vae_shapes_and_loss(recon):
    vae = build("vae", {"width": 8, "hidden": 32, "latent_dim": 2, "recon": recon})["vae"]
    x = torch.rand(4, 1, 28, 28)
    out, mean, logvar = vae(x)
    assert out.shape == x.shape and mean.shape == logvar.shape == (4, 2)
    nll, kl = vae.loss_terms(x, out, mean, logvar)
    assert nll.ndim == 0 and kl.ndim == 0
    # KL(N(1, 1) || N(0, 1)) = 1/2 per dimension; zero where q is the prior
    ones, zeros = torch.ones(4, 2), torch.zeros(4, 2)
    assert float(vae.loss_terms(x, out, ones, zeros)[1]) == pytest.approx(1.0)
    assert float(vae.loss_terms(x, out, zeros, zeros)[1]) == pytest.approx(0.0, abs=1e-7)
    if recon == "bernoulli":      # logits of 0 say 1/2 for every pixel: log 2 nats each
        half = vae.loss_terms(x, torch.zeros_like(x), mean, logvar)[0]
        assert float(half) == pytest.approx(784 * math.log(2), rel=1e-5)
    z = torch.randn(5, 2)
    img = vae.eval().generate(z)
    raw = vae.decode(z)
    expected = torch.sigmoid(raw) if recon == "bernoulli" else raw.clamp(0, 1)
    assert img.shape == (5, 1, 28, 28) and torch.allclose(img, expected)


def test_toy_and_classifier():
    m = build("toy_gan", {"latent_dim": 3})
    assert m["generator"](torch.randn(7, 3)).shape == (7, 2)
    assert m["discriminator"](torch.randn(7, 2)).shape == (7,)
    c = build("classifier", {"width": 8})["classifier"].eval()
    x = torch.rand(5, 1, 28, 28)
    assert c(x).shape == (5, 10) and c.features(x).shape == (5, 128)


def test_decoder_of():
    assert decoder_of(build("vae", {"width": 8})) is not None
    with pytest.raises(UserError, match="no image decoder"):
        decoder_of(build("classifier", {"width": 8}))


def test_bad_config_is_refused():
    with pytest.raises(UserError, match="Unknown dcgan setting"):
        make_config("dcgan", {"latnet_dim": 3})
    with pytest.raises(UserError, match="multiple of 4"):
        make_config("dcgan", {"image_size": 30})
    with pytest.raises(UserError, match="Unknown model kind"):
        build("stylegan9")
