"""TCP forwards from the host's 127.0.0.1 to the node, across the network namespace boundary.

A socket belongs to the network namespace it was created in. The node agent therefore opens its
listening sockets on the host's loopback *before* it moves into the cluster's namespace, and every
upstream connection it makes afterwards starts inside it. One process, no extra tools, and nothing
of the cluster's address space ever appears on the host.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

log = logging.getLogger("harness.cluster.forward")


def listen(port: int, host: str = "127.0.0.1") -> socket.socket:
    """A bound, listening socket in the *current* namespace (call before leaving the host's)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()


async def serve(listener: socket.socket, target_host: str, target_port: int) -> None:
    """Accept on ``listener`` forever; connect each client to ``target`` (in this namespace)."""

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.wait_for(
                asyncio.open_connection(target_host, target_port), timeout=10
            )
        except (OSError, TimeoutError) as err:
            log.debug("forward to %s:%s refused: %s", target_host, target_port, err)
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(handle, sock=listener)
    async with server:
        await server.serve_forever()
