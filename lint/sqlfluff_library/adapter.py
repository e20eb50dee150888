"""`adapter` for sqlfluff's jinja templater (lint only). `adapter.dispatch(name)` renders
our engine-specific macros as a call of a function of the same name (a type for the
`type_*` macros), which is the shape dbt renders them to."""


def dispatch(name, package=None):
    def render(*args, **kwargs):
        if name == "sql_string":  # (value): a quoted literal
            return "'" + str(args[0]).replace("'", "''") + "'"
        if name == "raise_error_if":  # (condition, message): an error call when true
            return f"case when {args[0]} then error('{name}') end"
        if name.startswith("type_"):
            return name.removeprefix("type_")
        values = [str(a) for a in args] + [str(v) for v in kwargs.values()]
        return f"{name}({', '.join(values)})"

    return render


def get_columns_in_relation(relation):
    return []
