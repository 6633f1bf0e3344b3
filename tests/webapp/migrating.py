"""Data migrations tested on data of the schema before them: the database is taken back to a
migration, given rows through that migration's models, then migrated forward."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps

Targets = list[tuple[str, str]]


@contextmanager
def schema_at(before: Targets) -> Iterator[StateApps]:
    """The database migrated back to `before`, and the models as they were there; every
    migration is applied again afterwards, whatever the test did."""
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        yield executor.loader.project_state(before).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def migrate_to(after: Targets) -> StateApps:
    """Forward to `after` (a fresh graph: what schema_at took back is unapplied now); the
    models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    return executor.loader.project_state(after).apps
