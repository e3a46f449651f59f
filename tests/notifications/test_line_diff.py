"""The line diff of a definition in emails and on History pages: the changed lines for an
edit, a summary of the sizes when the texts are too different to compare at a bounded cost."""

import pytest
from django.urls import reverse

from catalog.notifications import linediff
from catalog.notifications.delivery import deliver_due
from catalog.notifications.linediff import line_diff, shared_budget
from tests.factories import ChangeSetFactory, EventFactory, ObjectChangeFactory
from tests.notifications.helpers import event_change, follower


def longest_definition() -> str:
    """A definition at the stored limit as people write them: paragraphs of distinct lines
    and many blank lines (2,500 lines, a third of them blank)."""
    lines = []
    for n in range(2_500):
        lines.append("" if n % 3 == 2 else f"Line {n} of the definition, with its own words.")
    text = "\n".join(lines)
    return text + "x" * (100_000 - len(text))


#: 4,000 lines of ten kinds, shuffled: every line equals 400 others.
SHUFFLED_OLD = "\n".join(f"value {n % 10}" for n in range(4_000))
SHUFFLED_NEW = "\n".join(f"value {n * 7 % 10}" for n in range(4_000))
SUMMARY = "4,000 → 4,000 lines, 31,999 → 31,999 characters"


def test_an_edit_shows_the_changed_lines_with_a_little_context():
    diff = line_diff("# Order\n\nSent once.\nPaid.", "# Order\n\nSent once per order.\nPaid.")
    assert diff.lines == [
        (" ", "# Order"),
        ("-", "Sent once."),
        ("+", "Sent once per order."),
        (" ", "Paid."),
    ]
    assert (diff.cut, diff.summary) == (0, "")


def test_edits_far_apart_in_the_longest_definition_still_show_line_by_line():
    old = longest_definition()
    lines = old.split("\n")
    lines[1] = "The second line, rewritten."
    lines[-3] = "Nearly the last line, rewritten."
    diff = line_diff(old, "\n".join(lines))
    assert not diff.summary
    assert ("+", "The second line, rewritten.") in diff.lines
    assert ("+", "Nearly the last line, rewritten.") in diff.lines


def test_one_line_added_to_many_identical_lines():
    diff = line_diff("a\n" * 50_000, "a\n" * 50_000 + "b\n")
    assert diff.lines == [("…", ""), (" ", "a"), ("+", "b")]


@pytest.mark.parametrize(
    ("old", "new", "summary"),
    [
        (SHUFFLED_OLD, SHUFFLED_NEW, SUMMARY),
        (  # every other line of the longest definition changed
            "\n".join(f"{n % 2}" for n in range(50_000)),
            "\n".join(f"{n % 2}" if n % 4 else "changed" for n in range(50_000)),
            "50,000 → 50,000 lines, 99,999 → 174,999 characters",
        ),
    ],
)
def test_texts_too_different_to_compare_are_summarised(old, new, summary):
    assert line_diff(old, new) == linediff.LineDiff(summary=summary)


def test_every_line_changed_is_still_a_diff_when_the_lines_are_distinct():
    old = "\n".join(f"line {n}" for n in range(4_000))
    new = "\n".join(f"LINE {n}" for n in range(4_000))
    diff = line_diff(old, new)
    assert diff.lines[:2] == [("-", "line 0"), ("-", "line 1")]
    assert diff.cut == 8_000 - 40


def test_a_page_of_many_diffs_shares_one_budget():
    old = "\n".join(f"value {n % 20}" for n in range(200))  # needs 126,013 to compare
    new = "\n".join(f"value {n * 3 % 20}" for n in range(200))
    assert line_diff(old, new, budget=126_012).summary
    assert not line_diff(old, new, budget=126_013).summary
    with shared_budget(150_000):
        first, second = line_diff(old, new, budget=150_000), line_diff(old, new, budget=150_000)
        with shared_budget(10**9):  # an inner block doesn't reset the budget
            third = line_diff(old, new, budget=150_000)
        small = line_diff("a\nb", "a\nc")  # a small change always shows
    assert not first.summary
    assert second.summary == third.summary == "200 → 200 lines, 1,699 → 1,699 characters"
    assert small.lines == [(" ", "a"), ("-", "b"), ("+", "c")]


@pytest.mark.django_db
def test_the_email_summarises_a_change_too_costly_to_diff(smtp):
    event_change([follower("alice")], diff={"definition": [SHUFFLED_OLD, SHUFFLED_NEW]})
    deliver_due()

    [message] = smtp.messages
    assert (
        f"Definition: changed, {SUMMARY} (too many changes to show line by line; the whole "
        "text is at the link above)"
    ) in message.text
    assert "value 7" not in message.text
    assert f"Changed, {SUMMARY}: too many changes to show line by line; " in message.html
    assert ">read the whole text</a>." in message.html


@pytest.mark.django_db
def test_history_pages_written_before_the_budget_open_with_a_summary(client, editor):
    event = EventFactory(title="Order Completed")
    ObjectChangeFactory(
        change_set=ChangeSetFactory(actor=editor),
        resource=event,
        diff={"definition": [SHUFFLED_OLD, SHUFFLED_NEW]},
    )
    client.force_login(editor)

    page = client.get(reverse("web:resource_history", args=[event.pk]))
    admin_page = client.get(reverse("admin:catalog_event_history", args=[event.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert f"Changed: {SUMMARY}. Too many changes to show line by line: " in html
    assert f'<a href="/resources/{event.pk}/">read the current text</a>' in html
    assert f"Changed: {SUMMARY} (too many changes to show line by line)." in (
        admin_page.content.decode()
    )
