"""`build --engine spark`: the same load rules, dbt models, tests and expectations on
Apache Spark, published as Parquet plus the serving DuckDB file (docs/spark.md).

Modules: ``session`` (the build's Spark session and its settings), ``loader`` (the
loader's rules as Spark expressions, derived from :mod:`upgrade_warehouse.contract`),
the engine itself (load, dbt through dbt-spark's session method, export) is
:mod:`upgrade_warehouse.engines.spark`, its publish :mod:`upgrade_warehouse.pipeline.publish`.
"""
