"""What the deployment watches: metric alerts and diagnostic settings, as plain data.

Each product names its own (provisioning/redis_products.py): a metric or category is only
planned where Azure publishes it for that resource type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

DiagnosticTarget = Literal["redis", "redis_database", "web_app"]


class Placed(Protocol):
    """A region of the plan (provisioning.plan.Region), as much as an alert's name needs."""

    @property
    def primary(self) -> bool: ...

    @property
    def location(self) -> str: ...


@dataclass(frozen=True)
class AlertRule:
    """A metric alert on Redis; ``metric`` is the resource type's own REST name for it."""

    name: str
    # What firing means, in the user's terms; also the alert's description in Azure.
    meaning: str
    metric: str
    aggregation: str
    threshold: float
    severity: int = 2
    operator: str = "GreaterThan"
    window: str = "PT5M"
    frequency: str = "PT1M"

    def name_in(self, region: Placed) -> str:
        """The primary region's alert keeps the plain name; the others add their region."""
        return self.name if region.primary else f"{self.name}-{region.location}"


@dataclass(frozen=True)
class DiagnosticPlan:
    """A diagnostic setting to the workspace: the log categories and metric categories it exports."""

    name: str
    target: DiagnosticTarget
    log_categories: tuple[str, ...] = ()
    metric_categories: tuple[str, ...] = ()
