"""The curator area previews and commits an atlas mapping survey like any import: nothing is
stored by the preview, the commit stores every row, a bad survey lists its problems by row and
column, and only curators may do it."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from permedhub.atlas.models import MappingRecord
from permedhub.atlas.schemas import COLUMN_NAMES

ROW = {
    "id": "survey-fr-genomics-plan",
    "name": "A surveyed genomic medicine programme",
    "type": "policy-strategy",
    "countries": "FR",
    "topics": "erp-ra2-data-ict",
    "source": "https://example.org/survey/fr",
}


def survey(*rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def records(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(MappingRecord)) or 0)


def test_a_survey_is_previewed_then_committed(client: TestClient, web_engine: Engine, log_in,
                                              csrf_of) -> None:  # fmt: skip
    token = log_in(client, "carol")
    before = records(web_engine)
    preview = client.post("/curate/upload", data={"csrf_token": token, "kind": "atlas"},
                          files={"file": ("survey.csv", survey(ROW), "text/csv")})  # fmt: skip
    assert preview.status_code == 200, preview.text[:2000]
    assert "Import these changes" in preview.text
    assert records(web_engine) == before, "a preview must store nothing"
    done = client.post("/curate/upload/commit", data={"csrf_token": csrf_of(client, "/curate")})
    assert done.status_code == 200
    assert records(web_engine) == before + 1
    with Session(web_engine) as session:
        assert session.get(MappingRecord, ROW["id"]) is not None


def test_a_bad_survey_lists_its_problems_and_stores_nothing(
    client: TestClient, web_engine: Engine, log_in
) -> None:
    token = log_in(client, "carol")
    before = records(web_engine)
    bad = survey(ROW, {**ROW, "id": "survey-2", "countries": "XX"},
                 {**ROW, "id": "survey-3", "topics": "astrology"})  # fmt: skip
    refused = client.post("/curate/upload", data={"csrf_token": token, "kind": "atlas"},
                          files={"file": ("survey.csv", bad, "text/csv")})  # fmt: skip
    assert refused.status_code == 422 and 'id="upload-issues"' in refused.text
    assert "XX" in refused.text and "astrology" in refused.text and "<td>3</td>" in refused.text
    assert "<td>4</td>" in refused.text
    assert records(web_engine) == before
    wrong = client.post("/curate/upload", data={"csrf_token": token, "kind": "atlas"},
                        files={"file": ("survey.jsonl", b"{}", "application/json")})  # fmt: skip
    assert wrong.status_code == 415 and "atlas mapping survey" in wrong.text
    odd = client.post("/curate/upload", data={"csrf_token": token, "kind": "rocks"},
                      files={"file": ("survey.csv", survey(ROW), "text/csv")})  # fmt: skip
    assert odd.status_code == 422 and "kind = &#39;rocks&#39; is invalid" in odd.text


def test_only_curators_import_surveys(client: TestClient, log_in, csrf_of) -> None:
    log_in(client, "vera")
    token = csrf_of(client, "/curate")
    refused = client.post("/curate/upload", data={"csrf_token": token, "kind": "atlas"},
                          files={"file": ("survey.csv", survey(ROW), "text/csv")})  # fmt: skip
    assert refused.status_code == 403
