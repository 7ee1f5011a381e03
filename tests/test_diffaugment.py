"""DiffAugment (training/diffaugment.py): the reference implementation's transforms, exactly; random
numbers from the trainer's generator only; differentiable; wired into both GAN steps."""
import pytest
import torch
import torch.nn.functional as F

from explorer.core.validation import UserError
from explorer.training import GANTrainConfig, ImageSampler, make_trainer
from explorer.training.diffaugment import PAPER_POLICY, diff_augment, parse_policy, resolve_policy


def reference(x, policy, g):
    """DiffAugment_pytorch.py of Zhao et al. (2020), with its random draws taken from `g`."""
    def brightness(x):
        return x + (torch.rand(x.size(0), 1, 1, 1, generator=g) - 0.5)

    def saturation(x):
        m = x.mean(dim=1, keepdim=True)
        return (x - m) * (torch.rand(x.size(0), 1, 1, 1, generator=g) * 2) + m

    def contrast(x):
        m = x.mean(dim=[1, 2, 3], keepdim=True)
        return (x - m) * (torch.rand(x.size(0), 1, 1, 1, generator=g) + 0.5) + m

    def translation(x, ratio=0.125):
        sx, sy = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
        tx = torch.randint(-sx, sx + 1, size=[x.size(0), 1, 1], generator=g)
        ty = torch.randint(-sy, sy + 1, size=[x.size(0), 1, 1], generator=g)
        gb, gx, gy = torch.meshgrid(torch.arange(x.size(0)), torch.arange(x.size(2)), torch.arange(x.size(3)),
                                    indexing="ij")
        gx = torch.clamp(gx + tx + 1, 0, x.size(2) + 1)
        gy = torch.clamp(gy + ty + 1, 0, x.size(3) + 1)
        pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
        return pad.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)

    def cutout(x, ratio=0.5):
        size = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
        ox = torch.randint(0, x.size(2) + (1 - size[0] % 2), size=[x.size(0), 1, 1], generator=g)
        oy = torch.randint(0, x.size(3) + (1 - size[1] % 2), size=[x.size(0), 1, 1], generator=g)
        gb, gx, gy = torch.meshgrid(torch.arange(x.size(0)), torch.arange(size[0]), torch.arange(size[1]),
                                    indexing="ij")
        gx = torch.clamp(gx + ox - size[0] // 2, min=0, max=x.size(2) - 1)
        gy = torch.clamp(gy + oy - size[1] // 2, min=0, max=x.size(3) - 1)
        mask = torch.ones(x.size(0), x.size(2), x.size(3))
        mask[gb, gx, gy] = 0
        return x * mask.unsqueeze(1)

    fns = {"color": [brightness, saturation, contrast], "translation": [translation], "cutout": [cutout]}
    for p in policy.split(","):
        for f in fns[p]:
            x = f(x)
    return x


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", PAPER_POLICY])
@pytest.mark.parametrize("size", [16, 21])
def test_the_transforms_are_the_reference_implementations(policy, size):
    x = torch.rand(6, 3, size, size) * 2 - 1
    ours = diff_augment(x, parse_policy(policy), torch.Generator().manual_seed(7))
    ref = reference(x, policy, torch.Generator().manual_seed(7))
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6)
    assert not torch.equal(ours, x)


def test_randomness_comes_from_the_generator_and_the_gradient_flows():
    x = (torch.rand(4, 3, 16, 16) * 2 - 1).requires_grad_(True)
    policy = parse_policy(PAPER_POLICY)
    state = torch.get_rng_state()
    a = diff_augment(x, policy, torch.Generator().manual_seed(1))
    assert torch.equal(state, torch.get_rng_state())                       # the global RNG is untouched
    assert torch.equal(a, diff_augment(x, policy, torch.Generator().manual_seed(1)))
    assert not torch.equal(a, diff_augment(x, policy, torch.Generator().manual_seed(2)))
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_policies_and_the_auto_default():
    assert parse_policy(" color, cutout ") == ("color", "cutout") and parse_policy("off") == ()
    with pytest.raises(UserError, match="Unknown DiffAugment transform.*colour"):
        parse_policy("colour")
    assert resolve_policy("auto", 3_024) == PAPER_POLICY and resolve_policy("auto", 60_000) == ""
    assert resolve_policy("cutout", 60_000) == "cutout" and resolve_policy("off", 100) == ""


def test_the_gan_trainer_augments_what_d_sees_reproducibly(digits):
    def run(policy, seed=0):
        t = make_trainer("dcgan", {"width": 4, "d_width": 4, "latent_dim": 4, "num_classes": 10},
                         GANTrainConfig(batch_size=8, diffaugment=policy, seed=seed),
                         ImageSampler(digits.images[:64], "cpu", labels=digits.labels[:64]), "cpu")
        seen = []
        t.D.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))
        for _ in t.run(2):
            pass
        return t, seen

    a, seen_a = run(PAPER_POLICY)
    b, _ = run(PAPER_POLICY)
    plain, seen_plain = run("")
    params = [torch.cat([p.flatten() for p in t.G.parameters()]) for t in (a, b, plain)]
    assert torch.equal(params[0], params[1]) and not torch.equal(params[0], params[2])
    # D's inputs (real, fake in d_step, fake in g_step) are augmented: cut-out squares are exactly 0
    assert len(seen_a) == 6 and all((x == 0).any() for x in seen_a)
    assert not any((x == 0).flatten(1).all(1).any() for x in seen_plain)
    with pytest.raises(UserError, match="2-D toy GAN"):
        make_trainer("toy_gan", {"latent_dim": 2}, GANTrainConfig(diffaugment="color"), ImageSampler(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), "cpu"), "cpu")
