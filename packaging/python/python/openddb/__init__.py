"""openddb, a DynamoDB-compatible database: the server binary (installed as
the ``openddb`` command) and helpers to run it from Python and pytest."""

from importlib.metadata import PackageNotFoundError, version

from .server import OpenddbError, Server, binary_path, start

try:
    __version__ = version("openddb")
except PackageNotFoundError:  # imported from a source tree
    __version__ = "0.0.0"

__all__ = ["OpenddbError", "Server", "binary_path", "start", "__version__"]
