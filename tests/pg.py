"""A PostgreSQL server for tests: `postgres_admin_url()` finds one or starts a throwaway one.

Order: `BOURSE_TEST_PG_URL` if set; else 127.0.0.1:5432 as user postgres (database `test`, then
`postgres`); else a private server from the installed binaries (initdb + pg_ctl in a temp dir on a
free port, as an unprivileged user when running as root, stopped at exit). With none of these the
calling test is skipped, or fails when `CI` is set, so CI never passes by silently skipping.
"""

import atexit
import functools
import glob
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest
import sqlalchemy as sa

from tests.net import free_port

URL_ENV = "BOURSE_TEST_PG_URL"
LOCAL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"


def postgres_admin_url() -> str:
    """A SQLAlchemy URL of a PostgreSQL database a test may CREATE DATABASE from."""
    url, why = _discover()
    if url is not None:
        return url
    message = f"no PostgreSQL server for the tests: {why}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set: PostgreSQL tests must not be skipped)", pytrace=False)
    pytest.skip(f"{message}; skipped the PostgreSQL half of this test (set {URL_ENV} to run it)")


@functools.cache
def _discover() -> tuple[str | None, str]:
    if url := os.environ.get(URL_ENV, "").strip():
        problem = _problem(url)
        return (url, "") if problem is None else (None, f"{URL_ENV}={url}: {problem}")
    problems = []
    for db in ("test", "postgres"):
        url = LOCAL.format(db=db)
        if (problem := _problem(url)) is None:
            return url, ""
        problems.append(f"{url}: {problem}")
    try:
        return _start_throwaway(), ""
    except (OSError, subprocess.CalledProcessError, LookupError) as exc:
        problems.append(f"throwaway server: {exc}")
    return None, "; ".join(problems)


def _problem(url: str) -> str | None:
    """Why `url` cannot be connected to, or None."""
    engine = sa.create_engine(url, poolclass=sa.NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return None
    except sa.exc.SQLAlchemyError as exc:
        return str(exc.orig or exc).strip().splitlines()[0]
    finally:
        engine.dispose()


def _start_throwaway() -> str:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version) or [
        os.path.dirname(shutil.which("initdb") or "")
    ]
    bindir = binaries[-1]
    if not os.path.exists(os.path.join(bindir, "initdb")):
        raise LookupError("no initdb found (looked in /usr/lib/postgresql/*/bin and PATH)")
    # PostgreSQL refuses to run as root
    user = None
    if os.geteuid() == 0:
        user = next((u for u in ("postgres", "nobody") if _has_user(u)), None)
        if user is None:
            raise LookupError("running as root and no 'postgres' or 'nobody' user to run as")
    root = tempfile.mkdtemp(prefix="bourse-pg-")
    data = os.path.join(root, "data")
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)

    def run(*args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, user=user, cwd=root)

    port = free_port()
    run(os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
    pg_ctl = os.path.join(bindir, "pg_ctl")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(pg_ctl, "-D", data, "-o", options, "-l", os.path.join(root, "log"), "-w", "start")

    def stop() -> None:
        subprocess.run(
            [pg_ctl, "-D", data, "-m", "immediate", "stop"], capture_output=True, user=user
        )
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def _version(bindir: str) -> int:
    part = bindir.split("/")[-2]
    return int(part) if part.isdigit() else 0


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
