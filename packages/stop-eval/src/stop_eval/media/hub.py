"""Check a ``--model`` (hub id or local folder) before loading it: one clear line when it fails.

``transformers``' ``from_pretrained`` retries several files without a network and ends in
chained tracebacks. Here one request with the hub's metadata timeout (``HF_HUB_ETAG_TIMEOUT``,
10 s by default) tells whether the hub answers at all; then the one file every checkpoint has,
``config.json``, is fetched (or, under ``HF_HUB_OFFLINE=1``, looked up in the local cache, with
no network). Every failure is one line that names the model and what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_FILE = "config.json"
WHAT_TO_DO = (
    "pass a local checkpoint folder (--model PATH), or set HF_HUB_OFFLINE=1 to use only "
    "models already in the local cache"
)


class ModelLoadError(ValueError):
    """A ``--model`` that names neither a usable local folder nor a reachable hub model."""


def looks_like_path(model: str) -> bool:
    """Whether ``model`` means a folder: starts with ``.``, ``/`` or ``~``, or has 3+ parts."""
    return model.startswith((".", "/", "~", os.sep)) or model.count("/") > 1 or "\\" in model


def check_model_source(model: str) -> None:
    """Raise ``ModelLoadError`` (one line: the id and what to do) unless ``model`` can load.

    A local folder must hold ``config.json``; a hub id must resolve ``config.json`` on the hub
    or, with ``HF_HUB_OFFLINE=1``, in the local cache.
    """
    folder = Path(model).expanduser()
    if folder.is_dir():
        if not (folder / CONFIG_FILE).is_file():
            raise ModelLoadError(f"model folder {model!r} has no {CONFIG_FILE}: not a checkpoint")
        return
    if folder.exists() or looks_like_path(model):
        raise ModelLoadError(f"model folder {model!r} not found; {WHAT_TO_DO}")
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    if not constants.HF_HUB_OFFLINE:
        probe_hub(model)
    try:
        hf_hub_download(model, CONFIG_FILE)
    except HFValidationError:
        raise ModelLoadError(
            f"--model {model!r} is neither a local folder nor a valid hub id (owner/name)"
        ) from None
    except GatedRepoError:
        raise ModelLoadError(
            f"model {model!r} is gated on the hub: accept its licence and log in "
            "(`hf auth login`), or pass a local checkpoint folder (--model PATH)"
        ) from None
    except RepositoryNotFoundError:
        raise ModelLoadError(
            f"model {model!r} is not on the hub (or is private): check the id, or pass a local "
            "checkpoint folder (--model PATH)"
        ) from None
    except LocalEntryNotFoundError:
        if constants.HF_HUB_OFFLINE:
            raise ModelLoadError(
                f"model {model!r} is not in the local cache and HF_HUB_OFFLINE=1 is set: download "
                f"it where a network is available (`hf download {model}`) or pass a local "
                "checkpoint folder (--model PATH)"
            ) from None
        raise ModelLoadError(
            f"cannot reach the hub for model {model!r} and it is not in the local cache: "
            f"{WHAT_TO_DO}"
        ) from None
    except EntryNotFoundError:
        raise ModelLoadError(
            f"model {model!r} has no {CONFIG_FILE} on the hub: not a transformers checkpoint"
        ) from None
    except OSError as exc:  # network errors that escape the hub client's own handling
        raise ModelLoadError(
            f"cannot reach the hub for model {model!r} ({type(exc).__name__}): {WHAT_TO_DO}"
        ) from None


def probe_hub(model: str) -> None:
    """One request for ``model``'s hub page; ``ModelLoadError`` when the hub does not answer.

    Any HTTP answer (even 404) passes: ``hf_hub_download`` then says what it means. A model in
    the local cache is named as such, since ``HF_HUB_OFFLINE=1`` would load it.
    """
    import httpx
    from huggingface_hub import constants, try_to_load_from_cache
    from huggingface_hub.utils import build_hf_headers

    timeout = float(constants.HF_HUB_ETAG_TIMEOUT)
    url = f"{constants.ENDPOINT}/api/models/{model}"
    try:
        httpx.head(url, headers=build_hf_headers(), timeout=timeout, follow_redirects=True)
    except httpx.TransportError as exc:
        cached = isinstance(try_to_load_from_cache(model, CONFIG_FILE), str)
        reason = (
            f"timed out after {timeout:g} s"
            if isinstance(exc, httpx.TimeoutException)
            else f"failed: {type(exc).__name__}"
        )
        hint = (
            "it is in the local cache: set HF_HUB_OFFLINE=1 to load it from there"
            if cached
            else f"it is not in the local cache: {WHAT_TO_DO}"
        )
        raise ModelLoadError(
            f"cannot reach the hub ({constants.ENDPOINT}, request {reason}) "
            f"for model {model!r}; {hint}"
        ) from None
