"""What a dashboard kernel is doing while the page waits: a small status file the Voila page polls.

While a Voila kernel runs the models, the page shows only Voila's spinner. A use-case notebook
running in Voila writes its stage (and the scenarios concerned) to ``.ldtkit-progress/status.json``
next to the notebook; the ``ldtkit`` Voila template reads it every second through
``/voila/files/`` (allowed by ``templates/voila.json``) and shows the text under the spinner.
Outside Voila nothing is written.

Examples
--------
>>> import json, tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> report = ProgressReporter(folder / PROGRESS_FILE, title="Bridge closure")
>>> report("Running the models", "baseline and 2 scenarios")
>>> json.loads((folder / PROGRESS_FILE).read_text())["text"]
'Bridge closure: Running the models (baseline and 2 scenarios)'
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Where a kernel writes its stage, relative to its working folder (the notebook's folder in Voila).
PROGRESS_FILE = Path(".ldtkit-progress") / "status.json"
#: The last stage: the dashboard is being displayed.
DONE = "done"


@dataclass(frozen=True)
class ProgressReporter:
    """Write the stage of a computation to ``path`` (atomically), for a waiting Voila page.

    Parameters
    ----------
    path
        The status file; ``None`` writes nothing (outside Voila).
    title
        What is computed (the dashboard's heading), put in front of each stage.

    Examples
    --------
    >>> ProgressReporter(None)("Running the models")  # outside Voila: nothing happens
    """

    path: Path | None
    title: str = ""

    def __call__(self, stage: str, scenario: str = "") -> None:
        """Record ``stage`` (e.g. "Running the models") and the ``scenario`` it concerns."""
        if self.path is None:
            return
        text = f"{self.title}: {stage}" if self.title else stage
        if scenario:
            text += f" ({scenario})"
        payload = {"stage": stage, "scenario": scenario, "text": text, "updated_s": time.time(), "pid": os.getpid()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".status-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def progress_reporter(*, enabled: bool, title: str = "", folder: str | Path | None = None) -> ProgressReporter:
    """The reporter of a use-case run: writes ``folder/.ldtkit-progress/status.json`` when ``enabled``.

    Parameters
    ----------
    enabled
        ``True`` in a Voila kernel (:func:`ldtkit.viz.dashboard.in_voila`), else nothing is written.
    title
        The dashboard's heading.
    folder
        The notebook's folder (default: the working folder, which Voila sets to it).

    Examples
    --------
    >>> progress_reporter(enabled=False).path is None
    True
    """
    if not enabled:
        return ProgressReporter(None, title)
    return ProgressReporter(Path(folder if folder is not None else os.getcwd()) / PROGRESS_FILE, title)


__all__ = ["DONE", "PROGRESS_FILE", "ProgressReporter", "progress_reporter"]
