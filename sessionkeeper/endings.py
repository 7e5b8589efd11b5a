"""Why a session is over, for the next page to say so in one line.

``SessionStore.ending`` is None, or an ``Ending`` when the cookie a request came with named a
session that is over: past its idle or absolute limit (load.lua finds it so), signed out from
elsewhere (a tombstone under the session's own key says why), or a layout-3 signed-in cookie
whose session is gone. Only the cookie's holder can reach a tombstone (its key is named by the
cookie's digest), and a tombstone names nothing but a reason, so this tells nobody anything
about another person's session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Found by load.lua: the session went past a limit.
IDLE = "idle"
ABSOLUTE = "absolute"
# A signed-in (layout 3) cookie whose session is gone, its tombstone too: why is no longer known.
ENDED = "ended"
# Reasons the engine buries sessions with; callers of sessionkeeper.user_sessions may name their own.
REVOKED = "revoked"
LIMIT = "limit"  # signed out to keep a user within MAX_SESSIONS_PER_USER: the oldest goes

REASON = re.compile(r"[a-z_]{1,16}")


@dataclass(frozen=True)
class Ending:
    reason: str
    signed_in: bool  # the session that ended had a login
    kept: bool  # its KEEP keys (a guest cart) were carried into this request's fresh session
    idle_seconds: int  # the idle timeout that applied to it


def check_reason(reason: str) -> str:
    if not REASON.fullmatch(reason):
        raise ValueError(f"A sign-out reason is 1 to 16 lowercase letters or '_', not {reason!r}.")
    return reason
