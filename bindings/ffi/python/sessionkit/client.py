"""The sync client (SPEC §9): a signed-in session and a local replica of its state, kept in
step with a ``sessionkit serve`` server across a network that fails.

The engine's state machine and its one native driver do everything (HTTP, the event stream,
reconnects with backoff, conflicts, the replica kept in SQLite); this module only adapts the
conflict resolver (JSON text) and the listener callables, and converts native results to
dataclasses.

>>> client = SessionClient.open_sqlite("http://127.0.0.1:8080", "device.db")  # doctest: +SKIP
>>> client.sign_in(token_from_your_backend)                                   # doctest: +SKIP
>>> client.patch_state({"theme": "dark"})      # local at once, pushed when online  # doctest: +SKIP
>>> client.sync().version                                                     # doctest: +SKIP

Calls block (they release the GIL); ``await client.sync_async()`` and
``await client.recover_async()`` suit asyncio. Listeners run on the client's own thread.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Union

from ._native import sessionkit as _ffi
from . import Session, SessionkitError, _call, _checked, _from_native

__all__ = [
    "ClientEvent",
    "ClientMetrics",
    "ClientSubscription",
    "ConnectionState",
    "RecoveryResult",
    "SessionClient",
    "SyncResult",
]

_log = logging.getLogger("sessionkit")

JSON = Any

#: Figures of one client: ``syncs``, ``conflicts``, ``retries``, ``reconnects``,
#: ``bytes_sent``, ``bytes_received``, ``last_round_trip_ms``, ``offline_ms``,
#: ``pending_changes``.
ClientMetrics = _ffi.ClientMetrics


@dataclass(frozen=True)
class ClientEvent:
    """An event of the client: ``type`` is ``connection_established``, ``connection_lost``,
    ``connection_restored``, ``auth_required`` (``reason``), ``session_expiring``
    (``expires_at``), ``state_synchronized`` (``version``), ``sync_conflict`` (``resolution``)
    or ``error`` (``kind``, ``message``)."""

    type: str
    reason: Optional[str] = None
    expires_at: Optional[int] = None
    version: Optional[int] = None
    resolution: Optional[str] = None
    kind: Optional[str] = None
    message: Optional[str] = None

    @staticmethod
    def _of(e: Any) -> "ClientEvent":
        for variant, name, fields in _CLIENT_EVENTS:
            if isinstance(e, variant):
                return ClientEvent(type=name, **{f: getattr(e, f) for f in fields})
        raise TypeError(f"unknown client event {e!r}")


_CLIENT_EVENTS = (
    (_ffi.ClientEvent.CONNECTION_ESTABLISHED, "connection_established", ()),
    (_ffi.ClientEvent.CONNECTION_LOST, "connection_lost", ()),
    (_ffi.ClientEvent.CONNECTION_RESTORED, "connection_restored", ()),
    (_ffi.ClientEvent.AUTH_REQUIRED, "auth_required", ("reason",)),
    (_ffi.ClientEvent.SESSION_EXPIRING, "session_expiring", ("expires_at",)),
    (_ffi.ClientEvent.STATE_SYNCHRONIZED, "state_synchronized", ("version",)),
    (_ffi.ClientEvent.SYNC_CONFLICT, "sync_conflict", ("resolution",)),
    (_ffi.ClientEvent.ERROR, "error", ("kind", "message")),
)


@dataclass(frozen=True)
class ConnectionState:
    """``state`` is ``disconnected``, ``connecting``, ``connected``, ``reconnecting`` (with
    ``attempt`` and ``retry_in_ms``) or ``signed_out``; it compares equal to its name."""

    state: str
    attempt: Optional[int] = None
    retry_in_ms: Optional[int] = None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.state == other
        return isinstance(other, ConnectionState) and (
            (self.state, self.attempt, self.retry_in_ms)
            == (other.state, other.attempt, other.retry_in_ms)
        )

    __hash__ = object.__hash__

    def __str__(self) -> str:
        return self.state

    @staticmethod
    def _of(s: Any) -> "ConnectionState":
        if isinstance(s, _ffi.ConnectionState.RECONNECTING):
            return ConnectionState("reconnecting", s.attempt, s.retry_in_ms)
        for variant, name in (
            (_ffi.ConnectionState.DISCONNECTED, "disconnected"),
            (_ffi.ConnectionState.CONNECTING, "connecting"),
            (_ffi.ConnectionState.CONNECTED, "connected"),
            (_ffi.ConnectionState.SIGNED_OUT, "signed_out"),
        ):
            if isinstance(s, variant):
                return ConnectionState(name)
        raise TypeError(f"unknown connection state {s!r}")


@dataclass(frozen=True)
class SyncResult:
    """What :meth:`SessionClient.sync` did."""

    pushed: int
    pulled: int
    conflicts: int
    version: int
    pending: int
    offline: bool

    @staticmethod
    def _of(r: Any) -> "SyncResult":
        return SyncResult(r.pushed, r.pulled, r.conflicts, r.version, r.pending, r.offline)


@dataclass(frozen=True)
class RecoveryResult:
    """What :meth:`SessionClient.recover` found: ``outcome`` is ``restored``, ``signed_out``
    (with ``reason``) or ``offline``."""

    outcome: str
    reason: Optional[str]
    version: int
    pending: int

    @staticmethod
    def _of(r: Any) -> "RecoveryResult":
        return RecoveryResult(r.outcome, r.reason, r.version, r.pending)


class _ClientListener(_ffi.ClientListener):
    def __init__(self, callback: Callable[[ClientEvent], Any]) -> None:
        self._callback = callback

    def on_event(self, event: Any) -> None:
        try:
            self._callback(ClientEvent._of(event))
        except Exception:
            _log.exception("sessionkit client listener raised")


class _Resolver(_ffi.ConflictResolver):
    def __init__(self, resolve: Callable[[JSON, JSON, JSON], JSON]) -> None:
        self._resolve = resolve

    def resolve(self, base: Optional[str], local: Optional[str], remote: Optional[str]) -> str:
        load = lambda text: None if text is None else json.loads(text)  # noqa: E731
        return json.dumps(self._resolve(load(base), load(local), load(remote)))


class ClientSubscription:
    """Events flow to the listener until ``close()`` (or the end of a ``with`` block)."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def close(self) -> None:
        self._native.unsubscribe()

    unsubscribe = close

    def __enter__(self) -> "ClientSubscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _options(options: Dict[str, Any]) -> Any:
    try:
        return _ffi.ClientOptions(**options)
    except TypeError as err:
        raise SessionkitError.InvalidInput(field="options", reason=str(err)) from None


