"""The policy families of DESIGN.md §8 (version 2), one hand-derived case each.

Every case has one region and sites at its location, PUE 1, no carbon intensity, and one period
of 1 hour with weight 1 (``a = 1``: a MW for the period is a MWh a year) unless it says
otherwise; the optimum and each shadow price are derived in the test's docstring. Shadow prices
are read from the solution JSON (``shadow_prices``), where a price is the annual saving from
relaxing its constraint by one unit.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from optimizer.backends.base import SolveOptions, Status
from optimizer.interpret import Solution
from optimizer.load import parse
from optimizer.model import FAMILIES
from optimizer.model.family import EXACT, Family
from optimizer.pipeline import Run, solve_document
from optimizer.presolve import DOMINATED
from optimizer.sensitivity import sensitivity

REL = 1e-7
HERE = [30.0, 120.0]


def site(name: str, capacity: float, price: float, **fields: Any) -> dict[str, Any]:
    return {"id": name, "location": HERE, "capacity_mw": capacity, "pue": 1.0, "price": price,
            **fields}


def instance(*sites: dict[str, Any], demand: float = 10, **policy: Any) -> dict[str, Any]:
    return {
        "version": 2, "name": "policy",
        "periods": {"count": 1},
        "regions": [{"id": "r", "location": HERE, "demand": {"k": demand}}],
        "sites": list(sites),
        "classes": [{"id": "k", "unmet_penalty": 1000}],
        "policy": policy,
    }


def run(data: dict[str, Any], prune: bool = True) -> Run:
    result = solve_document(parse(copy.deepcopy(data)), SolveOptions(prune=prune))
    assert result.solution.status is Status.OPTIMAL
    return result


def solve(data: dict[str, Any]) -> Solution:
    return run(data).solution


def price(sol: Solution, kind: str, subject: str) -> float:
    found = [p["value"] for p in sol.to_dict()["shadow_prices"]
             if (p["constraint"], p["subject"]) == (kind, subject)]
    assert len(found) == 1, (kind, subject, found)
    return float(found[0])


def subjects(sol: Solution, kind: str) -> list[str]:
    return [p["subject"] for p in sol.to_dict()["shadow_prices"] if p["constraint"] == kind]


# --------------------------------------------------------------------------------------------
# certificates and the green-share floor
# --------------------------------------------------------------------------------------------


def green_site(**fields: Any) -> dict[str, Any]:
    """10 MWh of load: 2 MW of free renewable power, the other 8 from the grid at 50."""
    return site("s", 100, 50, renewable_mw=2, **fields)


def test_certificates_bought_to_meet_a_site_floor() -> None:
    """Floor 50% at s, certificates at 30/MWh. Facility energy 10 MWh, renewable 2 (free, used
    in full), grid 8: green energy must reach 5, so q = 3 certificates (90). Energy 8 x 50 =
    400; objective 490. The floor's row costs 30 a MWh of green energy (a certificate); per
    percentage point of the share, 30 x 10 / 100 = 3. Emissions stay location-based."""
    sol = solve(instance(green_site(min_green_share=0.5, carbon_intensity=0.5),
                         certificate_price=30))
    assert sol.objective == pytest.approx(490.0 + 0.0, rel=REL)
    assert sol.costs["certificates"] == pytest.approx(90.0, rel=REL)
    assert sol.costs["energy"] == pytest.approx(400.0, rel=REL)
    assert sol.totals["certificates_mwh"] == pytest.approx(3.0, rel=REL)
    assert sol.totals["carbon_t"] == pytest.approx(4.0, rel=REL)  # 8 MWh of grid x 0.5
    row = sol.site_table[0]
    assert row["certificates_mwh"] == pytest.approx(3.0, rel=REL)
    assert row["green_share"] == pytest.approx(0.5, rel=REL)
    assert price(sol, "green_share", "s") == pytest.approx(3.0, rel=REL)


def test_without_certificates_the_floor_leaves_demand_unmet() -> None:
    """Floor 50%, no certificates: v >= 0.5 (g + v) with v <= 2 gives g <= 2, so at most 4 MW
    are served: 2 x 50 = 100 for energy, 6 unmet x 1000 = 6000; objective 6100. Relaxing the
    row by e (``0.5 v - 0.5 g >= -e``) allows 2e more grid MWh, each replacing unmet demand
    (950 saved): 1900 a MWh; per point, 1900 x 4 / 100 = 76. Check by the derivative: g =
    v (1 - share) / share, dg/dshare = -2 / 0.25 = -8 MWh per unit, 0.08 per point, x 950 = 76."""
    sol = solve(instance(green_site(min_green_share=0.5)))
    assert sol.objective == pytest.approx(6100.0, rel=REL)
    assert sol.totals["unmet_mwh"] == pytest.approx(6.0, rel=REL)
    assert sol.totals["certificates_mwh"] == 0.0
    assert price(sol, "green_share", "s") == pytest.approx(76.0, rel=REL)


def test_certificates_count_in_the_network_renewable_floor() -> None:
    """The same numbers through constraint 6 (``min_renewable_share`` 0.5, network-wide): 3
    certificates, objective 490; the floor's row price is 30 per MWh of green energy."""
    sol = solve(instance(green_site(), certificate_price=30, min_renewable_share=0.5))
    assert sol.objective == pytest.approx(490.0, rel=REL)
    assert sol.costs["certificates"] == pytest.approx(90.0, rel=REL)
    assert sol.policy["renewable_floor_price"] == pytest.approx(30.0, rel=REL)
    assert sol.policy["renewable_share"] == pytest.approx(0.2, rel=REL)  # physical
    assert sol.policy["green_share"] == pytest.approx(0.5, rel=REL)  # with certificates


