"""The engine's Lua scripts: read once per process from ``lua/*.lua``, called by SHA.

A server that has forgotten its scripts (restart, failover, SCRIPT FLUSH) answers
NOSCRIPT; every script is then loaded again on that server in one round trip and
the call repeated. Pipelines get the same fallback for each call that came back
NOSCRIPT.

While a cluster slot moves between masters its keys are split between them for a
moment; a script whose keys are not all on one side is refused with TRYAGAIN (it did
not run). redis-py follows ASK and MOVED and retries TRYAGAIN for a few milliseconds;
the engine waits longer (MIGRATION_PAUSES) before calling it an outage.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.cluster import RedisCluster
from redis.exceptions import ClusterError, NoScriptError, TryAgainError

from sessionkeeper.client import RedisClient

LUA_DIR = Path(__file__).resolve().parent / "lua"
# The shared prelude: the layout, the argument header and the expiry rule (lua/_layout.lua).
PRELUDE = (LUA_DIR / "_layout.lua").read_text()

Argument = str | bytes | int | float

# Seconds to wait, one after the other, while a slot's keys are split mid-migration (2.55 s at most):
# a reshard moves a slot's keys in moments, and a request is better slow than refused.
MIGRATION_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0)


def mid_migration(error: BaseException) -> bool:
    """TRYAGAIN, or redis-py giving up after its own few retries of it and of ASK: nothing ran."""
    return isinstance(error, TryAgainError) or (isinstance(error, ClusterError) and "TTL exhausted" in str(error))


def through_migrations(call: Callable[[], Any]) -> Any:
    """``call()``, called again after a pause while it meets a slot split by a migration."""
    for pause in MIGRATION_PAUSES:
        try:
            return call()
        except (TryAgainError, ClusterError) as error:
            if not mid_migration(error):
                raise
        time.sleep(pause)
    return call()


@dataclass(frozen=True)
class LuaScript:
    name: str
    source: str
    sha: str

    @classmethod
    def from_file(cls, name: str) -> LuaScript:
        source = PRELUDE + (LUA_DIR / f"{name}.lua").read_text()
        return cls(name=name, source=source, sha=hashlib.sha1(source.encode()).hexdigest())

    def __call__(self, client: RedisClient, keys: Sequence[str], args: Sequence[Argument]) -> Any:
        """Run the script: one round trip, three when the server has to be taught the scripts again."""
        if isinstance(client, RedisCluster):
            return through_migrations(lambda: self.run(client, keys, args))
        return self.run(client, keys, args)

    def run(self, client: RedisClient, keys: Sequence[str], args: Sequence[Argument]) -> Any:
        try:
            return client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return self.evaluate(client, keys, args)

    def evaluate(self, client: RedisClient, keys: Sequence[str], args: Sequence[Argument]) -> Any:
        """Teach the server every script (it forgot them all at once), then run this one by SHA."""
        load_scripts(client, keys[0])
        try:
            return client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            # A failover between the two calls: EVAL cannot be forgotten.
            return client.execute_command("EVAL", self.source, len(keys), *keys, *args)


def load_scripts(client: RedisClient, key: str) -> None:
    """SCRIPT LOAD every script, in one round trip, on the server that holds ``key``."""
    server = client.get_node_from_key(key).redis_connection if isinstance(client, RedisCluster) else client
    pipeline = server.pipeline(transaction=False)
    for script in ALL_SCRIPTS:
        pipeline.execute_command("SCRIPT LOAD", script.source)
    pipeline.execute()


@dataclass(frozen=True)
class ScriptCall:
    script: LuaScript
    keys: tuple[str, ...]
    args: tuple[Argument, ...]


@dataclass(frozen=True)
class Command:
    """A plain Redis command in a pipeline, e.g. Command(("ZADD", key, score, member))."""

    args: tuple[Argument, ...]


Step = ScriptCall | Command


def run_pipeline(client: RedisClient, steps: Sequence[Step], raise_on_error: bool = True) -> list[Any]:
    """Send ``steps`` as one pipeline (one round trip per node) and return their replies.

    Not a transaction: on a cluster the steps may live in different slots. The first
    error other than NOSCRIPT is raised after every NOSCRIPT call has been repeated;
    with ``raise_on_error=False`` errors are returned in place of their replies.
    """
    if len(steps) == 1 and raise_on_error:
        return [_run_one(client, steps[0])]
    cluster = isinstance(client, RedisCluster)
    pipeline = client.pipeline(transaction=False)
    for step in steps:
        if isinstance(step, ScriptCall):
            # execute_command, not pipeline.evalsha: redis-py's cluster pipeline blocks the method;
            # target_nodes, or the cluster pipeline asks a server (COMMAND GETKEYS) where to send it.
            options = {"target_nodes": client.get_node_from_key(step.keys[0])} if cluster else {}
            pipeline.execute_command("EVALSHA", step.script.sha, len(step.keys), *step.keys, *step.args, **options)
        else:
            pipeline.execute_command(*step.args)
    replies = pipeline.execute(raise_on_error=False)
    first_error: Exception | None = None
    for index, (step, reply) in enumerate(zip(steps, replies, strict=False)):
        if isinstance(reply, NoScriptError) and isinstance(step, ScriptCall):
            replies[index] = step.script.evaluate(client, step.keys, step.args)
        elif isinstance(reply, Exception) and mid_migration(reply):
            replies[index] = _run_one(client, step)  # it did not run: again, waiting out the migration
        elif isinstance(reply, Exception) and first_error is None:
            first_error = reply
    if first_error is not None and raise_on_error:
        raise first_error
    return replies


def _run_one(client: RedisClient, step: Step) -> Any:
    if isinstance(step, ScriptCall):
        return step.script(client, step.keys, step.args)
    if isinstance(client, RedisCluster):
        return through_migrations(lambda: client.execute_command(*step.args))
    return client.execute_command(*step.args)


LOAD = LuaScript.from_file("load")
CREATE = LuaScript.from_file("create")
SAVE = LuaScript.from_file("save")
COUNTER = LuaScript.from_file("counter")
REVOKE = LuaScript.from_file("revoke")
INDEX = LuaScript.from_file("index")
RATE = LuaScript.from_file("rate")
RETIRE = LuaScript.from_file("retire")
ALL_SCRIPTS = (LOAD, CREATE, SAVE, COUNTER, REVOKE, INDEX, RATE, RETIRE)


def load_scripts_everywhere(client: RedisClient) -> None:
    """Load every script on every primary now, so no request pays the NOSCRIPT fallback.

    Optional (the fallback covers it); the benchmark and the tests call it for steady numbers.
    """
    servers = (
        [node.redis_connection for node in client.get_primaries()] if isinstance(client, RedisCluster) else [client]
    )
    for server in servers:
        pipeline = server.pipeline(transaction=False)
        for script in ALL_SCRIPTS:
            pipeline.execute_command("SCRIPT LOAD", script.source)
        pipeline.execute()
