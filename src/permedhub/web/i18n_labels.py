"""Texts the helpdesk pages translate that come from the libraries, not from the templates:
the comparison's row and section labels (helpdesk.comparing) and the kinds of answer
(helpdesk.asking). Listed here, marked with `N_`, so that `make catalogues` extracts them; a
test checks that this list and the libraries' labels agree."""

from __future__ import annotations


def N_(text: str) -> str:
    return text


LABELS = (
    # sections
    N_("Regulators"),
    N_("Clinical-trial rules"),
    N_("Funding"),
    # regulators by role
    N_("Medicines regulator"),
    N_("Medical-device regulator"),
    N_("Ethics oversight"),
    N_("Data-protection authority"),
    # rules by aspect
    N_("Approval pathway"),
    N_("Ethics review"),
    N_("Statutory timelines"),
    N_("Submission language"),
    N_("Insurance"),
    N_("Data-protection law"),
    N_("Export/import of biological samples"),
    N_("Fees"),
    # funding by kind
    N_("Research funders"),
    N_("Funding programmes"),
    # kinds of answer
    N_("body"),
    N_("rule"),
    N_("funding"),
    N_("faq"),
)
