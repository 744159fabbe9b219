"""What-if studies: parameter sweeps and Pareto fronts that drive the pipeline many times.

A **sweep** solves one instance at every point of a parameter grid (or along a zipped list) and
tabulates the results; a **Pareto front** traces cost against carbon or latency with the
epsilon-constraint method. Both run their points serially, in a process pool or on a Dask
cluster, and cache every point on disk so that an interrupted study resumes where it stopped.
This package is the engine: it never prints and knows nothing of the command line
(:mod:`optimizer.cli.studies` is the CLI). Its records are :mod:`optimizer.records`; its tables,
Markdown and plots :mod:`optimizer.report.studies`, :mod:`optimizer.report.pareto` and
:mod:`optimizer.report.study_plots`.

- :mod:`~optimizer.studies.spec`: study files, ``--vary``, the points of a study;
- :mod:`~optimizer.studies.base`: the instance a study runs on, and its paths checked;
- :mod:`~optimizer.studies.goals`: changed objectives (metric vectors, bounds, lexicographic
  steps) as a strategy of :func:`optimizer.pipeline.solve_document`;
- :mod:`~optimizer.studies.tasks`: what a worker solves, and the solve;
- :mod:`~optimizer.studies.cache`: one JSON file per point;
- :mod:`~optimizer.studies.runners`: serial, process pool, Dask; cached or solved;
- :mod:`~optimizer.studies.sweep`, :mod:`~optimizer.studies.pareto`: the two kinds of study.

A study file (YAML; paths relative to the file)::

    name: west-price
    instance: ../china-national.yaml          # optional: the national instance by default
    scenarios: [high-carbon]                  # optional, applied first
    set: ["policy.carbon_price=80"]           # optional base overrides
    mode: grid                                # grid (cartesian product) | zip (in step)
    parameters:
      - {path: "sites[zhongwei].price", factors: [0.7, 0.85, 1.0, 1.15, 1.3]}   # PATH*=factor
      - {path: "policy.carbon_price", values: [0, 100, 200, 300]}               # PATH=value
      - {path: "classes[interactive].max_latency_ms", range: [5, 40, 8]}         # 8 values
      - {paths: ["sites[guian].price", "sites[qingyang].price"], label: west,
         factor_range: [0.7, 1.3, 5]}                                           # move together

Each point is ``load(instance, base overrides + one override per path)`` then
:func:`optimizer.pipeline.solve_document`. A point that fails is a row with its status and
message, never a crash.

**Cache.** A point's key is the sha256 of (the instance file's sha256, the point's full override
list — the scenarios' overrides expanded, then the base ``set``, then the point's own —, the
solver options and, for Pareto points, the objective). Its result is one JSON file
``<out>/points/<key>.json`` written atomically; a re-run reads those and solves only the rest.

**Pareto** (``cost`` against ``carbon`` or ``latency``): the two extreme points first, each a
lexicographic optimum (min cost, then min carbon with the cost held at its optimum within
``LEX_TOL``; min carbon, then min cost with the carbon held), then N evenly spaced caps on the
second objective between them, minimising cost, each cap a bound row on the second objective
(its shadow price the implied price; on a single-case instance carbon caps through its own
``policy.carbon_cap_t``, the same annual total, whose shadow price is the implied carbon price;
on a plan every objective is the horizon's expected total, see :mod:`optimizer.studies.goals`).
The second objective is built from the LP's blocks:

    carbon  = sum_{s,t} a[t] * ci[s,t] * grid[s,t]                  (t CO2 a year)
    latency = sum_{r,s,k,t} a[t] * latency[r,s] * flow[r,s,k,t]     (ms x MWh a year)

With ``service="held"`` (the default) every point also keeps the unmet energy at most what the
cost optimum leaves unmet: without it, the least-carbon (or least-latency) "solution" is to
serve nothing and pay the unmet penalty. ``service="free"`` gives the front of the model as it
stands. Dominated points are marked, and the knee is the point farthest from the straight line
between the two extremes, both objectives normalised to [0, 1].
"""
