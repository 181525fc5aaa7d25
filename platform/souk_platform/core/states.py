"""One shape for every state machine: a table of moves and one ``transition()`` (docs/architecture.md §12).

A table reads ``TRANSITIONS[state][to] = the parties who may make that move`` (service orders); a machine
whose callers are not told apart lists only the states each may move to
(``TRANSITIONS[state] = {to, ...}``). The state list and the final states (no move out) come from the
table. ``StateMachine.transition()`` checks the move (the machine's own 409 problem on an illegal one),
sets the state and hands the ``Move`` to the machine's ``record`` function, which writes its timeline
line and outbox event in the caller's transaction, the way that machine always has.

A machine driven by named actions rather than target states (a listing is *approved*, and lands in
``listed`` whatever it was) is built with ``StateMachine.of_actions({action: {before: after}})``; its
moves are named by the action, and events by the move's name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from typing import Any, Generic, TypeVar

from souk_platform.core.errors import SoukError

Subject = TypeVar("Subject")


@dataclasses.dataclass(frozen=True, slots=True)
class Move:
    """One move being made: from ``before`` to ``to``, named ``name`` (the target state unless the
    machine is driven by actions), by the party ``by`` (None when the machine does not tell parties apart)."""

    before: str
    to: str
    name: str
    by: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class _Edge:
    to: str
    parties: frozenset[str] | None  # None: any caller (the machine does not tell parties apart)


IllegalMove = Callable[[Any, str, tuple[str, ...]], SoukError]  # (subject, move name, the moves allowed)
WrongParty = Callable[[Any, str, str], SoukError]  # (subject, move name, party)


class StateMachine(Generic[Subject]):
    """A transitions table with the one ``transition()`` that checks a move, makes it and records it."""

    def __init__(
        self,
        table: Mapping[str, Mapping[str, Collection[str]] | Collection[str]],
        *,
        illegal: IllegalMove,
        record: Callable[..., None],
        wrong_party: WrongParty | None = None,
        field: str = "state",
    ) -> None:
        """``illegal(subject, to, allowed)`` builds the 409 for a move the table lacks, ``wrong_party(subject, to,
        party)`` the one for a party the table does not name; ``record(session, subject, move, **context)``
        writes the timeline line and emits the event; ``field`` is the subject's state attribute."""
        self._illegal = illegal
        self._wrong_party = wrong_party
        self._record = record
        self.field = field
        edges: dict[str, dict[str, _Edge]] = {}
        for state, moves in table.items():
            if isinstance(moves, Mapping):
                edges[state] = {to: _Edge(to, frozenset(parties)) for to, parties in moves.items()}
            else:
                edges[state] = {to: _Edge(to, None) for to in moves}
        self._use(edges)

    @classmethod
    def of_actions(
        cls,
        actions: Mapping[str, Mapping[str, str]],
        *,
        illegal: IllegalMove,
        record: Callable[..., None],
        field: str = "state",
    ) -> StateMachine[Subject]:
        """A machine driven by named actions: ``actions[action][before] = after``; moves are named by action."""
        edges: dict[str, dict[str, _Edge]] = {}
        for action, moves in actions.items():
            for before, after in moves.items():
                edges.setdefault(before, {})[action] = _Edge(after, None)
                edges.setdefault(after, {})
        machine = cls({}, illegal=illegal, record=record, field=field)
        machine._use(edges)
        return machine

    def _use(self, edges: dict[str, dict[str, _Edge]]) -> None:
        self._edges = edges
        self.states: tuple[str, ...] = tuple(edges)
        self.final_states: frozenset[str] = frozenset(state for state, moves in edges.items() if not moves)

    def moves_from(self, state: str) -> tuple[str, ...]:
        """The moves the table has out of ``state``, in table order."""
        return tuple(self._edges.get(state, {}))

    def allowed_moves(self, state: str, by: str) -> list[str]:
        """The moves the party ``by`` may make from ``state`` (pages show buttons from it)."""
        return [name for name, edge in self._edges.get(state, {}).items() if self._may(edge, by)]

    def check(self, subject: Subject, move: str, *, by: str | None = None) -> Move:
        """The ``Move`` the table lets the party ``by`` make on ``subject`` now; else the machine's 409."""
        before = getattr(subject, self.field)
        edge = self._edges.get(before, {}).get(move)
        if edge is None:
            raise self._illegal(subject, move, self.moves_from(before))
        if not self._may(edge, by):
            if self._wrong_party is None:
                raise self._illegal(subject, move, self.moves_from(before))
            raise self._wrong_party(subject, move, by or "")
        return Move(before=before, to=edge.to, name=move, by=by)

    def transition(self, session: Any, subject: Subject, move: str, *, by: str | None = None, **context: Any) -> Move:
        """Check and make ``move``, then ``record`` it (timeline line and event) with ``context``."""
        made = self.check(subject, move, by=by)
        setattr(subject, self.field, made.to)
        self._record(session, subject, made, **context)
        return made

    @staticmethod
    def _may(edge: _Edge, by: str | None) -> bool:
        return edge.parties is None or by in edge.parties
