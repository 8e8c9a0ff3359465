"""``python -m openddb ARGS``: runs the openddb binary with ARGS."""

import subprocess
import sys

from .server import OpenddbError, binary_path


def main() -> int:
    try:
        binary = binary_path()
    except OpenddbError as err:
        print(f"openddb: {err}", file=sys.stderr)
        return 1
    try:
        return subprocess.call([binary, *sys.argv[1:]])
    except KeyboardInterrupt:
        # The binary got the same Ctrl-C and is shutting down; wait for it.
        return 130


if __name__ == "__main__":
    sys.exit(main())
