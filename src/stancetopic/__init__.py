"""stancetopic: batch stance and topic scoring for news paragraphs.

The package is the library that the DVC stages (`train/`, `evaluate/`) and the
`stancetopic` CLI import; it never imports from them. Its Python API
(`load_model`, `Model.label`, `evaluate_file`; docs/python-api.md) is exported
here, and importing the package loads neither torch nor scikit-learn.

Nothing is fetched from a model hub at run time, so offline mode is switched on
here, before any module of the package can import huggingface_hub, unless the
caller has set `HF_HUB_OFFLINE` already: the hub reads it once, at its own
import, and records it in saved tokenizer configs, so setting it later would
leave both online mode and environment-dependent model files. This is the one
piece of process-wide state the package sets on import (docs/python-api.md).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from stancetopic.api import Model, evaluate_file, load_model  # after offline mode is set

if TYPE_CHECKING:
    from stancetopic.fixtures import LabelledDataError
    from stancetopic.model import ModelError

__version__ = "0.1.0"
__all__ = ["LabelledDataError", "Model", "ModelError", "__version__", "evaluate_file", "load_model"]
# label_folder: to come, on the label job's library `run(job)` (see api.py).

_ERRORS = {"ModelError": "stancetopic.model", "LabelledDataError": "stancetopic.fixtures"}


def __getattr__(name: str) -> Any:
    """The error classes, imported on first use so `import stancetopic` stays light."""
    if name in _ERRORS:
        import importlib

        return getattr(importlib.import_module(_ERRORS[name]), name)
    raise AttributeError(f"module 'stancetopic' has no attribute {name!r}")
