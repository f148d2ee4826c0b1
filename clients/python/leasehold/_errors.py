"""Typed exceptions, one per problem ``code`` of the server's catalogue (docs/http-api.md#errors)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Type


class LeaseholdError(Exception):
    """A refusal from the server (an ``application/problem+json`` answer), or no answer at all.

    ``code`` is the problem's stable code (``"locked"``, ``"invalid-path"``, ...; ``"unreachable"`` when
    no server answered), ``status`` the HTTP status (0 when none), ``detail`` the server's explanation,
    ``problem`` the whole problem document, ``server`` the base URL that answered (or was tried last).
    """

    code: str = "error"

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        status: int = 0,
        detail: Optional[str] = None,
        problem: Optional[Mapping[str, Any]] = None,
        server: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.status = status
        self.detail = detail
        self.problem: Dict[str, Any] = dict(problem or {})
        self.server = server


class Unreachable(LeaseholdError, ConnectionError):
    """No server answered: connection refused or reset, a name that does not resolve, a timeout, an
    answer cut short; after the retries (on every server given). Also a ``ConnectionError``."""

    code = "unreachable"


class Locked(LeaseholdError, TimeoutError):
    """``locked``: not granted within ``wait``. Also a ``TimeoutError`` (so code written for
    py-lockable's ``TimeoutError`` keeps working). ``holders`` lists the blocking leases."""

    code = "locked"

    @property
    def holders(self) -> List[Dict[str, Any]]:
        holders = self.problem.get("holders")
        return list(holders) if isinstance(holders, list) else []


class Draining(LeaseholdError):
    """``draining``: not granted within ``wait`` because a path lies in a drained prefix."""

    code = "draining"


class NoMatch(LeaseholdError, LookupError):
    """``no-match``: too few declared resources match a pool request for it ever to be granted
    (py-lockable's ``ResourceNotFound``)."""

    code = "no-match"


class NotFound(LeaseholdError, LookupError):
    """``not-found``: no such lease, session, pool or route (released, expired, revoked)."""

    code = "not-found"


class InvalidToken(LeaseholdError):
    """``invalid-token``: the ``Leasehold-Token`` is not this lease's or session's."""

    code = "invalid-token"


class SessionEnded(LeaseholdError):
    """``session-ended``: the session a waiting request was bound to ended."""

    code = "session-ended"


class LimitMismatch(LeaseholdError):
    """``limit-mismatch``: the request's ``limit`` differs from the one the path is held with."""

    code = "limit-mismatch"


class ResourceBusy(LeaseholdError):
    """``resource-busy``: removing a declared resource that is held."""

    code = "resource-busy"


class BadInput(LeaseholdError, ValueError):
    """The request was malformed; the subclasses name how. Also a ``ValueError``."""

    code = "bad-request"


class InvalidPath(BadInput):
    """``invalid-path``: a path breaks the path rules (it must start with ``/``, ...)."""

    code = "invalid-path"


class InvalidArgument(BadInput):
    """``invalid-argument``: a value out of range or inconsistent."""

    code = "invalid-argument"


class InvalidJson(BadInput):
    """``invalid-json``: the body is not JSON, or has a field of the wrong type or an unknown field."""

    code = "invalid-json"


class InvalidQuery(BadInput):
    """``invalid-query``: a requirement is malformed or uses an unknown operator."""

    code = "invalid-query"


class PayloadTooLarge(BadInput):
    """``payload-too-large``: the body is larger than the server accepts."""

    code = "payload-too-large"


class AuthenticationFailed(LeaseholdError, PermissionError):
    """``unauthenticated`` or ``invalid-credentials``: no API key sent where one is needed, or one
    that does not hold. Also a ``PermissionError``."""

    code = "unauthenticated"


class Forbidden(LeaseholdError, PermissionError):
    """``forbidden``: the caller has no rule giving the right on the paths."""

    code = "forbidden"


class TooManyRequests(LeaseholdError):
    """``quota-exceeded``, ``rate-limited`` or ``too-many-streams``; ``retry_after`` is the server's ``Retry-After`` in seconds."""

    code = "rate-limited"

    @property
    def retry_after(self) -> Optional[float]:
        value = self.problem.get("_retryAfter")
        return float(value) if isinstance(value, (int, float)) else None


class ServerUnavailable(LeaseholdError):
    """``no-leader`` or ``shutting-down`` (503) after the retries: a cluster without a leader, or a
    server that stopped while the request waited."""

    code = "no-leader"


class InternalError(LeaseholdError):
    """``internal``: a bug in the server (it logs it and goes on serving)."""

    code = "internal"


_BY_CODE: Dict[str, Type[LeaseholdError]] = {
    "locked": Locked,
    "draining": Draining,
    "no-match": NoMatch,
    "not-found": NotFound,
    "invalid-token": InvalidToken,
    "session-ended": SessionEnded,
    "limit-mismatch": LimitMismatch,
    "resource-busy": ResourceBusy,
    "invalid-path": InvalidPath,
    "invalid-argument": InvalidArgument,
    "invalid-json": InvalidJson,
    "invalid-query": InvalidQuery,
    "bad-request": BadInput,
    "payload-too-large": PayloadTooLarge,
    "unauthenticated": AuthenticationFailed,
    "invalid-credentials": AuthenticationFailed,
    "forbidden": Forbidden,
    "quota-exceeded": TooManyRequests,
    "rate-limited": TooManyRequests,
    "too-many-streams": TooManyRequests,
    "no-leader": ServerUnavailable,
    "shutting-down": ServerUnavailable,
    "internal": InternalError,
}


def error_class(code: str) -> Type[LeaseholdError]:
    """The exception class raised for a problem ``code`` (``LeaseholdError`` for a code it does not know)."""
    return _BY_CODE.get(code, LeaseholdError)


def from_problem(status: int, problem: Mapping[str, Any], server: Optional[str]) -> LeaseholdError:
    """The typed exception for a problem document the server answered with."""
    code = str(problem.get("code") or ("http-%d" % status))
    detail = problem.get("detail")
    title = problem.get("title")
    text = str(detail or title or code)
    message = "%s (%s, HTTP %d)" % (text, code, status)
    return error_class(code)(
        message,
        code=code,
        status=status,
        detail=str(detail) if detail is not None else None,
        problem=problem,
        server=server,
    )
