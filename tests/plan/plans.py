"""Plans the format tests share: rich ones that exercise every field, and positions cleared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from catalog.tracking_plan.model import Plan, PlanEvent, PlanProperty


def changed(
    plan: Plan,
    event: Callable[[PlanEvent], dict[str, Any]] = lambda event: {},
    prop: Callable[[PlanProperty], dict[str, Any]] = lambda prop: {},
) -> Plan:
    """A copy of `plan` with each event's fields replaced by `event(event)`, and each
    property's by `prop(prop)`: what a format carries of a plan."""
    return replace(
        plan,
        events=[
            replace(
                each_event,
                **event(each_event),
                properties=[replace(each, **prop(each)) for each in each_event.properties],
            )
            for each_event in plan.events
        ],
    )


def without_positions(plan: Plan) -> Plan:
    """`plan` with every position cleared, to compare what was read with what was written."""
    return changed(plan, lambda event: {"position": ""}, lambda prop: {"position": ""})


def rich_plan_in_integrations() -> Plan:
    """Every field and awkward values (quotes, formulas, unicode, numbers as text, JSON pointer
    characters), the same event name in two integrations and an event of no integration: what
    the CSV and JSON Schema formats carry."""
    return Plan(
        events=[
            PlanEvent(
                name="Order Completed",
                integration="web",
                category="Checkout",
                description='Paid, "really", at last;\nsecond line — ünïcödé 🛒',
                definition="# Order\n\nSent by the **server**.",
                pii=True,
                verified=True,
                published=False,
                owners=["alice", "bob"],
                tags=["revenue", "core"],
                properties=[
                    PlanProperty(
                        name="currency",
                        type="string",
                        required=True,
                        allowed_values=["EUR", "USD", "a|b", " spaced ", "[x]", "1"],
                        pii=False,
                        description="=SUM(A1:A9) is not a formula here",
                        definition="Three letters.",
                        examples=["EUR"],
                        verified=True,
                        published=True,
                        owners=["carol"],
                        tags=["money"],
                    ),
                    PlanProperty(
                        name="revenue",
                        type="number",
                        required=False,
                        allowed_values=[1, 2.5, -3, 1e20, 10.0],
                        pii=None,
                        description="-1 when refunded",
                        examples=[{"nested": [1, None]}],
                    ),
                    PlanProperty(
                        name="tier", type="integer", required=None, allowed_values=[1, 2, -3]
                    ),
                    PlanProperty(name="gift", type="boolean", allowed_values=[True, False]),
                    PlanProperty(name="anything", type=None, allowed_values=["x", 5, True]),
                    PlanProperty(name="email", type="string", required=False, pii=True),
                    PlanProperty(name="@handle", type="datetime", description="'=quoted"),
                    PlanProperty(name="at", type="datetime", required=None, description=""),
                    PlanProperty(name="nothing", type="null", required=True),
                    PlanProperty(name="any/thing~", type=None, required=False),
                ],
            ),
            PlanEvent(
                name="Signed Out",
                integration="web",
                category="",
                description="",
                owners=[],
                tags=[],
            ),
            PlanEvent(
                name="Order Completed",
                integration="ios",
                category="Checkout",
                description="From the app",
                owners=["+33 team"],
                tags=[],
                properties=[PlanProperty(name="revenue", type="number", required=True)],
            ),
            PlanEvent(name="No integration said"),
        ]
    )


def rich_plan() -> Plan:
    """Every field and awkward values, one event per name and no integration: what Segment's
    and RudderStack's tracking plans carry."""
    return Plan(
        events=[
            PlanEvent(
                name="Order Completed",
                category="Checkout",
                description='Paid, "finally", with\nnewlines, commas; and ünïcødé ✓',
                definition="# Order\n\nWhen the **payment** succeeds.",
                pii=False,
                verified=True,
                published=True,
                owners=["ann", "bob"],
                tags=["revenue", "core"],
                properties=[
                    PlanProperty(
                        name="currency",
                        type="string",
                        required=True,
                        allowed_values=["USD", "EUR", 'a, "quoted" one'],
                        description="ISO 4217",
                    ),
                    PlanProperty(
                        name="email",
                        type="string",
                        required=False,
                        pii=True,
                        owners=[],
                        tags=[],
                        definition="",
                        description="",
                    ),
                    PlanProperty(
                        name="paid_at", type="datetime", required=True, examples=["2024-01-01"]
                    ),
                    PlanProperty(name="quantity", type="integer", required=False),
                    PlanProperty(
                        name="tier", type="number", required=False, allowed_values=[1, 2.5, 3]
                    ),
                    PlanProperty(name="whatever", type=None, required=False),
                ],
            ),
            PlanEvent(name="Signed Out", category="", description="", properties=[]),
            PlanEvent(
                name="Ümlaut événement",
                properties=[
                    PlanProperty(name="flag", type="boolean", required=True, verified=False),
                    PlanProperty(name="items", type="array", required=False),
                    PlanProperty(name="meta", type="object", required=False, published=False),
                    PlanProperty(name="nothing", type="null", required=False),
                ],
            ),
        ]
    )
