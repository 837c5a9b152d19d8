"""The roll-up writer: answers and finished steps counted into `ActivityDay` per local day, once each."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from progress.db import dialect_insert
from progress.models import ActivityDay, Answer, StepProgress, SweepMark, User


@dataclass(frozen=True)
class Rollup:
    """A table counted into `ActivityDay`: the sweep mark of how far it was read, its time and its counter."""

    mark: str
    model: type[Answer] | type[StepProgress]
    moment: InstrumentedAttribute[datetime]
    counter: str


ROLLUPS = (
    Rollup("activity_answers", Answer, Answer.created_at, "answers"),
    Rollup("activity_steps", StepProgress, StepProgress.completed_at, "steps"),
)


def _mark(session: Session, name: str) -> int:
    session.execute(dialect_insert(session)(SweepMark).values(name=name, value=0).on_conflict_do_nothing())
    return int(session.scalar(select(SweepMark.value).where(SweepMark.name == name)) or 0)


def roll_up_activity(sessions: sessionmaker[Session], tz: ZoneInfo, batch: int = 50_000) -> int:
    """Add answers and finished steps not yet counted to `ActivityDay`; returns how many rows were read.

    Each batch moves its sweep mark with a compare-and-set in the same transaction as the counts, so two
    processes rolling up at once never count a row twice.
    """
    read = 0
    for rollup in ROLLUPS:
        name, model, moment, counter = rollup.mark, rollup.model, rollup.moment, rollup.counter
        while True:
            with sessions() as session:
                start = _mark(session, name)
                rows = session.execute(
                    select(model.id, moment, model.course_id, User.region_code, User.cooperative_code)
                    .join(User, User.id == model.user_id)
                    .where(model.id > start)
                    .order_by(model.id)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                moved = session.execute(
                    update(SweepMark)
                    .where(SweepMark.name == name, SweepMark.value == start)
                    .values(value=rows[-1][0])
                )
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another process took this batch
                counts = Counter(
                    (at.astimezone(tz).date(), region or "", coop or "", course)
                    for _, at, course, region, coop in rows
                )
                insert = dialect_insert(session)(ActivityDay).values(
                    [
                        {
                            "day": d,
                            "region_code": r,
                            "cooperative_code": c,
                            "course_id": k,
                            "answers": 0,
                            "steps": 0,
                            counter: n,
                        }
                        for (d, r, c, k), n in counts.items()
                    ]
                )
                session.execute(
                    insert.on_conflict_do_update(
                        index_elements=["day", "region_code", "cooperative_code", "course_id"],
                        set_={counter: getattr(ActivityDay, counter) + getattr(insert.excluded, counter)},
                    )
                )
                session.commit()
                read += len(rows)
    return read
