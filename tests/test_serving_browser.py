"""The interactive page served by the Bento, driven by clicking in headless Chromium."""

from __future__ import annotations

import pandas as pd
import pytest

from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.serving.schema import RoadUser, rows_to_frame
from tests.fixtures.serving import REPO_ROOT, BentoServer, ExportedBento

pytestmark = [pytest.mark.service, pytest.mark.browser]

ARTIFACTS = REPO_ROOT / "test-artifacts"


def test_page_prediction_by_clicking(browser, bento_server: BentoServer,  # noqa: ANN001
                                     serving_bento: ExportedBento) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1800})
    page.goto(bento_server.url + "/ui/")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert "version 12" in page.inner_text("#model-line")

    # Choices are labels, not codes: pick a motorcyclist without a helmet, at night, out of town.
    lum = page.locator("#f-lum")
    assert "Night, no street lighting" in lum.inner_text()
    lum.select_option(label="Night, no street lighting")
    page.select_option("#f-agg", label="Outside built-up area")
    page.select_option("#f-catv", label=_label("catv", 33))
    page.select_option("#f-catu", label="Driver")
    page.select_option("#f-sexe", label="Male")
    page.select_option("#f-secu1", label=_label("secu1", 0))
    page.select_option("#f-other_vehicle_class", label=_label("other_vehicle_class", 3))
    page.fill("#f-an", "2023")
    page.fill("#f-mois", "7")
    page.fill("#f-jour", "14")
    page.fill("#f-hrmn", "23:30")
    page.fill("#f-vma", "80")
    page.fill("#f-an_nais", "1999")
    page.fill("#f-n_vehicles", "2")
    page.fill("#f-n_users", "2")
    page.fill("#api-key", bento_server.api_key or "")
    page.click("#predict")
    page.wait_for_selector("#result:not([hidden])", timeout=30_000)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "serving-page-prediction.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

    # The shown probability is the model's own for the situation that was clicked (fields
    # not clicked keep the default example's values).
    from accidents.serving.examples import CAR_DRIVER

    row = RoadUser.model_validate({
        **CAR_DRIVER,
        "an": 2023, "mois": 7, "jour": 14, "hrmn": "23:30", "lum": 3, "agg": 1, "catv": 33, "catu": 1,
        "sexe": 1, "secu1": 0, "other_vehicle_class": 3, "vma": 80, "an_nais": 1999,
        "n_vehicles": 2, "n_users": 2,
    })
    frame: pd.DataFrame = rows_to_frame([row])
    expected = float(serving_bento.model.predict_proba(frame[list(MODEL_INPUT_COLUMNS)])[:, 1][0])
    shown = page.inner_text("#result-probability")
    assert f"{100 * expected:.1f} %" in shown, (shown, expected)
    decision = page.inner_text("#result-decision")
    assert decision.startswith("Severe" if expected >= serving_bento.threshold else "Not severe")
    assert "model version 12" in page.inner_text("#result-detail")

    # What raised / lowered the risk: the explainer's largest contributions, by field label.
    from accidents.serving.explain import Explainer
    from accidents.serving.schema import rows_to_columns
    from accidents.serving.scoring import Scorer

    explanation = Explainer(Scorer(serving_bento.model)).explain(rows_to_columns([row]))[0]
    raised, lowered = page.inner_text("#explanation-raised"), page.inner_text("#explanation-lowered")
    for item in explanation["top"]:
        shown = raised if item["contribution"] > 0 else lowered
        assert item["label"] in shown, (item, raised, lowered)
        assert page.locator(f"#explanation li[data-field='{item['field']}']").count() == 1
    assert "log-odds" in page.inner_text("#explanation")

    # A bad entry shows the service's message naming the field, not a crash.
    page.fill("#f-jour", "31")
    page.fill("#f-mois", "2")
    page.click("#predict")
    page.wait_for_selector("#error:not([hidden])", timeout=30_000)
    assert "jour" in page.inner_text("#error") and "not a date" in page.inner_text("#error")
    page.close()


def _label(field: str, code: int) -> str:
    from accidents.serving.schema import FIELD_SPECS

    return FIELD_SPECS[field].codes[code][1]


def test_page_default_prediction_in_view(browser, bento_server: BentoServer,  # noqa: ANN001
                                         serving_bento: ExportedBento) -> None:
    """The first thing a visitor sees: a realistic example's prediction, above the fold."""
    from accidents.serving.examples import CAR_DRIVER, MOTORCYCLIST

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(bento_server.url + "/ui/")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.input_value("#f-catv") == str(CAR_DRIVER["catv"])  # the example filled the form
    page.fill("#api-key", bento_server.api_key or "")
    page.click("#predict")  # nothing else changed: the default example
    page.wait_for_selector("#result:not([hidden])", timeout=30_000)

    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("window.scrollY") == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serving-page-default.png"))
    for selector in ("#result-decision", "#result-probability", "#result-missing"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 1000, (selector, box)
    car = _shown_probability(page)
    assert car == pytest.approx(100 * _model_probability(serving_bento, CAR_DRIVER), abs=0.051)
    assert car >= 1.0, f"the default example reads {car} %: looks broken to a first visitor"
    missing = page.inner_text("#result-missing")
    assert "Not recorded (2 of 39 inputs)" in missing, missing
    assert page.locator("#result-warning").is_hidden()

    # The second example, one click: clearly more severe.
    page.click("#example-motorcyclist")
    page.wait_for_function(f"document.querySelector('#f-vma').value == '{MOTORCYCLIST['vma']}'")
    page.wait_for_function("!document.querySelector('#result-probability').textContent.includes("
                           f"'{car:.1f} %')", timeout=30_000)
    assert _shown_probability(page) > car

    # Everything optional left "not recorded": the page says so and warns.
    page.evaluate("""() => {
        for (const s of document.querySelectorAll("select[data-kind='code']"))
            if ([...s.options].some((o) => o.value === "-1")) s.value = "-1";
        for (const i of document.querySelectorAll("input[data-kind='measure']")) i.value = "";
    }""")
    page.click("#predict")
    page.wait_for_selector("#result-warning:not([hidden])", timeout=30_000)
    assert "Most inputs" in page.inner_text("#result-warning")
    page.close()


def _shown_probability(page) -> float:  # noqa: ANN001
    text = page.inner_text("#result-probability")
    return float(text.rsplit(":", 1)[1].replace("%", "").strip())


def _model_probability(bento: ExportedBento, values: dict) -> float:
    frame = rows_to_frame([RoadUser.model_validate(values)])
    return float(bento.model.predict_proba(frame[list(MODEL_INPUT_COLUMNS)])[:, 1][0])
