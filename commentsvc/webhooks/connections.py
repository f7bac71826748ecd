"""urllib3 connections that go only where the address policy allows, and that
the attempt's deadline can cut.

The host is resolved once per connection, every address it resolves to is
checked, and the socket is opened to the checked address itself (TLS still
verifies the host name), so a DNS answer that changes between check and connect
cannot steer a delivery into the private network.
"""

import socket

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util import connection as urllib3_connection

from . import deadline
from .addresses import AddressPolicy


class _GuardedConnection:
    """Opens the socket to a checked address of the host, never to another, and
    shows every connection it makes or reuses to the calling thread's attempt."""

    def __init__(self, *args, address_policy: AddressPolicy, **kwargs):
        super().__init__(*args, **kwargs)
        self.address_policy = address_policy

    def _watched(self) -> None:
        attempt = deadline.current()
        if attempt is not None:
            attempt.watch(self)

    def connect(self) -> None:
        self._watched()
        super().connect()

    def request(self, *args, **kwargs):
        self._watched()
        return super().request(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        try:
            addresses = self.address_policy.resolve(self._dns_host, self.port)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        last_error: OSError | None = None
        for address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as error:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out."
                ) from error
            except OSError as error:
                last_error = error
                continue
            attempt = deadline.current()
            if attempt is not None and attempt.expired:
                # Connected after the watchdog's cut: it never saw this socket.
                sock.close()
                raise ConnectTimeoutError(self, f"Connection to {self.host} too late.")
            return sock
        raise NewConnectionError(
            self, f"Failed to establish a new connection: {last_error}"
        ) from last_error


class _GuardedHTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedPoolManager(urllib3.PoolManager):
    """A PoolManager whose connections obey *policy*."""

    def __init__(self, policy: AddressPolicy, **kwargs):
        super().__init__(**kwargs)
        self.policy = policy
        self.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }

    def _new_pool(self, scheme, host, port, request_context=None):
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.conn_kw["address_policy"] = self.policy
        return pool
