"""The conformance scenario runner for the Python face (format: tests/conformance/README.md).

Each scenario runs against a fresh store through the public ``sessionkit`` API, exactly as an
application would call it; results are turned into JSON with the SPEC field names and matched
with the same rules as the Rust runner (``core/sessionkit/src/testing``).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import sessionkit
from sessionkit import (
    Config,
    ListOptions,
    ManualClock,
    NewSession,
    SessionManager,
    SessionkitError,
    parse_client_kind,
    parse_context_policy,
    parse_session_limit_policy,
)

DEFAULT_CLOCK_START_MS = 1_700_000_000_000


def repo_root() -> Path:
    """The repository root: the first parent holding ``tests/conformance``."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "tests" / "conformance").is_dir():
            return parent
    raise RuntimeError(f"no tests/conformance above {here}")


def scenario_files() -> List[Path]:
    """Every ``*.json`` scenario, sorted by file name (never a fixed list)."""
    return sorted((repo_root() / "tests" / "conformance").glob("*.json"))


class ScenarioError(Exception):
    """The scenario itself is malformed (unknown op, bad reference, missing argument)."""


# ---- references and expressions -----------------------------------------------------------


def json_text(value: Any) -> str:
    """Compact JSON with sorted keys, as serde_json writes a value."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


class Refs:
    """Results saved by earlier steps, resolvable as ``$name`` or ``$name.field.0.field``."""

    def __init__(self) -> None:
        self.saved: Dict[str, Any] = {}

    def save(self, name: str, value: Any) -> None:
        self.saved[name] = value

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith("$$"):
                return value[1:]
            if value.startswith("$"):
                return self.lookup(value[1:])
            return value
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            if len(value) == 1 and "$concat" in value:
                parts = self.resolve(value["$concat"])
                if not isinstance(parts, list):
                    raise ScenarioError("$concat takes an array")
                return "".join(p if isinstance(p, str) else json_text(p) for p in parts)
            if len(value) == 1 and "$repeat" in value:
                args = self.resolve(value["$repeat"])
                if (
                    not isinstance(args, list)
                    or len(args) != 2
                    or not isinstance(args[0], str)
                    or not is_number(args[1])
                    or args[1] < 0
                    or args[1] != int(args[1])
                ):
                    raise ScenarioError("$repeat takes [string, non-negative count]")
                return args[0] * int(args[1])
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def lookup(self, path: str) -> Any:
        name, *parts = path.split(".")
        if name not in self.saved:
            raise ScenarioError(f"no saved result named {name!r}")
        current = self.saved[name]
        for part in parts:
            if isinstance(current, dict) and part in current:
                current = current[part]
            elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            else:
                raise ScenarioError(f"${path}: nothing at {part!r}")
        return current


# ---- matching -----------------------------------------------------------------------------


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if is_number(v):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def json_equal(a: Any, b: Any) -> bool:
    """Structural JSON equality (a boolean is never a number)."""
    if is_number(a) and is_number(b):
        return a == b and not (isinstance(a, float) and math.isnan(a))
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return a == b


def matches(expected: Any, actual: Any) -> bool:
    """Subset matching with the ``$type``, ``$len`` and ``$ne`` matchers."""
    if isinstance(expected, dict) and len(expected) == 1:
        if "$type" in expected:
            return type_name(actual) == expected["$type"]
        if "$len" in expected:
            if not isinstance(actual, (list, str)):
                return False
            return is_number(expected["$len"]) and len(actual) == expected["$len"]
        if "$ne" in expected:
            return not json_equal(expected["$ne"], actual)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        return all(
            (k in actual and matches(v, actual[k])) or (v is None and k not in actual)
            for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a) for e, a in zip(expected, actual))
        )
    return json_equal(expected, actual)


# ---- calling the API ----------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A result of the Python API as JSON with SPEC field names."""
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if type(value).__module__.startswith("sessionkit._native"):
        # A generated record: its fields, in declaration order.
        return {k: to_json(v) for k, v in vars(value).items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


def config_value(name: str, value: Any) -> Any:
    """A scenario's config value as ``Config`` takes it: the policies' names as enums."""
    if name == "session_limit_policy":
        return parse_session_limit_policy(value)
    if name == "context_policy":
        return parse_context_policy(value)
    return value


def error_to_json(err: SessionkitError) -> Dict[str, Any]:
    out: Dict[str, Any] = {"kind": err.kind, "message": str(err)}
    fields = {
        "Conflict": ("current_version",),
        "LimitExceeded": ("what",),
        "InvalidInput": ("field", "reason"),
        "Corrupt": ("what",),
        "IncompatibleSchema": ("found", "supported"),
    }.get(err.kind, ())
    for name in fields:
        out[name] = getattr(err, name)
    if err.kind == "Storage":
        out["storage_message"] = err.message
    return out


def arg(args: Dict[str, Any], name: str) -> Any:
    if name not in args:
        raise ScenarioError(f"argument {name!r} is required")
    return args[name]


def opt(args: Dict[str, Any], name: str, default: Any = None) -> Any:
    value = args.get(name)
    return default if value is None else value


def call(manager: SessionManager, op: str, args: Dict[str, Any]) -> Any:
    """Performs ``op`` through the Python API; returns its result as JSON."""
    m = manager
    if op == "create":
        new = NewSession(
            user_id=arg(args, "user_id"),
            client_kind=parse_client_kind(arg(args, "client_kind")),
            client_version=args.get("client_version"),
            device=args.get("device"),
            ip=args.get("ip"),
            user_agent=args.get("user_agent"),
            metadata=args.get("metadata"),
        )
        return to_json(m.create(new))
    if op == "validate":
        return to_json(m.validate(arg(args, "token")))
    if op in ("get", "touch", "rotate", "get_state"):
        return to_json(getattr(m, op)(arg(args, "id")))
    if op in ("revoke", "delete", "clear_state"):
        getattr(m, op)(arg(args, "id"))
        return None
    if op == "update_metadata":
        return to_json(m.update_metadata(arg(args, "id"), arg(args, "patch")))
    if op == "list_user_sessions":
        given = {k: args[k] for k in ("active_only", "limit", "cursor") if args.get(k) is not None}
        page = m.list_user_sessions(arg(args, "user_id"), ListOptions(**given))
        return to_json(page)
    if op == "revoke_user_sessions":
        return m.revoke_user_sessions(arg(args, "user_id"), args.get("except"))
    if op == "cleanup_expired":
        return m.cleanup_expired()
    if op == "count_active":
        return m.count_active()
    if op == "count_user_sessions":
        return m.count_user_sessions(arg(args, "user_id"), opt(args, "active_only", False))
    if op == "stats":
        return to_json(m.stats())
    if op == "put_state":
        return m.put_state(arg(args, "id"), arg(args, "data"), args.get("expected_version"))
    if op == "patch_state":
        return m.patch_state(arg(args, "id"), arg(args, "patch"), args.get("expected_version"))
    raise ScenarioError(f"unknown operation {op!r}")


# ---- running a scenario -------------------------------------------------------------------

Opener = Callable[[Config, ManualClock], SessionManager]


def check_step(step: Dict[str, Any], refs: Refs, ok: bool, value: Any) -> None:
    expected_error = step.get("error")
    if ok and expected_error is None:
        if "expect" in step:
            expect = refs.resolve(step["expect"])
            if not matches(expect, value):
                raise AssertionError(f"got {json_text(value)}, expected {json_text(expect)}")
        if step.get("save"):
            refs.save(step["save"], value)
    elif ok:
        raise AssertionError(f"succeeded with {json_text(value)}, expected error {json_text(expected_error)}")
    elif expected_error is not None:
        expected = refs.resolve(expected_error)
        if isinstance(expected, str):
            expected = {"kind": expected}
        if not matches(expected, value):
            raise AssertionError(f"failed with {json_text(value)}, expected {json_text(expected)}")
    else:
        raise AssertionError(f"failed: {value['kind']} ({value['message']})")


def run(scenario: Dict[str, Any], open_manager: Opener) -> None:
    """Runs one scenario; raises AssertionError naming the failing step."""
    config = Config(**{k: config_value(k, v) for k, v in scenario.get("config", {}).items()})
    clock = ManualClock(scenario.get("clock_start_ms", DEFAULT_CLOCK_START_MS))
    open_error = scenario.get("open_error")
    try:
        manager = open_manager(config, clock)
    except SessionkitError as err:
        if open_error is None:
            raise AssertionError(f"open failed: {err.kind} ({err})") from None
        expected = {"kind": open_error} if isinstance(open_error, str) else open_error
        if not matches(expected, error_to_json(err)):
            raise AssertionError(f"open failed with {error_to_json(err)}, expected {open_error}") from None
        return
    if open_error is not None:
        raise AssertionError(f"open succeeded, expected error {json_text(open_error)}")

    events: List[Dict[str, Any]] = []
    subscription = manager.subscribe(lambda event: events.append(event.to_dict()))
    refs = Refs()
    try:
        for index, step in enumerate(scenario.get("steps", [])):
            op = step["op"]
            try:
                args = refs.resolve(step.get("args", {}))
                if op == "advance":
                    ok, value = True, clock.advance(arg(args, "ms"))
                elif op == "events":
                    ok, value = True, list(events)
                    events.clear()
                else:
                    try:
                        ok, value = True, call(manager, op, args)
                    except SessionkitError as err:
                        ok, value = False, error_to_json(err)
                check_step(step, refs, ok, value)
            except (AssertionError, ScenarioError) as failure:
                raise AssertionError(f"{scenario['name']} step {index} ({op}): {failure}") from None
    finally:
        subscription.close()


def open_memory(config: Config, clock: ManualClock) -> SessionManager:
    return SessionManager.open_memory(config, clock)


def sqlite_opener(directory: Path) -> Opener:
    def open_sqlite(config: Config, clock: ManualClock) -> SessionManager:
        return SessionManager.open_sqlite(str(directory / "sessions.db"), config, clock)

    return open_sqlite


__all__ = ["run", "scenario_files", "repo_root", "matches", "Refs", "open_memory", "sqlite_opener", "sessionkit"]