def test_certificates_no_more_than_the_grid_energy() -> None:
    """Floor 100% with certificates at 30 and no renewable power: 10 certificates cover the
    10 MWh of grid energy exactly (500 + 300 = 800). At a price >= 0 the limit q <= grid never
    changes an optimum (a floor asks for at most the grid energy), so it is checked as
    written: one row a site, 1 on q and -a[t] on each period's grid power (a = 3 here)."""
    data = instance(site("s", 100, 50, min_green_share=1.0), certificate_price=30)
    sol = solve(data)
    assert sol.objective == pytest.approx(800.0, rel=REL)
    assert sol.totals["certificates_mwh"] == pytest.approx(10.0, rel=REL)
    data["periods"] = {"count": 2, "hours": 1, "weight": 3}
    lp = run(data).lp
    row = lp.A[lp.rows["certificate_limit"].start].toarray().ravel()
    q, grid = lp.variables["certificates"], lp.variables["grid"]
    assert row[q.start] == 1.0
    assert row[grid.slice].tolist() == [-3.0, -3.0]
    assert (lp.row_lb[lp.rows["certificate_limit"].start],
            lp.row_ub[lp.rows["certificate_limit"].start]) == (-np.inf, 0.0)
    assert set(np.flatnonzero(row)) == {q.start, *grid.ids()}


def test_certificates_without_a_floor_are_not_bought() -> None:
    sol = solve(instance(green_site(), certificate_price=30))
    assert sol.objective == pytest.approx(400.0, rel=REL)
    assert sol.costs["certificates"] == 0.0
    assert subjects(sol, "green_share") == []


# --------------------------------------------------------------------------------------------
# the utilisation floor
# --------------------------------------------------------------------------------------------


def two_sites(**at_dear: Any) -> dict[str, Any]:
    """Cheap A (100 a MWh, 20 MW) and dear B (200, 5 MW); 10 MW of demand."""
    return instance(site("A", 20, 100), site("B", 5, 200, **at_dear))


