"""The local state file per environment (``.azure/<env>.json``, git-ignored).

It keeps what must not change between runs: the random name suffix (so a second run
reuses the same names), the generated SECRET_KEY and database password, and the ids
of what was made. It holds secrets, so it is written owner-only and never printed.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class DeploymentState:
    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, state_dir: Path, environment: str) -> DeploymentState:
        path = state_dir / f"{environment}.json"
        if path.exists():
            return cls(path, json.loads(path.read_text()))
        return cls(path, {"environment": environment})

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        # Created owner-only from the start: the file holds the SECRET_KEY and a password.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(self.data, handle, indent=2, sort_keys=True)
        temporary.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def remembered(self, key: str, make: Any) -> str:
        """The value kept under ``key``, made (and kept) by ``make()`` the first time."""
        if not self.data.get(key):
            self.data[key] = make()
        return str(self.data[key])

    def name_suffix(self, wanted: str | None) -> str:
        if wanted:
            self.data["name_suffix"] = wanted
        return self.remembered("name_suffix", lambda: secrets.token_hex(3))

    def secret_key(self) -> str:
        return self.remembered("secret_key", lambda: secrets.token_urlsafe(50))

    def database_password(self) -> str:
        # Letters, digits and a symbol: PostgreSQL flexible server demands three classes.
        return self.remembered("database_password", lambda: secrets.token_urlsafe(24) + "-P9")

    def record(self, key: str, value: Any) -> None:
        self.data[key] = value
