"""What a study is asked and what it found: the records the study engine
(:mod:`optimizer.studies`) writes and the report (:mod:`optimizer.report.studies`) reads.

:mod:`~optimizer.records.inputs` holds the study-file schema, its points, goals and the base
instance; :mod:`~optimizer.records.results` the typed results (a point's KPIs, its cache record,
sweeps and Pareto fronts), each serialising to the JSON the engine writes.
"""
