"""The instance file, versions 1 and 2 (DESIGN.md §3, §8), as strict pydantic models.

Shape and ranges of single fields are checked here; everything that needs more than one field
(ids, series lengths, reachability) is checked in :mod:`optimizer.validate`. The JSON Schema
shipped in ``optimizer/data/instance.schema.json`` is generated from these models
(``eastwest schema``); the field docstrings become its descriptions.

Version 2 adds the optional policy fields of DESIGN.md §8 (:data:`VERSION_2_FIELDS`); a
version-1 file that gives one is refused by the semantic pass (:mod:`optimizer.validate`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

SCHEMA_VERSION = 2
"""The newest instance format version (a bad ``version`` stands in as this one, so that the
semantic pass does not also refuse the file's version-2 fields)."""
VERSIONS = (1, 2)

MAX_VALUE = 1e15
"""The largest magnitude of a number in an instance: far beyond any real capacity, price or cost,
and small enough that the products the model forms stay finite (and below the 1e20 the solvers
take for infinity, for products of two or three fields)."""
MAX_PERIODS = 1_000_000
"""The most periods (a century of hours): a larger count is refused before anything is
allocated (the size guard refuses far smaller models that would not fit)."""
MAX_UNITS = 1_000_000
"""The most units of one expansion option."""


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False
    )


