"""Bad input gives a clear error naming the model element; never NaN in results."""

from __future__ import annotations

import numpy as np
import pytest
from hecon_test_models import THREE_STATE, three_state

from permedhub.hecon.errors import (
    CircularDefinitionError,
    DistributionError,
    ExpressionError,
    HeconError,
    ProbabilityError,
    UnknownNameError,
)
from permedhub.hecon.markov import MarkovModel
from permedhub.hecon.spec import load_model


def run(doc, **kw):
    return MarkovModel(load_model(doc)).run(**kw)


def test_reference_model_runs_cleanly() -> None:
    res = run(THREE_STATE).mean()
    assert np.all(np.isfinite(res.to_numpy()))
    assert res.loc["new", "qaly"] > res.loc["usual", "qaly"]


def test_probability_above_one_names_strategy_states_and_cycle() -> None:
    doc = three_state(parameters={**THREE_STATE["parameters"], "p_sd": "0.2 * model_time"})
    with pytest.raises(ProbabilityError) as err:
        run(doc)
    msg = str(err.value)
    assert "strategy 'usual'" in msg and "sick->dead" in msg and "cycle 6" in msg


def test_negative_complement_is_reported() -> None:
    doc = three_state(parameters={**THREE_STATE["parameters"], "p_hs": 0.7, "p_hd": 0.5})
    with pytest.raises(ProbabilityError, match=r"healthy->healthy.*complement"):
        run(doc)


def test_row_not_summing_to_one() -> None:
    doc = three_state(
        transitions={
            "healthy": {"healthy": 0.8, "sick": "p_hs", "dead": "p_hd"},
            "sick": {"sick": "C", "dead": "p_sd"},
        }
    )
    with pytest.raises(ProbabilityError, match=r"from state 'healthy' sum to 0\.92.*expected 1"):
        run(doc)


def test_psa_draw_outside_unit_interval_names_the_draw() -> None:
    params = {**THREE_STATE["parameters"], "p_sd": {"distribution": "normal", "mean": 0.2, "sd": 1}}
    with pytest.raises(ProbabilityError, match=r"sick->dead.*draw \d+"):
        run(three_state(parameters=params), n_draws=200, seed=1)


def test_negative_cost_rejected_unless_allowed() -> None:
    doc = three_state(parameters={**THREE_STATE["parameters"], "c_sick": -5})
    with pytest.raises(HeconError, match="negative state cost in category 'medical'"):
        run(doc)
    doc["settings"]["allow_negative_costs"] = True
    assert run(doc).mean().loc["usual", "cost"] < 0


def test_unknown_state_in_transitions() -> None:
    doc = three_state(transitions={"healthy": {"healthy": "C", "sik": "p_hs"}})
    with pytest.raises(UnknownNameError, match="unknown state 'sik'"):
        load_model(doc)


def test_unknown_parameter_suggests_the_close_name() -> None:
    doc = three_state(state_costs={"medical": {"sick": "c_sik"}})
    with pytest.raises(UnknownNameError, match=r"unknown parameter 'c_sik'.*did you mean 'c_sick'"):
        run(doc)


def test_circular_parameters_name_the_cycle() -> None:
    params = {**THREE_STATE["parameters"], "a": "b + 1", "b": "c * 2", "c": "a - 1"}
    with pytest.raises(CircularDefinitionError, match="a -> b -> c -> a"):
        run(three_state(parameters=params))


def test_impossible_distribution_names_parameter() -> None:
    params = {**THREE_STATE["parameters"], "p_hs": {"distribution": "beta", "alpha": -1, "beta": 3}}
    with pytest.raises(DistributionError, match="p_hs: alpha must be"):
        run(three_state(parameters=params))


def test_missing_convention_is_an_error_not_a_default() -> None:
    doc = three_state()
    del doc["settings"]["counting"]
    with pytest.raises(HeconError, match=r"settings\.counting"):
        load_model(doc)


def test_expression_language_rejects_code() -> None:
    for bad in ("__import__('os')", "p_hs.real", "[1, 2][0]", "(lambda: 1)()", "p_hs if"):
        params = {**THREE_STATE["parameters"], "x": bad}
        with pytest.raises(ExpressionError):
            run(three_state(parameters=params))


def test_nan_producing_expression_is_reported() -> None:
    params = {**THREE_STATE["parameters"], "c_sick": "log(0 - 1)"}
    with pytest.raises(ExpressionError, match="non-finite"):
        run(three_state(parameters=params))


