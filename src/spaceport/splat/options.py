"""Options and report of the training stage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Preset = Literal["preview", "quality"]
Strategy = Literal["mcmc", "default"]

PRESETS: dict[str, dict] = {
    # minutes on a CPU for small scenes and demos
    "preview": {"iterations": 1500, "max_gaussians": 60_000, "resolution": 640, "strategy": "mcmc",
                "sh_degree": 1, "refine_every": 100, "refine_start": 300, "refine_stop": 1200},
    # the usual 30k-step schedule, for a GPU
    "quality": {"iterations": 30_000, "max_gaussians": 1_000_000, "resolution": 1600, "strategy": "mcmc",
                "sh_degree": 3, "refine_every": 100, "refine_start": 500, "refine_stop": 25_000},
}


class TrainOptions(BaseModel):
    """How Gaussians are trained; fields left empty take the preset's value."""

    model_config = ConfigDict(extra="forbid")

    preset: Preset = Field("preview", description="preview: minutes on a CPU; quality: ~30k steps for a GPU.")
    iterations: int | None = Field(None, ge=1, description="Optimizer steps (one image each).")
    max_gaussians: int | None = Field(None, ge=1, description="Hard cap on the number of Gaussians.")
    resolution: int | None = Field(None, ge=16, description="Longest side, px, of the training images.")
    strategy: Strategy | None = Field(None, description="Densification: mcmc (capped) or default (clone/split/prune).")
    sh_degree: int | None = Field(None, ge=0, le=3, description="Highest spherical-harmonics degree, raised progressively.")
    refine_every: int | None = Field(None, ge=1, description="Steps between densification rounds.")
    refine_start: int | None = Field(None, ge=0, description="First step of densification.")
    refine_stop: int | None = Field(None, ge=0, description="Last step of densification.")
    device: Literal["auto", "cuda", "cpu"] = Field("auto", description="Rasterizer: gsplat on a GPU, our kernels on a CPU.")
    ssim_weight: float = Field(0.2, ge=0, le=1, description="Loss = (1 - w) L1 + w (1 - SSIM).")
    test_every: int = Field(8, ge=0, description="Every n-th image is held out for evaluation (0: none).")
    checkpoint_every: int = Field(500, ge=0, description="Steps between checkpoints for resuming (0: none).")
    seed: int = Field(0, ge=0, description="Random seed.")

    def resolved(self) -> TrainOptions:
        """A copy with every empty field filled from the preset."""
        preset = PRESETS[self.preset]
        return self.model_copy(update={k: v for k, v in preset.items() if getattr(self, k) is None})


class TrainReport(BaseModel):
    """`train/metrics.json`: quality on held-out views, size, time and memory."""

    psnr: float | None = Field(description="Mean PSNR, dB, over held-out views.")
    ssim: float | None
    lpips: float | None = Field(None, description="Not computed: no LPIPS weights ship in a package (see lpips_note).")
    lpips_note: str = "LPIPS needs pretrained network weights that no pinned package ships; nothing is downloaded at run time"
    train_psnr: float | None = None
    iterations: int
    gaussians: int
    seconds: float
    seconds_per_iteration: float
    device: str
    peak_memory_mb: float
    images_train: int
    images_test: int
    options: dict = {}
