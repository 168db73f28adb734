"""Portal pages of the standalone libraries: health economics (`permedhub.hecon`) and trial
design (`permedhub.trials`). Each route parses its form, calls the library and renders."""

from __future__ import annotations

from fastapi import APIRouter

from permedhub.web.tools import common, hecon, trials

router = APIRouter(include_in_schema=False)
router.include_router(common.router)
router.include_router(hecon.router)
router.include_router(trials.router)

__all__ = ["router"]
