"""What a PostgreSQL restart does to a connection, for the tests of what survives one."""

from __future__ import annotations

import psycopg
from django.db import connection


def end_this_connection() -> None:
    """End the connection this thread holds from a second one, as a server restart (or a
    failover, an idle cut) does: its next statement fails."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        host=db["HOST"],
        port=db["PORT"] or None,
        password=db["PASSWORD"] or None,
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s, 10000)", [pid])
