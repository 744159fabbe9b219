"""The planning model (DESIGN.md §7) on instances small enough to solve by hand.

Every optimum here is derived in the test's docstring; the random cross-check against the
element-by-element reference is tests/crosscheck/test_reference_plan.py.
"""

from __future__ import annotations

import json

import pytest

from optimizer.backends.base import Status
from optimizer.cases import build_plan
from optimizer.errors import InstanceError
from optimizer.load import parse_text
from optimizer.pipeline import solve_document
from optimizer.planning import solve_measures
from optimizer.report.files import plan_csv_tables, solution_json

BASE = """
version: 2
periods: {count: 2, hours: 12, weight: 365}
regions:
  - {id: r, location: [30, 120], demand: {k: [100, 60]}}
sites:
  - {id: a, location: [30, 121], capacity_mw: 50, pue: 1.2, price: 300}
  - {id: b, location: [31, 121], capacity_mw: 0, pue: 1.1, price: 200, open_cost: 1.0e6,
     expansions: [{id: hall, size_mw: 40, annual_cost: 2.0e6, max_units: 3}]}
classes:
  - {id: k, unmet_penalty: 1.0e4}
"""

PLAN = BASE + """
planning:
  discount_rate: 0.05
  years:
    - {id: "2025", year: 2025, span: 2}
    - {id: "2027", year: 2027, span: 3, set: ["regions[*].demand.k*=1.2"]}
  scenarios:
    - {id: normal, probability: 0.7}
    - {id: dear, probability: 0.3, set: ["sites[*].price*=1.5"]}
  contingencies: {lose: [a], protect: [k], probability: 0.1}
"""

A = 12 * 365  # hours a year each period stands for


def solve(text: str):  # type: ignore[no-untyped-def]
    return solve_document(parse_text(text, "plan.yaml"))


def test_a_two_year_plan_with_a_scenario_and_a_contingency_by_hand() -> None:
    """Losing site a, the protected class k must be served at b alone: 100 MW in 2025 and
    120 MW in 2027 need three 40 MW halls at b from 2025 (two are 80 MW). b is then the
    cheaper site (200 x 1.1 = 220 against 300 x 1.2 = 360 CNY per MWh of IT energy) and holds
    the whole demand in every case. Per year, build 1e6 + 3 x 2e6 = 7e6; operation
    (100 + 60) x A x 220 in 2025 and 1.2 times that in 2027, x 1.5 in the dear scenario; weights
    0.7, 0.3 and 0.1 (the contingency); discount factors D = 2 and 3 / 1.05^2."""
    run = solve(PLAN)
    sol = run.solution
    assert sol.status is Status.OPTIMAL
    op25 = 160 * A * 220
    op27 = 1.2 * op25
    year = [7e6 + op * (0.7 + 0.3 * 1.5 + 0.1) for op in (op25, op27)]
    D = [2.0, 3.0 / 1.05 ** 2]
    assert sol.objective == pytest.approx(D[0] * year[0] + D[1] * year[1], rel=1e-9)
    assert sol.costs["opening"] == pytest.approx(1e6 * sum(D), rel=1e-9)
    assert sol.costs["expansion"] == pytest.approx(6e6 * sum(D), rel=1e-9)
    assert sum(sol.costs.values()) == pytest.approx(sol.objective, rel=1e-12)
    built = {(b["year"], b["site"]): b for b in sol.build_table}
    assert built["2025", "b"]["expansion_units"] == 3
    assert built["2025", "b"]["open"]
    assert built["2025", "b"]["new_mw"] == 120
    assert built["2027", "b"]["new_mw"] == 0
    cases = {(c["year"], c["scenario"]): c for c in sol.cases}
    assert set(cases) == {(y, w) for y in ("2025", "2027") for w in ("normal", "dear",
                                                                    "lose:a")}
    assert cases["2027", "dear"]["operating_cost"] == pytest.approx(1.5 * op27, rel=1e-9)
    assert cases["2025", "lose:a"]["weight"] == pytest.approx(2.0 * 0.1)
    assert cases["2027", "normal"]["weight"] == pytest.approx(D[1] * 0.7)
    # the horizon's expected totals: span x probability x each case's annual energy
    it = sum(span * p * 160 * A * (1 if y == 0 else 1.2)
             for y, span in enumerate((2, 3)) for p in (0.7, 0.3, 0.1))
    assert sol.totals["served_mwh"] == pytest.approx(it, rel=1e-9)