Number = Annotated[float, Field(strict=True, ge=-MAX_VALUE, le=MAX_VALUE, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(strict=True, ge=0, le=MAX_VALUE, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(strict=True, gt=0, le=MAX_VALUE, allow_inf_nan=False)]


def _printable(value: str) -> str:
    bad = next((c for c in value if not c.isprintable()), None)
    if bad is not None:
        raise ValueError(f"must be printable: no line breaks, control characters or escape "
                         f"sequences (U+{ord(bad):04X})")
    return value


# for editors (the JSON Schema); validation is str.isprintable, which also refuses other
# Unicode separators and format characters
_PRINTABLE = {"pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"}
Text = Annotated[str, Field(json_schema_extra=_PRINTABLE), AfterValidator(_printable)]
"""A name or label: printable (no line breaks, control characters or terminal escapes)."""
Id = Annotated[str, Field(min_length=1, json_schema_extra=_PRINTABLE),
               AfterValidator(_printable)]
"""An id: printable and not empty."""


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected the number 1 or 2, not {str(value).lower()}")
    return value


Share = Annotated[float, Field(strict=True, ge=0.0, le=1.0)]


class ProfileRef(Strict):
    """A named profile scaled to a mean or to a maximum (exactly one of the two)."""

    profile: Id
    """Name of a profile under `profiles`."""
    mean: NonNegativeFloat | None = None
    """Scale the profile so that its mean is this value."""
    max: NonNegativeFloat | None = None
    """Scale the profile so that its maximum is this value."""

    @model_validator(mode="after")
    def _one_scale(self) -> ProfileRef:
        if (self.mean is None) == (self.max is None):
            raise ValueError("give exactly one of 'mean' and 'max'")
        return self


def _series_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return "<number>"
    if isinstance(value, list):
        return "<list>"
    if isinstance(value, dict | ProfileRef):
        return "<profile>"
    return None


Series = Annotated[
    Annotated[Number, Tag("<number>")]
    | Annotated[list[Number], Tag("<list>")]
    | Annotated[ProfileRef, Tag("<profile>")],
    Discriminator(
        _series_kind,
        custom_error_type="series",
        custom_error_message="expected a series: a number, a list of one number per period, "
        "or {profile: NAME, mean: X} / {profile: NAME, max: X}",
    ),
]
"""A value per period: a number, a list of length T, or a scaled profile."""

LatLon = tuple[
    Annotated[float, Field(strict=True, ge=-90, le=90)],
    Annotated[float, Field(strict=True, ge=-180, le=180)],
]


class PeriodSpec(Strict):
    id: Id
    """Period id, e.g. `h00`."""
    hours: PositiveFloat = 1.0
    """Length of the period in hours."""
    weight: NonNegativeFloat = 1.0
    """How many times a year the period occurs."""


class PeriodsShort(Strict):
    count: Annotated[int, Field(strict=True, gt=0, le=MAX_PERIODS)]
    """Number of periods (ids `t00`, `t01`, ...), at most 1,000,000."""
    hours: PositiveFloat = 1.0
    """Length of every period in hours."""
    weight: NonNegativeFloat = 1.0
    """How many times a year every period occurs."""


Periods = Annotated[
    Annotated[PeriodsShort, Tag("<short>")]
    | Annotated[list[PeriodSpec], Field(max_length=MAX_PERIODS), Tag("<periods-list>")],
    Discriminator(
        lambda v: "<periods-list>" if isinstance(v, list) else "<short>",
        custom_error_type="periods",
        custom_error_message="expected {count: N, hours: H, weight: W} or a list of periods",
    ),
]


class Region(Strict):
    """A demand region (mostly eastern cities)."""

    id: Id
    name: Text | None = None
    location: LatLon
    """[latitude, longitude] in degrees."""
    demand: dict[Id, Series] = Field(default_factory=dict)
    """IT load per workload class in MW (a series); a class not listed is 0."""


class Expansion(Strict):
    id: Id
    size_mw: PositiveFloat
    """IT capacity of one unit in MW."""
    annual_cost: NonNegativeFloat
    """Annualised cost of one unit (currency per year)."""
    max_units: Annotated[int, Field(strict=True, gt=0, le=MAX_UNITS)] = 1
    """The most units that may be built, at most 1,000,000."""


class Site(Strict):
    """A data-centre site or cluster."""

    id: Id
    name: Text | None = None
    location: LatLon
    """[latitude, longitude] in degrees."""
    zone: Text | None = None
    """A label that groups sites in reports, e.g. `east` or `west`."""
    capacity_mw: NonNegativeFloat
    """Installed IT capacity in MW."""
    pue: Series
    """Power usage effectiveness (facility power / IT power), >= 1; a series."""
    power_cap_mw: NonNegativeFloat | None = None
    """Maximum facility power draw in MW (grid + renewable)."""
    price: Series
    """Grid electricity price in currency per MWh; a series."""
    carbon_intensity: Series = 0.0
    """Emissions of grid power in t CO2 per MWh; a series."""
    renewable_mw: Series = 0.0
    """Renewable power available to the site in MW; a series. The unused part is curtailed."""
    renewable_price: NonNegativeFloat = 0.0
    """Price of renewable power used, currency per MWh."""
    open_cost: NonNegativeFloat | None = None
    """Annual cost of opening the site; makes it a candidate site (binary decision)."""
    expansions: list[Expansion] = Field(default_factory=list)
    """Capacity expansion options (integer units)."""
    min_green_share: Share | None = None
    """Version 2: floor on the site's green share, (renewable energy + certificates) / facility
    energy over the year, 0..1; null: none."""
    min_utilization: Share | None = None
    """Version 2: floor on the site's mean IT load over the year as a share of its IT capacity
    (existing, opened and built; the rack-utilisation floor), 0..1; null: none."""
    wue: Series = 0.0
    """Version 2: water usage effectiveness, litres per kWh of IT energy (m3 per MWh), >= 0; a
    series."""
    water_cap_m3: NonNegativeFloat | None = None
    """Version 2: cap on the site's water use in m3 a year; null: none."""
    max_pue: Annotated[float, Field(strict=True, ge=1.0, le=MAX_VALUE,
                                    allow_inf_nan=False)] | None = None
    """Version 2: the PUE cap the rules set for the site (1.25 east, 1.2 west), >= 1; reported
    in the compliance table against the site's mean PUE, not a constraint (PUE is data); null:
    none."""


class WorkloadClass(Strict):
    """A workload class (real-time, interactive, batch, training, backup, ...)."""

    id: Id
    name: Text | None = None
    max_latency_ms: NonNegativeFloat | None = None
    """Round-trip latency limit between region and site in ms; null: no limit."""
    data_gb_per_mwh: NonNegativeFloat = 0.0
    """Data moved between region and site per MWh of IT work, in GB."""
    unmet_penalty: NonNegativeFloat | None = 1.0e5
    """Cost of demand not served, currency per MWh; null: the demand is hard."""
    latency_cost: NonNegativeFloat = 0.0
    """Cost per ms of round-trip latency per MWh served."""
    max_delay_periods: Annotated[int, Field(strict=True, ge=0, le=MAX_PERIODS)] = 0
    """> 0: the work is deferrable by at most this many periods (at most 1,000,000)."""
    allowed_sites: list[Id] | None = None
    """Site ids that may serve this class (residency); null: all."""
    assignment: Literal["split", "single"] = "split"
    """split: demand may be spread over sites; single: each region's demand of this class is
    served by exactly one site."""


class LatencyPair(Strict):
    region: Id
    site: Id
    ms: NonNegativeFloat
    """Round-trip latency in ms."""


class LatencyModel(Strict):
    base_ms: NonNegativeFloat = 2.0
    """Fixed round-trip overhead in ms."""
    route_factor: NonNegativeFloat = 1.5
    """Fibre route length over great-circle distance; about 1 ms round trip per 100 km."""
    pairs: list[LatencyPair] = Field(default_factory=list)
    """Explicit latencies that replace the formula."""


class TransferPair(Strict):
    region: Id
    site: Id
    per_gb: NonNegativeFloat
    """Transfer cost in currency per GB."""


class TransferModel(Strict):
    per_gb: NonNegativeFloat = 0.0
    """Fixed transfer cost in currency per GB."""
    per_gb_per_1000km: NonNegativeFloat = 0.0
    """Distance-dependent transfer cost in currency per GB per 1000 km (great circle)."""
    pairs: list[TransferPair] = Field(default_factory=list)
    """Explicit transfer costs that replace the formula."""


class Corridor(Strict):
    id: Id
    capacity_gbps: NonNegativeFloat
    regions: list[Id] = Field(min_length=1)
    """The regions at one end (at least one): the corridor carries their flows to its sites."""
    sites: list[Id] = Field(min_length=1)
    """The sites at the other end (at least one)."""


class Network(Strict):
    latency: LatencyModel = Field(default_factory=LatencyModel)
    transfer: TransferModel = Field(default_factory=TransferModel)
    corridors: list[Corridor] = Field(default_factory=list)
    """Bandwidth corridors between groups of regions and sites."""


class Policy(Strict):
    carbon_price: NonNegativeFloat = 0.0
    """Price of emissions in currency per t CO2."""
    carbon_cap_t: NonNegativeFloat | None = None
    """Cap on annual emissions in t CO2; null: none."""
    min_renewable_share: Annotated[float, Field(strict=True, ge=0.0, le=1.0)] = 0.0
    """Minimum share of the network's facility energy (all sites, all periods) from renewables
    (in version 2, certificates bought count as renewable energy)."""
    certificate_price: NonNegativeFloat | None = None
    """Version 2: price of green-electricity certificates in currency per MWh (one certificate
    a MWh); each site may buy up to its grid energy, and they count as green energy in
    `min_renewable_share` and `sites[].min_green_share`; null: no certificates."""
    water_price: NonNegativeFloat = 0.0
    """Version 2: price of water in currency per m3."""


MAX_YEAR_SPAN = 1000
"""The most calendar years one planning year may stand for."""


class PlanYear(Strict):
    """A planning year (DESIGN.md §7): what is built by then, and how its cases are operated."""

    id: Id
    year: Annotated[int, Field(strict=True, ge=0, le=100_000)]
    """The calendar year; years are strictly increasing."""
    span: Annotated[int, Field(strict=True, ge=1, le=MAX_YEAR_SPAN)] = 1
    """Calendar years this planning year stands for (its costs count this many times)."""
    set: list[str] = Field(default_factory=list)
    """Overrides of the base data for this year (`PATH=VALUE` or `PATH*=K`, paths starting at
    regions, sites, classes, network, policy or profiles); no id may be added, removed or
    renamed, and the periods may not change."""


class PlanScenario(Strict):
    """An operating scenario (weather, prices, growth): every year is operated in each."""

    id: Id
    probability: Annotated[float, Field(strict=True, ge=0.0, le=1.0)]
    """Its probability; the scenarios' probabilities sum to 1."""
    set: list[str] = Field(default_factory=list)
    """Overrides applied after the year's, as in `years[].set`."""


class Contingencies(Strict):
    """N-1 cases the build must survive: one site lost at a time, in every year."""

    lose: Literal["each"] | Annotated[list[Id], Field(min_length=1)]
    """Site ids lost one at a time, or `each` (every site)."""
    protect: list[Id] = Field(default_factory=list)
    """Classes fully served (no unmet demand) in every contingency."""
    probability: Annotated[float, Field(strict=True, ge=0.0, le=1.0)] = 0.0
    """Weight of each contingency case in the objective, on top of the scenarios'; 0: the
    build must survive them, but their operating cost does not count."""


class Planning(Strict):
    """Years, scenarios and contingencies (instance version 2, DESIGN.md §7)."""

    discount_rate: Annotated[float, Field(strict=True, ge=0.0, le=1.0)] = 0.0
    """Per year: year y's costs are discounted by (1 + rate)^(year - first year)."""
    years: list[PlanYear] = Field(
        default_factory=lambda: [PlanYear(id="base", year=0)], min_length=1, max_length=1000)
    """The planning years, in increasing order; default one year `base`."""
    scenarios: list[PlanScenario] = Field(
        default_factory=lambda: [PlanScenario(id="base", probability=1.0)], min_length=1,
        max_length=1000)
    """Operating scenarios; default one scenario `base` of probability 1."""
    contingencies: Contingencies | None = None
    """N-1 contingencies; default none."""


class Instance(Strict):
    """An eastwest instance, version 1 or 2."""

    version: Annotated[Literal[1, 2], BeforeValidator(_not_bool)]
    """Format version: 1, or 2 for the planning model (`planning` and the policy fields,
    DESIGN.md §7-§8)."""
    name: Text | None = None
    currency: Text = "CNY"
    periods: Periods
    """Periods of the representative horizon (cyclic)."""
    profiles: dict[Id, list[Annotated[float, Field(strict=True, allow_inf_nan=False)]]] = Field(
        default_factory=dict)
    """Named shapes, one value per period, normalised by their mean when used (any finite
    values: a shape's scale does not matter)."""
    regions: list[Region] = Field(min_length=1)
    sites: list[Site] = Field(min_length=1)
    classes: list[WorkloadClass] = Field(min_length=1)
    network: Network = Field(default_factory=Network)
    policy: Policy = Field(default_factory=Policy)
    scenarios: dict[Id, list[str]] = Field(default_factory=dict)
    """Named lists of overrides (`PATH=VALUE` or `PATH*=FACTOR`), applied with `--scenario`."""
    planning: Planning | None = None
    """Years, scenarios and contingencies (version 2 only); default one year, one scenario."""

    @field_validator("profiles")
    @classmethod
    def _finite(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        for values in value.values():
            if not all(math.isfinite(v) for v in values):
                raise ValueError("profile values must be finite")
        return value


VERSION_2_FIELDS: dict[str, tuple[str, ...]] = {
    "policy": ("certificate_price", "water_price"),
    "sites": ("min_green_share", "min_utilization", "wue", "water_cap_m3", "max_pue"),
}
"""The fields valid only with ``version: 2``, by where they live (``policy``, each site)."""

SCHEMA_ID = "https://github.com/eastwest/eastwest/schema/instance-v1.json"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of instance files, versions 1 and 2 (shipped as package data)."""
    schema = Instance.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **schema, "title": "eastwest instance, version 1 or 2"}
