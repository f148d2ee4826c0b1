"""Help for code moving from py-lockable's library: its requirement parser and its defaults.

py-lockable lays a requirement over ``{"hostname": <this host>, "online": True}`` (and drops either key
when the requirement sets it to None); Leasehold's pools take a requirement as it is. ``requirement()``
gives the server what py-lockable would have matched:

    client.acquire(pool="/lab", require=lockable.requirement("os=android"), wait=timeout_s)
"""

from __future__ import annotations

import json
import socket
from typing import Any, Dict, Mapping, Optional, Union


def parse_requirements(requirements: Union[str, Mapping[str, Any], None]) -> Dict[str, Any]:
    """py-lockable's ``parse_requirements``: a dict as it is; a string starting with ``{`` as JSON; any other
    string as ``k=v&k2=v2`` where ``true``/``false`` (any case) are booleans, every other value a string,
    and dotted keys nest (``a.b=1`` is ``{"a": {"b": "1"}}``)."""
    if not requirements:
        return {}
    if not isinstance(requirements, str):
        return dict(requirements)
    text = requirements.strip()
    if text.startswith("{"):
        parsed = json.loads(text)
        if not isinstance(parsed, dict):
            raise ValueError("a JSON requirement is an object")
        return parsed
    out: Dict[str, Any] = {}
    for part in text.split("&"):
        key, sep, value = part.partition("=")
        if not sep or not value:
            raise ValueError("Missing value (%s)" % part)
        if "=" in value:
            raise ValueError("too many values to unpack (expected 2) in (%s)" % part)
        if key.startswith(".") or key.endswith(".") or ".." in key:
            raise ValueError("Invalid key format: %s" % key)
        typed: Any = {"true": True, "false": False}.get(value.lower(), value)
        target = out
        names = key.split(".")
        for name in names[:-1]:
            nested = target.setdefault(name, {})
            if not isinstance(nested, dict):
                raise ValueError("Invalid key format: %s" % key)
            target = nested
        target[names[-1]] = typed
    return out


def requirement(requirements: Union[str, Mapping[str, Any], None], hostname: Optional[str] = None) -> Dict[str, Any]:
    """The requirement py-lockable's ``Lockable(hostname=...).lock(requirements)`` matches: its defaults
    ``hostname`` (this host unless given) and ``online: True``, overridden by the requirement (a shallow
    update), with either default dropped where the requirement sets it to None."""
    merged: Dict[str, Any] = {"hostname": hostname if hostname is not None else socket.gethostname(), "online": True}
    merged.update(parse_requirements(requirements))
    for key in ("hostname", "online"):
        if key in merged and merged[key] is None:
            del merged[key]
    return merged


__all__ = ["parse_requirements", "requirement"]
