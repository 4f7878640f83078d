"""Resumable, visible sweeps: one small JSON file per (video, setting), written as it finishes.

A sweep maps a plain top-level function ``work(video, setting) -> dict`` over
a list of :class:`SweepItem`. ``video`` and ``setting`` are JSON-able
mappings that together say everything the result depends on (which video,
which clip, which model and checkpoint, which method), so that

* every result is saved under ``<directory>/<key>.json``, where ``key`` is a
  hash of the item, as soon as it is computed, written to a temporary file
  and renamed into place (``os.replace``): a file is there whole or not at all;
* a sweep that stops — an error, Ctrl-C, a closed laptop — is resumed by
  running it again: finished items are read back, nothing is recomputed and
  nothing finished is lost; two sweeps that share items share their results;
* a progress bar shows done/total (resumed items included) and the rate;
* ``work`` is an ordinary picklable function of its two arguments, so any
  executor with ``submit`` can map it: ``concurrent.futures`` pools, or a Dask
  cluster through ``distributed.Client(...).get_executor()``. Results do not
  depend on the order or place items are computed in: each is computed with
  one torch thread, in this process as in a worker;
* :func:`dask_executor` opens such an executor from a short spec,
  ``local:N`` (a ``LocalCluster`` of N worker processes on 127.0.0.1) or
  ``tcp://host:port`` (an existing scheduler), and :func:`use_dask` makes it
  the default of every sweep of the process, as a chapter's ``dask``
  parameter does. Results travel back to this process, which writes them, so
  workers need no shared disk; a worker that dies loses only the item it was
  computing, which the scheduler gives to another worker.

The results a sweep returns are always the ones read back from disk, so a
resumed sweep returns exactly what an uninterrupted one does.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from vidsal_core.errors import ConfigError
from vidsal_study.processes import study_process
from vidsal_core.models.train import torch_threads

LOGGER = logging.getLogger(__name__)

#: Where sweeps keep their results unless told otherwise: ``$VIDSAL_SWEEPS``, else ``sweeps/`` in the
#: data folder (``$VIDSAL_DATA``, else the git-ignored ``data/``). Only the process that runs a sweep
#: writes there (never a Dask worker).
SWEEP_DIR = Path(os.environ.get("VIDSAL_SWEEPS") or Path(
    os.environ.get("VIDSAL_DATA", Path(__file__).resolve().parents[1] / "data")) / "sweeps")

Work = Callable[[Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]]


def _plain(value: Any) -> Any:
    """JSON-able copy of ``value``: NumPy scalars and arrays, tuples and paths made plain."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "detach"):  # a torch tensor
        return _plain(value.detach().cpu().numpy())
    return value


def canonical_json(value: Any) -> str:
    """``value`` as JSON with sorted keys and no spaces (the form that is hashed)."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), allow_nan=True)


def content_hash(value: Any, length: int = 16) -> str:
    """First ``length`` hex digits of the sha256 of :func:`canonical_json` of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class SweepItem:
    """One unit of a sweep: a video and a setting (both JSON-able mappings).

    Attributes
    ----------
    video : mapping
        Which video (and anything else fixed per video, e.g. its person).
    setting : mapping
        How it is processed (clip step and offset, model, methods, ...).
    """

    video: Mapping[str, Any]
    setting: Mapping[str, Any]

    @property
    def key(self) -> str:
        """Hash of the item: its result's file name."""
        return content_hash({"video": self.video, "setting": self.setting}, length=24)


def sweep_directory(name: str, spec: Mapping[str, Any] | None = None, root: str | Path | None = None) -> Path:
    """``<root>/<name>-<hash of spec>``, created, with ``spec.json`` written once.

    Parameters
    ----------
    name : str
        A readable name (letters, digits, ``-`` and ``_``).
    spec : mapping, optional
        What every result of the sweep depends on beyond its items (code
        version, checkpoint hashes, ...); a change gives a new directory.
    root : path, optional
        Parent folder (default ``data/sweeps``).
    """
    if not name or not all(character.isalnum() or character in "-_" for character in name):
        raise ConfigError(f"sweep name {name!r}: use letters, digits, '-' and '_'")
    directory = Path(root or SWEEP_DIR) / f"{name}-{content_hash(spec or {})}"
    directory.mkdir(parents=True, exist_ok=True)
    spec_file = directory / "spec.json"
    if not spec_file.exists():
        _write_atomically(spec_file, json.dumps(_plain(spec or {}), indent=1, sort_keys=True))
    return directory


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    handle = tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(text)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def result_path(directory: str | Path, item: SweepItem) -> Path:
    """Where the result of ``item`` lives."""
    return Path(directory) / f"{item.key}.json"


