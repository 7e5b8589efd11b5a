"""A short name for a browser from its User-Agent ("Firefox 133 on Linux"), small enough to store.

A session stores this, not the header: a full User-Agent (often over 100 bytes) would
push the session hash out of Redis's compact encoding. DEVICE_NAME can replace it.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Order matters: Edge and Opera say "Chrome", Chrome says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"(?:OPR|Opera)/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+).*Safari/")),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


@lru_cache(maxsize=512)
def device_name(user_agent: str) -> str:
    if not user_agent:
        return ""
    browser = next(
        (f"{name} {match.group(1)}" for name, pattern in _BROWSERS if (match := pattern.search(user_agent))), ""
    )
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:24]
