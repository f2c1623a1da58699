"""The stage graph: a job is one folder, each stage one sub-folder finished by its manifest.

```
<job>/images/   ingest    photos as received (normalized names, EXIF kept), report.json
<job>/sfm/      sfm       sparse/0/*.bin, images/ (undistorted), report.json
<job>/train/    train     scene.ply, metrics.json, previews/
<job>/compress/ compress  scene.sog (PlayCanvas SOG v2), report.json
```

`run_job(source, job_dir, options, progress, start=...)` runs the stages in order; a stage
whose `manifest.json` exists is skipped, so a re-run resumes after the last finished stage.
`rerun_from` forgets a stage and those after it.

A job starts at `images` by default: the source is photos (`sfm` starts there too, since
structure from motion needs the ingested photos). A job started at `train` takes a COLMAP
dataset as its source and one started at `compress` a 3DGS PLY: the stage before the
start is then filled from the source (`supplied.py`) instead of computed, and earlier
stages are not run. Either way the source is read by the first stage of the job only,
and not again once that stage is finished.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict

from spaceport import ingest, sfm, sog, splat
from spaceport.errors import InputError
from spaceport.ingest.options import IngestOptions
from spaceport.pipeline.supplied import import_colmap, import_ply
from spaceport.progress import Progress
from spaceport.sfm.options import SfmOptions
from spaceport.sog.options import SogOptions
from spaceport.splat.options import TrainOptions

MANIFEST = "manifest.json"
STAGES = ("images", "sfm", "train", "compress")
WEIGHTS = {"images": 0.02, "sfm": 0.13, "train": 0.80, "compress": 0.05}  # shares of a whole job's time
SUPPLIED_WEIGHT = 0.02  # share of a stage output taken from the source (unpacking, checks)
SUPPLIED = {"train": "sfm", "compress": "train"}  # start stage -> the stage its source fills
IMPORTERS = {"sfm": import_colmap, "train": import_ply}  # stage -> fills it from a source


class JobOptions(BaseModel):
    """Options of every stage of a job."""

    model_config = ConfigDict(extra="forbid")

    ingest: IngestOptions = IngestOptions()
    sfm: SfmOptions = SfmOptions()
    train: TrainOptions = TrainOptions()
    compress: SogOptions = SogOptions()


def is_finished(stage_dir: Path) -> bool:
    return (stage_dir / MANIFEST).is_file()


def write_manifest(stage_dir: Path, stage: str, options: BaseModel, report: BaseModel, supplied: bool = False) -> None:
    """Mark `stage_dir` finished: write its manifest last and atomically (rename).

    `supplied` marks an output taken from the job's source rather than computed.
    """
    content = {"stage": stage, "supplied": supplied, "options": options.model_dump(mode="json"),
               "report": report.model_dump(mode="json")}
    handle, temporary = tempfile.mkstemp(dir=stage_dir, prefix=".manifest")
    with os.fdopen(handle, "w") as stream:
        json.dump(content, stream, indent=2)
    os.replace(temporary, stage_dir / MANIFEST)


def read_manifest(stage_dir: Path) -> dict:
    return json.loads((stage_dir / MANIFEST).read_text())


def rerun_from(job_dir: Path, stage: str) -> None:
    """Forget `stage` and every later stage of the job, so the next run redoes them."""
    check_stage(stage)
    for name in STAGES[STAGES.index(stage) :]:
        (job_dir / name / MANIFEST).unlink(missing_ok=True)


def check_stage(stage: str, what: str = "stage") -> None:
    """Raise InputError unless `stage` is one of STAGES (`what` names it in the message)."""
    if stage not in STAGES:
        raise InputError(f"unknown {what} '{stage}'; stages are {', '.join(STAGES)}")


@dataclass
class Step:
    """One stage of a job as it will run: computed, or `supplied` from the job's source."""

    name: str
    work: Callable[[Progress], BaseModel]
    options: BaseModel
    supplied: bool = False

    @property
    def weight(self) -> float:
        return SUPPLIED_WEIGHT if self.supplied else WEIGHTS[self.name]


def job_steps(source: str | Path, job_dir: Path, options: JobOptions, start: str) -> list[Step]:
    """The stages a job starting at `start` runs, in order; the first one reads `source`."""
    computed = [
        Step("images", lambda p: ingest.run(source, job_dir / "images", options.ingest, p), options.ingest),
        Step("sfm", lambda p: sfm.run(job_dir / "images", job_dir / "sfm", options.sfm, p), options.sfm),
        Step("train", lambda p: splat.run(job_dir / "sfm", job_dir / "train", options.train, p), options.train),
        Step("compress", lambda p: sog.run(job_dir / "train", job_dir / "compress", options.compress, p), options.compress),
    ]
    if start not in SUPPLIED:
        return computed
    stage = SUPPLIED[start]
    supply = Step(stage, lambda p: IMPORTERS[stage](source, job_dir / stage, options.ingest, p), options.ingest, supplied=True)
    return [supply] + computed[STAGES.index(start):]


def run_job(
    source: str | Path,
    job_dir: Path,
    options: JobOptions,
    progress: Progress,
    on_stage: Callable[[str], None] = lambda stage: None,
    start: str = "images",
) -> dict[str, dict]:
    """Run every unfinished stage of the job in `job_dir` from `start` on (see the module
    docstring); returns the manifests of the job's finished stages, by stage name.

    `on_stage(name)` is called as each stage starts.
    """
    check_stage(start, "start stage")
    job_dir.mkdir(parents=True, exist_ok=True)
    steps = job_steps(source, job_dir, options, start)
    total = sum(step.weight for step in steps)
    done = 0.0
    for step in steps:
        stage_dir = job_dir / step.name
        span = (done / total, (done + step.weight) / total)
        if not is_finished(stage_dir):
            progress.raise_if_cancelled()
            on_stage(step.name)
            if step.name != "images":
                shutil.rmtree(stage_dir, ignore_errors=True)
            report = step.work(progress.span(*span))
            write_manifest(stage_dir, step.name, step.options, report, step.supplied)
        progress.update(span[1], f"{step.name} finished")
        done += step.weight
    return {name: read_manifest(job_dir / name) for name in STAGES if is_finished(job_dir / name)}
