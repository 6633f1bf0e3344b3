"""The class buttons' keys (webapp.labeling.keys), for the default levels."""

from django.conf import settings

from ml.classes import NONE_OF_THE_ABOVE
from webapp.labeling.keys import RESERVED_KEYS, assign_keys


def default_keys() -> dict[str, str | None]:
    names = [name for added in settings.GLITCHLAB_LEVELS for name in added]
    return assign_keys([NONE_OF_THE_ABOVE, *names])


def test_every_class_has_its_own_key_and_none_is_a_duration_key():
    keys = default_keys()
    assert None not in keys.values()
    assert len(set(keys.values())) == len(keys)
    assert not set(keys.values()) & RESERVED_KEYS
    assert keys[NONE_OF_THE_ABOVE] == "n"


def test_a_class_gets_one_of_its_capitals_when_a_later_class_would_not_take_it():
    """Before: classes took keys one at a time, so Scratchy (its S taken by Scattered_Light)
    took Tomte's T, and Tomte got an O: a volunteer pressing T for Tomte voted Scratchy."""
    keys = default_keys()
    with_a_capital = {name: key for name, key in keys.items() if key and key.upper() in name}
    assert keys["Tomte"] == "t" and keys["Scratchy"] != "t"
    # every class whose key is not one of its capitals had all of its capitals taken
    for name in keys:
        capitals = {c.lower() for c in name if c.isupper()}
        if name not in with_a_capital:
            assert capitals <= {k for n, k in keys.items() if n != name}, name