def test_a_utilisation_floor_moves_load_to_a_dearer_site() -> None:
    """Without a floor everything goes to A (1,000). With B's floor at 60% of its 5 MW, B
    carries 3: 7 x 100 + 3 x 200 = 1,300. One MWh less required at B moves one back to A
    (saves 100); a percentage point of the floor is 0.01 x 1 h x 5 MW = 0.05 MWh: 5 a point."""
    assert solve(two_sites()).objective == pytest.approx(1000.0, rel=REL)
    result = run(two_sites(min_utilization=0.6))
    sol = result.solution
    assert sol.objective == pytest.approx(1300.0, rel=REL)
    assert sol.site_table[1]["utilization"] == pytest.approx(0.6, rel=REL)
    assert price(sol, "utilization", "B") == pytest.approx(5.0, rel=REL)
    assert subjects(sol, "utilization") == ["B"]
    words = [f.sentence for f in sensitivity(result, relax_latency=False)
             if f.kind == "utilization"]
    assert words == ["the 60% utilisation floor at B costs 5 CNY a year per percentage point "
                     "(each MWh of load it requires costs 100.0 CNY)"]


def claiming_exact(name: str, data: dict[str, Any]) -> Run:
    """``data`` solved with family ``name`` claiming that both presolve rules stay exact."""
    family = next(f for f in FAMILIES if f.name == name)
    at = FAMILIES.index(family)
    FAMILIES[at] = Family(family.name, family.define, presolve=EXACT, size=family.size,
                          prices=family.prices)
    try:
        return solve_document(parse(copy.deepcopy(data)), SolveOptions())
    finally:
        FAMILIES[at] = family


def test_the_utilisation_stance_keeps_presolve_exact() -> None:
    """A is an anchor (its 20 MW hold all the demand; B's 5 do not), so the arc to B is
    dominated without a floor. Claiming both rules exact for the floor lets presolve drop it:
    the floor then cannot be met (B has no arc), and the LP is infeasible instead of 1,300."""
    assert run(two_sites()).arrays.arcs_removed[DOMINATED] == 1
    assert run(two_sites(min_utilization=0.6)).arrays.arcs_removed[DOMINATED] == 0
    broken = claiming_exact("utilization", two_sites(min_utilization=0.6))
    assert broken.arrays.arcs_removed[DOMINATED] == 1
    assert broken.solution.status is Status.INFEASIBLE


def test_the_green_share_stance_keeps_presolve_exact() -> None:
    """A green floor at the anchor A: 50% with certificates at 300 makes a MWh at A cost 100 +
    0.5 x 300 = 250, more than B's 200. B fills (5 MW, 1,000), A serves 5 (500 + 2.5 x 300):
    2,250. Claiming both rules exact lets dominance move B's load to A: 1,000 + 1,500 = 2,500."""
    data = two_sites()
    data["sites"][0]["min_green_share"] = 0.5
    data["policy"]["certificate_price"] = 300
    right = run(data)
    assert right.solution.objective == pytest.approx(2250.0, rel=REL)
    assert right.arrays.arcs_removed[DOMINATED] == 0
    wrong = claiming_exact("green_share", data)
    assert wrong.arrays.arcs_removed[DOMINATED] == 1
    assert wrong.solution.objective == pytest.approx(2500.0, rel=REL)


def test_the_water_cap_stance_keeps_presolve_exact() -> None:
    """A water cap of 4 m3 at the anchor A (WUE 1): A serves 4, B 5, 1 MW unmet: 400 + 1,000 +
    1,000 = 2,400. Claiming dominance exact drops B's arc: 400 + 6 x 1,000 = 6,400."""
    data = two_sites()
    data["sites"][0].update(wue=1.0, water_cap_m3=4)
    right = run(data)
    assert right.solution.objective == pytest.approx(2400.0, rel=REL)
    wrong = claiming_exact("water", data)
    assert wrong.arrays.arcs_removed[DOMINATED] == 1
    assert wrong.solution.objective == pytest.approx(6400.0, rel=REL)


