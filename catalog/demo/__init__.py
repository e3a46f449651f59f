"""A realistic demo catalog, so that a trial starts with something to browse.

Three integrations (a Segment web app, an Amplitude iOS app, a custom backend tracker), their
event categories, about 120 events and 800 properties with types, allowed values, examples and
PII flags, plus the people, teams, tags and collections around them, who follows what, and a
first few changes in the history. The content is the data file `catalog/demo/catalog.toml`
(checked by `catalog.demo.data`); `catalog.demo.loader` loads it in bulk (see its docstring for
why it bypasses the per-object services); `catalog.demo.accounts` keeps the passwords of the
demo's accounts (an admin, an editor and a viewer) and the secret of its write key, for
`manage.py serve` to print; `catalog.demo.traffic` gives the loaded catalog 30 days of
tracking data and sends today's through ingestion.
"""

from catalog.demo.accounts import (
    DemoAccount,
    DemoWriteKey,
    demo_accounts_file,
    read_demo_accounts,
    read_demo_write_keys,
)
from catalog.demo.data import DemoCatalogError, DemoDataError, read_demo_data
from catalog.demo.loader import load_demo_catalog

__all__ = [
    "DemoAccount",
    "DemoCatalogError",
    "DemoDataError",
    "DemoWriteKey",
    "demo_accounts_file",
    "load_demo_catalog",
    "read_demo_accounts",
    "read_demo_data",
    "read_demo_write_keys",
]
