"""A guard against a connection leak of httpcore's async pool when a task is cancelled (encode/httpcore#1093).

A request cancelled after the pool assigned it a new connection, but before that connection was established,
leaves the connection in the pool: never connected, owned by no request, so neither reused nor reaped. Each
one holds a slot until the pool is full and every request fails with ``PoolTimeout``. httpcore 1.0.9 (the last
release) has no fix, so after a cancelled attempt the SDK removes such orphans from the pool of the transport it
wraps. They own no socket, so nothing needs closing. Transports without an httpcore pool are left alone.
"""

from __future__ import annotations

__all__ = ["reclaim_orphaned_connections"]


def reclaim_orphaned_connections(transport: object) -> int:
    """Remove never-established connections that no request owns from `transport`'s pool; return how many."""
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
        and getattr(connection, "_connection", False) is None  # not established, not being established
        and getattr(connection, "_connect_failed", True) is False
    ]
    for connection in orphans:
        connections.remove(connection)
    return len(orphans)
