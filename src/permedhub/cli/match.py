"""`permedhub match ...`: the expert register and working-group selection. A thin shell over
`permedhub.match`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from permedhub.cli.errors import fail

app = typer.Typer(help="Expert register and working-group selection.", no_args_is_help=True)
experts_app = typer.Typer(help="The register of experts who consented to be listed.",
                          no_args_is_help=True)  # fmt: skip
app.add_typer(experts_app, name="experts")
_out = Console()


def _counts(field: str, values: list[str]) -> dict[str, int]:
    """`--region-min celac=2` style options as a mapping."""
    from permedhub.match.errors import MatchInputError

    counts: dict[str, int] = {}
    for value in values:
        group, sep, number = value.partition("=")
        if not sep or not group or not number.isdigit():
            raise fail(str(MatchInputError(field, value, "GROUP=COUNT, e.g. celac=2")))
        counts[group] = int(number)
    return counts


@experts_app.command("add")
def add(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="YAML or JSON: a list of listings (`experts:` key)"),
    actor: str = typer.Option("cli", help="name recorded in the audit trail"),
) -> None:  # fmt: skip
    """Add or replace consented listings, all in one transaction (or none)."""
    import yaml

    from permedhub import db
    from permedhub.match.errors import MatchInputError
    from permedhub.match.experts import register

    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise fail(f"{file}: cannot read it ({exc})") from None
    if not isinstance(document, dict) or "experts" not in document:
        raise fail(f"{file}: expected a mapping with a list under 'experts'")
    engine = db.make_engine()
    db.ensure_ready(engine)
    try:
        ids = register(engine, document["experts"], actor=actor)
    except MatchInputError as exc:
        raise fail(f"{file}: {exc}") from None
    _out.print(f"listed {len(ids)} expert(s): {', '.join(ids)}", highlight=False)


@experts_app.command("delete")
def delete_listing(
    expert_id: str = typer.Argument(..., help="the listing's id"),
    actor: str = typer.Option("cli", help="name recorded in the audit trail"),
) -> None:
    """Delete a listing on the person's request (the audit log keeps only its id)."""
    from permedhub import db
    from permedhub.match.errors import MatchInputError
    from permedhub.match.experts import delete

    engine = db.make_engine()
    db.ensure_ready(engine)
    try:
        delete(engine, expert_id, actor=actor)
    except MatchInputError as exc:
        raise fail(str(exc)) from None
    _out.print(f"deleted the listing {expert_id}", highlight=False)


@app.command("group")
def group(
    size: int = typer.Option(..., "--size", help="number of experts in the group"),
    topics: list[str] = typer.Option([], "--topic", help="a topic the group covers (repeat)"),
    cover: int = typer.Option(1, "--cover", help="experts per topic, at least"),
    region_min: list[str] = typer.Option([], "--region-min", help="REGION=COUNT (repeat)"),
    sector_min: list[str] = typer.Option([], "--sector-min", help="SECTOR=COUNT (repeat)"),
    max_per_region: int | None = typer.Option(None, "--max-per-region"),
    include: list[str] = typer.Option([], "--include", help="an expert who must be in it"),
    exclude: list[str] = typer.Option([], "--exclude", help="an expert who must not"),
    as_json: bool = typer.Option(False, "--json", help="the group as JSON on stdout"),
) -> None:
    """Choose a working group from the register by MILP: topics covered, regions and sectors
    balanced (objective in `permedhub.match.working_group`)."""
    from sqlalchemy.orm import Session

    from permedhub import db
    from permedhub.match.errors import MatchInputError
    from permedhub.match.experts import check_topics, register_frame
    from permedhub.match.working_group import GroupRequest, Infeasible, select_working_group

    request = GroupRequest(
        size=size, topics=topics, cover=cover,
        region_min=_counts("--region-min", region_min),
        sector_min=_counts("--sector-min", sector_min),
        max_per_region=max_per_region, include=include, exclude=exclude,
    )  # fmt: skip
    engine = db.make_engine()
    db.ensure_ready(engine)
    try:
        with Session(engine) as session:
            # Unknown topics are refused, not reported as held by nobody.
            check_topics(session, topics, "--topic")
            frame = register_frame(session)
        chosen = select_working_group(frame, request)
    except (MatchInputError, Infeasible) as exc:
        raise fail(str(exc)) from None
    members = chosen.members.merge(frame[["expert_id", "name", "country"]], on="expert_id")
    if as_json:
        typer.echo(json.dumps({
            "objective": chosen.objective,
            "members": members.to_dict("records"),
            "coverage": chosen.coverage.to_dict("records"),
            "balance": chosen.balance.to_dict("records"),
            "largest_region": chosen.largest_region,
            "largest_sector": chosen.largest_sector,
            "topic_matches": chosen.topic_matches,
        }, default=str))  # fmt: skip
        return
    table = Table("expert", "name", "country", "region", "sector", "wanted topics held",
                  title=f"working group of {size}")  # fmt: skip
    for row in members.itertuples():
        table.add_row(row.expert_id, row.name, row.country, row.region, row.sector,
                      ", ".join(row.matched))  # fmt: skip
    _out.print(table)
    _out.print(f"objective: {chosen.objective}", markup=False)


