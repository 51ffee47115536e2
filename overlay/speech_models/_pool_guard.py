"""A guard against a connection leak of httpcore's async pool when a task is cancelled (encode/httpcore#1093).

A request cancelled after the pool assigned it a connection, but before the request took the connection into
use (while it connects, or between connecting and sending), leaves that connection in the pool owned by no
request, neither idle nor closed: never reused, never reaped. Each one holds a slot until the pool is full and
every request fails with ``PoolTimeout``. httpcore 1.0.9 (the last release) has no fix, so after a cancelled
attempt the SDK closes such orphans and removes them from the pool of the transport it wraps. Transports without
an httpcore pool are left alone.
"""

from __future__ import annotations

import anyio

__all__ = ["reclaim_orphaned_connections"]


async def reclaim_orphaned_connections(transport: object) -> int:
    """Close and remove the connections of `transport`'s pool that no request owns and that are neither idle nor
    closed; return how many. Shielded, so it completes inside a cancelled task."""
    pool = getattr(transport, "_pool", None)
    connections = getattr(pool, "_connections", None)
    requests = getattr(pool, "_requests", None)
    if not isinstance(connections, list) or not isinstance(requests, list):
        return 0
    owned = {id(getattr(request, "connection", None)) for request in requests}
    orphans = [
        connection
        for connection in connections
        if id(connection) not in owned
        and not connection.is_idle()
        and not connection.is_closed()
        and not connection.is_available()
    ]
    for connection in orphans:
        connections.remove(connection)
    with anyio.CancelScope(shield=True):
        for connection in orphans:
            await connection.aclose()
    return len(orphans)