def test_a_utilisation_floor_counts_the_units_built() -> None:
    """25 MW of demand; A holds 20; B has no capacity of its own but may build 10 MW halls
    (free, at most 2), floor 80%. n = 0 leaves 5 unmet (2,000 + 5,000); n = 1 makes the floor
    8 MW: B carries 8, A 17: 1,700 + 1,600 = 3,300; n = 2 needs 16 at B: 900 + 3,200 = 4,100.
    So n = 1 and 3,300 (without the floor, 3,000). With the build fixed, one MWh less
    required at B saves 100; a point is 0.01 x 10 MW: 10."""
    hall = [{"id": "hall", "size_mw": 10, "annual_cost": 0, "max_units": 2}]
    data = instance(site("A", 20, 100), site("B", 0, 200, expansions=hall, min_utilization=0.8),
                    demand=25)
    sol = solve(data)
    assert sol.objective == pytest.approx(3300.0, rel=REL)
    assert sol.site_table[1]["expansion_units"] == 1
    assert price(sol, "utilization", "B") == pytest.approx(10.0, rel=REL)
    data["sites"][1].pop("min_utilization")
    assert solve(data).objective == pytest.approx(3000.0, rel=REL)


def test_a_closed_candidate_site_meets_its_floor() -> None:
    """B a candidate (open cost 50) with a 60% floor: opened it would carry 3 MW at 200
    (50 + 1,300 in all); closed its capacity, and so its floor, is 0: 1,000."""
    sol = solve(two_sites(open_cost=50, min_utilization=0.6))
    assert sol.objective == pytest.approx(1000.0, rel=REL)
    assert sol.site_table[1]["open"] is False
    assert sol.compliance[1]["utilization_ok"] is True


def test_a_lost_site_has_no_utilisation_floor() -> None:
    """A contingency that loses B (``Arrays.lost``, set by the planning model of §7, which
    also removes B's arcs): B's floor is not applied, all load goes to A (1,000)."""
    from dataclasses import replace

    from optimizer.backends import solve as backend_solve
    from optimizer.compile import compile_instance
    from optimizer.interpret import interpret
    from optimizer.model import formulate

    arrays = compile_instance(parse(two_sites(min_utilization=0.6)).instance)
    keep = arrays.arc_site != 1
    lost = replace(arrays, lost=np.array([False, True]), arc_region=arrays.arc_region[keep],
                   arc_site=arrays.arc_site[keep], arc_class=arrays.arc_class[keep])
    lp = formulate(lost)
    assert "utilization" not in lp.rows
    sol = interpret(lost, lp, backend_solve(lp, SolveOptions()))
    assert sol.objective == pytest.approx(1000.0, rel=REL)
    assert sol.compliance[1]["utilization_ok"] is None


# --------------------------------------------------------------------------------------------
# water
# --------------------------------------------------------------------------------------------


def test_a_binding_water_cap() -> None:
    """A (100 a MWh) draws 1 m3 a MWh (WUE 1 L/kWh), capped at 4 m3; B (200) draws none. A
    carries 4 MW, B 6: 400 + 1,200 = 1,600, and 4 m3 of water. One more m3 allowed moves a
    MWh from B to A: saves 100 a m3. With water at 2 a m3: 8 more, 1,608, and the cap's price
    is 100 - 2 = 98."""
    data = instance(site("A", 20, 100, wue=1.0, water_cap_m3=4), site("B", 20, 200))
    sol = solve(data)
    assert sol.objective == pytest.approx(1600.0, rel=REL)
    assert sol.totals["water_m3"] == pytest.approx(4.0, rel=REL)
    assert sol.site_table[0]["water_m3"] == pytest.approx(4.0, rel=REL)
    assert price(sol, "water_cap", "A") == pytest.approx(100.0, rel=REL)
    assert subjects(sol, "water_cap") == ["A"]
    data["policy"]["water_price"] = 2
    sol = solve(data)
    assert sol.objective == pytest.approx(1608.0, rel=REL)
    assert sol.costs["water"] == pytest.approx(8.0, rel=REL)
    assert price(sol, "water_cap", "A") == pytest.approx(98.0, rel=REL)


