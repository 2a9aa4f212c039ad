"""sessionkit: sessions and per-session client state, from the one Rust engine.

A thin Python layer over the generated uniffi bindings (``sessionkit._native``). The generated
code already hands out its records (SPEC field names) with JSON values as Python values (dicts,
lists, str, int, float, bool, None); this layer adds what it cannot: a ``kind`` attribute and the
engine's wording on the generated exception, :class:`SessionkitError` (uniffi's internal errors
become its ``Storage``), a JSON check that names the argument, listener callables, context
managers, and ``repr`` redaction. Every rule lives in the engine; nothing here decides anything.

>>> from sessionkit import ClientKind, Config, ManualClock, NewSession, SessionManager
>>> clock = ManualClock(1_700_000_000_000)
>>> manager = SessionManager.open_memory(Config(idle_timeout_ms=600_000), clock)
>>> created = manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB))
>>> manager.validate(created.token).user_id
'alice'

Calls block until the engine is done; they release the GIL while the native code runs, so
threads work. From asyncio, use ``await asyncio.to_thread(manager.validate, token)``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Union

from ._native import sessionkit as _ffi

__all__ = [
    "ClientInfo",
    "ClientKind",
    "Config",
    "ContextPolicy",
    "Created",
    "DecodedState",
    "EncodedState",
    "Event",
    "ImportSummary",
    "ListOptions",
    "ManualClock",
    "NewSession",
    "Page",
    "Session",
    "SessionLimitPolicy",
    "SessionManager",
    "SessionkitError",
    "State",
    "StateCodec",
    "Stats",
    "Subscription",
    "default_config",
    "parse_client_kind",
    "parse_context_policy",
    "parse_session_limit_policy",
]

_log = logging.getLogger("sessionkit")

def _named_like_the_spec(enum_class: Any) -> Any:
    """Lets the members of a generated enum stand for their SPEC names: ``ClientKind.WEB ==
    "web"``, ``str(ClientKind.WEB) == "web"``, and the name string accepted wherever the enum is
    (``NewSession(client_kind="web")``, ``Config(session_limit_policy="evict_oldest")``: the
    generated code compares each value with the members, and a name compares equal)."""

    def spec_name(member: Any) -> str:
        return member.name.lower()

    def __eq__(self: Any, other: Any) -> bool:
        if isinstance(other, str):
            return spec_name(self) == other
        return self is other

    enum_class.__eq__ = __eq__
    enum_class.__hash__ = lambda self: hash(spec_name(self))
    enum_class.__str__ = spec_name
    return enum_class


#: Timeouts, limits and state settings; keyword arguments, all optional (SPEC §1 names):
#: ``idle_timeout_ms``, ``absolute_timeout_ms``, ``touch_interval_ms``,
#: ``max_sessions_per_user``, ``session_limit_policy`` (a :class:`SessionLimitPolicy`; None:
#: ``REJECT``), ``state_compression_threshold``, ``state_max_bytes``, ``context_policy`` (a
#: :class:`ContextPolicy`; None: ``SIGNAL``).
Config = _ffi.Config

#: The kind of client a session belongs to: ``DESKTOP``, ``MOBILE``, ``WEB``, ``OTHER``.
ClientKind = _named_like_the_spec(_ffi.ClientKind)

#: At ``max_sessions_per_user``: ``REJECT`` the new session or ``EVICT_OLDEST``.
SessionLimitPolicy = _named_like_the_spec(_ffi.SessionLimitPolicy)

#: On a changed IP or User-Agent in ``validate_in_context``: ``SIGNAL`` or ``STRICT`` (refuse).
ContextPolicy = _named_like_the_spec(_ffi.ContextPolicy)

#: A clock that only moves when told to: ``ManualClock(start_ms)``, ``.advance(ms)``,
#: ``.set(now_ms)``, ``.now_ms()``.
ManualClock = _ffi.ManualClock

#: What :meth:`SessionManager.import_sessions` did: ``imported``, ``skipped`` (their id existed).
ImportSummary = _ffi.ImportSummary

#: Options of :meth:`SessionManager.list_user_sessions`: ``active_only`` (False),
#: ``limit`` (50), ``cursor`` (None).
ListOptions = _ffi.ListOptions

JSON = Any
"""A JSON value as Python has it: dict, list, str, int, float, bool or None."""


# ---- errors --------------------------------------------------------------------------------


#: Every sessionkit failure: the exception class uniffi generates, used as it is, with each SPEC §5
#: variant a subclass (``except SessionkitError.Conflict as e``) carrying its fields as attributes
#: (``current_version``; ``what``; ``field`` and ``reason``; ``found`` and ``supported``;
#: ``message``). Added here, because Python code reads them so (SPEC §7): ``kind``, an attribute
#: naming the variant; ``str(error)``, the engine's wording; the other variants' fields read as
#: ``None``; and ``message``, for the variants without one, the wording.
SessionkitError = _ffi.SessionkitError
SessionkitError.KINDS = (
    "InvalidToken",
    "NotFound",
    "Expired",
    "Revoked",
    "Conflict",
    "LimitExceeded",
    "InvalidInput",
    "Corrupt",
    "IncompatibleSchema",
    "Storage",
)
for _field in ("current_version", "what", "field", "reason", "found", "supported"):
    setattr(SessionkitError, _field, None)
for _kind in SessionkitError.KINDS:
    _variant = getattr(SessionkitError, _kind)
    _variant.kind = _kind  # the generated method of that name returns the same text
    _variant.__str__ = lambda self: self.describe()
    if _kind != "Storage":
        _variant.message = property(lambda self: self.describe())


def _from_native(err: BaseException) -> BaseException:
    """``err`` as a :class:`SessionkitError`: uniffi's ``InternalError`` (a panic or an
    unexpected failure inside the native library) becomes ``Storage``."""
    if isinstance(err, SessionkitError):
        return err
    return SessionkitError.Storage(f"internal error: {err}")


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except _ffi.InternalError as err:
        raise _from_native(err) from None


def _checked(name: str, value: JSON) -> JSON:
    """``value`` once it is known to be representable as JSON (the generated conversion would
    raise Python's own ValueError/TypeError), else ``InvalidInput`` naming the argument."""
    _dumps(name, value)
    return value


def _dumps(name: str, value: JSON) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise SessionkitError.InvalidInput(
            field=name, reason=f"not representable as JSON: {err}"
        ) from None


# ---- records -------------------------------------------------------------------------------
# The generated records, as they are: SPEC §1 field names, JSON values as Python values.

#: The client a session belongs to: ``kind`` (a :class:`ClientKind`), ``version``, ``device``.
ClientInfo = _ffi.ClientInfo

#: A session (SPEC §1): ``id``, ``user_id``, ``created_at``, ``last_active_at``, ``expires_at``,
#: ``absolute_expires_at`` (ms since the Unix epoch), ``client``, ``ip``, ``user_agent``,
#: ``active``, ``metadata`` (a dict). Holds no secret.
Session = _ffi.Session

#: The result of ``create`` and ``rotate``: ``session`` and ``token``, returned only here. Its
#: ``repr()`` and ``str()`` (the engine's) never show the token.
Created = _ffi.Created

#: What ``create`` needs (keywords): ``user_id``, ``client_kind``, and optionally
#: ``client_version``, ``device``, ``ip``, ``user_agent``, ``metadata`` (a dict).
NewSession = _ffi.NewSession

#: One page of a user's sessions: ``items``, ``next_cursor`` (None on the last page).
Page = _ffi.Page

#: A session's client state, verified (SPEC §3): ``version``, ``data``, ``checksum``, ``size``,
#: ``compressed``, ``stored_size``, ``updated_at``.
State = _ffi.State

#: Aggregate figures: ``total``, ``active``, ``created_last_24h``, ``created_last_7d``,
#: ``by_client_kind`` (by name), ``average_duration_ms``.
Stats = _ffi.Stats


@dataclass(frozen=True)
class Event:
    """Something that happened (SPEC §4). ``type`` is ``Created``, ``Rotated``,
    ``MetadataUpdated``, ``Revoked``, ``Deleted``, ``Expired``, ``StateChanged``,
    ``ContextChanged`` or ``CleanupCompleted``; fields that the type does not have are None."""

    type: str
    session_id: Optional[str] = None
    user_id: Optional[str] = None
    old_session_id: Optional[str] = None
    version: Optional[int] = None
    removed: Optional[int] = None
    ip_changed: Optional[bool] = None
    user_agent_changed: Optional[bool] = None

    _FIELDS = {
        "Created": ("session_id", "user_id"),
        "Rotated": ("old_session_id", "session_id", "user_id"),
        "MetadataUpdated": ("session_id",),
        "Revoked": ("session_id",),
        "Deleted": ("session_id",),
        "Expired": ("session_id",),
        "StateChanged": ("session_id", "version"),
        "ContextChanged": ("session_id", "ip_changed", "user_agent_changed"),
        "CleanupCompleted": ("removed",),
    }

    def to_dict(self) -> Dict[str, Any]:
        """The event as a JSON object: ``type`` and this type's fields."""
        out: Dict[str, Any] = {"type": self.type}
        for name in self._FIELDS.get(self.type, ()):
            out[name] = getattr(self, name)
        return out

    def __getitem__(self, key: str) -> Any:
        """``event["type"]``, ``event["session_id"]``…: the fields of :meth:`to_dict`."""
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Like ``dict.get`` on :meth:`to_dict`."""
        return self.to_dict().get(key, default)

    @staticmethod
    def _of(e: Any) -> "Event":
        for variant, name in _EVENT_VARIANTS:
            if isinstance(e, variant):
                return Event(type=name, **{f: getattr(e, f) for f in Event._FIELDS[name]})
        raise TypeError(f"unknown event {e!r}")


_EVENT_VARIANTS = (
    (_ffi.Event.CREATED, "Created"),
    (_ffi.Event.ROTATED, "Rotated"),
    (_ffi.Event.METADATA_UPDATED, "MetadataUpdated"),
    (_ffi.Event.REVOKED, "Revoked"),
    (_ffi.Event.DELETED, "Deleted"),
    (_ffi.Event.EXPIRED, "Expired"),
    (_ffi.Event.STATE_CHANGED, "StateChanged"),
    (_ffi.Event.CONTEXT_CHANGED, "ContextChanged"),
    (_ffi.Event.CLEANUP_COMPLETED, "CleanupCompleted"),
)


@dataclass(frozen=True)
class EncodedState:
    """A state value encoded for storage."""

    blob: bytes
    size: int
    compressed: bool
    checksum: str


@dataclass(frozen=True)
class DecodedState:
    """A blob read back and verified. ``data_json`` is the canonical JSON text."""

    data: JSON
    data_json: str
    size: int
    compressed: bool
    checksum: str


def parse_client_kind(name: str) -> ClientKind:
    """The client kind named ``name`` (``desktop``, ``mobile``, ``web``, ``other``, exactly);
    anything else is ``InvalidInput`` on ``client_kind``."""
    return _call(_ffi.parse_client_kind, name)


def parse_session_limit_policy(name: str) -> SessionLimitPolicy:
    """The policy named ``reject`` or ``evict_oldest``; else ``InvalidInput``."""
    return _call(_ffi.parse_session_limit_policy, name)


def parse_context_policy(name: str) -> ContextPolicy:
    """The policy named ``signal`` or ``strict``; else ``InvalidInput``."""
    return _call(_ffi.parse_context_policy, name)


def _named(config: Optional[Config]) -> Config:
    """``config`` (default ``Config()``) with policies given by name turned into the enums, so a
    bad name is ``InvalidInput`` naming the field rather than the generated code's ValueError."""
    config = config if config is not None else Config()
    if isinstance(config.session_limit_policy, str):
        config.session_limit_policy = parse_session_limit_policy(config.session_limit_policy)
    if isinstance(config.context_policy, str):
        config.context_policy = parse_context_policy(config.context_policy)
    return config


def default_config() -> Config:
    """The engine's default configuration: ``Config()``'s values, with the policies named."""
    return _ffi.default_config()


# ---- events --------------------------------------------------------------------------------


class _Listener(_ffi.EventListener):
    """Adapts a Python callable to the native listener interface."""

    def __init__(self, callback: Callable[[Event], Any]) -> None:
        self._callback = callback

    def on_event(self, event: Any) -> None:
        try:
            self._callback(Event._of(event))
        except Exception:  # the change is stored already; report and carry on
            _log.exception("sessionkit event listener raised")


class Subscription:
    """A live subscription. ``close()`` (or leaving a ``with`` block, or the object being
    garbage-collected) stops delivery."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def close(self) -> None:
        """Stops delivery now; calling it again does nothing."""
        self._native.unsubscribe()

    unsubscribe = close

    @property
    def active(self) -> bool:
        """Whether events are still delivered."""
        return self._native.is_active()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        native = getattr(self, "_native", None)
        if native is not None:
            try:
                native.unsubscribe()
            except Exception:  # interpreter shutdown
                pass


# ---- the manager ---------------------------------------------------------------------------


class SessionManager:
    """The entry point: every operation of SPEC §1–§4, in snake_case.

    Open one with :meth:`open_memory` or :meth:`open_sqlite`; share it freely between threads.
    """

    def __init__(self, native: Any) -> None:
        """Use :meth:`open_memory` or :meth:`open_sqlite`."""
        self._native = native

    @classmethod
    def open_memory(
        cls,
        config: Optional[Config] = None,
        clock: Optional[ManualClock] = None,
        *,
        state_keys: Optional[str] = None,
    ) -> "SessionManager":
        """A manager over a fresh in-memory store. Invalid config is ``InvalidInput``.

        ``state_keys`` encrypts state at rest: one ``<id>:<base64 of 32 bytes>`` a line, the
        first the current key, the others older keys still read (SPEC §11)."""
        return cls(_call(_ffi.SessionManager.open_memory, _named(config), clock, state_keys))

    @classmethod
    def open_sqlite(
        cls,
        path: Union[str, os.PathLike],
        config: Optional[Config] = None,
        clock: Optional[ManualClock] = None,
        *,
        state_keys: Optional[str] = None,
    ) -> "SessionManager":
        """A manager over the SQLite database at ``path`` (created or upgraded as needed);
        ``state_keys`` as in :meth:`open_memory`. Bad keys are ``InvalidInput`` and create
        nothing."""
        return cls(
            _call(
                _ffi.SessionManager.open_sqlite,
                os.fspath(path),
                _named(config),
                clock,
                state_keys,
            )
        )

    def config(self) -> Config:
        """The configuration in force."""
        return self._native.config()

    def now(self) -> int:
        """The manager's current time (ms since the Unix epoch)."""
        return self._native.now()

    def subscribe(self, listener: Callable[[Event], Any]) -> Subscription:
        """Calls ``listener(event)`` after every change, on the thread that made it, until the
        returned subscription is closed. Exceptions it raises are logged and ignored."""
        if not callable(listener):
            raise TypeError("listener must be callable")
        return Subscription(self._native.subscribe(_Listener(listener)))

    # ---- sessions

    def create(self, new_session: Optional[NewSession] = None, **fields: Any) -> Created:
        """Starts a session: ``create(NewSession(user_id=…, client_kind=…, device=…,
        metadata={…}))``, or the same fields as keywords (``create(user_id="alice",
        client_kind="web")``). The token is returned once."""
        if new_session is None:
            new_session = NewSession(**fields)
        elif fields:
            raise TypeError("pass either a NewSession or its fields as keywords, not both")
        if isinstance(new_session.client_kind, str):
            new_session.client_kind = parse_client_kind(new_session.client_kind)
        if new_session.metadata is not None:
            _checked("metadata", new_session.metadata)
        return _call(self._native.create, new_session)

    def validate(self, token: str) -> Session:
        """The session of a bearer token, sliding its idle expiry. Every bad token is
        ``InvalidToken``; ``Expired``/``Revoked`` only with the right secret."""
        return _call(self._native.validate, token)

    def validate_in_context(
        self, token: str, ip: Optional[str] = None, user_agent: Optional[str] = None
    ) -> Session:
        """``validate``, comparing the request's IP and User-Agent with the stored ones: a
        difference emits ``ContextChanged``; with ``context_policy=ContextPolicy.STRICT`` it is refused
        (``InvalidToken``)."""
        return _call(self._native.validate_in_context, token, ip, user_agent)

    def get(self, id: str) -> Session:
        """The session with this id, whatever its status."""
        return _call(self._native.get, id)

    def touch(self, id: str) -> Session:
        """Marks a live session active now."""
        return _call(self._native.touch, id)

    def update_metadata(self, id: str, patch: JSON) -> Session:
        """Applies a JSON Merge Patch (RFC 7396; a dict) to a live session's metadata."""
        return _call(self._native.update_metadata, id, _checked("patch", patch))

    def rotate(self, id: str) -> Created:
        """A new id and token for a live session; the old token stops working at once."""
        return _call(self._native.rotate, id)

    def revoke(self, id: str) -> None:
        """Revokes a session (it stays listed with ``active == False``)."""
        _call(self._native.revoke, id)

    def delete(self, id: str) -> None:
        """Deletes a session and its state."""
        _call(self._native.delete, id)

    def list_user_sessions(
        self, user_id: str, options: Optional[ListOptions] = None, **fields: Any
    ) -> Page:
        """One page of a user's sessions, newest activity first; ``options`` a
        ``ListOptions(active_only=…, limit=…, cursor=…)``, or the same fields as keywords."""
        if options is None:
            options = ListOptions(**fields)
        elif fields:
            raise TypeError("pass either ListOptions or its fields as keywords, not both")
        return _call(self._native.list_user_sessions, user_id, options)

    def revoke_all_sessions(self) -> int:
        """Revokes every live session of every user, in batches. Returns the count."""
        return _call(self._native.revoke_all_sessions)

    def delete_user_sessions(self, user_id: str) -> int:
        """Deletes every session and state of a user (account deletion, erasure). Returns the
        count."""
        return _call(self._native.delete_user_sessions, user_id)

    def revoke_user_sessions(
        self, user_id: str, except_: Optional[str] = None, *, except_id: Optional[str] = None
    ) -> int:
        """Revokes every active session of a user but ``except_`` (``except`` is a Python
        keyword; ``except_id=`` is the same): "sign out everywhere else". Returns the count."""
        if except_id is not None:
            if except_ is not None:
                raise TypeError("pass except_ or except_id, not both")
            except_ = except_id
        return _call(self._native.revoke_user_sessions, user_id, except_)

    def cleanup_expired(self) -> int:
        """Removes every expired session and its state; returns how many."""
        return _call(self._native.cleanup_expired)

    def count_active(self) -> int:
        """Sessions neither revoked nor expired."""
        return _call(self._native.count_active)

    def count_user_sessions(self, user_id: str, active_only: bool = False) -> int:
        """A user's stored sessions (with ``active_only``, only live ones)."""
        return _call(self._native.count_user_sessions, user_id, active_only)

    def stats(self) -> Stats:
        """Aggregate figures over all stored sessions."""
        return _call(self._native.stats)

    # ---- state

    def get_state(self, id: str) -> Optional[State]:
        """The session's state, verified; None when it has none."""
        return _call(self._native.get_state, id)

    def put_state(self, id: str, data: JSON, expected_version: Optional[int] = None) -> int:
        """Replaces the state; with ``expected_version`` only if it is the stored version
        (0 = none yet), else ``Conflict``. Returns the new version."""
        return _call(self._native.put_state, id, _checked("data", data), expected_version)

    def patch_state(self, id: str, patch: JSON, expected_version: Optional[int] = None) -> int:
        """Applies a JSON Merge Patch to the state (compare-and-swap as in ``put_state``)."""
        return _call(self._native.patch_state, id, _checked("patch", patch), expected_version)

    def clear_state(self, id: str) -> None:
        """Removes the state of a live session."""
        _call(self._native.clear_state, id)

    # ---- export and import

    def export_sessions(self, after: Optional[str] = None, limit: int = 100) -> List[Dict[str, JSON]]:
        """Up to ``limit`` sessions in id order after the session id ``after``, each a dict in
        the interchange format of the CLI's ``export`` lines (token hash and encoded state; never
        a token). Pass the last record's ``["session"]["id"]`` as ``after`` for the next page;
        an empty list is the end."""
        return _call(self._native.export_sessions, after, limit)

    def import_sessions(self, records: Iterable[Mapping[str, JSON]]) -> ImportSummary:
        """Imports exported records (dicts; ``json.loads`` a CLI export line), insert-only:
        one whose id exists is skipped. Every record is checked before any is written; a bad
        one is ``InvalidInput`` naming ``records[i]`` and nothing is imported."""
        checked = [_checked(f"records[{i}]", r) for i, r in enumerate(records)]
        return _call(self._native.import_sessions, checked)


class StateCodec:
    """The state codec (SPEC §3) on its own, as a manager with the same settings stores state:
    the same value gives the same bytes on every platform."""

    def __init__(self, compression_threshold: int, max_bytes: int) -> None:
        self._native = _ffi.StateCodec(compression_threshold, max_bytes)

    def encode(self, data: JSON) -> EncodedState:
        """Encodes a value. Over ``max_bytes``: ``LimitExceeded``."""
        e = _call(self._native.encode, _checked("data", data))
        return EncodedState(blob=bytes(e.blob), size=e.size, compressed=e.compressed, checksum=e.checksum)

    def decode(self, blob: bytes) -> DecodedState:
        """Verifies and decodes a blob; any damage is ``Corrupt``."""
        d = _call(self._native.decode, bytes(blob))
        return DecodedState(
            data=json.loads(d.data),
            data_json=d.data,
            size=d.size,
            compressed=d.compressed,
            checksum=d.checksum,
        )



# ---- the sync client (SPEC §9) ---------------------------------------------------------------

from .client import (  # noqa: E402  (the client module uses the helpers above)
    ClientEvent,
    ClientMetrics,
    ClientSubscription,
    ConnectionState,
    RecoveryResult,
    SessionClient,
    SyncResult,
)

__all__ += [
    "ClientEvent",
    "ClientMetrics",
    "ClientSubscription",
    "ConnectionState",
    "RecoveryResult",
    "SessionClient",
    "SyncResult",
]
