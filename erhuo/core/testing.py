"""Test helpers every app may use (core is below every app, so any app's tests can import this)."""

import io
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def make_png(width: int = 8, height: int = 8, colour=(200, 120, 140)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "photo.png", width: int = 8, height: int = 8) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_png(width, height), content_type="image/png")


def bad_upload(name: str = "not-an-image.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"this is not an image at all", content_type="image/png")


# --- concurrency against a real database ------------------------------------------------------------------
#
# On SQLite the threads share a file database configured as production (WAL, IMMEDIATE transactions, a busy
# timeout): a copy of the test database. On PostgreSQL (`DATABASE_URL`, CI's second pass) each thread has its
# own connection to the test database, outside the pool, so they really run at the same time and row locks
# (SELECT … FOR UPDATE) and constraints are what keep the results right. The `real_database` fixture (the
# project's conftest.py) wraps `real_database_settings`; tests pass what it yields to `run_at_once`.


def _wrapper(settings_dict):
    from django.db.utils import load_backend

    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")


@contextmanager
def real_database_settings(folder: Path):
    """The settings of the database every thread connects to; the test's own thread uses it too."""
    from django.db import connection, connections

    if connection.vendor == "sqlite":
        path = folder / "erhuo-concurrency.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        settings_dict = {**connection.settings_dict, "NAME": str(path)}
    else:
        options = {key: value for key, value in connection.settings_dict["OPTIONS"].items() if key != "pool"}
        settings_dict = {**connection.settings_dict, "OPTIONS": options}
    test_connection = connections["default"]
    mine = _wrapper(settings_dict)
    connections["default"] = mine
    try:
        if mine.vendor == "sqlite":
            with mine.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode")
                assert cursor.fetchone()[0] == "wal", "the threads' SQLite database is not in WAL mode"
        yield settings_dict
    finally:
        mine.close()
        connections["default"] = test_connection


@contextmanager
def own_connection(settings_dict):
    """A connection of this thread's own for the block, closed at its end."""
    from django.db import connections

    wrapper = _wrapper(settings_dict)
    connections["default"] = wrapper
    try:
        yield
    finally:
        wrapper.close()
        del connections["default"]


def run_at_once(settings_dict, jobs) -> list:
    """Run every job in its own thread with its own connection, all released at the same instant.

    Returns each job's result, or the DomainError it raised; any other exception fails the test.
    """
    from erhuo.core.errors import DomainError

    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list = []

    def work(index, job):
        with own_connection(settings_dict):
            try:
                barrier.wait(timeout=30)
                results[index] = job()
            except DomainError as error:
                results[index] = error
            except BaseException as error:  # reported below
                errors.append(f"job {index}: {error!r}")

    threads = [threading.Thread(target=work, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    assert errors == []
    return results
