"""The one state-machine helper: tables of both shapes, illegal moves, parties, action-driven machines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from souk_platform.core.errors import Conflict, InvalidState
from souk_platform.core.states import Move, StateMachine


@dataclass
class Ticket:
    id: str
    state: str = "open"


class WrongParty(Conflict):
    code = "not-your-move"


def _illegal(ticket: Ticket, to: str, allowed: tuple[str, ...]) -> InvalidState:
    return InvalidState(f"{ticket.id} is {ticket.state}; not {to} (may: {', '.join(allowed) or 'nothing'})")


def _wrong_party(ticket: Ticket, to: str, party: str) -> WrongParty:
    return WrongParty(f"the {party} cannot move {ticket.id} to {to}")


class Recorder:
    """Stands in for a machine's timeline and outbox: keeps every move it is handed, with its context."""

    def __init__(self) -> None:
        self.lines: list[tuple[Any, Ticket, Move, dict[str, Any]]] = []

    def __call__(self, session: Any, ticket: Ticket, move: Move, **context: Any) -> None:
        # recorded after the state changed, like every machine's timeline
        assert getattr(ticket, "status", getattr(ticket, "state", None)) == move.to
        self.lines.append((session, ticket, move, context))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def with_parties(recorder: Recorder) -> StateMachine[Ticket]:
    table = {
        "open": {"working": frozenset({"agent"}), "closed": frozenset({"agent", "customer"})},
        "working": {"closed": frozenset({"agent"}), "nobody": frozenset()},
        "nobody": {},
        "closed": {},
    }
    return StateMachine(table, illegal=_illegal, wrong_party=_wrong_party, record=recorder)


def test_states_and_final_states_come_from_the_table(with_parties):
    assert with_parties.states == ("open", "working", "nobody", "closed")
    assert with_parties.final_states == frozenset({"nobody", "closed"})
    assert with_parties.moves_from("open") == ("working", "closed")
    assert with_parties.moves_from("closed") == () and with_parties.moves_from("unknown") == ()


def test_allowed_moves_are_per_party(with_parties):
    assert with_parties.allowed_moves("open", by="agent") == ["working", "closed"]
    assert with_parties.allowed_moves("open", by="customer") == ["closed"]
    assert with_parties.allowed_moves("working", by="customer") == []


def test_a_legal_move_changes_the_state_and_is_recorded_with_its_context(with_parties, recorder):
    ticket = Ticket("t1")
    move = with_parties.transition("session", ticket, "working", by="agent", note="on it")
    assert ticket.state == "working"
    assert move == Move(before="open", to="working", name="working", by="agent")
    assert recorder.lines == [("session", ticket, move, {"note": "on it"})]


def test_a_move_missing_from_the_table_is_the_machines_409_and_changes_nothing(with_parties, recorder):
    ticket = Ticket("t1", state="closed")
    with pytest.raises(InvalidState) as raised:
        with_parties.transition("session", ticket, "working", by="agent")
    assert raised.value.status == 409 and raised.value.detail == "t1 is closed; not working (may: nothing)"
    assert ticket.state == "closed" and recorder.lines == []


def test_a_party_the_table_does_not_name_gets_the_wrong_party_problem(with_parties, recorder):
    ticket = Ticket("t1")
    with pytest.raises(WrongParty, match="the customer cannot move t1 to working"):
        with_parties.transition("session", ticket, "working", by="customer")
    with pytest.raises(WrongParty):  # an empty cell means nobody, not anybody
        with_parties.check(Ticket("t2", state="working"), "nobody", by="agent")
    assert ticket.state == "open" and recorder.lines == []


def test_a_table_of_target_states_lets_any_caller_move(recorder):
    machine: StateMachine[Ticket] = StateMachine(
        {"open": ("closed", "spam"), "closed": (), "spam": ()}, illegal=_illegal, record=recorder
    )
    ticket = Ticket("t1")
    machine.transition("session", ticket, "spam")
    assert ticket.state == "spam" and machine.final_states == frozenset({"closed", "spam"})
    with pytest.raises(InvalidState, match=r"t2 is open; not reopened \(may: closed, spam\)"):
        machine.check(Ticket("t2"), "reopened")


def test_the_state_attribute_can_be_named(recorder):
    @dataclass
    class Order:
        id: str
        status: str = "pending"

    machine: StateMachine[Order] = StateMachine(
        {"pending": {"paid"}, "paid": set()}, field="status", illegal=_illegal, record=recorder
    )
    order = Order("o1")
    machine.transition(None, order, "paid")
    assert order.status == "paid"


def test_an_action_driven_machine_names_moves_by_action(recorder):
    actions = {
        "approved": {"in_review": "listed", "listed": "listed"},
        "delisted": {"listed": "delisted"},
    }
    machine: StateMachine[Ticket] = StateMachine.of_actions(actions, illegal=_illegal, record=recorder)
    assert machine.states == ("in_review", "listed", "delisted")
    assert machine.moves_from("listed") == ("approved", "delisted")
    ticket = Ticket("t1", state="listed")
    move = machine.transition("session", ticket, "approved", reason="looks fine")
    assert ticket.state == "listed" and move == Move(before="listed", to="listed", name="approved")
    machine.transition("session", ticket, "delisted")
    assert ticket.state == "delisted" and [line[2].name for line in recorder.lines] == ["approved", "delisted"]
    with pytest.raises(InvalidState, match="t1 is delisted; not approved"):
        machine.transition("session", ticket, "approved")
