"""The map in a real browser: one colour per class (unlabelled grey), nothing that sends
the chart to another site, the toolbar off the legend, class names without underscores,
and a lasso whose count is the size of the sheet it opens."""

import pytest
from map_page import CLASSES, log_in, twelve_glitches_on_the_map

pytestmark = pytest.mark.e2e


@pytest.fixture
def map_of_twelve(discovery):
    return twelve_glitches_on_the_map()


def test_each_class_has_its_own_colour_and_nothing_is_shared(page, map_of_twelve):
    log_in(page, "ann", "/discovery/map/")
    page.wait_for_selector("#map[data-ready='1']")
    traces = page.evaluate(
        "document.getElementById('map').data.map((t) => [t.name, t.marker.color])"
    )
    names = [name for name, _ in traces]
    assert sorted(names) == sorted([n.replace("_", " ") for n in CLASSES] + ["unlabelled"])
    colours = [colour for _, colour in traces]
    assert len(set(colours)) == len(colours)  # Air Compressor, None of the Above, unlabelled apart
    assert dict(traces)["unlabelled"] == "#6b7280"
    # No "Share chart" / Chart Studio button, and the toolbar sits above the legend.
    assert (
        page.locator(
            ".modebar-btn[data-title*='Cloud'], .modebar-btn[data-title*='Chart Studio']"
        ).count()
        == 0
    )
    page.hover("#map")
    bar = page.locator(".modebar").bounding_box()
    legend = page.locator(".legend").bounding_box()
    assert bar["y"] + bar["height"] <= legend["y"] + 1


def test_the_lasso_count_is_the_sheet_size(page, map_of_twelve):
    subjects = map_of_twelve
    log_in(page, "ann", "/discovery/map/")
    page.wait_for_selector("#map[data-ready='1']")
    # Select every point, as a lasso round all of them would.
    page.evaluate(
        "(ids) => document.getElementById('map').emit('plotly_selected',"
        " {points: ids.map((id) => ({customdata: id}))})",
        [s.pk for s in subjects],
    )
    # 12 selected: 5 retired and 2 answered by ann are left out, and the count says 5.
    assert page.inner_text("#lasso-n") == "5"
    assert "12 selected" in page.inner_text("[data-testid=lasso-note]")
    page.click("[data-testid=lasso-batch]")
    page.wait_for_url("**/discovery/sheet/")
    assert page.locator("[data-testid=sheet-cell]").count() == 5


def test_by_confidence_a_glitch_without_one_is_grey_not_the_bottom_of_the_scale(
    page, map_of_twelve
):
    """A volunteer sees the model's confidence only on glitches they voted on (issue #14: a
    guess before voting is an answer); the rest must not read as "confidence 0"."""
    from webapp_factories import active_prediction

    from webapp.modeling.models import Prediction

    for subject in map_of_twelve:
        active_prediction(subject, {"Blip": 0.9, "Whistle": 0.1})
    Prediction.objects.update(confidence=0.9)
    log_in(page, "ann", "/discovery/map/")
    page.wait_for_selector("#map[data-ready='1']")
    page.select_option("[data-testid=colour-by]", "confidence")
    page.wait_for_function("document.getElementById('map').data.length === 2")
    traces = page.evaluate(
        "document.getElementById('map').data.map((t) => [t.customdata.length, t.marker.color])"
    )
    # shown: the 5 retired glitches and the 2 that ann voted on; grey: the 5 others
    assert traces[0] == [5, "#6b7280"]
    assert traces[1] == [7, [0.9] * 7]


LOOK = """(button) => { const style = getComputedStyle(button);
  return [button.disabled, style.backgroundColor, style.cursor]; }"""
ACCENT = "rgb(244, 197, 66)"


def test_the_batch_button_looks_disabled_until_something_is_selected(page, map_of_twelve):
    """Before: "Label the 0 selected together", disabled, was drawn as a live primary button
    (yellow, opacity 1, a pointer). Now it is flat and dim with a not-allowed cursor, and
    yellow once a lasso has picked glitches to label."""
    log_in(page, "ann", "/discovery/map/")
    page.wait_for_selector("#map[data-ready='1']")
    button = page.locator("[data-testid=lasso-batch]")
    disabled, background, cursor = button.evaluate(LOOK)
    assert disabled and background != ACCENT and cursor == "not-allowed"
    page.evaluate(
        "(ids) => document.getElementById('map').emit('plotly_selected',"
        " {points: ids.map((id) => ({customdata: id}))})",
        [s.pk for s in map_of_twelve],
    )
    assert button.evaluate(LOOK) == [False, ACCENT, "pointer"]
