"""Leasehold's Python client: locks, leases and pool allocation over the server's HTTP API.

    from leasehold import lease

    with lease("/lab/phone-7", ttl=30, wait=60) as l:
        use(l.fence)

Standard library only. ``leasehold.aio`` is the asyncio variant.
"""

from ._common import DEFAULT_SERVER, Group, Resource
from ._events import Event
from ._errors import (
    AuthenticationFailed,
    BadInput,
    Draining,
    Forbidden,
    InternalError,
    InvalidArgument,
    InvalidJson,
    InvalidPath,
    InvalidQuery,
    InvalidToken,
    LeaseholdError,
    LimitMismatch,
    Locked,
    NoMatch,
    NotFound,
    PayloadTooLarge,
    ResourceBusy,
    ServerUnavailable,
    SessionEnded,
    TooManyRequests,
    Unreachable,
    error_class,
)
from .client import Client, Lease, Session, Watch, default_client, lease, session

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SERVER",
    "AuthenticationFailed",
    "BadInput",
    "Client",
    "Draining",
    "Event",
    "Forbidden",
    "Group",
    "InternalError",
    "InvalidArgument",
    "InvalidJson",
    "InvalidPath",
    "InvalidQuery",
    "InvalidToken",
    "Lease",
    "LeaseholdError",
    "LimitMismatch",
    "Locked",
    "NoMatch",
    "NotFound",
    "PayloadTooLarge",
    "Resource",
    "ResourceBusy",
    "ServerUnavailable",
    "Session",
    "SessionEnded",
    "TooManyRequests",
    "Unreachable",
    "Watch",
    "default_client",
    "error_class",
    "lease",
    "session",
]
