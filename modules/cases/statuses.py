"""Groups of case statuses, defined once: the state machine (casework), 容缺 (tolerance),
supervision, ratings, statistics and the history seed all ask the same questions."""

from __future__ import annotations

__all__ = ["DONE", "ENDED", "FINAL", "LAPSED", "RESULT_OUT"]

#: A 容缺 promise not kept by its date: the case ends.
LAPSED = "promise_lapsed"
#: The item's result is out (then delivered, closed).
RESULT_OUT = frozenset({"result_issued", "delivered", "closed"})
#: Ended without a result: refused at intake, denied, or a 容缺 promise lapsed.
ENDED = frozenset({"refused", "denied", LAPSED})
#: Done, for supervision lights, ratings and statistics: a result out, or ended.
DONE = RESULT_OUT | ENDED
#: Statuses a case never leaves.
FINAL = ENDED | {"closed"}
