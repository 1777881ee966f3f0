"""Ahead-of-time compiled copy of the assignment kernels, for short-lived processes.

A process that calls a numba kernel pays about 0.9 s before the first call even when the
machine code is cached (importing numba, then numba loading its typing and lowering
registries, which imports scipy.linalg). ``ldtkit assign`` solves Chicago-Sketch in about
0.6 s, so that start-up would dominate. This module compiles the same Python functions of
:mod:`ldtkit.model.kernels.assignment` with ``numba.pycc`` into an ordinary extension module,
``ldtkit.model.kernels._assignment_aot``, which imports in milliseconds and needs neither numba
nor scipy at run time.

- :func:`build_assignment_aot` compiles it (about 15 s; ``python -m ldtkit.cli.warmup`` does
  it as part of ``make setup``). It needs numba and a C compiler.
- :func:`load_assignment_aot` returns the module, or ``None`` when it was not built or was
  built from another version of the kernels source (the stamp compiled into the module is
  the SHA-256 of ``assignment.py`` and the build options), so a stale build is never used.

The AOT functions are serial (``prange`` runs as ``range``) and release the GIL: callers pass
one chunk to ``shortest_paths`` and run shares of the trees on Python threads
(:func:`ldtkit.model.assignment.aot_engine`). Results are identical to the JIT kernels (same code, same order).
The JIT kernels stay the default everywhere else (parallel, any argument types).

Examples
--------
>>> from ldtkit.model.kernels.aot import load_assignment_aot
>>> K = load_assignment_aot()  # None until built  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

MODULE = "_assignment_aot"
_HERE = Path(__file__).resolve().parent
_SOURCE = _HERE / "assignment.py"

_F = "f8[::1]"
_F2 = "f8[:, ::1]"
_I = "i8[::1]"
_I4 = "i4[::1]"
_PRED = "i4[:, ::1]"
#: numba type of each argument group of :mod:`ldtkit.model.assignment.arrays`, field by field
#: (the NamedTuples are passed as they are: the compiled module accepts any tuple of these types).
GROUP_TYPES: dict[str, str] = {
    "LinkCostParams": f"UniTuple({_F}, 5)",  # t0, capacity, b, power, fixed
    "Graph": f"Tuple(({_I}, {_I}, {_I}, {_I}, b1[:, ::1], b1[::1]))",  # indptr, adj, from_idx, to_idx, allowed, no_through
    "OdPairs": f"Tuple(({_I}, {_I}, {_I}, {_I}, {_I}, {_F}, {_F}))",  # sub_orig, sub_grp, sub_ptr, od_dest, od_cls, trips, pcu
    "LinkFlows": f"Tuple(({_F}, {_F2}, {_F}, {_F}))",  # flow_pcu, flow_vph, cost, slope
    "Trees": f"Tuple(({_PRED}, {_F}, {_F}))",  # pred, od_sp_min, od_set_min
    "PathPool": f"Tuple(({_I}, {_I4}, {_I}, {_I4}, {_F}, {_I}, {_I}, i8, i8))",
    "Scratch": f"Tuple(({_I}, {_I4}))",  # link_stamp, path_buf
    "Contracted": f"Tuple(({_I}, {_I4}, {_I}, {_I}, {_I}, {_I}, b1[:, ::1], b1[::1]))",
}
_VDF, _GRAPH, _OD, _FLOWS, _TREES, _POOL, _SCRATCH, _CON = GROUP_TYPES.values()
#: Exported kernels and their one signature each: exactly the array types that
#: :func:`ldtkit.model.assignment.build_problem` and :func:`ldtkit.model.assignment.solve`
#: pass (C-contiguous, int64 ids, int32 path links and trees, float64 values).
SIGNATURES: dict[str, str] = {
    "link_costs": f"void({_FLOWS}, {_VDF})",
    "beckmann": f"f8({_F}, {_VDF})",
    "class_tstt": f"f8({_F2}, {_F})",
    "contract": f"{_CON}({_OD}, {_GRAPH})",
    "shortest_paths": f"void({_I}, {_OD}, {_GRAPH}, {_CON}, {_F}, {_TREES}, i8)",
    "set_min_cost": f"void({_I}, {_I}, {_POOL}, {_F}, {_F}, {_F})",
    "path_update": f"Tuple(({_POOL}, i8))({_I}, {_OD}, {_GRAPH}, {_TREES}, {_POOL}, {_FLOWS}, {_VDF}, {_SCRATCH}, i8, f8)",
    "path_inner": f"i8({_OD}, {_POOL}, {_FLOWS}, {_VDF}, {_SCRATCH}, i8, f8)",
    "aon_load": f"void({_I}, {_OD}, {_GRAPH}, {_PRED}, {_F}, {_F2})",
    "line_search": f"f8({_F}, {_F}, {_VDF})",
    "bfw_direction": f"UniTuple(f8, 3)({_F}, {_F}, {_F}, {_F}, {_F}, f8, i8)",
    "export_paths": f"Tuple(({_I}, {_I}, {_I4}, {_F}))({_POOL})",
    "hash_paths": f"{_I}({_I4}, {_I})",
}


#: How the module is built, part of its stamp (a build made otherwise is rebuilt).
BUILD = b"release_gil"


def source_stamp() -> int:
    """The first 62 bits of the SHA-256 of the kernels' source and :data:`BUILD` (what a build is valid for)."""
    digest = hashlib.sha256(_SOURCE.read_bytes() + BUILD).digest()
    return int.from_bytes(digest[:8], "little") >> 2


