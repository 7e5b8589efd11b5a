"""Output for the provisioning commands, honouring ``--verbosity`` and ``--output json``.

Verbosity 0 prints only errors and the final line, 1 (default) each step with its
elapsed time and resource id and progress during long waits, 2 adds each step as it
starts and the names of app settings changed.
With ``--output json`` the human lines are suppressed so stdout stays one JSON document.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import OutputWrapper
from django.core.management.color import Style


class Reporter:
    def __init__(self, stdout: OutputWrapper, style: Style, verbosity: int = 1, json_output: bool = False) -> None:
        self.stdout = stdout
        self.style = style
        self.verbosity = verbosity
        self.json_output = json_output

    def _say(self, text: str, level: int = 1) -> None:
        if not self.json_output and self.verbosity >= level:
            self.stdout.write(text)

    def heading(self, text: str) -> None:
        self._say(self.style.MIGRATE_HEADING(text))

    def line(self, text: str, level: int = 1) -> None:
        self._say(text, level)

    def step_started(self, title: str, name: str) -> None:
        self._say(f"  {title} {name} ...", level=2)

    def step_done(self, title: str, outcome: str, resource_id: str, elapsed: float) -> None:
        styled = self.style.SUCCESS(outcome) if outcome != "unchanged" else outcome
        self._say(f"  {title:<32} {styled:<9} {elapsed:5.1f}s  {resource_id}")

    def progress(self, text: str) -> None:
        self._say(text, level=1)

    def note(self, text: str) -> None:
        self._say(self.style.WARNING(f"  note: {text}"))

    def success(self, text: str) -> None:
        if not self.json_output and self.verbosity >= 0:
            self.stdout.write(self.style.SUCCESS(text))

    def document(self, payload: Any) -> None:
        self.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str))


def table(rows: list[tuple[str, ...]], headers: tuple[str, ...]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
        for row in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
