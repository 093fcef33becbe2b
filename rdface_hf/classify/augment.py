"""Training-time augmentation on the device, a whole batch at once (``--augment``; off in
the paper's preset): random resized crop (70-100 % of the area, aspect 3/4 to 4/3),
horizontal flip and colour jitter (brightness, contrast, saturation ± 20 %).

One affine ``grid_sample`` per batch does crop, resize and flip; the draws come from
torch's global generator, which the training loop seeds per epoch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SCALE = (0.7, 1.0)
RATIO = (3 / 4, 4 / 3)
JITTER = 0.2
GREY = (0.299, 0.587, 0.114)


def _uniform(n: int, low: float, high: float, device) -> torch.Tensor:
    return torch.rand(n, device=device) * (high - low) + low


def augment_batch(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, 3, H, W)`` -> augmented float in [0, 1], same shape."""
    x = pixels.float() / 255.0
    n, device = x.shape[0], x.device
    area = _uniform(n, *SCALE, device)
    ratio = torch.exp(_uniform(n, math.log(RATIO[0]), math.log(RATIO[1]), device))
    width = torch.sqrt(area * ratio).clamp(max=1.0)
    height = torch.sqrt(area / ratio).clamp(max=1.0)
    cx = _uniform(n, -1.0, 1.0, device) * (1.0 - width)
    cy = _uniform(n, -1.0, 1.0, device) * (1.0 - height)
    flip = torch.where(torch.rand(n, device=device) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0], theta[:, 0, 2] = width * flip, cx
    theta[:, 1, 1], theta[:, 1, 2] = height, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    brightness = _uniform(n, 1 - JITTER, 1 + JITTER, device).view(n, 1, 1, 1)
    contrast = _uniform(n, 1 - JITTER, 1 + JITTER, device).view(n, 1, 1, 1)
    saturation = _uniform(n, 1 - JITTER, 1 + JITTER, device).view(n, 1, 1, 1)
    weights = torch.tensor(GREY, device=device).view(1, 3, 1, 1)
    x = (x * brightness).clamp(0, 1)
    mean = (x * weights).sum(1, keepdim=True).mean((2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean).clamp(0, 1)
    grey = (x * weights).sum(1, keepdim=True)
    return ((x - grey) * saturation + grey).clamp(0, 1)
