"""stancetopic: batch stance and topic scoring for news paragraphs.

The package is the library that the DVC stages (`train/`, `evaluate/`) and the
`stancetopic` CLI import; it never imports from them.

Nothing is fetched from a model hub at run time, so offline mode is switched on
here, before any module of the package can import huggingface_hub: the hub
reads `HF_HUB_OFFLINE` once, at its own import, and records it in saved
tokenizer configs, so setting it later would leave both online mode and
environment-dependent model files.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"

__version__ = "0.1.0"