def save_result(directory: str | Path, item: SweepItem, result: Mapping[str, Any]) -> None:
    """Save ``result`` of ``item`` atomically (with the item itself, for provenance)."""
    text = json.dumps(_plain({"video": item.video, "setting": item.setting, "result": result}), allow_nan=True)
    _write_atomically(result_path(directory, item), text)


def load_result(directory: str | Path, item: SweepItem) -> dict[str, Any]:
    """The saved result of ``item``."""
    return json.loads(result_path(directory, item).read_text())["result"]


def is_done(directory: str | Path, item: SweepItem) -> bool:
    """Whether ``item`` has a saved result."""
    return result_path(directory, item).is_file()


def unique_items(items: Iterable[SweepItem]) -> list[SweepItem]:
    """``items`` without repeats (same key), in their first order."""
    seen: dict[str, SweepItem] = {}
    for item in items:
        if not isinstance(item, SweepItem):
            raise ConfigError(f"sweep items: expected SweepItem, got {type(item).__name__}")
        seen.setdefault(item.key, item)
    return list(seen.values())


def pending_items(items: Iterable[SweepItem], directory: str | Path) -> list[SweepItem]:
    """The items of ``items`` that have no saved result yet."""
    return [item for item in unique_items(items) if not is_done(directory, item)]


def _check_work(work: Work) -> None:
    """Refuse lambdas and nested functions: an executor must be able to pickle ``work``."""
    qualified = getattr(work, "__qualname__", "")
    if not callable(work) or "<lambda>" in qualified or "<locals>" in qualified:
        raise ConfigError(f"work={work!r}: must be a plain top-level function, so that executors can pickle it")


