"""Joint transnational calls (ERA PerMed style), the library core.

- `model`: the call document and the proposals, Pydantic schemas (`Call`, `ProposalSet`);
- `documents`: reading them from YAML/JSON files, errors naming file, line and field;
- `eligibility`: the consortium and national rules, evaluated by one engine;
- `scores`: aggregating reviewers' scores and ranking with explicit tie-breaks;
- `decision`: the funding decision (virtual, real or mixed common pot) and its what-ifs;
- `assignment`: reviewers to proposals, a MILP (HiGHS) under conflicts of interest;
- `store`: the workflow's tables (`jtc_*`); `workflow`: its steps, one transaction each, roles
  enforced; `views`: what each role may read; `submissions`: the proposal form, its PDF and
  the live consortium check; `mail`: the outbox and its delivery over SMTP.

Import the modules themselves (`from permedhub.calls.decision import decide`): this package
file imports nothing, so `permedhub --help` does not pay for pandas and SciPy.
"""