def test_the_water_price_moves_load_and_stays_exact_with_presolve() -> None:
    """Water at 150 a m3 and WUE 1 at A make a MWh there cost 250, more than B's 200: B (5 MW)
    fills, A takes the other 5: 1,000 + 500 + 750 for water = 2,250. A's 20 MW hold all the
    demand, so A is an anchor, and B's arc would be dominated by A's at 100 <= 200; with the
    water cost in presolve's site costs (250 > 200) it is not, and the optimum stays 2,250
    (not 1,000 + 1,500 = 2,500, all at A). At 50 a m3 a MWh at A costs 150 < 200: the arc to B
    is dominated and removed, and everything goes to A: 1,000 + 500 = 1,500."""
    data = instance(site("A", 20, 100, wue=1.0), site("B", 5, 200), water_price=150)
    result = run(data)
    assert result.solution.objective == pytest.approx(2250.0, rel=REL)
    assert result.solution.costs["water"] == pytest.approx(750.0, rel=REL)
    assert result.arrays.arcs_removed[DOMINATED] == 0
    assert run(data, prune=False).solution.objective == pytest.approx(2250.0, rel=REL)
    data["policy"]["water_price"] = 50
    result = run(data)
    assert result.solution.objective == pytest.approx(1500.0, rel=REL)
    assert result.arrays.arcs_removed[DOMINATED] == 1


def test_water_is_weighted_by_the_hours_a_period_stands_for() -> None:
    """Two periods of 2 h occurring 3 times (a = 6 each), WUE [1, 0.5] at A, 10 MW: water =
    6 x (1 x 10 + 0.5 x 10) = 90 m3, at 2 a m3: 180; energy 6 x 2 x 10 x 100 = 12,000."""
    data = instance(site("A", 20, 100, wue=[1.0, 0.5]), water_price=2)
    data["periods"] = {"count": 2, "hours": 2, "weight": 3}
    sol = solve(data)
    assert sol.totals["water_m3"] == pytest.approx(90.0, rel=REL)
    assert sol.costs["water"] == pytest.approx(180.0, rel=REL)
    assert sol.objective == pytest.approx(12180.0, rel=REL)


# --------------------------------------------------------------------------------------------
# the compliance table
# --------------------------------------------------------------------------------------------


def test_compliance_reads_each_rule_against_the_solution() -> None:
    """A: PUE 1.3 against a 1.25 cap (over), utilisation 4/20 = 20% against no floor; B:
    PUE 1 under 1.2, 60% floor met exactly, green share 0 against a 10% floor with certificates
    at 30: 0.1 x 6 = 0.6 certificates bought."""
    data = instance(site("A", 20, 100, max_pue=1.25), site("B", 10, 200, max_pue=1.2,
                                                           min_utilization=0.6,
                                                           min_green_share=0.1),
                    certificate_price=30)
    data["sites"][0]["pue"] = 1.3
    sol = solve(data)
    a, b = sol.compliance
    assert a == {"site": "A", "pue": pytest.approx(1.3), "max_pue": 1.25, "pue_ok": False,
                 "utilization": pytest.approx(0.2), "min_utilization": None,
                 "utilization_ok": None, "green_share": 0.0, "min_green_share": None,
                 "green_ok": None}
    assert b["pue_ok"] is True
    assert b["utilization"] == pytest.approx(0.6)
    assert b["utilization_ok"] is True
    assert b["green_share"] == pytest.approx(0.1)
    assert b["green_ok"] is True
    assert sol.totals["certificates_mwh"] == pytest.approx(0.6, rel=REL)
