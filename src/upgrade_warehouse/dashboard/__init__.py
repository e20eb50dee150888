"""The Streamlit dashboard's library: data access (``data``, the only module with SQL),
settings (``config``), formatting (``fmt``), charts (``charts``) and shared widgets
(``ui``). The app itself is ``dashboards/app.py`` with one file per page in
``dashboards/app_pages/``; ``upgrade-warehouse dashboard`` serves it.
"""