@pytest.mark.parametrize("bad", ["log(p_sd - 1)", "p_sd / (model_time - model_time)"])
def test_non_finite_transition_is_reported_as_such_not_as_a_probability(bad: str) -> None:
    """A transition value's finiteness is checked with its range: NaN or inf is still named
    as a non-finite expression of that transition, before any range error."""
    transitions = {**THREE_STATE["transitions"], "sick": {"sick": "C", "dead": bad}}
    with pytest.raises(ExpressionError, match=r"transition sick->dead: .* non-finite") as err:
        run(three_state(transitions=transitions))
    assert bad in str(err.value)


def test_initial_distribution_must_sum_to_one() -> None:
    with pytest.raises(ProbabilityError, match=r"initial state distribution sums to 0\.5"):
        run(three_state(initial={"healthy": 0.5}))


def test_two_complements_in_one_row() -> None:
    doc = three_state(transitions={"healthy": {"healthy": "C", "sick": "C"}})
    with pytest.raises(HeconError, match="2 complement"):
        load_model(doc)


def test_state_time_needs_a_tunnel() -> None:
    params = {**THREE_STATE["parameters"], "p_sd": "0.1 * state_time"}
    doc = three_state(parameters=params)
    doc["states"][0]["tunnel"] = 3  # some tunnel exists, but not on 'sick'
    with pytest.raises(HeconError, match="uses state_time but state 'sick' has no tunnel"):
        run(doc)


def test_lookup_below_the_first_key_names_the_table() -> None:
    params = {
        **THREE_STATE["parameters"],
        "mort": {"method": "step", "table": {"x": [40, 50], "y": [0.01, 0.02]}},
        "p_hd": "mort(30 + model_time)",
    }
    with pytest.raises(HeconError, match="table 'mort': lookup key 31"):
        run(three_state(parameters=params))


def test_unknown_function_is_rejected() -> None:
    params = {**THREE_STATE["parameters"], "p_hs": "sigmoid(0.1)"}
    with pytest.raises(ExpressionError, match="unknown function 'sigmoid'"):
        run(three_state(parameters=params))


# --------------------------------------------------------------------------- message wording


def _message(doc: dict, error: type[Exception] = HeconError) -> str:
    with pytest.raises(error) as err:
        load_model(doc)
    return str(err.value)


def test_document_errors_name_the_location_as_written_without_pydantic_prefixes() -> None:
    rewards = [{"from": "healthy", "to": "sick"}, {"from": "healthy", "to": "sik"}]
    own = three_state(strategies={"usual": {}, "new": {"transition_rewards": rewards}})
    msg = _message(own, UnknownNameError)
    assert msg == (
        "invalid model document: strategies.new.transition_rewards[1].to: unknown state 'sik'; "
        "states are healthy, sick, dead"
    )
    shared = _message(three_state(initial={"healthy": 0.5, "sik": 0.5}), UnknownNameError)
    assert shared.startswith("invalid model document: initial.sik: unknown state 'sik'")
    for text in (msg, shared):
        assert "Value error" not in text and ": :" not in text


def test_union_alternatives_become_one_problem_with_the_value_given() -> None:
    params = {**THREE_STATE["parameters"], "p_hs": {"distribution": "beta", "alpha": "many"}}
    msg = _message(three_state(parameters=params))
    assert msg == (
        "invalid model document: parameters.p_hs.alpha: Input should be a valid number, unable "
        "to parse string as a number or a valid list, got 'many'"
    )
    settings = {**THREE_STATE["settings"], "cycles": 0}
    assert _message(three_state(settings=settings)) == (
        "invalid model document: settings.cycles: Input should be greater than or equal to 1, got 0"
    )


def test_a_number_used_as_a_mapping_key_is_named_as_a_key_not_an_index() -> None:
    doc = three_state(state_utilities={"healthy": 1, 2: 0.5})
    assert _message(doc) == (
        "invalid model document: state_utilities.2: Input should be a valid string, got 2"
    )


def test_a_top_level_problem_is_located_at_document() -> None:
    from pydantic import BaseModel, ValidationError, model_validator

    from permedhub.hecon.errors import document_error

    class Pair(BaseModel):
        low: float
        high: float

        @model_validator(mode="after")
        def _ordered(self) -> Pair:
            if self.low > self.high:
                raise ValueError(f"low {self.low} is above high {self.high}")
            return self

    data = {"low": 2, "high": 1}
    with pytest.raises(ValidationError) as err:
        Pair.model_validate(data)
    assert str(document_error(err.value, data, "pair")) == (
        "invalid pair: document: low 2.0 is above high 1.0"
    )


