"""The line every benchmark prints about where it ran: figures only compare on one machine."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    """The CPU model (from /proc/cpuinfo where there is one) and the core count."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    return f"{names[0] if names else platform.processor() or platform.machine()}, {os.cpu_count()} cores"