def _call(reference: str | None) -> object:
    """A call document from a file, or one of the seeded calls by id (erapermed-jtc2022)."""
    if reference is None:
        return None
    from permedhub.calls.documents import load_call, seeded_call_files
    from permedhub.calls.errors import CallDocumentError

    path = Path(reference)
    if not path.is_file():
        seeded = {p.stem: p for p in seeded_call_files()}
        if reference not in seeded:
            raise fail(f"--call {reference!r}: expected a call file or a seeded call "
                       f"({', '.join(sorted(seeded))})")  # fmt: skip
        path = seeded[reference]
    try:
        return load_call(path)
    except CallDocumentError as exc:
        raise fail(f"--call {reference}: {exc}") from None


@app.command("partners")
def partners(
    idea: str = typer.Argument(..., help="the project idea, in a few sentences"),
    topics: list[str] = typer.Option([], "--topic", help="a wanted topic id (repeat)"),
    countries: list[str] = typer.Option([], "--country", help="only this country (repeat)"),
    regions: list[str] = typer.Option([], "--region", help="only this graph region (repeat)"),
    chosen: list[str] = typer.Option([], "--with", help="a partner already chosen (repeat)"),
    call: str | None = typer.Option(None, "--call", help="a call file or seeded call id"),
    own_funded: bool = typer.Option(False, "--own-funded", help="keep partners no funder funds"),
    limit: int = typer.Option(20, "--limit", help="how many (1-200)"),
    as_json: bool = typer.Option(False, "--json", help="the ranking as JSON on stdout"),
) -> None:
    """Organisations ranked for an idea, each with its reasons (score in
    `permedhub.match.partners`)."""
    from sqlalchemy.orm import Session

    from permedhub import db
    from permedhub.match.errors import MatchInputError
    from permedhub.match.partners import search_partners

    the_call = _call(call)
    engine = db.make_engine()
    db.ensure_ready(engine)
    with Session(engine) as session:
        try:
            found = search_partners(
                session, idea, topics=topics, countries=countries, regions=regions,
                partners=chosen, call=the_call, own_funded=own_funded, limit=limit,  # type: ignore[arg-type]
            )  # fmt: skip
        except MatchInputError as exc:
            raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps({"idea": found.idea, "weights": found.weights,
                               "matches": [m.as_json() for m in found.matches]}))  # fmt: skip
        return
    table = Table("score", "organisation", "country", "kind", "reasons", title=found.idea[:80])
    for m in found.matches:
        table.add_row(f"{m.score:.3f}", m.name, m.country or "", m.kind or "",
                      "; ".join(m.reasons))  # fmt: skip
    _out.print(table)


@app.command("consortium")
def consortium(
    call: str = typer.Argument(..., help="a call file or seeded call id"),
    partial: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                   help="YAML: `partners:` the consortium so far (call format)"),
    idea: str = typer.Option(..., "--idea", help="the project idea (ranks the candidates)"),
    topics: list[str] = typer.Option([], "--topic", help="a wanted topic id (repeat)"),
    size: int | None = typer.Option(None, "--size", help="total partners (default: fewest)"),
    own_funded: bool = typer.Option(False, "--own-funded", help="allow own-funded partners"),
    as_json: bool = typer.Option(False, "--json", help="the completion as JSON on stdout"),
) -> None:  # fmt: skip
    """Complete a consortium so that it meets the call's consortium rules, choosing the best
    candidates of a partner search (objective in `permedhub.match.consortium`)."""
    import yaml
    from pydantic import ValidationError
    from sqlalchemy.orm import Session

    from permedhub import db
    from permedhub.calls.model import Partner
    from permedhub.match.consortium import CannotComplete, complete_consortium
    from permedhub.match.errors import MatchInputError
    from permedhub.match.partners import search_partners
    from permedhub.validation import expected

    the_call = _call(call)
    try:
        document = yaml.safe_load(partial.read_text(encoding="utf-8"))
        chosen = [Partner.model_validate(p) for p in document["partners"]]
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError, KeyError) as exc:
        raise fail(f"{partial}: expected a mapping with a list under 'partners' ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise fail(f"{partial}: partners.{where} (value {first.get('input')!r}): "
                   f"{expected(first)}") from None  # fmt: skip
    engine = db.make_engine()
    db.ensure_ready(engine)
    with Session(engine) as session:
        try:
            found = search_partners(session, idea, topics=topics,
                                    partners=[p.organisation for p in chosen],
                                    call=the_call, own_funded=own_funded, limit=200)  # type: ignore[arg-type]  # fmt: skip
            done = complete_consortium(the_call, chosen, found.frame(), size=size,  # type: ignore[arg-type]
                                       own_funded=own_funded)  # fmt: skip
        except (MatchInputError, CannotComplete) as exc:
            raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps({
            "objective": done.objective,
            "added": done.added.to_dict("records"),
            "meets_consortium_rules": done.meets_consortium_rules,
            "check": done.check.to_dict(),
        }, default=str))  # fmt: skip
        return
    table = Table("organisation", "name", "country", "kind", "funder", "score",
                  title="partners to add")  # fmt: skip
    for r in done.added.itertuples():
        table.add_row(r.organisation, r.name, r.country, r.kind, r.funder or "own-funded",
                      f"{r.score:.3f}")  # fmt: skip
    _out.print(table)
    _out.print(f"objective: {done.objective}", markup=False)
    verdict = "meets" if done.meets_consortium_rules else "does NOT meet"
    _out.print(f"the completed consortium {verdict} the call's consortium rules", markup=False)
