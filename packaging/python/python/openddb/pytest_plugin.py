"""The pytest plugin (registered through the ``pytest11`` entry point):
an in-memory openddb server for the whole test session.

Fixtures: ``openddb_server`` (an openddb.Server) and ``openddb_endpoint``
(its URL, for ``endpoint_url=``). More server flags go in the ini option
``openddb_args``, e.g. ``openddb_args = --log-level warn``."""

from __future__ import annotations

import shlex
from typing import Iterator

import pytest

from .server import Server, start


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "openddb_args",
        "extra command-line flags for the openddb server of the openddb_server fixture",
        default="",
    )


@pytest.fixture(scope="session")
def openddb_server(pytestconfig: pytest.Config) -> Iterator[Server]:
    """One in-memory openddb server for the session (with pytest-xdist, one
    per worker), stopped at its end."""
    args = shlex.split(pytestconfig.getini("openddb_args"))
    with start(in_memory=True, port=0, args=args) as server:
        yield server


@pytest.fixture(scope="session")
def openddb_endpoint(openddb_server: Server) -> str:
    """The session server's URL, e.g. ``http://127.0.0.1:41235``."""
    return openddb_server.endpoint
