"""The stage graph: a job is one folder, each stage one sub-folder finished by its manifest.

```
<job>/images/   ingest    photos as received (normalized names, EXIF kept), report.json
<job>/sfm/      sfm       sparse/0/*.bin, images/ (undistorted), report.json
<job>/train/    train     scene.ply, metrics.json, previews/
<job>/compress/ compress  scene.sog (PlayCanvas SOG v2), report.json
```

`run_job(source, job_dir, options, progress)` runs the stages in order; a stage whose
`manifest.json` exists is skipped, so a re-run resumes after the last finished stage.
`rerun_from` forgets a stage and those after it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict

from spaceport import ingest, sfm, sog, splat
from spaceport.errors import InputError
from spaceport.ingest.options import IngestOptions
from spaceport.progress import Progress
from spaceport.sfm.options import SfmOptions
from spaceport.sog.options import SogOptions
from spaceport.splat.options import TrainOptions

MANIFEST = "manifest.json"
STAGES = ("images", "sfm", "train", "compress")


class JobOptions(BaseModel):
    """Options of every stage of a job."""

    model_config = ConfigDict(extra="forbid")

    ingest: IngestOptions = IngestOptions()
    sfm: SfmOptions = SfmOptions()
    train: TrainOptions = TrainOptions()
    compress: SogOptions = SogOptions()


def is_finished(stage_dir: Path) -> bool:
    return (stage_dir / MANIFEST).is_file()


def write_manifest(stage_dir: Path, stage: str, options: BaseModel, report: BaseModel) -> None:
    """Mark `stage_dir` finished: write its manifest last and atomically (rename)."""
    content = {"stage": stage, "options": options.model_dump(mode="json"), "report": report.model_dump(mode="json")}
    handle, temporary = tempfile.mkstemp(dir=stage_dir, prefix=".manifest")
    with os.fdopen(handle, "w") as stream:
        json.dump(content, stream, indent=2)
    os.replace(temporary, stage_dir / MANIFEST)


def read_manifest(stage_dir: Path) -> dict:
    return json.loads((stage_dir / MANIFEST).read_text())


def rerun_from(job_dir: Path, stage: str) -> None:
    """Forget `stage` and every later stage of the job, so the next run redoes them."""
    if stage not in STAGES:
        raise InputError(f"unknown stage '{stage}'; stages are {', '.join(STAGES)}")
    for name in STAGES[STAGES.index(stage) :]:
        (job_dir / name / MANIFEST).unlink(missing_ok=True)


def run_job(
    source: str | Path,
    job_dir: Path,
    options: JobOptions,
    progress: Progress,
    on_stage: Callable[[str], None] = lambda stage: None,
) -> dict[str, dict]:
    """Run every unfinished stage of the job in `job_dir`; returns each stage's manifest.

    `on_stage(name)` is called as each stage starts.
    """
    job_dir.mkdir(parents=True, exist_ok=True)
    stages: list[tuple[str, float, Callable[[Progress], BaseModel], BaseModel]] = [
        ("images", 0.02, lambda p: ingest.run(source, job_dir / "images", options.ingest, p), options.ingest),
        ("sfm", 0.15, lambda p: sfm.run(job_dir / "images", job_dir / "sfm", options.sfm, p), options.sfm),
        ("train", 0.95, lambda p: splat.run(job_dir / "sfm", job_dir / "train", options.train, p), options.train),
        ("compress", 1.0, lambda p: sog.run(job_dir / "train", job_dir / "compress", options.compress, p), options.compress),
    ]
    start = 0.0
    for name, end, stage, stage_options in stages:
        stage_dir = job_dir / name
        if not is_finished(stage_dir):
            progress.raise_if_cancelled()
            on_stage(name)
            if name != "images":
                shutil.rmtree(stage_dir, ignore_errors=True)
            report = stage(progress.span(start, end))
            write_manifest(stage_dir, name, stage_options, report)
        progress.update(end, f"{name} finished")
        start = end
    return {name: read_manifest(job_dir / name) for name in STAGES}
