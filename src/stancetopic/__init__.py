"""stancetopic: batch stance and topic scoring for news paragraphs.

The package is the library that the DVC stages (`train/`, `evaluate/`) and the
`stancetopic` CLI import; it never imports from them. Its Python API
(`load_model`, `Model.label`, `label_folder`, `evaluate_file`; docs/python-api.md) is exported
here, each name imported on first use: `import stancetopic` loads neither torch
nor scikit-learn, and a stage script that imports one submodule does not load
(or depend on) the API's modules.

Nothing is fetched from a model hub at run time, so offline mode is switched on
here, before any module of the package can import huggingface_hub, unless the
caller has set `HF_HUB_OFFLINE` already: the hub reads it once, at its own
import, and records it in saved tokenizer configs, so setting it later would
leave both online mode and environment-dependent model files. This is the one
piece of process-wide state the package sets on import (docs/python-api.md).
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

__version__ = "0.1.0"
_EXPORTS = {
    "Model": "stancetopic.api",
    "load_model": "stancetopic.api",
    "evaluate_file": "stancetopic.api",
    "label_folder": "stancetopic.api",
    "StancetopicError": "stancetopic.errors",
    "ModelError": "stancetopic.model",
    "LabelledDataError": "stancetopic.fixtures",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'stancetopic' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
