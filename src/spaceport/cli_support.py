"""Helpers for the command line: options from pydantic models, progress display, errors.

The same pydantic models that validate stage options define the command-line flags:
each field becomes `--field-name` with its type, default (from `SPACEPORT_<GROUP>_<FIELD>`
when set) and description.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
import warnings
from types import UnionType
from typing import Any, Callable, Literal, Union, get_args, get_origin

import click
from pydantic import BaseModel

from spaceport.config import env_name, from_env
from spaceport.errors import Cancelled, SpaceportError
from spaceport.progress import Progress


def click_type(annotation: Any) -> Any:
    """The click parameter type for a pydantic field annotation (`X | None` is taken as X)."""
    if get_origin(annotation) in (Union, UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) is Literal:
        return click.Choice([str(value) for value in get_args(annotation)])
    return {int: int, float: float, str: str}.get(annotation, str)


def shown_defaults(model: type[BaseModel], group: str) -> BaseModel:
    """Defaults to show in help: from the environment when it is valid, else the model's."""
    try:
        return from_env(model, group)
    except SpaceportError:
        return model()


def model_options(model: type[BaseModel], group: str) -> Callable:
    """Decorator adding one click option per field of `model`.

    Options left out on the command line arrive as None, so `pick` applies the
    environment (validated there) and then the model's own default.
    """
    defaults = shown_defaults(model, group)

    def decorate(command: Callable) -> Callable:
        taken = {param.name for param in getattr(command, "__click_params__", [])}
        for name, field in reversed(list(model.model_fields.items())):
            if name in taken:
                continue  # e.g. --seed: one flag serves every stage that has the field
            flag = "--" + name.replace("_", "-")
            default = getattr(defaults, name)
            if default is None:
                default = "from the preset"
            if field.annotation is bool:
                flag, default = f"{flag}/--no-{flag[2:]}", flag[2:] if default else f"no-{flag[2:]}"
            help_text = f"{field.description or ''} [env {env_name(group, name)}] [default: {default}]"
            kind = None if field.annotation is bool else click_type(field.annotation)
            command = click.option(flag, name, type=kind, default=None, help=help_text)(command)
        return command

    return decorate


def pick(model: type[BaseModel], group: str, values: dict[str, Any]) -> BaseModel:
    """Build `model` from the command's keyword arguments that are its fields."""
    return from_env(model, group, **{name: values[name] for name in model.model_fields if name in values})


class ProgressDisplay:
    """A progress bar on a terminal; plain lines (on each new message) otherwise. Writes to stderr."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.last_message = ""
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=100, file=sys.stderr, bar_format="{percentage:3.0f}%|{bar:30}| {elapsed} {desc}")

    def __call__(self, fraction: float, message: str) -> None:
        if self.bar is not None:
            self.bar.n = round(fraction * 100, 1)
            self.bar.set_description_str(f"{self.label}: {message}", refresh=False)
            self.bar.refresh()
        elif message != self.last_message:
            click.echo(f"[{fraction * 100:5.1f}%] {self.label}: {message}", err=True)
        self.last_message = message

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"warning: {message}", err=True)


def friendly_errors(command: Callable) -> Callable:
    """Run `command`; a SpaceportError (or any failure) becomes one line on stderr and exit 1.

    Set SPACEPORT_DEBUG=1 to see tracebacks of unexpected failures.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        warnings.showwarning = show_warning
        try:
            return command(*args, **kwargs)
        except Cancelled:
            click.echo("stopped", err=True)
            sys.exit(130)
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
            sys.exit(130)
        except SpaceportError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)
        except Exception as error:  # anything else is our bug: still one line, traceback on request
            if os.environ.get("SPACEPORT_DEBUG"):
                traceback.print_exc()
            click.echo(f"error: unexpected {type(error).__name__}: {error} (set SPACEPORT_DEBUG=1 for details)", err=True)
            sys.exit(2)

    return wrapper


def run_with_progress(label: str, work: Callable[[Progress], Any]) -> Any:
    """Call `work(progress)` with a progress display on stderr."""
    display = ProgressDisplay(label)
    try:
        return work(Progress(display))
    finally:
        display.close()
