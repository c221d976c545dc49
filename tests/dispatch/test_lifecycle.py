import pytest

from dispatch.lifecycle import IllegalTransition, derive_ticket_status, next_state


def test_the_happy_path_moves_forward() -> None:
    assert next_state("acknowledge", "dispatched") == "acknowledged"
    assert next_state("start", "acknowledged") == "in_progress"
    assert next_state("resolve", "in_progress") == "resolved"
    assert next_state("resolve", "acknowledged") == "resolved"


@pytest.mark.parametrize(
    ("action", "state"),
    [("acknowledge", "acknowledged"), ("resolve", "dispatched"), ("start", "dispatched"), ("transfer", "resolved")],
)
def test_illegal_moves_are_refused(action: str, state: str) -> None:
    with pytest.raises(IllegalTransition):
        next_state(action, state)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("assignments", "status"),
    [
        ([("lead", "dispatched"), ("assist", "dispatched")], "dispatched"),
        ([("lead", "acknowledged"), ("assist", "dispatched")], "acknowledged"),
        ([("lead", "resolved"), ("assist", "in_progress")], "in_progress"),
        ([("lead", "resolved"), ("assist", "resolved")], "resolved"),
        ([("lead", "resolved"), ("assist", "released")], "resolved"),
        ([("lead", "returned"), ("assist", "acknowledged")], "new"),
        ([("lead", "transferred"), ("lead", "dispatched")], "dispatched"),
        ([], "new"),
    ],
)
def test_ticket_status_is_derived_from_live_assignments(assignments: list[tuple[str, str]], status: str) -> None:
    assert derive_ticket_status("dispatched", assignments) == status


def test_final_statuses_stay() -> None:
    assert derive_ticket_status("merged", [("lead", "dispatched")]) == "merged"