def test_a_constant_bad_probability_says_nothing_about_cycle_or_draw() -> None:
    doc = three_state(parameters={**THREE_STATE["parameters"], "p_sd": 1.5})
    with pytest.raises(ProbabilityError) as err:
        run(doc)
    msg = str(err.value)
    assert "transition probability sick->dead is 1.5; expected a probability in [0, 1]" in msg
    assert "all" not in msg and "cycle" not in msg and "draw" not in msg


def test_a_bad_probability_names_only_what_it_varies_by() -> None:
    timed = three_state(parameters={**THREE_STATE["parameters"], "p_sd": "0.2 * model_time"})
    with pytest.raises(ProbabilityError) as err:
        run(timed)
    assert "is 1.2 in cycle 6; expected" in str(err.value) and "draw" not in str(err.value)
    params = {**THREE_STATE["parameters"], "p_sd": {"distribution": "normal", "mean": 0.2, "sd": 1}}
    with pytest.raises(ProbabilityError, match=r"sick->dead is -?[\d.]+ in draw \d+; expected"):
        run(three_state(parameters=params), n_draws=200, seed=1)
    row = three_state(
        transitions={
            "healthy": {"healthy": 0.8, "sick": "p_hs", "dead": "p_hd"},
            "sick": {"sick": "C", "dead": "p_sd"},
        }
    )
    with pytest.raises(ProbabilityError) as err:
        run(row)
    assert "from state 'healthy' sum to 0.92; expected 1" in str(err.value)


def test_a_non_finite_constant_expression_says_it_reads_no_inputs() -> None:
    params = {**THREE_STATE["parameters"], "c_sick": "log(0 - 1)"}
    with pytest.raises(ExpressionError) as err:
        run(three_state(parameters=params))
    msg = str(err.value)
    assert "'log(0 - 1)' gives a non-finite value (nan) and reads no inputs" in msg
    assert "check the inputs it reads" not in msg
    params = {**THREE_STATE["parameters"], "c_sick": "log(u_sick - 1)"}
    with pytest.raises(ExpressionError, match=r"\(nan\); check the inputs it reads: u_sick$"):
        run(three_state(parameters=params))


def test_a_table_file_that_is_a_device_is_reported_as_such() -> None:
    params = {
        **THREE_STATE["parameters"],
        "mort": {"method": "step", "file": "/dev/null", "key": "age", "column": "q"},
    }
    with pytest.raises(HeconError) as err:
        run(three_state(parameters=params))
    assert str(err.value) == (
        "table 'mort': file /dev/null: the file is empty (a character device, not a regular file)"
    )


def _exponential_survival(**parameters: object) -> dict:
    """Alive -> dead with p = 1 - exp(-lambda) per yearly cycle, two cycles, no discounting:
    QALYs = exp(-lambda) + exp(-2 lambda)."""
    return {
        "name": "exponential survival",
        "settings": {
            **THREE_STATE["settings"],
            "cycles": 2,
            "discount_costs": 0,
            "discount_outcomes": 0,
        },
        "states": [{"name": "alive"}, {"name": "dead", "dead": True}],
        "parameters": {"lambda": 0.1, "p": "1 - exp(-lambda)", **parameters},
        "strategies": {"usual": {}, "halved": {"parameters": {"lambda": 0.05}}},
        "transitions": {"alive": {"alive": "C", "dead": "p"}},
        "initial": {"alive": 1},
        "state_utilities": {"alive": 1},
    }


def test_a_parameter_named_lambda_works_in_expressions() -> None:
    qaly = run(_exponential_survival()).mean()["qaly"]
    assert qaly["usual"] == pytest.approx(np.exp(-0.1) + np.exp(-0.2), rel=1e-12)
    assert qaly["halved"] == pytest.approx(np.exp(-0.05) + np.exp(-0.1), rel=1e-12)
    # other keywords the language does not use work too, and keep their names in messages
    doc = _exponential_survival(**{"class": 2.0, "p": "1 - exp(-lambda * class) + in"})
    with pytest.raises(UnknownNameError, match=r"unknown parameter 'in' in '1 - exp"):
        run(doc)


def test_the_words_of_the_expression_language_stay_refused_as_names() -> None:
    doc = _exponential_survival(**{"if": 0.3})
    with pytest.raises(HeconError, match=r"parameter name 'if' is not allowed .*and, else"):
        run(doc)
