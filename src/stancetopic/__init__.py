"""stancetopic: batch stance and topic scoring for news paragraphs.

The package is the library that the DVC stages (`train/`, `evaluate/`) and the
`stancetopic` CLI import; it never imports from them.
"""

__version__ = "0.1.0"
