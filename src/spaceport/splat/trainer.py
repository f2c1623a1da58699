"""The training loop: Adam on the Gaussians, L1 + SSIM loss, densification, checkpoints."""

from __future__ import annotations

import math
import random
import resource
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from spaceport.progress import Progress
from spaceport.splat.data import Scene, View
from spaceport.splat.metrics import psnr, ssim
from spaceport.splat.model import PARAMETERS, activated, initial_parameters
from spaceport.splat.options import TrainOptions
from spaceport.splat.rasterize import rasterize
from spaceport.splat.strategy import DefaultStrategy, MCMCStrategy

LEARNING_RATES = {"log_scales": 5e-3, "quats": 1e-3, "opacity_logits": 5e-2, "sh0": 2.5e-3, "shN": 2.5e-3 / 20}
MEANS_LR_START, MEANS_LR_END = 1.6e-4, 1.6e-6  # times the scene extent
REPORT_EVERY = 10
PREVIEWS = 3
CHECKPOINT = "checkpoint.pt"


class Trainer:
    """Trains Gaussians on `scene` with resolved `options` on `device` ("cuda" or "cpu")."""

    def __init__(self, scene: Scene, options: TrainOptions, device: str, backend: str) -> None:
        self.scene, self.options, self.device, self.backend = scene, options, device, backend
        self.extent = scene.extent
        torch.manual_seed(options.seed)
        self.generator = torch.Generator().manual_seed(options.seed)
        initial = initial_parameters(scene.points, scene.colors, self.extent, options.max_gaussians, options.seed)
        self.params = {name: torch.nn.Parameter(initial[name].to(device)) for name in PARAMETERS}
        self.optimizer = self.make_optimizer()
        refine = dict(max_gaussians=options.max_gaussians, refine_every=options.refine_every,
                      refine_start=options.refine_start, refine_stop=options.refine_stop)
        self.strategy = MCMCStrategy(**refine) if options.strategy == "mcmc" else DefaultStrategy(**refine, extent=self.extent)
        self.step = 0
        self.order: list[int] = []
        self.running_psnr = 0.0

    def make_optimizer(self) -> torch.optim.Adam:
        """Adam with one named parameter group per parameter, at its base learning rate."""
        groups = [{"params": [self.params[name]], "lr": self.base_lr(name), "name": name} for name in PARAMETERS]
        return torch.optim.Adam(groups, eps=1e-15)

    def base_lr(self, name: str) -> float:
        return MEANS_LR_START * self.extent if name == "means" else LEARNING_RATES[name]

    def means_lr(self, step: int) -> float:
        """Exponential decay from MEANS_LR_START to MEANS_LR_END (times the extent) over the run."""
        t = min(step / max(self.options.iterations, 1), 1.0)
        return self.extent * math.exp((1 - t) * math.log(MEANS_LR_START) + t * math.log(MEANS_LR_END))

    def sh_degree_at(self, step: int) -> int:
        """SH degree raised by one every 1/30 of the run (1000 steps of 30k), up to the option."""
        interval = max(1, self.options.iterations // 30)
        return min(self.options.sh_degree, step // interval)

    def render(self, view: View, sh_degree: int) -> torch.Tensor:
        """(H, W, 3) image of the model seen from `view`."""
        gaussians = activated(self.params, sh_degree)
        image, _ = rasterize(
            gaussians["means"], gaussians["quats"], gaussians["scales"], gaussians["opacities"], gaussians["sh"],
            view.viewmat.to(self.device), view.K.to(self.device), view.width, view.height,
            sh_degree=sh_degree, backend=self.backend,
        )
        return image

    def next_view(self) -> View:
        """Training views in a fresh random order each epoch."""
        if not self.order:
            self.order = list(range(len(self.scene.train)))
            random.Random(self.options.seed + self.step).shuffle(self.order)
        return self.scene.train[self.order.pop()]

    def train_step(self) -> float:
        view = self.next_view()
        target = view.image.to(self.device)
        image = self.render(view, self.sh_degree_at(self.step))
        w = self.options.ssim_weight
        loss = (1 - w) * (image - target).abs().mean() + w * (1 - ssim(image, target))
        loss.backward()
        if isinstance(self.strategy, DefaultStrategy):
            self.strategy.after_backward(self.step, self.params, {"screen_grad": self.screen_gradients(view)})
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.strategy.after_step(self.step, self.params, self.optimizer, self.means_lr(self.step), self.generator)
        for group in self.optimizer.param_groups:
            if group["name"] == "means":
                group["lr"] = self.means_lr(self.step + 1)
        self.running_psnr = 0.9 * self.running_psnr + 0.1 * psnr(image.detach(), target) if self.step else psnr(image.detach(), target)
        self.step += 1
        return loss.item()

    def screen_gradients(self, view: View) -> torch.Tensor:
        """(N,) norm of each Gaussian's loss gradient w.r.t. its image position, in half-image
        units (as densification thresholds expect): |R g|_xy * z / fx * W / 2; 0 when unseen."""
        grad = self.params["means"].grad
        rotation, translation = view.viewmat[:3, :3].to(grad), view.viewmat[:3, 3].to(grad)
        camera_grad = grad @ rotation.T
        depth = self.params["means"].detach() @ rotation.T[:, 2] + translation[2]
        screen = camera_grad[:, :2].norm(dim=1) * depth.clamp(min=0) / view.K[0, 0] * view.width / 2
        return torch.where(depth > 0, screen, torch.zeros_like(screen)).cpu()

    def train(self, progress: Progress, checkpoint: Path | None) -> None:
        """Run the remaining steps, reporting progress and saving checkpoints."""
        total = self.options.iterations
        while self.step < total:
            progress.raise_if_cancelled()
            loss = self.train_step()
            if self.step % REPORT_EVERY == 0 or self.step == total:
                progress.update(self.step / total, f"step {self.step}/{total}, loss {loss:.4f}, "
                                f"PSNR {self.running_psnr:.2f} dB, {len(self.params['means'])} Gaussians")
            if checkpoint and self.options.checkpoint_every and self.step % self.options.checkpoint_every == 0:
                self.save(checkpoint)

    @torch.no_grad()
    def evaluate(self, views: list[View], previews: Path | None) -> tuple[float | None, float | None]:
        """Mean PSNR and SSIM over `views`; side-by-side PNGs (truth | render) for the first few."""
        if not views:
            return None, None
        scores = []
        for index, view in enumerate(views):
            image = self.render(view, self.options.sh_degree).clamp(0, 1).cpu()
            scores.append((psnr(image, view.image), ssim(image, view.image).item()))
            if previews is not None and index < PREVIEWS:
                side_by_side = torch.cat([view.image, image], dim=1).numpy()
                Image.fromarray((side_by_side * 255).round().astype(np.uint8)).save(previews / f"{Path(view.name).stem}.png")
        return float(np.mean([s[0] for s in scores])), float(np.mean([s[1] for s in scores]))

    def save(self, path: Path) -> None:
        """Everything needed to resume: parameters, optimizer, step (written atomically)."""
        state = {"step": self.step, "params": {k: v.detach().cpu() for k, v in self.params.items()},
                 "optimizer": self.optimizer.state_dict(), "running_psnr": self.running_psnr}
        temporary = path.with_suffix(".tmp")
        torch.save(state, temporary)
        temporary.replace(path)

    def load(self, path: Path) -> None:
        state = torch.load(path, map_location=self.device, weights_only=False)
        self.params = {k: torch.nn.Parameter(v.to(self.device)) for k, v in state["params"].items()}
        self.optimizer = self.make_optimizer()
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.running_psnr = state["step"], state["running_psnr"]


def peak_memory_mb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_training(trainer: Trainer, progress: Progress, checkpoint: Path | None) -> float:
    started = time.perf_counter()
    trainer.train(progress, checkpoint)
    return time.perf_counter() - started
