"""Launch a notebook as a read-only dashboard with the repository's locked-down Voila settings.

Run a dashboard from the shell with the same settings as :func:`voila_command`::

    JUPYTER_PATH=templates voila notebooks/bridge_closure.ipynb \\
        --Voila.config_file_paths="['templates']" --template=ldtkit
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ldtkit.resources import templates_dir

#: The repository's templates folder (Voila/nbconvert templates, voila.json); absent in a wheel install.
TEMPLATES_DIR = templates_dir()


def voila_command(
    notebook: str | Path,
    *,
    port: int = 8866,
    ip: str = "127.0.0.1",
    open_browser: bool = False,
    python: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment to serve ``notebook`` as a locked-down dashboard.

    Uses ``templates/voila.json`` (strip sources, no tracebacks, no template or theme override
    from the URL, one preheated kernel so the page appears as soon as it is asked for, idle
    kernels culled) and the ``ldtkit`` Voila template from ``templates/``. Notebooks read the
    URL query with :func:`current_query_string`, which waits for the request in a preheated
    kernel; put the slow work (imports, model runs) before that call.

    Returns
    -------
    (argv, env)
        Pass to :class:`subprocess.Popen`; ``env`` is a copy of ``os.environ`` with
        ``JUPYTER_PATH`` extended to find the template.

    Examples
    --------
    >>> argv, env = voila_command("notebooks/bridge_closure.ipynb", port=9000)
    >>> "--VoilaConfiguration.allow_template_override=NO" in argv
    True
    """
    python = python or sys.executable
    argv = [
        python,
        "-m",
        "voila",
        str(notebook),
        f"--port={int(port)}",
        f"--Voila.ip={ip}",
        "--no-browser" if not open_browser else "",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
    ]
    env = dict(os.environ)
    if TEMPLATES_DIR.is_dir():
        argv += [f"--Voila.config_file_paths=['{TEMPLATES_DIR}']", "--template=ldtkit"]
        env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(TEMPLATES_DIR), env.get("JUPYTER_PATH", "")) if p)
    bindir = str(Path(python).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    return [a for a in argv if a], env


__all__ = ["TEMPLATES_DIR", "voila_command"]
