"""The on-disk training cache shared by every trainer of the torch layer: private.

A cache entry is keyed by a SHA-256 of *everything* that determines a training run (see
:func:`key`), so that several chapters that train the same model on the same data share one run.
It is on by default; ``cache=False`` or the environment variable ``FAIRNOTES_MODEL_CACHE=0`` turns
it off. Entries live in ``FAIRNOTES_CACHE_DIR`` (default ``~/.cache/fairnotes/models``). They are
read with ``torch.load(..., weights_only=True)``: an entry holds tensors, numbers, strings, lists
and dicts only, and a file planted in a shared cache folder cannot run code when it is read.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import numpy as np

from fairnotes._validation import env_flag


def cache_dir() -> Path:
    """Folder of the training cache: ``FAIRNOTES_CACHE_DIR`` or ``~/.cache/fairnotes/models``."""
    root = os.environ.get("FAIRNOTES_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "fairnotes" / "models"


def enabled(cache: bool | None) -> bool:
    """``cache`` if given, else ``FAIRNOTES_MODEL_CACHE`` (default on)."""
    if cache is not None:
        return bool(cache)
    return env_flag("FAIRNOTES_MODEL_CACHE", True)


def key(tag, args: dict, modules, arrays) -> str:
    """SHA-256 of everything that determines a training run.

    ``tag`` names the algorithm (and its version); ``args`` its settings; ``modules`` the networks
    it starts from (class, configuration and every weight); ``arrays`` the data (numpy arrays or
    tensors, ``None`` allowed). The fairnotes and torch versions are part of the key.
    """
    import torch

    import fairnotes

    h = hashlib.sha256()
    h.update(repr((tag, fairnotes.__version__, torch.__version__, sorted(args.items()))).encode())
    for m in modules:
        h.update(repr((type(m).__module__, type(m).__qualname__, sorted(getattr(m, "config", {}).items()))).encode())
        for name, value in m.state_dict().items():
            h.update(name.encode())
            h.update(value.detach().cpu().contiguous().numpy().tobytes())
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        a = np.ascontiguousarray(a)
        h.update(repr((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _load(path: Path):
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a corrupt, foreign or incompatible entry: train again and overwrite it
        return None


def _save(path: Path, payload: dict) -> None:
    import io

    import torch

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        torch.save(payload, buf)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    except OSError:
        pass  # a read-only or full disk only costs the next run a retraining


def load_or_train(name: str, digest: str, train: Callable[[], dict], *, use_cache: bool) -> tuple[dict, bool]:
    """The payload of the cache entry ``name-digest``, or ``train()``'s (kept for next time).

    ``train`` returns a dict of tensors (state dicts), numbers, strings, lists and dicts. Returns
    ``(payload, cached)``; the caller loads the state dicts into its modules when ``cached``.
    """
    path = cache_dir() / f"{name}-{digest[:32]}.pt"
    if use_cache and path.exists():
        payload = _load(path)
        if payload is not None:
            return payload, True
    payload = train()
    if use_cache:
        _save(path, payload)
    return payload, False


def state_dict(module) -> dict:
    """The module's weights as CPU tensors, ready to store."""
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}
