"""FastGAN's building blocks (Liu et al., ICLR 2021, "Towards Faster and Stabilized GAN
Training for High-fidelity Few-shot Image Synthesis"), after the authors' reference code.

Every convolution is spectrally normalised; up-sampling blocks gate with a GLU;
"Comp" blocks add noise injection (generator) or a residual average-pool path
(discriminator); :class:`SkipLayerExcitation` is the paper's skip-layer
excitation (SLE): a low-resolution feature map gates the channels of a
high-resolution one.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

# Channels per resolution, as multiples of ngf / ndf (the reference code's tables).
G_CHANNELS = {4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 0.5, 512: 0.25, 1024: 0.125}
D_CHANNELS = {4: 16, 8: 16, 16: 8, 32: 4, 64: 2, 128: 1, 256: 0.5, 512: 0.25, 1024: 0.125, 2048: 0.0625}
RESOLUTIONS = (64, 128, 256, 512, 1024)


def channels(table: dict[int, float], width: int, resolution: int) -> int:
    return max(4, int(table[resolution] * width))


def conv2d(*args, **kwargs) -> nn.Module:
    return spectral_norm(nn.Conv2d(*args, **kwargs))


def conv_transpose2d(*args, **kwargs) -> nn.Module:
    return spectral_norm(nn.ConvTranspose2d(*args, **kwargs))


class GLU(nn.Module):
    """Gated linear unit over channels: the first half gated by the sigmoid of the second."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = x.size(1) // 2
        return x[:, :half] * torch.sigmoid(x[:, half:])


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class NoiseInjection(nn.Module):
    """Adds per-pixel noise scaled by a learnt weight (zero at start).

    ``self.noise`` may be set (to a (B, 1, H, W) tensor) before a forward pass,
    so that sampling is reproducible per image; otherwise noise is drawn.
    """

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.noise: torch.Tensor | None = None

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        noise = self.noise
        if noise is None:
            noise = torch.randn(feat.size(0), 1, feat.size(2), feat.size(3), device=feat.device, dtype=feat.dtype)
        return feat + self.weight * noise.to(device=feat.device, dtype=feat.dtype)


class SkipLayerExcitation(nn.Module):
    """SLE: ``big * sigmoid(conv(pool_4(small)))``, channel-wise."""

    def __init__(self, ch_small: int, ch_big: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            conv2d(ch_small, ch_big, 4, 1, 0, bias=False),
            Swish(),
            conv2d(ch_big, ch_big, 1, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, small: torch.Tensor, big: torch.Tensor) -> torch.Tensor:
        return big * self.main(small)


class InitLayer(nn.Module):
    """Latent vector -> 4x4 feature map."""

    def __init__(self, nz: int, ch: int) -> None:
        super().__init__()
        self.init = nn.Sequential(conv_transpose2d(nz, ch * 2, 4, 1, 0, bias=False), nn.BatchNorm2d(ch * 2), GLU())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.init(z.view(z.size(0), -1, 1, 1))


def up_block(ch_in: int, ch_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        conv2d(ch_in, ch_out * 2, 3, 1, 1, bias=False),
        nn.BatchNorm2d(ch_out * 2),
        GLU(),
    )


def up_block_comp(ch_in: int, ch_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        conv2d(ch_in, ch_out * 2, 3, 1, 1, bias=False),
        NoiseInjection(),
        nn.BatchNorm2d(ch_out * 2),
        GLU(),
        conv2d(ch_out, ch_out * 2, 3, 1, 1, bias=False),
        NoiseInjection(),
        nn.BatchNorm2d(ch_out * 2),
        GLU(),
    )


def down_block(ch_in: int, ch_out: int) -> nn.Sequential:
    return nn.Sequential(
        conv2d(ch_in, ch_out, 4, 2, 1, bias=False), nn.BatchNorm2d(ch_out), nn.LeakyReLU(0.2, inplace=True)
    )


class DownBlockComp(nn.Module):
    """Strided convolutions averaged with an average-pool shortcut."""

    def __init__(self, ch_in: int, ch_out: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            conv2d(ch_in, ch_out, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ch_out),
            nn.LeakyReLU(0.2, inplace=True),
            conv2d(ch_out, ch_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(ch_out),
            nn.LeakyReLU(0.2),
        )
        self.direct = nn.Sequential(
            nn.AvgPool2d(2, 2), conv2d(ch_in, ch_out, 1, 1, 0, bias=False), nn.BatchNorm2d(ch_out), nn.LeakyReLU(0.2)
        )

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return (self.main(feat) + self.direct(feat)) / 2


class SimpleDecoder(nn.Module):
    """The discriminator's reconstruction decoder: 8x8 features -> ``size`` px RGB in [-1, 1]."""

    def __init__(self, ch_in: int, size: int, nc: int = 3, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.AdaptiveAvgPool2d(8)]
        res, ch = 8, ch_in
        while res < size:
            res *= 2
            out = channels(G_CHANNELS, width, min(res, 1024))
            layers.append(up_block(ch, out))
            ch = out
        layers += [conv2d(ch, nc, 3, 1, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return self.main(feat)