class SessionClient:
    """A signed-in client of a sessionkit server (SPEC §9).

    Options (keyword arguments, all optional): ``heartbeat_ms`` (the server's, default 25 000),
    ``conflict_policy`` (``"merge"``, ``"server_wins"``, ``"client_wins"``, ``"custom"`` with
    ``resolver(base, local, remote) -> data``), ``backoff_initial_ms``, ``backoff_multiplier``,
    ``backoff_max_ms``, ``expiring_within_ms``, ``request_timeout_ms``, ``key``.
    """

    def __init__(self, native: Any) -> None:
        self._native = native

    @classmethod
    def open_memory(
        cls, base_url: str, *, resolver: Optional[Callable[[JSON, JSON, JSON], JSON]] = None, **options: Any
    ) -> "SessionClient":
        """A client whose replica lives in memory (scripts, tests)."""
        native_resolver = None if resolver is None else _Resolver(resolver)
        return cls(_call(_ffi.SessionClient.open_memory, base_url, _options(options), native_resolver))

    @classmethod
    def open_sqlite(
        cls,
        base_url: str,
        path: Union[str, "os.PathLike[str]"],
        *,
        resolver: Optional[Callable[[JSON, JSON, JSON], JSON]] = None,
        **options: Any,
    ) -> "SessionClient":
        """A client whose session, state and queued changes live in the SQLite file ``path``
        (mode 0600) and survive restarts."""
        native_resolver = None if resolver is None else _Resolver(resolver)
        return cls(
            _call(
                _ffi.SessionClient.open_sqlite,
                base_url,
                os.fspath(path),
                _options(options),
                native_resolver,
            )
        )

    def sign_in(self, token: str) -> None:
        """Signs in with a token from the app's backend; connects in the background."""
        _call(self._native.sign_in, token)

    def sign_out(self) -> None:
        """Revokes the session on the server (when reachable) and clears it here."""
        _call(self._native.sign_out)

    def session(self) -> Optional[Session]:
        """The session as last seen; None when signed out."""
        return _call(self._native.session)

    def state(self) -> JSON:
        """The local state (instant, offline too); None when there is none."""
        return _call(self._native.state)

    def put_state(self, data: JSON) -> None:
        """Replaces the state locally at once; pushed when online."""
        _call(self._native.put_state, _checked("data", data))

    def patch_state(self, patch: JSON) -> None:
        """Merge-patches the state (RFC 7396) locally at once; pushed when online."""
        _call(self._native.patch_state, _checked("patch", patch))

    def sync(self) -> SyncResult:
        """Pulls and pushes now; returns when replica and server agree, or ``offline``."""
        return SyncResult._of(_call(self._native.sync))

    async def sync_async(self) -> SyncResult:
        """:meth:`sync` for asyncio."""
        try:
            return SyncResult._of(await self._native.sync_async())
        except _ffi.InternalError as err:
            raise _from_native(err) from None

    def recover(self) -> RecoveryResult:
        """Re-validates the session and reconciles the replica (after a restart or reconnect)."""
        return RecoveryResult._of(_call(self._native.recover))

    async def recover_async(self) -> RecoveryResult:
        """:meth:`recover` for asyncio."""
        try:
            return RecoveryResult._of(await self._native.recover_async())
        except _ffi.InternalError as err:
            raise _from_native(err) from None

    def devices(self) -> Dict[str, Any]:
        """This user's devices: ``{"items": [...], "next_cursor": ...}``, the caller's own
        item marked ``current: True``."""
        return _call(self._native.devices)

    def revoke_device(self, id: str) -> None:
        """Revokes one of this user's other devices."""
        _call(self._native.revoke_device, id)

    def revoke_other_devices(self) -> int:
        """Revokes every other device of this user; returns how many were live."""
        return _call(self._native.revoke_other_devices)

    def metrics(self) -> ClientMetrics:
        """Syncs, conflicts, retries, reconnects, bytes, round trip, time offline, pending."""
        return self._native.metrics()

    def connection_state(self) -> ConnectionState:
        """Where the connection stands."""
        return ConnectionState._of(self._native.connection_state())

    def set_online(self, online: bool) -> None:
        """The host's connectivity hint: offline stops trying, online connects at once."""
        _call(self._native.set_online, online)

    def subscribe(self, listener: Callable[[ClientEvent], Any]) -> ClientSubscription:
        """Calls ``listener(event)`` for every event, on the client's thread."""
        return ClientSubscription(self._native.subscribe(_ClientListener(listener)))

    def close(self) -> None:
        """Stops the client (its replica is already saved)."""
        self._native.shutdown()

    def __enter__(self) -> "SessionClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