def test_the_solution_json_is_version_2_with_cases_build_and_flows_by_case() -> None:
    sol = solve(PLAN).solution
    data = json.loads(solution_json(sol))
    assert data["version"] == 2
    assert {"planning", "cases", "build"} <= set(data)
    assert data["planning"]["years"][1]["discount"] == pytest.approx(3 / 1.05 ** 2)
    flows = [f for f in data["flows"] if f["year"] == "2027" and f["scenario"] == "lose:a"]
    assert {f["site"] for f in flows} == {"b"}
    assert sum(f["mw"] for f in flows) == pytest.approx(1.2 * 160)
    tables = plan_csv_tables(sol)
    assert tables["cases.csv"].count("\n") == 1 + 6
    assert tables["flows.csv"].splitlines()[0].startswith("year,scenario,")


def test_what_is_built_stays_even_when_demand_falls() -> None:
    """Demand 100 MW in 2025 needs three halls at b (the contingency forces it); in 2027 demand
    halves to 50 MW, which two halls would carry, but what is built stays: three halls are paid
    in both years. With no contingency and no discounting, a plain cost count: b's halls save
    (360 - 220) x A per MW a year, more than a hall's 2e6 / 40 MW = 50,000 CNY, so b is used
    for all it can take; 2025: three halls (100 MW > 80), 2027: the same three."""
    text = BASE + """
planning:
  years:
    - {id: y1, year: 1}
    - {id: y2, year: 2, set: ["regions[*].demand.k*=0.5"]}
"""
    sol = solve(text).solution
    built = {(b["year"], b["site"]): b["expansion_units"] for b in sol.build_table}
    assert built["y1", "b"] == 3
    assert built["y2", "b"] == 3
    op1 = 160 * A * 220 - 0.0  # all at b: 100 and 60 MW fit in 120
    op2 = 80 * A * 220
    assert sol.objective == pytest.approx(2 * 7e6 + op1 + op2, rel=1e-9)


def test_evpi_and_vss_by_hand() -> None:
    """One region, one period of 10 hours; site e (existing, 1,000 MW, 100 CNY/MWh: 1,000 CNY
    per MW a year) and site c with 10 MW halls at 300 CNY a year (10 CNY/MWh: 100 per MW a
    year). Demand 50 MW with probability 1/4 or 150 MW with 3/4. A hall used in a scenario
    saves 10 x 900 = 9,000 there.
    - RP: the first 5 halls are used in both scenarios, the next 10 in the high one only
      (0.75 x 9,000 > 300): 15 halls, 4,500 + 0.25 x 5,000 + 0.75 x 15,000 = 17,000.
    - Wait-and-see: 5 halls for 50 MW (1,500 + 5,000 = 6,500), 15 for 150 (4,500 + 15,000 =
      19,500); weighted: 16,250. EVPI = 750.
    - Mean scenario: 125 MW; 13 halls (3,900 + 12,500 = 16,400 against 12 halls: 3,600 +
      12,000 + 5,000). Operated in each scenario (EEV): 3,900 + 0.25 x 5,000 + 0.75 x
      (13,000 + 20,000) = 29,900. VSS = 12,900."""
    text = """
version: 2
periods: {count: 1, hours: 10, weight: 1}
regions: [{id: r, location: [30, 120], demand: {k: 100}}]
sites:
  - {id: e, location: [30, 121], capacity_mw: 1000, pue: 1, price: 100}
  - {id: c, location: [30, 121], capacity_mw: 0, pue: 1, price: 10,
     expansions: [{id: hall, size_mw: 10, annual_cost: 300, max_units: 20}]}
classes: [{id: k}]
planning:
  scenarios:
    - {id: low, probability: 0.25, set: ["regions[r].demand.k=50"]}
    - {id: high, probability: 0.75, set: ["regions[r].demand.k=150"]}
"""
    run = solve(text)
    assert run.solution.objective == pytest.approx(17_000, rel=1e-9)
    found = solve_measures(run.plan)
    assert found["evpi"]["value"] == pytest.approx(750, rel=1e-9)
    assert found["vss"]["value"] == pytest.approx(12_900, rel=1e-9)
    assert "resilience" not in found  # no contingencies


