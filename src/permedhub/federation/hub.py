"""The hub: send one cohort to every registered node at once and gather what each says.

Nodes are listed in a YAML file (`load_nodes`):

```yaml
nodes:
  - name: north
    url: https://north.example.org:8443
    user: alice                  # this researcher's account at that node
    secret_file: north.secret    # or secret_env: NAME_OF_A_VARIABLE (a path is relative to
                                 # this file)
    ca: north-ca.pem             # optional: trust this certificate (e.g. self-signed)
    timeout: 10                  # seconds, optional
```

Every node gets an outcome — answered, pending approval, refused, timeout, unreachable,
garbage (an answer that is not the node protocol) or error — and none is dropped. The total
adds the counts the nodes published; people registered at more than one node are counted once
per node.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from permedhub.federation import signing
from permedhub.federation.cohort import Cohort

DEFAULT_TIMEOUT = 10.0
DOUBLE_COUNT_CAVEAT = (
    "The total adds the nodes' counts: a patient registered at more than one node is counted "
    "once per node (double-counted)."
)
ROUNDING_CAVEAT = (
    "Each node rounds its counts up to a multiple of its rounding base and suppresses counts "
    "below its minimum cell size k; the total is a sum of rounded counts."
)


class NodesFileError(ValueError):
    """The nodes file is unreadable or invalid (the message names the field)."""


class NodeEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")
    user: str = Field(min_length=1)
    secret_file: Path | None = None
    secret_env: str | None = None
    ca: Path | None = None
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0)

    @model_validator(mode="after")
    def _one_secret(self) -> NodeEntry:
        if (self.secret_file is None) == (self.secret_env is None):
            raise ValueError("give exactly one of secret_file and secret_env")
        return self

    def secret(self) -> str:
        if self.secret_env is not None:
            value = os.environ.get(self.secret_env)
            if not value:
                raise NodesFileError(
                    f"node {self.name}: secret_env (value {self.secret_env!r}): the variable "
                    "is not set"
                )
            return value
        assert self.secret_file is not None
        try:
            return self.secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise NodesFileError(
                f"node {self.name}: secret_file (value {str(self.secret_file)!r}): {exc}"
            ) from None


class NodesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nodes: list[NodeEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> NodesFile:
        names = [n.name for n in self.nodes]
        if len(set(names)) != len(names):
            raise ValueError(f"node names must be distinct, got {names}")
        return self


def load_nodes(path: Path) -> list[NodeEntry]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        nodes = NodesFile.model_validate(data).nodes
    except (OSError, yaml.YAMLError) as exc:
        raise NodesFileError(f"nodes file {path}: cannot read it ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "nodes file"
        raise NodesFileError(
            f"nodes file {path}: {where} (value {first.get('input')!r}): {first['msg']}"
        ) from None
    base = path.parent
    return [
        node.model_copy(update={
            "secret_file": base / node.secret_file if node.secret_file else None,
            "ca": base / node.ca if node.ca else None,
        })
        for node in nodes
    ]  # fmt: skip


class _Disclosure(BaseModel):
    k: int = Field(ge=1)
    rounding: int = Field(ge=1)


class _Breakdown(BaseModel):
    by: list[Literal["sex", "age_band"]]
    cells: list[dict[str, Any]]


class NodeAnswer(BaseModel):
    """The answer protocol: what a node must send back (anything else is garbage)."""

    node: str
    status: Literal["answered"]
    query_id: str
    data: str
    synthetic: bool
    disclosure: _Disclosure
    count: int | None = Field(ge=0)
    count_suppressed: bool
    breakdown: _Breakdown | None = None

    @model_validator(mode="after")
    def _consistent(self) -> NodeAnswer:
        if (self.count is None) != self.count_suppressed:
            raise ValueError("count must be null exactly when count_suppressed is true")
        return self


class NodePending(BaseModel):
    node: str
    status: Literal["pending_approval"]
    query_id: str


@dataclass
class NodeOutcome:
    node: str
    url: str
    status: str  # answered | pending_approval | refused | timeout | unreachable | garbage | error
    seconds: float
    http_status: int | None = None
    detail: Any = None
    count: int | None = None
    answer: dict[str, Any] | None = None


@dataclass
class FederatedResult:
    cohort: str
    nodes: list[NodeOutcome]
    total: int
    nodes_in_total: list[str]
    suppressed_at: list[str]
    not_answered: list[str]
    caveats: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _classify(entry: NodeEntry, response: httpx.Response, seconds: float) -> NodeOutcome:
    outcome = NodeOutcome(entry.name, entry.url, "error", seconds, response.status_code)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code in (200, 202):
        model = NodeAnswer if response.status_code == 200 else NodePending
        try:
            parsed = model.model_validate(body)
        except ValidationError as exc:
            outcome.status = "garbage"
            outcome.detail = f"not a node answer: {exc.errors()[0]['msg']} " + (
                f"at {'.'.join(map(str, exc.errors()[0]['loc']))}" if exc.errors()[0]["loc"]
                else f"(body starts {response.text[:80]!r})")  # fmt: skip
            return outcome
        outcome.status = parsed.status
        outcome.answer = parsed.model_dump()
        outcome.count = getattr(parsed, "count", None)
        if isinstance(parsed, NodePending):
            outcome.detail = f"awaiting the operator's approval (query {parsed.query_id})"
        return outcome
    if isinstance(body, dict) and "refused" in body:
        outcome.status = "refused"
        outcome.detail = {"code": body["refused"], "detail": body.get("detail")}
        return outcome
    outcome.detail = f"HTTP {response.status_code}: {response.text[:200]!r}"
    return outcome


async def _ask(entry: NodeEntry, body: bytes) -> NodeOutcome:
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        secret = entry.secret()
    except NodesFileError as exc:
        return NodeOutcome(entry.name, entry.url, "error", 0.0, detail=str(exc))
    url = entry.url.rstrip("/") + "/queries"
    headers = {"Content-Type": "application/json",
               **signing.sign(entry.user, secret, "POST", httpx.URL(url).path, body)}  # fmt: skip
    verify: Any = ssl.create_default_context(cafile=str(entry.ca)) if entry.ca else True
    try:
        async with httpx.AsyncClient(verify=verify, timeout=entry.timeout) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return NodeOutcome(entry.name, entry.url, "timeout", loop.time() - started,
                           detail=f"no answer within {entry.timeout:g} s")  # fmt: skip
    except (httpx.TransportError, OSError) as exc:
        return NodeOutcome(entry.name, entry.url, "unreachable", loop.time() - started,
                           detail=f"{type(exc).__name__}: {exc}")  # fmt: skip
    return _classify(entry, response, loop.time() - started)


async def query_nodes_async(cohort: Cohort, nodes: list[NodeEntry]) -> FederatedResult:
    body = cohort.model_dump_json(by_alias=True).encode()
    outcomes = list(await asyncio.gather(*(_ask(entry, body) for entry in nodes)))
    counted = [o for o in outcomes if o.status == "answered" and o.count is not None]
    suppressed = [o.node for o in outcomes if o.status == "answered" and o.count is None]
    missing = [o.node for o in outcomes if o.status != "answered"]
    caveats = [DOUBLE_COUNT_CAVEAT, ROUNDING_CAVEAT]
    if suppressed:
        caveats.append(f"Suppressed (below k) and not in the total: {', '.join(suppressed)}.")
    if missing:
        caveats.append(f"No answer from {', '.join(missing)}: not in the total.")
    return FederatedResult(
        cohort=cohort.name,
        nodes=outcomes,
        total=sum(o.count or 0 for o in counted),
        nodes_in_total=[o.node for o in counted],
        suppressed_at=suppressed,
        not_answered=missing,
        caveats=caveats,
    )


def query_nodes(cohort: Cohort, nodes: list[NodeEntry]) -> FederatedResult:
    """Ask every node concurrently; each node's outcome is in the result, answered or not."""
    return asyncio.run(query_nodes_async(cohort, nodes))
