"""Azure's naming rules for the resources the plan names, checked before anything is sent.

From "Naming rules and restrictions for Azure resources" (learn.microsoft.com/azure/azure-
resource-manager/management/resource-name-rules; the stored copy read is MicrosoftDocs/
azure-docs articles/azure-resource-manager/management/resource-name-rules.md @ 0010dc26,
2026-12-02), except Azure Managed Redis, which that copy predates: its rule is the cluster
name's in the Azure PowerShell reference (Az.RedisEnterpriseCache, ClusterName: "1-60
characters long. Allowed characters(A-Z, a-z, 0-9) and hyphen(-). There can be no leading
nor trailing nor consecutive hyphens"). Names of resources whose rules the library does not
hold (Application Insights, action groups, private endpoints, Front Door endpoints) are not
checked here; Azure checks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALPHANUMERIC = "A-Za-z0-9"


@dataclass(frozen=True)
class NameRule:
    """One resource type's rule, in words for the user and as checks."""

    kind: str
    minimum: int
    maximum: int
    characters: str  # a regex character class, without brackets
    words: str
    start: str = ALPHANUMERIC
    end: str = ALPHANUMERIC
    consecutive_hyphens: bool = True

    def problems(self, name: str) -> list[str]:
        found = []
        if not self.minimum <= len(name) <= self.maximum:
            found.append(f"is {len(name)} characters long, not {self.minimum}-{self.maximum}")
        if not re.fullmatch(f"[{self.characters}]*", name):
            found.append("has characters other than " + self.words)
        if name and not re.fullmatch(f"[{self.start}]", name[0]):
            found.append(f"starts with {name[0]!r}")
        if name and not re.fullmatch(f"[{self.end}]", name[-1]):
            found.append(f"ends with {name[-1]!r}")
        if not self.consecutive_hyphens and "--" in name:
            found.append("has consecutive hyphens")
        return found


RULES = {
    "resource group": NameRule(
        "resource group",
        1,
        90,
        ALPHANUMERIC + r"_().\-",
        "letters, digits, underscores, parentheses, hyphens and periods",
        start=ALPHANUMERIC + r"_().\-",
        end=ALPHANUMERIC + r"_()\-",
    ),
    "Log Analytics workspace": NameRule(
        "Log Analytics workspace", 4, 63, ALPHANUMERIC + r"\-", "letters, digits and hyphens"
    ),
    "virtual network": NameRule(
        "virtual network",
        2,
        64,
        ALPHANUMERIC + r"_.\-",
        "letters, digits, underscores, periods and hyphens",
        end=ALPHANUMERIC + "_",
    ),
    "Azure Managed Redis": NameRule(
        "Azure Managed Redis", 1, 60, ALPHANUMERIC + r"\-", "letters, digits and hyphens", consecutive_hyphens=False
    ),
    "Azure Cache for Redis": NameRule(
        "Azure Cache for Redis", 1, 63, ALPHANUMERIC + r"\-", "letters, digits and hyphens", consecutive_hyphens=False
    ),
    # The copy lists servers (the single-server product); flexible servers take the same names.
    "PostgreSQL server": NameRule(
        "PostgreSQL server", 3, 63, r"a-z0-9\-", "lower-case letters, digits and hyphens", start="a-z0-9", end="a-z0-9"
    ),
    "App Service plan": NameRule("App Service plan", 1, 40, ALPHANUMERIC + r"\-", "letters, digits and hyphens"),
    "web app": NameRule("web app", 2, 60, ALPHANUMERIC + r"\-", "letters, digits and hyphens"),
    "Key Vault": NameRule(
        "Key Vault",
        3,
        24,
        ALPHANUMERIC + r"\-",
        "letters, digits and hyphens",
        start="A-Za-z",
        consecutive_hyphens=False,
    ),
    "Front Door profile": NameRule("Front Door profile", 1, 260, ALPHANUMERIC + r"\-", "letters, digits and hyphens"),
}


def broken_rules(names: list[tuple[str, str]]) -> list[str]:
    """``(kind, name)`` pairs to sentences, one per name that breaks its rule."""
    sentences = []
    for kind, name in names:
        rule = RULES[kind]
        problems = rule.problems(name)
        if problems:
            sentences.append(
                f"{kind} name {name!r} {' and '.join(problems)} "
                f"({kind} names: {rule.minimum}-{rule.maximum} {rule.words}"
                + (", no two hyphens in a row" if not rule.consecutive_hyphens else "")
                + ")"
            )
    return sentences
