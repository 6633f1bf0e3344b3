"""The glitches the queue handed to each of a volunteer's tabs lately (the shared cache), so
that two tabs or devices of one account are handed different glitches.

One account's queue is the same in each of its tabs: before, two tabs were handed the same
glitch, then the next one, and every vote of the slower tab was refused as answered already.
Now the queue passes over the glitches held by the caller's *other* tabs (services.
subject_next_hand_out). A hold is a preference, never a lock:

- It is the account's own: it steers only that account's other tabs, and no other account
  ever waits for it or learns of it (both keys below are under the account's id). Gold
  Standard glitches and pool glitches alike want many volunteers' votes.
- It is short (HOLD_S) and capped (TABS tabs of PER_TAB glitches an account, the tab heard
  from least lately forgotten first), so a script naming a new tab on every request holds
  no more than TABS * PER_TAB glitches, keeps at most that many out of its own queue, and
  fills no cache.
- A glitch held elsewhere is still handed out when nothing else is left, and a cache that
  does not answer holds nothing (logged): both tabs may then meet one glitch again, and the
  page says so ("already labelled in another tab").

Per account: an index `{tab: [[subject id, until], ...]}` (read each hand-out, written when
it changes) and, per held glitch, a claim key naming its tab, taken with cache.add (atomic
on Redis and in memory): two tabs asking at once (a browser restoring them) cannot both
claim one glitch, even where their writes of the index cross and one is lost.
"""

from __future__ import annotations

import enum
import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)

# How long a glitch handed to a tab is kept from the account's other tabs, from its latest
# hand-out to that tab: a glitch on screen is voted on within seconds, and a tab closed with
# its training glitch due keeps it from the other tabs no longer than this.
HOLD_S = 5 * 60
# Glitches held per tab: the one on screen, the one preloaded, and room for a vote in flight
# (the newest kept; a voted glitch needs none, the queue skips what the account answered).
PER_TAB = 4
# Tabs held per account; a new one beyond these forgets the one heard from least lately.
TABS = 4

Index = dict[str, list[list[float]]]


def _index_key(volunteer_id: int) -> str:
    return f"glitchlab:queue-holds:{volunteer_id}"


def _claim_key(volunteer_id: int, subject_id: int) -> str:
    return f"glitchlab:queue-hold:{volunteer_id}:{subject_id}"


def _live(index: Index, now: float) -> Index:
    """The index without its expired holds and tabs left with none."""
    live = {tab: [h for h in held if h[1] > now] for tab, held in index.items()}
    return {tab: held for tab, held in live.items() if held}


def held_elsewhere(*, volunteer_id: int, tab: str) -> list[int]:
    """The glitches handed to the volunteer's other tabs in the last HOLD_S (at most
    (TABS - 1) * PER_TAB); [] when the cache does not answer."""
    try:
        index = cache.get(_index_key(volunteer_id)) or {}
    except Exception:  # noqa: BLE001 - any cache outage: hold nothing
        logger.warning("queue holds: cache unavailable, tabs not told apart", exc_info=True)
        return []
    live = _live(index, time.time())
    return [int(held[0]) for other, holds in live.items() if other != tab for held in holds]


class Claim(enum.Enum):
    """What hold_claim did."""

    TAKEN = "taken"  # this tab holds it now and did not before: hold_release may give it back
    RENEWED = "renewed"  # this tab held it already (an earlier hand-out): held anew
    REFUSED = "refused"  # another of the volunteer's tabs holds it: ask for another
    UNHELD = "unheld"  # the cache did not answer: handed out unheld


def hold_claim(*, volunteer_id: int, tab: str, subject_id: int, force: bool = False) -> Claim:
    """Hold the glitch for this tab of the volunteer's for HOLD_S: REFUSED when another of
    their tabs holds it (ask for another), TAKEN or RENEWED once this tab does (RENEWED: it
    did already, from an earlier hand-out, which a release must not take away). `force`
    takes it from another tab (an undo brings its glitch back to the tab that undid)."""
    key = _claim_key(volunteer_id, subject_id)
    try:
        claim = Claim.TAKEN
        if not cache.add(key, tab, timeout=HOLD_S):
            holder = cache.get(key)
            if holder not in (None, tab) and not force:
                return Claim.REFUSED
            claim = Claim.RENEWED if holder == tab else Claim.TAKEN
            cache.set(key, tab, timeout=HOLD_S)
        _index_add(volunteer_id, tab, subject_id)
    except Exception:  # noqa: BLE001 - any cache outage: handed out unheld
        logger.warning("queue holds: cache unavailable, glitch handed out unheld", exc_info=True)
        return Claim.UNHELD
    return claim


def hold_release(*, volunteer_id: int, tab: str, subject_id: int) -> None:
    """Give back a claim just taken (Claim.TAKEN: the gold it named went to another
    request); never one the tab held before (RENEWED)."""
    try:
        key = _claim_key(volunteer_id, subject_id)
        if cache.get(key) == tab:
            cache.delete(key)
    except Exception:  # noqa: BLE001 - it expires
        logger.warning("queue holds: could not release a hold", exc_info=True)


def _index_add(volunteer_id: int, tab: str, subject_id: int) -> None:
    """Record the hold in the account's index, keeping the caps: a tab's oldest holds beyond
    PER_TAB and the tabs heard from least lately beyond TABS are dropped, claims and all."""
    now = time.time()
    index = _live(cache.get(_index_key(volunteer_id)) or {}, now)
    mine = [held for held in index.get(tab, []) if int(held[0]) != subject_id]
    mine.append([subject_id, now + HOLD_S])
    dropped = [(tab, int(held[0])) for held in mine[:-PER_TAB]]
    index[tab] = mine[-PER_TAB:]
    by_recency = sorted(index, key=lambda t: max(held[1] for held in index[t]), reverse=True)
    for gone in by_recency[TABS:]:
        dropped += [(gone, int(held[0])) for held in index.pop(gone)]
    cache.set(_index_key(volunteer_id), index, timeout=HOLD_S)
    for holder, subject in dropped:
        key = _claim_key(volunteer_id, subject)
        if cache.get(key) == holder:
            cache.delete(key)