def test_the_cost_of_resilience_by_hand() -> None:
    """One year, no discounting. With the contingency (lose a, k protected, probability 0):
    three halls at b, all load at b: 7e6 + 160 A 220. Without it: b still pays (each MW at b
    saves 140 A = 613,200 CNY a year, a hall costs 50,000 per MW), but two halls carry 80 MW:
    the 100 MW period puts 20 MW at a; three halls cost 2e6 more and save 20 A x 140. 20 x 4,380
    x 140 = 12.26 m > 2 m: three halls either way, so resilience costs nothing here; with
    k unprotected in the contingency the answer is the same. Then raise the hall's cost so
    that the third hall does not pay without the contingency: annual_cost 15e6 (> 12.26 m):
    without it, two halls (b opened: 1e6 + 30e6) and 20 MW x A at a; with it, three."""
    text = BASE.replace("annual_cost: 2.0e6", "annual_cost: 15.0e6") + """
planning:
  contingencies: {lose: [a], protect: [k]}
"""
    run = solve(text)
    with_three = 1e6 + 45e6 + 160 * A * 220
    assert run.solution.objective == pytest.approx(with_three, rel=1e-9)
    without = 1e6 + 30e6 + (80 + 60) * A * 220 + 20 * A * 360
    found = solve_measures(run.plan)
    assert found["resilience"]["value"] == pytest.approx(with_three - without, rel=1e-9)


def test_a_version_2_file_without_planning_is_solved_as_version_1() -> None:
    v1 = solve_document(parse_text(BASE.replace("version: 2", "version: 1"), "v1.yaml"))
    v2 = solve(BASE)
    assert v2.solution.objective == v1.solution.objective
    assert (v2.lp.c == v1.lp.c).all()
    assert (v2.lp.A != v1.lp.A).nnz == 0
    data = json.loads(solution_json(v2.solution))
    assert data["version"] == 2
    assert len(data["cases"]) == 1
    assert json.loads(solution_json(v1.solution))["version"] == 1


@pytest.mark.parametrize(("edit", "expected"), [
    ('"regions[*].demand.k*=1.2"', None),
    ('"sites[b].open_cost=null"', "change the structure: the candidate sites"),
    ('"planning.discount_rate=0.1"', "not 'planning'"),
    ('"sites[zz].price=1"', "no element with id 'zz'"),
    ('"sites[*].pue=0.5"', "PUE"),
])
def test_year_overrides_that_break_the_rules_are_refused_naming_the_year(
        edit: str, expected: str | None) -> None:
    text = PLAN.replace('"regions[*].demand.k*=1.2"', edit)
    if expected is None:
        assert len(build_plan(parse_text(text, "plan.yaml")).cases) == 6
        return
    with pytest.raises(InstanceError) as exc:
        build_plan(parse_text(text, "plan.yaml"))
    shown = "\n".join(p.format() for p in exc.value.problems)
    assert expected in shown
    assert "plan.yaml:" in shown
    assert "2027" in shown or "planning.years[1]" in shown


