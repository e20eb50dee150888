"""Where the tables live and how dbt runs: one class per engine, each with the methods of
:class:`upgrade_warehouse.pipeline.engine.Engine` (DuckDB: :mod:`.duckdb`; Apache Spark:
:mod:`.spark`, imported only by ``build --engine spark``)."""
