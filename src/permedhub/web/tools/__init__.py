"""Portal pages of the standalone libraries: health economics (`permedhub.hecon`) and trial
design (`permedhub.trials`). Each route parses its form (Pydantic), calls the library and
renders tables plus Plotly figures; no numbers are computed here.

Routes (all HTML unless noted):

- ``/tools/static/plotly.min.js`` — the plotly.js bundle of the installed `plotly` package.
- ``/tools/hecon`` — index; ``/model`` (POST, CSRF: example or uploaded model document, PSA
  draws, seed, WTP, optional tornado ranges; ``output=report|json|psa_csv`` downloads),
  ``/psa`` (POST: PSA sample CSV -> EVPI, EVPPI, CEAC, CE plane), ``/icers`` (POST:
  ``strategy,cost,effect`` CSV), ``/budget`` (POST: budget impact document), ``/payment``
  (POST: refund / payment on outcome / instalments rewrite of a Markov model),
  ``/examples/{name}.yaml``.
- ``/tools/trials`` — index; ``/gsd``, ``/simon``, ``/sample-size``, ``/biomarker`` (GET
  calculators with shareable URLs; ``/gsd?output=report`` downloads the HTML report),
  ``/simulate`` (POST, CSRF: example or uploaded design, n-sim <= 100,000, seed;
  ``output=report|json``), ``/checklist`` (POST: PERMIT checklist of a protocol),
  ``/examples/{name}.yaml``.

Charts are drawn by ``static/js/tools-plots.js`` from JSON in ``<script
type="application/json">`` blocks; tool pages send the portal's CSP with one addition, the
hash of the empty ``<style>`` element that Plotly fills through the CSS object model.
"""

from __future__ import annotations

from fastapi import APIRouter

from permedhub.web.tools import common, hecon, trials

router = APIRouter(include_in_schema=False)
router.include_router(common.router)
router.include_router(hecon.router)
router.include_router(trials.router)

__all__ = ["router"]
