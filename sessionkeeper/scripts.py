"""The engine's Lua scripts: read once per process from ``lua/*.lua``, called by SHA.

Each script is compiled for the configuration in force: the settings that do not change
from call to call (timeouts, the layout written) are written into its source, so a call
sends and parses only what does (the clock, a session's own limits).

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
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.cluster import RedisCluster
from redis.exceptions import ClusterError, NoScriptError, TryAgainError

from sessionkeeper import layout
from sessionkeeper.client import RedisClient
from sessionkeeper.conf import Config, config

LUA_DIR = Path(__file__).resolve().parent / "lua"
# The shared prelude: the layout, the configuration, the argument header and the expiry rule (lua/_layout.lua).
PRELUDE = (LUA_DIR / "_layout.lua").read_text()
# Where lua/_layout.lua takes the configuration (layout.CONFIGURATION), written in when a script is compiled.
CONFIGURATION_MARK = "{{CONFIGURATION}}"
# Where the part 'kept' of lua/_layout.lua takes KEEP's fields (conf.Config.kept_fields).
KEPT_MARK = "{{KEPT}}"
_PART = re.compile(r"^-- @part (\w+)(?:: ([\w ]+))?$", re.MULTILINE)
_USES = re.compile(r"\A-- @uses ([\w ]+)$", re.MULTILINE)


def _parts(prelude: str) -> tuple[str, dict[str, tuple[list[str], str]]]:
    """The prelude's head (in every script) and its parts: name -> (parts it needs, its text)."""
    markers = list(_PART.finditer(prelude))
    parts = {}
    for marker, following in zip(markers, [*markers[1:], None], strict=True):
        end = following.start() if following else len(prelude)
        parts[marker.group(1)] = ((marker.group(2) or "").split(), prelude[marker.start() : end])
    return prelude[: markers[0].start()], parts


def prelude_for(script: str) -> str:
    """The head of _layout.lua and, in its order, the parts the script's '-- @uses' line names or needs."""
    head, parts = _parts(PRELUDE)
    used = _USES.match(script)
    wanted = set((used.group(1) if used else "").split())
    while needed := {need for name in wanted for need in parts[name][0]} - wanted:
        wanted |= needed
    return head + "".join(text for name, (_, text) in parts.items() if name in wanted)


Argument = str | bytes | int | float

# Client type -> whether it speaks the Cluster protocol. isinstance() against RedisCluster goes
# through typing's Protocol machinery (about a microsecond); a request asks several times.
_CLUSTER_TYPES: dict[type, bool] = {}


def is_cluster(client: RedisClient) -> bool:
    kind = type(client)
    known = _CLUSTER_TYPES.get(kind)
    if known is None:
        known = _CLUSTER_TYPES[kind] = isinstance(client, RedisCluster)
    return known


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
class Compiled:
    """A script as sent to Redis: for one configuration, the settings written into its source."""

    source: str
    sha: str


# One compiled form per script and configuration; the configuration object is kept so its id stays its own.
_compiled: dict[tuple[str, int], tuple[Config, Compiled]] = {}


def compile_source(template: str, options: Config) -> Compiled:
    """``template`` with the configuration lines of lua/_layout.lua filled in from ``options``."""
    values = ", ".join(str(int(getattr(options, name))) for name in layout.CONFIGURATION)
    source = template.replace(CONFIGURATION_MARK, values, 1)
    source = source.replace(KEPT_MARK, lua_list(options.kept_fields), 1)
    return Compiled(source, hashlib.sha1(source.encode()).hexdigest())


def lua_list(texts: Sequence[str]) -> str:
    """A Lua table of strings; every byte but letters, digits and ``_-:.`` as a decimal escape."""
    safe = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:.")
    quoted = ("'" + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in text.encode()) + "'" for text in texts)
    return "{" + ", ".join(quoted) + "}"


@dataclass(frozen=True)
class LuaScript:
    name: str
    template: str  # its prelude and itself, the configuration still to be written in

    @classmethod
    def from_file(cls, name: str) -> LuaScript:
        script = (LUA_DIR / f"{name}.lua").read_text()
        return cls(name=name, template=prelude_for(script) + script)

    def compiled(self) -> Compiled:
        """The script for the configuration in force (conf.config())."""
        options = config()
        known = _compiled.get((self.name, id(options)))
        if known is None or known[0] is not options:
            known = (options, compile_source(self.template, options))
            _compiled[(self.name, id(options))] = known
        return known[1]

    @property
    def source(self) -> str:
        return self.compiled().source

    @property
    def sha(self) -> str:
        return self.compiled().sha

    def __call__(self, client: RedisClient, keys: Sequence[str], args: Sequence[Argument]) -> Any:
        """Run the script: one round trip, three when the server has to be taught the scripts again."""
        if is_cluster(client):
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
    _load_every_script(client.get_node_from_key(key).redis_connection if is_cluster(client) else client)


def _load_every_script(server: RedisClient) -> None:
    """SCRIPT LOAD every script on one server, in one round trip."""
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
    cluster = is_cluster(client)
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
    if is_cluster(client):
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
    servers = [node.redis_connection for node in client.get_primaries()] if is_cluster(client) else [client]
    for server in servers:
        _load_every_script(server)
