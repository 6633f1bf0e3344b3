"""How many label exports stream at once: GLITCHLAB_EXPORTS_PER_USER per account and
GLITCHLAB_EXPORTS_AT_ONCE on the whole site, the last of those kept for reviewers and admins.

A streamed export holds one of the web server's few Python threads until the client has
read its last byte (granian 2.8.7 hands the body over as it is read: one client that
stopped reading kept the only thread of a one-thread server, and a second request waited
past 10 s). Without a limit a volunteer could hold every thread with a few slow downloads.

The counts live on the cache (one for every web process when GLITCHLAB_CACHE_URL is Redis),
one counter per hour (WINDOW_S): a slot is counted in the hour it began and given back
there, when its response is read to the end or closed, whichever comes first
(`HeldStream`). A claim counts this hour's slots and the last hour's, so a slot leaked by a
killed process is forgotten within two hours (and so is a download longer than that), and
no counter is ever refreshed by claims or runs below zero. A cache outage lets exports
through (logged), as the other limits do.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache

from webapp.cache_counts import count_up

logger = logging.getLogger(__name__)

WINDOW_S = 3600


class ExportsBusyError(Exception):
    """This account, or the site, has as many exports streaming as it may."""


def _keys(user_id: int, window: int) -> tuple[str, str]:
    return f"exports-live:user:{user_id}:{window}", f"exports-live:all:{window}"


def export_slot_claim(*, user_id: int, reviewer: bool = False) -> ExportSlot:
    """A slot for one streamed export, or ExportsBusyError that says whose limit it hit.
    The site's last slot is a reviewer's (when it has more than one): a few throwaway
    volunteer accounts holding unread exports kept every reviewer from the gold labels."""
    window = int(time.time()) // WINDOW_S
    now, before = _keys(user_id, window), _keys(user_id, window - 1)
    counted: list[str] = []
    live = []
    try:
        for key_now, key_before in zip(now, before, strict=True):  # the account's, the site's
            n = count_up(key_now, timeout_s=3 * WINDOW_S)
            counted.append(key_now)
            live.append(n + int(cache.get(key_before) or 0))
    except Exception:  # noqa: BLE001 - any cache outage: fail open
        logger.warning("export slots: cache unavailable, not limiting", exc_info=True)
        ExportSlot(*counted).release()
        return ExportSlot()
    slot = ExportSlot(*counted)
    mine, everyone = live
    per_user, at_once = settings.GLITCHLAB_EXPORTS_PER_USER, settings.GLITCHLAB_EXPORTS_AT_ONCE
    if mine > per_user:
        slot.release()
        raise ExportsBusyError(
            f"you have {per_user} export{'s' if per_user != 1 else ''} still downloading: "
            "let it finish, then ask again"
        )
    site = at_once if reviewer or at_once < 2 else at_once - 1
    if everyone > site:
        slot.release()
        downloading = f"{site} exports are" if site != 1 else "an export is"
        raise ExportsBusyError(f"{downloading} downloading now: try again in a minute")
    return slot


class ExportSlot:
    """One claimed slot: the counters it was counted in. release() gives it back once,
    however often it is called."""

    def __init__(self, *keys: str) -> None:
        self._keys = keys  # none: nothing was counted (the cache was down)

    def release(self) -> None:
        keys, self._keys = self._keys, ()
        for key in keys:
            try:
                with contextlib.suppress(ValueError):  # expired meanwhile: nothing to give back
                    cache.decr(key)
            except Exception:  # noqa: BLE001 - its window ends; the slot is then forgotten
                logger.warning("export slots: could not give a slot back", exc_info=True)


class HeldStream:
    """An export's chunks, holding `slot` until they are all read or the response is
    closed. A class, not a generator: the server closes a response whose body it never
    started to read, and closing a generator that never started runs no finally."""

    def __init__(self, chunks: Iterator[str], slot: ExportSlot) -> None:
        self._chunks, self._slot = chunks, slot

    def __iter__(self) -> HeldStream:
        return self

    def __next__(self) -> str:
        try:
            return next(self._chunks)
        except BaseException:  # the end (StopIteration) or a failure: the slot is free
            self._slot.release()
            raise

    def close(self) -> None:
        self._slot.release()
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