@pytest.mark.parametrize(("edit", "expected"), [
    (("probability: 0.3", "probability: 0.2"), "sum to 0.9"),
    (("year: 2027", "year: 2020"), "strictly increasing"),
    (("lose: [a]", "lose: [zz]"), "unknown site id"),
    (("protect: [k]", "protect: [kk]"), "unknown class id"),
    (("version: 2", "version: 1"), "needs version: 2"),
    (("span: 3", "span: 0"), "planning.years[1].span"),
])
def test_the_planning_block_is_validated_with_file_line_and_path(
        edit: tuple[str, str], expected: str) -> None:
    with pytest.raises(InstanceError) as exc:
        parse_text(PLAN.replace(*edit), "plan.yaml")
    shown = "\n".join(p.format() for p in exc.value.problems)
    assert expected in shown
    assert "plan.yaml:" in shown


def test_a_contingency_a_capacity_count_rules_out_is_infeasible_without_solving() -> None:
    """2027 demand 1.5 x 100 = 150 MW of protected work, and b can hold at most 120 MW."""
    text = PLAN.replace("demand.k*=1.2", "demand.k*=1.5")
    plan = build_plan(parse_text(text, "plan.yaml"))
    assert len(plan.unsurvivable) == 1
    assert "150 MW" in plan.unsurvivable[0].message
    assert "in 2027" in plan.unsurvivable[0].message
    assert "120 MW" in plan.unsurvivable[0].message
    sol = solve(text).solution
    assert sol.status is Status.INFEASIBLE
    assert "cannot survive" in sol.message


def test_an_opened_site_stays_open() -> None:
    """b is a 120 MW candidate (open_cost 5e6, no halls). Year 1 (100 and 60 MW) opens it:
    a holds only 50 MW and unmet costs 1e4 per MWh. Year 2's demand is 1% of that: a could
    serve it for 1.6 A 360 = 2.5 m CNY, less than opening b (5 m + 1.6 A 220), but what is
    opened stays open: b is paid for and serves it, 5e6 + 1.6 A 220."""
    text = BASE.replace("capacity_mw: 0, pue: 1.1, price: 200, open_cost: 1.0e6",
                        "capacity_mw: 120, pue: 1.1, price: 200, open_cost: 5.0e6").replace(
        "expansions: [{id: hall, size_mw: 40, annual_cost: 2.0e6, max_units: 3}]",
        "expansions: []") + """
planning:
  years:
    - {id: y1, year: 1}
    - {id: y2, year: 2, set: ["regions[*].demand.k*=0.01"]}
"""
    sol = solve(text).solution
    opened = {(b["year"], b["site"]): b["open"] for b in sol.build_table}
    assert opened["y1", "b"]
    assert opened["y2", "b"]
    assert sol.objective == pytest.approx(2 * 5e6 + 161.6 * A * 220, rel=1e-9)


def test_a_scenario_that_changes_build_data_is_warned_about() -> None:
    """Build data are the year's (DESIGN.md §7): a scenario's open_cost has no effect."""
    text = PLAN.replace('set: ["sites[*].price*=1.5"]',
                        'set: ["sites[*].price*=1.5", "sites[b].open_cost=9.0e9"]')
    plan = build_plan(parse_text(text, "plan.yaml"))
    shown = [p.format() for p in plan.warnings]
    assert any("no effect" in w and "planning.scenarios[1].set" in w and "plan.yaml:" in w
               for w in shown), shown
    assert solve(text).solution.objective == pytest.approx(solve(PLAN).solution.objective,
                                                           rel=1e-12)


def test_an_infeasible_contingency_is_named_when_no_count_proves_it() -> None:
    """A power cap of 66 MW at b (60 MW of IT load at PUE 1.1) leaves the protected 100 MW
    nowhere to go when a is lost. The capacity count of cases.py reads IT capacity only, so it
    proves nothing; the solver finds the plan infeasible, and the relaxation solved one
    contingency at a time names site a."""
    text = PLAN.replace("pue: 1.1, price: 200,", "pue: 1.1, price: 200, power_cap_mw: 66,")
    sol = solve(text).solution
    assert sol.status is Status.INFEASIBLE
    assert "survives the loss of 'a'" in sol.message
