"""What the helpdesk's experts set in the portal: after how many days since `verified_on` a
fact is shown as possibly stale. Until an expert sets it, `PERMEDHUB_HELPDESK_STALE_DAYS` (or
its default, a year) applies; a change is audited like every curator write."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from permedhub import config
from permedhub.db import writing
from permedhub.graph.curation import audit_service_record
from permedhub.helpdesk.models import Setting
from permedhub.validation import InputError

STALE_DAYS = "stale_days"
MAX_STALE_DAYS = 36500


def stale_days(session: Session) -> int:
    """The stale age in force: the experts' setting, else the environment's."""
    setting = session.get(Setting, STALE_DAYS)
    return setting.value if setting is not None else config.helpdesk_stale_days()


def set_stale_days(engine: Engine, days: object, *, actor: str) -> int:
    """Set the stale age (whole days, 1 to 36,500); InputError names a bad value."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_STALE_DAYS:
        raise InputError("stale_days", days, f"a whole number of days from 1 to {MAX_STALE_DAYS:,}")
    with writing(engine) as session:
        setting = session.get(Setting, STALE_DAYS)
        old = None if setting is None else {"value": setting.value}
        now = dt.datetime.now(dt.UTC)
        if setting is None:
            session.add(Setting(key=STALE_DAYS, value=days, updated_by=actor, updated_at=now))
        else:
            setting.value, setting.updated_by, setting.updated_at = days, actor, now
        audit_service_record(session, actor, "update" if old else "create", "helpdesk-setting",
                             STALE_DAYS, old=old, new={"value": days})  # fmt: skip
    return days