def run_sweep(
    work: Work,
    items: Sequence[SweepItem],
    directory: str | Path,
    progress: bool = True,
    description: str = "sweep",
    executor: concurrent.futures.Executor | None = None,
    on_result: Callable[[SweepItem, Mapping[str, Any]], None] | None = None,
    threads: int | None = 1,
    chunk_size: int | None = None,
) -> list[dict[str, Any]]:
    """Compute every item's result that is not saved yet, saving each as it finishes.

    Parameters
    ----------
    work : callable
        A top-level function ``work(video, setting) -> dict`` (JSON-able values).
    items : sequence of SweepItem
        What to compute; repeated items are computed once.
    directory : path
        Where results are saved (see :func:`sweep_directory`).
    progress : bool, default True
        Show a progress bar: done/total, counting results found on disk, and the rate.
    description : str, default "sweep"
        The bar's label.
    executor : concurrent.futures.Executor, optional
        Map ``work`` through ``executor.submit`` (e.g. a process pool, or
        :func:`dask_executor` for Dask); results are saved in the order they
        finish. None takes :func:`default_executor` (set by
        :func:`using_executor` or :func:`use_dask`), and without one computes
        in this process, in order.
    on_result : callable, optional
        Called as ``on_result(item, result)`` after each new result is saved
        (e.g. to stop a sweep, or to log); an exception raised there stops
        the sweep with everything saved so far kept.
    threads : int or None, default 1
        Torch threads while items are computed in this process (restored
        after). One, as in Dask's workers (``OMP_NUM_THREADS=1``) and the
        studies' process pools, so that a result does not depend on where it
        was computed: torch's float32 reductions can round differently with
        another thread count (measured: the ICA-LSTM's saliency shares differ
        in the 8th digit between one and two threads). None keeps torch's setting.
    chunk_size : int, optional
        Items sent to an executor together, in their order (one task computes
        them one after the other and returns their results, each then saved).
        Tiny items (a C3D snippet explained in tens of milliseconds) otherwise
        cost more in the executor's round trip than in their work, and
        consecutive items often share a video that a worker decodes once. By
        default :func:`default_chunk_size`; results do not depend on it.

    Returns
    -------
    list of dict
        The result of each of ``items`` (in their order, repeats included), as
        read back from ``directory``.
    """
    from tqdm.auto import tqdm

    _check_work(work)
    executor = executor if executor is not None else default_executor()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    unique = unique_items(items)
    pending = [item for item in unique if not is_done(directory, item)]
    if len(pending) < len(unique):
        LOGGER.info("%s: %d of %d items already done in %s", description, len(unique) - len(pending), len(unique), directory)
    bar = tqdm(total=len(unique), initial=len(unique) - len(pending), desc=description, unit="item",
               disable=not progress, dynamic_ncols=True)
    try:
        if executor is None:
            with _torch_threads(threads):
                for item in pending:
                    _finish(directory, item, work(item.video, item.setting), bar, on_result)
        else:
            size = default_chunk_size(len(pending)) if chunk_size is None else chunk_size
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise ConfigError(f"chunk_size={chunk_size!r}: expected a positive integer or None")
            chunks = [pending[start:start + size] for start in range(0, len(pending), size)]
            futures = {executor.submit(_work_chunk, work, [(item.video, item.setting) for item in chunk]): chunk
                       for chunk in chunks}
            try:
                for future in concurrent.futures.as_completed(futures):
                    for item, result in zip(futures[future], future.result()):
                        _finish(directory, item, result, bar, on_result)
            finally:
                for future in futures:
                    future.cancel()
    finally:
        bar.close()
    return [load_result(directory, item) for item in items]


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Torch's intra-op threads set to ``threads`` within the block (nothing to do without torch).

    With torch imported, :func:`vidsal_core.models.train.torch_threads` (the
    trainer's own setting) does it.
    """
    if threads is None or "torch" not in sys.modules:
        yield
        return

    with torch_threads(threads):
        yield


#: Most items :func:`default_chunk_size` puts in one task.
MAX_CHUNK = 16


def default_chunk_size(pending: int) -> int:
    """Items per executor task for a sweep of ``pending`` items: one per 256 items, 1 to :data:`MAX_CHUNK`.

    Sweeps of a few hundred items (each a second or more of work) keep one item
    per task, so that the workers stay balanced; sweeps of thousands of tiny
    items send them 8 to 16 at a time.
    """
    return max(1, min(MAX_CHUNK, pending // 256))


def _work_chunk(work: Work, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """``work`` on each ``(video, setting)`` in order, in the executor's process (:func:`run_sweep`'s tasks)."""
    study_process()  # a Dask worker is one of the study's processes
    return [work(video, setting) for video, setting in pairs]


def _finish(directory: Path, item: SweepItem, result: Mapping[str, Any], bar: Any,
            on_result: Callable[[SweepItem, Mapping[str, Any]], None] | None) -> None:
    """Save one new result, advance the bar, call the hook."""
    if not isinstance(result, Mapping):
        raise ConfigError(f"sweep work returned {type(result).__name__}; expected a dict of JSON-able values")
    save_result(directory, item, result)
    bar.update(1)
    if on_result is not None:
        on_result(item, result)


# --- where sweeps run: this process, or a Dask cluster -------------------------------------------------

_DEFAULT_EXECUTOR: list[concurrent.futures.Executor | None] = [None]

#: Seconds :func:`dask_executor` waits for a scheduler given by address before it gives up.
CONNECT_TIMEOUT = 10.0


def default_executor() -> concurrent.futures.Executor | None:
    """The executor :func:`run_sweep` uses when it is given none (None: this process)."""
    return _DEFAULT_EXECUTOR[0]


@contextlib.contextmanager
def using_executor(executor: concurrent.futures.Executor | None) -> Iterator[concurrent.futures.Executor | None]:
    """Within the block, every :func:`run_sweep` without an ``executor`` maps its items through ``executor``."""
    previous = _DEFAULT_EXECUTOR[0]
    _DEFAULT_EXECUTOR[0] = executor
    try:
        yield executor
    finally:
        _DEFAULT_EXECUTOR[0] = previous


def parse_dask(spec: str) -> tuple[str, Any]:
    """``("local", N)`` for ``"local:N"``, ``("address", "tcp://host:port")`` for a scheduler's address.

    Raises
    ------
    ConfigError
        For anything else, naming the spec and the two forms it may take.
    """
    text = str(spec).strip()
    forms = "use local:N (N worker processes on this machine) or tcp://host:port (a running dask scheduler)"
    if text.startswith("local:"):
        count = text.removeprefix("local:")
        if not count.isdigit() or int(count) < 1:
            raise ConfigError(f"dask={spec!r}: the number of workers must be a whole number of at least 1; {forms}")
        return "local", int(count)
    scheme, separator, rest = text.partition("://")
    if separator and scheme in ("tcp", "tls") and rest:
        host, colon, port = rest.rpartition(":")
        if not colon or not host or not port.isdigit():
            raise ConfigError(f"dask={spec!r}: a scheduler address needs a host and a port; {forms}")
        return "address", text
    raise ConfigError(f"dask={spec!r}: not a cluster spec; {forms}")


def start_local_cluster(workers: int, host: str = "127.0.0.1"):
    """A ``distributed.LocalCluster`` of ``workers`` processes of one thread each, listening on ``host`` only.

    Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers, so glibc
    would hand freed memory back at once and torch's next allocation of the same
    size would fault it in again (measured on a TSR item of the quick profile:
    twice the CPU time of this process). Workers keep the process's own setting
    instead, which each task tunes
    (:func:`vidsal_study.processes.study_process`). Close it with ``.close()``.
    """
    import dask
    from distributed import LocalCluster

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers={workers!r}: expected a positive number of worker processes")
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host=host,
                            dashboard_address=None, silence_logs=logging.ERROR)


@contextlib.contextmanager
def dask_executor(spec: str, connect_timeout: float = CONNECT_TIMEOUT,
                  host: str = "127.0.0.1") -> Iterator[concurrent.futures.Executor]:
    """A ``concurrent.futures`` executor on a Dask cluster; the cluster (or connection) is closed after.

    Parameters
    ----------
    spec : str
        ``"local:N"``: a ``distributed.LocalCluster`` of N worker processes of
        one thread each (Dask sets ``OMP_NUM_THREADS=1`` in them, so torch uses
        one thread per worker; see :func:`start_local_cluster`),
        listening on ``host`` only. ``"tcp://host:port"``:
        join a scheduler already running there (``dask scheduler`` and
        ``dask worker tcp://host:port`` on each machine; the workers need
        vidsal_core and the data a sweep's items name, but not its results).
    connect_timeout : float, default :data:`CONNECT_TIMEOUT`
        Seconds to wait for a scheduler given by address.
    host : str, default "127.0.0.1"
        Interface a local cluster listens on.

    Raises
    ------
    ConfigError
        A bad spec, or a scheduler that does not answer within ``connect_timeout``.
    """
    from distributed import Client

    kind, value = parse_dask(spec)
    cluster = None
    if kind == "local":
        cluster = start_local_cluster(value, host)
        client = Client(cluster)
    else:
        try:
            client = Client(value, timeout=connect_timeout)
        except (OSError, TimeoutError) as error:
            raise ConfigError(f"dask={spec!r}: no Dask scheduler answered at {value} within {connect_timeout:g} s "
                              f"(start one with `dask scheduler`, or use local:N)") from error
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


_SESSION: dict[str, Any] = {"spec": None, "stack": None}


def use_dask(spec: str | None) -> concurrent.futures.Executor | None:
    """Run every later sweep of this process on ``spec``'s cluster (see :func:`dask_executor`).

    A chapter calls ``use_dask(dask)`` with its ``dask`` parameter: None (the
    default) keeps sweeps in the kernel's process. The cluster stays up for the
    rest of the process and is closed when it exits, or when ``use_dask`` is
    called again with another spec (the same spec keeps the same cluster).

    Returns
    -------
    concurrent.futures.Executor or None
        The executor every sweep now uses by default.
    """
    if spec is not None:
        parse_dask(spec)
    if _SESSION["stack"] is not None and spec == _SESSION["spec"]:
        return default_executor()
    close_dask()
    if spec is None:
        return None
    stack = contextlib.ExitStack()
    executor = stack.enter_context(dask_executor(spec))
    stack.enter_context(using_executor(executor))
    _SESSION.update(spec=spec, stack=stack)
    return executor


def close_dask() -> None:
    """Close the cluster :func:`use_dask` opened, if any; sweeps run in this process again."""
    stack, _SESSION["stack"], _SESSION["spec"] = _SESSION["stack"], None, None
    if stack is not None:
        stack.close()


atexit.register(close_dask)
