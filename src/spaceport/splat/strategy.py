"""Densification: where Gaussians are added and removed during training.

Both strategies change the parameter tensors and their Adam state together
(`replace_parameters`). `MCMCStrategy` (after Kheradmand et al. 2024) keeps a hard cap:
it moves low-opacity Gaussians onto busy ones and grows each round (by at least 5 %, more
when the schedule is short, so that the cap `max_gaussians` is reached by the last round),
and adds position noise so Gaussians explore. `DefaultStrategy` is the
classic adaptive density control of Kerbl et al. 2023: clone small and split large
Gaussians whose screen-space position gradient is high, prune transparent or huge ones,
reset opacities periodically; the cap is respected by cloning/splitting only the
highest-gradient candidates.
"""

from __future__ import annotations

import math

import torch

from spaceport.splat.model import PARAMETERS

MIN_OPACITY = 0.005
GROWTH = 0.05
NOISE_SCALE = 5e5
GRAD_THRESHOLD = 0.0002
SPLIT_SIZE = 0.01  # fraction of the scene extent above which a Gaussian is split, not cloned
OPACITY_RESET_EVERY = 3000


def replace_parameters(params: dict, optimizer: torch.optim.Optimizer, change) -> None:
    """Apply `change(name, tensor) -> tensor` to every parameter and its Adam moments
    (new rows of the moments start at zero when `change` adds rows)."""
    for group in optimizer.param_groups:
        old = group["params"][0]
        name = group["name"]
        new = torch.nn.Parameter(change(name, old.detach()))
        state = optimizer.state.pop(old, None)
        if state:
            for key in ("exp_avg", "exp_avg_sq"):
                state[key] = change(name, state[key], zeros=True)
            optimizer.state[new] = state
        group["params"][0] = new
        params[name] = new


def select(keep: torch.Tensor):
    return lambda name, tensor, zeros=False: tensor[keep]


def append(extra: dict[str, torch.Tensor]):
    def change(name, tensor, zeros=False):
        rows = torch.zeros_like(extra[name]) if zeros else extra[name]
        return torch.cat([tensor, rows])

    return change


