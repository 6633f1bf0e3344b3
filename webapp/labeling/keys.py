"""Collision-free one-key shortcuts for class buttons, derived from the class names.

Pure functions (no ORM) so the data migration and the seeding service share them.
Digits 1-4 are kept for the four duration views and are never given to a class.
"""

from __future__ import annotations

from collections.abc import Iterable

from ml.classes import NONE_OF_THE_ABOVE

RESERVED_KEYS = frozenset("1234")
SPARE_KEYS = "abcdefghijklmnopqrstuvwxyz567890"


def key_for(name: str, taken: set[str]) -> str | None:
    """The first free letter of the name (capitals first: Koi_Fish -> k, f), else any free key."""
    capitals = [c for c in name if c.isupper()]
    candidates = [*capitals, *name, *SPARE_KEYS]
    for char in candidates:
        key = char.lower()
        if key.isalnum() and key.isascii() and key not in taken and key not in RESERVED_KEYS:
            return key
    return None


def assign_keys(names: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str | None]:
    """Give each name (in order of priority) a key no other name or `taken` key has.

    None_of_the_Above goes first so it always gets "n", whatever else joins later.
    """
    used = set(taken)
    ordered = list(names)
    if NONE_OF_THE_ABOVE in ordered:
        ordered.remove(NONE_OF_THE_ABOVE)
        ordered.insert(0, NONE_OF_THE_ABOVE)
    keys: dict[str, str | None] = {}
    # First every name that can have one of its capitals, in order; then the rest. Taking
    # names one at a time gave Scratchy Tomte's T (its S was Scattered_Light's), and Tomte
    # an O: a volunteer pressing T for Tomte voted Scratchy.
    for name in ordered:
        capital = _free_capital(name, used)
        if capital:
            keys[name] = capital
            used.add(capital)
    for name in ordered:
        if name not in keys:
            key = key_for(name, used)
            keys[name] = key
            if key:
                used.add(key)
    return {name: keys[name] for name in ordered}


def _free_capital(name: str, taken: set[str]) -> str | None:
    for char in name:
        key = char.lower()
        if char.isupper() and char.isascii() and key not in taken and key not in RESERVED_KEYS:
            return key
    return None
