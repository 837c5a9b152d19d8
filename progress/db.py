"""Engine and sessions: SQLite with WAL and foreign keys by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, TextClause, bindparam, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


WAL_LIMIT = 16 * 1024 * 1024
"""Bytes a SQLite write-ahead log is cut back to after a checkpoint (old page copies would stay in it)."""


class DatabaseUnavailable(Exception):
    """The database cannot be opened or written; the message says where and why."""


BUSY_TIMEOUT = 5.0
"""Seconds SQLite waits for another connection's lock: short, so a request fails soon rather than hangs."""
BUSY_RETRY_AFTER = 5
"""Seconds a webhook asks the platform to wait (`Retry-After`) before delivering again to a busy database."""


def make_engine(url: str, busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout of `busy_timeout` seconds."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(f"cannot create the database folder {folder}: {exc.strerror}") from exc
    engine = create_engine(
        url, connect_args={"timeout": busy_timeout, "check_same_thread": False}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
        cursor.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        cursor.close()

    return engine


def scrub(engine: Engine) -> None:
    """After an erasure, leave no copy of the erased rows readable.

    SQLite: the write-ahead log is copied into the database (where `secure_delete` zeroed them) and emptied.
    PostgreSQL: VACUUM (outside a transaction) frees the dead row versions; their bytes stay on disk until
    reused, and in any WAL archive or backup until those expire."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            connection.exec_driver_sql("VACUUM")


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at our migrations and `url`."""
    from alembic.config import Config  # alembic is needed at start and in migrations only

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def begin(sessions: sessionmaker[Session]) -> AbstractContextManager[Connection]:
    """A short transaction on the sessions' database without an ORM session (for the statements of every
    turn, where the session's own work would cost more than the statement); committed on leaving."""
    engine: Engine = sessions.kw["bind"]
    return engine.begin()


def dialect_insert(session: Session) -> Any:
    """INSERT with ON CONFLICT for the session's database (SQLite or PostgreSQL)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_new(table: Table, columns: Sequence[str], key: Sequence[str], returning: str = "") -> TextClause:
    """`INSERT … ON CONFLICT (key) DO NOTHING`: a row whose key is taken is skipped, on SQLite and PostgreSQL
    alike. Written as text, every column given, because SQLAlchemy compiles the dialects' own ON CONFLICT
    inserts anew on each call (they are not cacheable) and these run on every message."""
    names = [*columns, *key, *([returning] if returning else [])]
    if unknown := [name for name in names if name not in table.c]:  # only the table's names reach the SQL
        raise ValueError(f"{table.name} has no column {unknown}")
    values = ", ".join(f":{c}" for c in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({values}) "  # noqa: S608 (checked names)
    sql += f"ON CONFLICT ({', '.join(key)}) DO NOTHING"
    statement = text(f"{sql} RETURNING {returning}" if returning else sql)
    return statement.bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))