def load_assignment_aot() -> ModuleType | None:
    """The compiled kernels module, or ``None`` if it is missing or built from other sources."""
    try:
        from ldtkit.model.kernels import _assignment_aot as mod  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        ok = int(mod.source_stamp()) == source_stamp()
    except Exception:  # a module without a stamp is not ours to trust
        ok = False
    return mod if ok else None


@contextmanager
def _temporary_files_in(folder: str) -> Iterator[None]:
    """Route ``tempfile`` into ``folder`` for the build: numba.pycc's compiler probe leaves
    its scratch folder behind, and this way it goes with ours."""
    before = tempfile.tempdir
    tempfile.tempdir = folder
    try:
        yield
    finally:
        tempfile.tempdir = before


@contextmanager
def _releasing_the_gil() -> Iterator[None]:
    """Compile the exported functions to release the GIL while they run (as ``nogil=True`` does
    for the JIT ones; ``numba.pycc`` has no option for it), so that threads can run them at once."""
    compiler: Any = importlib.import_module("numba.pycc.compiler")
    plain = compiler.Flags

    class Flags(plain):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.release_gil = True

    compiler.Flags = Flags
    try:
        yield
    finally:
        compiler.Flags = plain


def build_assignment_aot(*, output_dir: str | Path | None = None, verbose: bool = False) -> Path:
    """Compile the assignment kernels ahead of time into an extension module.

    Parameters
    ----------
    output_dir
        Folder for the module file; default: this package folder, where
        :func:`load_assignment_aot` finds it.
    verbose
        Show the compiler's output.

    Returns
    -------
    Path
        The module file. It is written to a temporary folder first and moved into place,
        so a concurrent reader sees the old module or the new one, never half of one.

    Examples
    --------
    >>> build_assignment_aot()  # doctest: +SKIP
    PosixPath('.../ldtkit/model/kernels/_assignment_aot.cpython-311-x86_64-linux-gnu.so')
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba.pycc is "pending deprecation"; it is what numba offers for AOT
        # numba.pycc has no type hints (numba's py.typed notwithstanding): handled as Any
        pycc: Any = importlib.import_module("numba.pycc")

    from ldtkit.model.kernels import assignment as kernels

    out_dir = Path(output_dir) if output_dir is not None else _HERE
    stamp = source_stamp()

    def stamp_of_build() -> int:
        return stamp

    with tempfile.TemporaryDirectory(prefix="ldtkit-aot-") as tmp, _temporary_files_in(tmp), _releasing_the_gil():
        cc = pycc.CC(MODULE)
        cc.output_dir = tmp
        cc.verbose = verbose
        cc.target_cpu = "host"  # built on the machine that runs it
        for name, sig in SIGNATURES.items():
            cc.export(name, sig)(getattr(kernels, name).py_func)
        cc.export("source_stamp", "i8()")(stamp_of_build)
        cc.compile()
        (built,) = Path(tmp).glob(MODULE + "*")
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / built.name
        staged = out_dir / (built.name + f".tmp{os.getpid()}")
        shutil.copy2(built, staged)
        os.replace(staged, target)
    # a module object imported before the rebuild would shadow the new file in this process
    sys.modules.pop(f"{__package__}.{MODULE}", None)
    return target
