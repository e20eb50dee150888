"""What dbt's cross-database macros render to on DuckDB, for sqlfluff's jinja templater
(`.sqlfluff`: library_path). Lint only: dbt renders the real macros at build time."""


def type_string():
    return "varchar"


def type_bigint():
    return "bigint"


def type_int():
    return "integer"


def type_float():
    return "double"


def type_numeric():
    return "decimal(28, 6)"


def type_boolean():
    return "boolean"


def type_timestamp():
    return "timestamp"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + ({interval}) * interval 1 {datepart})"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def hash(field):
    return f"md5(cast({field} as varchar))"


def safe_cast(field, type):
    return f"cast({field} as {type})"


def generate_series(upper_bound):
    return f"(select unnest(range(1, {upper_bound} + 1)) as generated_number)"
