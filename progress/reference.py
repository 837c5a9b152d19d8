"""Mirrors content's regions and cooperatives into the database, for foreign keys and trainers' scopes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lessons.content import Library
from lessons.languages import Lang
from progress.models import Cooperative, Region


def sync_reference(session: Session, library: Library) -> None:
    """Insert or update every region and cooperative found in content."""
    for region in library.regions.values():
        session.merge(Region(code=region.code, name=region.name.get(Lang.FRENCH, region.code)))
    session.flush()
    for coop in library.cooperatives.values():
        session.merge(Cooperative(code=coop.code, name=coop.name, region_code=coop.region))
    session.commit()
