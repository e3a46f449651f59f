"""The header's links: the pages each role may open, and nothing they may not."""

import re

import pytest

WORKSPACE = ["Violations", "Event log", "Integrations"]


def _nav(client) -> list[str]:
    html = client.get("/events/").content.decode()
    nav = re.search(r'<nav class="site-nav" aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r'<a href="[^"]+">([^<]+)</a>', nav)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin_web", "editor_web"])
def test_editors_and_admins_reach_the_workspace_pages_from_the_header(role, request):
    client = request.getfixturevalue(role)
    links = _nav(client)
    assert links[:5] == ["Events", "Collections", *WORKSPACE]
    for path in ("/violations/", "/event-log/", "/integrations/", "/collections/"):
        assert client.get(path).status_code == 200, path


@pytest.mark.django_db
def test_viewers_get_no_link_to_pages_they_may_not_open(viewer_web):
    links = _nav(viewer_web)
    assert "Collections" in links
    assert not set(WORKSPACE) & set(links)
    for path in ("/violations/", "/event-log/", "/integrations/"):
        assert viewer_web.get(path).status_code == 403, path