class MCMCStrategy:
    """Capped densification by relocation and growth (see module docstring)."""

    def __init__(self, max_gaussians: int, refine_every: int, refine_start: int, refine_stop: int) -> None:
        self.cap, self.every, self.start, self.stop = max_gaussians, refine_every, refine_start, refine_stop
        self.growth: float | None = None

    def growth_rate(self, count: int) -> float:
        """Per-round growth that takes `count` Gaussians to the cap by the last round (>= 5 %)."""
        rounds = max(1, (self.stop - self.start) // self.every + 1)
        return max(GROWTH, (self.cap / max(count, 1)) ** (1 / rounds) - 1)

    def after_backward(self, step: int, params: dict, info: dict) -> None:
        pass

    def after_step(self, step: int, params: dict, optimizer, lr_means: float, generator: torch.Generator) -> None:
        if self.start <= step <= self.stop and step % self.every == 0:
            with torch.no_grad():
                self.relocate(params, optimizer, generator)
                self.grow(params, optimizer, generator)
        self.add_noise(params, lr_means, generator)

    def relocate(self, params, optimizer, generator) -> None:
        """Move dead Gaussians onto live ones chosen by opacity, sharing their opacity."""
        opacity = params["opacity_logits"].sigmoid()
        dead = (opacity <= MIN_OPACITY).nonzero().squeeze(1)
        alive = (opacity > MIN_OPACITY).nonzero().squeeze(1)
        if len(dead) == 0 or len(alive) == 0:
            return
        chosen = alive[torch.multinomial(opacity[alive], len(dead), replacement=True, generator=generator)]
        self.split_onto(params, optimizer, chosen, targets=dead)

    def grow(self, params, optimizer, generator) -> None:
        """Add 5 % more Gaussians (up to the cap) as copies of live ones chosen by opacity."""
        count = len(params["means"])
        if self.growth is None:
            self.growth = self.growth_rate(count)
        extra = min(self.cap, int(count * (1 + self.growth))) - count
        if extra <= 0:
            return
        opacity = params["opacity_logits"].sigmoid()
        chosen = torch.multinomial(opacity, extra, replacement=True, generator=generator)
        copies = {name: params[name].detach()[chosen] for name in PARAMETERS}
        replace_parameters(params, optimizer, append(copies))
        targets = torch.arange(count, count + extra)
        self.split_onto(params, optimizer, chosen, targets)

    @staticmethod
    def split_onto(params, optimizer, sources: torch.Tensor, targets: torch.Tensor) -> None:
        """Copy `sources` onto `targets`; a source used k-1 times becomes k Gaussians sharing its
        opacity, o' = 1 - (1 - o)^(1/k), each shrunk by sqrt(o / (k o')) <= 1 (a simple
        stand-in for the paper's exact binomial correction) so the rendering changes little."""
        counts = torch.bincount(sources, minlength=len(params["means"])).float()
        k = counts[sources].clamp(min=1) + 1
        opacity = params["opacity_logits"].detach()[sources].sigmoid()
        new_opacity = (1 - (1 - opacity) ** (1 / k)).clamp(MIN_OPACITY + 1e-4, 1 - 1e-4)
        shrink = (opacity / (k * new_opacity)).clamp(max=1).sqrt().log()[:, None]
        log_scales = params["log_scales"].detach()[sources] + shrink
        with torch.no_grad():
            for index in (sources, targets):
                params["opacity_logits"][index] = torch.logit(new_opacity)
                params["log_scales"][index] = log_scales
            for name in PARAMETERS:
                if name not in ("opacity_logits", "log_scales"):
                    params[name][targets] = params[name][sources]
        for state in optimizer.state.values():
            for key in ("exp_avg", "exp_avg_sq"):
                if key in state:
                    state[key][targets] = 0

    @staticmethod
    def add_noise(params, lr_means: float, generator) -> None:
        """Perturb the positions of nearly transparent Gaussians along their shape
        (covariance times normal noise, scaled by the position learning rate)."""
        with torch.no_grad():
            opacity = params["opacity_logits"].sigmoid()
            gate = torch.sigmoid(100 * ((1 - opacity) - (1 - MIN_OPACITY)))  # ~1 only when opacity < 0.005
            covariance_diagonal = params["log_scales"].exp() ** 2
            rotation = quaternion_matrices(params["quats"])
            local = torch.randn(params["means"].shape, generator=generator) * covariance_diagonal
            noise = (rotation @ local[:, :, None])[:, :, 0]
            params["means"] += noise * (gate * NOISE_SCALE * lr_means)[:, None]


class DefaultStrategy:
    """Classic adaptive density control (clone, split, prune, opacity reset), capped."""

    def __init__(self, max_gaussians: int, refine_every: int, refine_start: int, refine_stop: int, extent: float) -> None:
        self.cap, self.every, self.start, self.stop = max_gaussians, refine_every, refine_start, refine_stop
        self.extent = extent
        self.grad_sum = torch.zeros(0)
        self.grad_count = torch.zeros(0)

    def after_backward(self, step: int, params: dict, info: dict) -> None:
        """Accumulate each visible Gaussian's screen-space position gradient (pixels, normalized)."""
        grad = info["screen_grad"]
        if len(self.grad_sum) != len(grad):
            self.grad_sum, self.grad_count = torch.zeros(len(grad)), torch.zeros(len(grad))
        visible = grad > 0
        self.grad_sum[visible] += grad[visible]
        self.grad_count[visible] += 1

    def after_step(self, step: int, params: dict, optimizer, lr_means: float, generator: torch.Generator) -> None:
        if self.start <= step <= self.stop and step % self.every == 0 and len(self.grad_sum) == len(params["means"]):
            with torch.no_grad():
                self.densify(params, optimizer, generator)
                self.prune(params, optimizer)
            self.grad_sum, self.grad_count = torch.zeros(0), torch.zeros(0)
        if self.start < step <= self.stop and step % OPACITY_RESET_EVERY == 0:
            with torch.no_grad():
                params["opacity_logits"].clamp_(max=math.log(0.01 / 0.99))

    def densify(self, params, optimizer, generator) -> None:
        average = self.grad_sum / self.grad_count.clamp(min=1)
        candidates = (average > GRAD_THRESHOLD).nonzero().squeeze(1)
        room = max(0, self.cap - len(params["means"]))
        if len(candidates) > room:
            candidates = candidates[average[candidates].argsort(descending=True)[:room]]
        large = params["log_scales"].detach()[candidates].exp().amax(dim=1) > SPLIT_SIZE * self.extent
        clones, splits = candidates[~large], candidates[large]
        extra = {name: params[name].detach()[clones] for name in PARAMETERS}
        if len(splits):
            samples = torch.randn(len(splits), 3, generator=generator) * params["log_scales"].detach()[splits].exp()
            rotation = quaternion_matrices(params["quats"].detach()[splits])
            offsets = (rotation @ samples[:, :, None])[:, :, 0]
            split = {name: params[name].detach()[splits] for name in PARAMETERS}
            split["means"] = split["means"] + offsets
            split["log_scales"] = split["log_scales"] - math.log(1.6)
            params["log_scales"][splits] -= math.log(1.6)
            params["means"][splits] -= offsets
            extra = {name: torch.cat([extra[name], split[name]]) for name in PARAMETERS}
        if len(extra["means"]):
            replace_parameters(params, optimizer, append(extra))

    def prune(self, params, optimizer) -> None:
        opacity = params["opacity_logits"].sigmoid()
        huge = params["log_scales"].exp().amax(dim=1) > 0.1 * self.extent
        keep = (opacity > MIN_OPACITY) & ~huge
        if not keep.all():
            replace_parameters(params, optimizer, select(keep))


def quaternion_matrices(quats: torch.Tensor) -> torch.Tensor:
    """(N, 3, 3) rotation matrices of (N, 4) quaternions w, x, y, z."""
    w, x, y, z = torch.nn.functional.normalize(quats, dim=-1).unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], dim=-1).reshape(-1, 3, 3)
