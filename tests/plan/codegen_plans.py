"""Plans for the code generation tests: a small one whose output is checked to the byte, and a
rich one with every type, enums of every kind and names and texts meant to break the code."""

from catalog.tracking_plan.model import Plan, PlanEvent, PlanProperty

SMALL_PLAN = Plan(
    name="Web",
    events=[
        PlanEvent(
            "Order Completed",
            description="A user completed an order.",
            definition="Fired once the payment succeeds.",
            properties=[
                PlanProperty("revenue", type="number", required=True, description="The total."),
                PlanProperty("currency", type="string", allowed_values=["USD", "EUR"]),
                PlanProperty("email", type="string", required=False, pii=True),
            ],
        ),
        PlanEvent("Signed Out"),
    ],
)

# Texts that end comments, docstrings and strings in one language or the other.
EVIL = 'Ends */ a comment, """ a docstring, \'\'\' too, a "quote", a \\ and \\" then "'
EVIL_LINES = "first\r\nsecond\u2028third\x00\x1b\ttab 🎉 @param x\n\n*/\n"

RICH_PLAN = Plan(
    name='Evil "plan" */ \\',
    events=[
        PlanEvent(
            "Order Completed",
            integration="web",
            description=EVIL,
            definition=EVIL_LINES,
            properties=[
                PlanProperty("text", type="string", required=True, description=EVIL),
                PlanProperty("amount", type="number", required=True, definition=EVIL_LINES),
                PlanProperty("count", type="integer", required=False),
                PlanProperty("flag", type="boolean"),
                PlanProperty("payload", type="object", required=True),
                PlanProperty("items", type="array", required=True),
                PlanProperty("at", type="datetime", required=True),
                PlanProperty("nothing", type="null", required=True),
                PlanProperty("anything", type=None, required=True),
                PlanProperty(
                    "plan",
                    type="string",
                    required=True,
                    allowed_values=["free", 'say "hi"', "back\\slash", "*/", "café 🎉", "\n"],
                ),
                PlanProperty("level", type="integer", required=True, allowed_values=[1, 2, -3]),
                PlanProperty("ratio", type="number", required=True, allowed_values=[0.5, 1.5]),
                PlanProperty("answer", type="boolean", required=True, allowed_values=[True]),
                PlanProperty("maybe", type=None, required=True, allowed_values=["a", 1, None]),
                PlanProperty("shape", type="object", required=True, allowed_values=[{"a": 1}, [1]]),
                PlanProperty("huge", type="integer", required=True, allowed_values=[10**30]),
                PlanProperty("open", type="string", required=True, allowed_values=[]),
                PlanProperty("email", type="string", required=True, pii=True),
            ],
        ),
        PlanEvent(
            "order_completed",
            integration="ios",
            properties=[
                PlanProperty("order id", type="string", required=True),
                PlanProperty("2fa", type="boolean", required=True),
                PlanProperty("class", type="string", required=True),
                PlanProperty("str", type="integer", required=True),
                PlanProperty("__proto__", type="string"),
                PlanProperty("naïve", type="string"),
                PlanProperty("🎉", type="string"),
                PlanProperty('quo"te\\', type="string"),
                PlanProperty("*/", type="string"),
            ],
        ),
        PlanEvent(
            "OrderCompleted",
            properties=[
                PlanProperty("type", type="string", required=True),
                PlanProperty("default", type="string", required=True),
            ],
        ),
        PlanEvent("class"),
        PlanEvent("default"),
        PlanEvent("delete"),
        PlanEvent("import"),
        PlanEvent("type"),
        PlanEvent("list"),
        PlanEvent("datetime"),
        PlanEvent("2FA Enabled"),
        PlanEvent("🎉", pii=True),
        PlanEvent("注文完了"),
        PlanEvent("Café Visited"),
        PlanEvent('He said "hi" \\ */ """', description=EVIL),
        PlanEvent(
            "Plan Chosen",
            properties=[
                PlanProperty("plan", type="string", required=True, allowed_values=["free", "pro"]),
                PlanProperty("seats", type="integer", required=False, allowed_values=[1, 5]),
                PlanProperty("annual", type="boolean", allowed_values=[True]),
            ],
        ),
        PlanEvent(
            "Only Optional",
            properties=[PlanProperty("note", type="string", required=False)],
        ),
    ],
)
