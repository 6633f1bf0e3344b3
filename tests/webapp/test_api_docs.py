"""/api/docs/ (Swagger UI) and /api/redoc/ come from the installed sidecar package, load
nothing from another site, and the schema is there as JSON too."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db

# Any absolute URL to another host in a src, href or url(...): a CDN, a font service.
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//""")


@pytest.mark.parametrize("name", ["api-docs", "api-redoc"])
def test_the_docs_pages_load_nothing_from_another_site(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    assert not EXTERNAL.search(page), EXTERNAL.search(page)
    assert "cdn" not in page.lower() and "googleapis" not in page
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts and all(src.startswith("/") for src in scripts)
    assert "<script>" not in page and "<style>" not in page  # the CSP forbids both


def test_swagger_ui_comes_from_the_sidecar_and_its_set_up_script_is_served(client):
    page = client.get(reverse("api-docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    script_url = re.findall(r'<script src="([^"]+script=[^"]*)"', page)[-1]
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert reverse("api-schema") in script.content.decode()


def test_redoc_comes_from_the_sidecar(client):
    page = client.get(reverse("api-redoc")).content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in page
    assert finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    assert f'spec-url="{reverse("api-schema")}' in page


def test_the_docs_pages_keep_scripts_to_this_site_in_their_csp(client):
    for name in ("api-docs", "api-redoc"):
        policy = client.get(reverse(name))["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["script-src"] == "'self'"
        assert "unsafe-eval" not in policy and "http" not in policy


def test_the_schema_is_served_as_json_with_the_export(client):
    response = client.get(reverse("api-schema") + "?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "GlitchLab API"
    assert "/api/exports/labels.csv" in schema["paths"]
    assert "/api/exports/labels.json" in schema["paths"]
