"""A glitch's page does no embeddings work while it is drawn: its similar glitches come
from the API, asked for by similar.js once the page is shown. For a while the page asked
the embeddings whether they held the glitch (to spare the API's 404 as a console error):
one or two more queries, a stat of the file, and after every map run (which rewrites the
file) a load and normalisation of the whole matrix inside the page's request."""

import pytest
from discovery_factories import stored_cluster, volunteer
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from webapp.discovery import selectors

pytestmark = pytest.mark.django_db


def _no_embeddings_work(*_args, **_kwargs):
    raise AssertionError("the subject page looked at the embeddings")


# The page's statements before it asked the embeddings (bc9976a): anonymous, a volunteer.
@pytest.mark.parametrize(("who", "statements"), [("anonymous", 4), ("volunteer", 20)])
def test_the_subject_page_does_no_embeddings_work(monkeypatch, who, statements):
    _, subjects, _, _ = stored_cluster(n=6)
    client = Client()
    if who == "volunteer":
        client.force_login(volunteer("ann", level=1))
    url = reverse("labeling:subject_detail", args=[subjects[0].pk])
    client.get(url)  # the session's first reads
    for name in ("embedding_set_current", "embeddings_load", "embedding_set_on_disk"):
        monkeypatch.setattr(selectors, name, _no_embeddings_work)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)

    assert page.status_code == 200
    assert 'id="similar"' in page.content.decode()  # similar.js asks the API
    assert not [q["sql"] for q in queries.captured_queries if "discovery_" in q["sql"]]
    assert len(queries) == statements
