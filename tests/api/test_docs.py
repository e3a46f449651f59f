"""The API docs pages (Swagger UI, ReDoc) request nothing from other hosts.

An intranet catalog has no way out, and a reader's browser shouldn't tell a CDN or Google
Fonts who reads our docs: the pages and what they load come from our own /static/.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import drf_spectacular
import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

pytestmark = pytest.mark.django_db

PAGES = ["/api/docs/", "/api/redoc/"]
HOST = "testserver"

#: Where a page names something the browser fetches.
REFERENCES = [
    re.compile(r"""\b(?:src|href|srcset|poster|action)\s*=\s*["']?([^"'\s>]+)""", re.I),
    re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""", re.I),
    re.compile(r"""\burl\(\s*["']?([^"')\s]+)""", re.I),
]


def references(text: str, patterns=REFERENCES) -> list[str]:
    return [found for pattern in patterns for found in pattern.findall(text)]


def foreign(url: str) -> bool:
    """Whether fetching `url` from one of our pages would go to another host."""
    if url.startswith("data:") or url.startswith("#"):
        return False
    parts = urlsplit(url)
    return bool(parts.netloc) and parts.netloc != HOST  # "//cdn..." has a netloc too


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_checks_catch_what_would_reach_other_hosts():
    html = """<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>
        <script src="//cdn.example.net/redoc.js"></script>
        <style>@import "https://fonts.example.org/a.css"; b { background: url(http://x.io/i.png) }
        </style><img src="/static/ok.png"><a href="http://testserver/api/">"""
    assert [url for url in references(html) if foreign(url)] == [
        "https://fonts.gstatic.com",
        "//cdn.example.net/redoc.js",
        "https://fonts.example.org/a.css",
        "http://x.io/i.png",
    ]
    # drf-spectacular's own ReDoc page links Google Fonts: ours overrides it.
    stock = Path(drf_spectacular.__file__).parent / "templates/drf_spectacular/redoc.html"
    assert any("fonts.googleapis.com" in url for url in references(stock.read_text()))


@pytest.mark.parametrize("url", PAGES)
def test_a_docs_page_names_no_other_host(client, url):
    html = page(client, url)

    assert [ref for ref in references(html) if foreign(ref)] == []
    hosts = {urlsplit(found).netloc for found in re.findall(r"https?://[^\s\"'<>)]+", html)}
    assert hosts <= {HOST}
    assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html


@pytest.mark.parametrize(
    ("url", "assets"),
    [
        (
            "/api/docs/",
            [
                "swagger-ui-dist/swagger-ui.css",
                "swagger-ui-dist/swagger-ui-bundle.js",
                "swagger-ui-dist/swagger-ui-standalone-preset.js",
                "swagger-ui-dist/favicon-32x32.png",
            ],
        ),
        (
            "/api/redoc/",
            [
                "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
                # Ours: the site's icon, and what keeps ReDoc from fetching its logo.
                "catalog/icon.svg",
                "catalog/redoc-local.js",
            ],
        ),
    ],
)
def test_a_docs_page_loads_its_code_from_our_static_files(client, url, assets):
    html = page(client, url)
    loaded = references(html, REFERENCES[:1])  # src= and href=

    wanted = [
        a
        if a.startswith(("catalog/", "drf_spectacular_sidecar/"))
        else f"drf_spectacular_sidecar/{a}"
        for a in assets
    ]
    assert sorted(loaded) == sorted(static(a) for a in wanted)
    assert "/api/schema/" in html  # and the schema from this host
    for ref in loaded:
        path = ref.removeprefix(static(""))
        found = finders.find(path)
        assert found, f"{ref} is not among the static files"
        if path.endswith(".css"):
            with open(found, encoding="utf-8") as css:
                assert [u for u in references(css.read()) if not u.startswith("data:")] == []


def test_redoc_is_kept_from_fetching_its_logo_from_another_host(client):
    """ReDoc draws its footer's logo from cdn.redoc.ly (no setting turns it off): our script,
    loaded before ReDoc, gives images of other hosts no source, and the page's policy makes
    the browser refuse any it missed. tests/e2e/test_pages_first_run.py runs it for real."""
    bundle = finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    with open(bundle, encoding="utf-8") as code:
        assert "https://cdn.redoc.ly/redoc/logo-mini.svg" in code.read()
    html = page(client, "/api/redoc/")
    guard, redoc = static("catalog/redoc-local.js"), static("drf_spectacular_sidecar/")
    assert html.index(guard) < html.index(redoc)
    assert "img-src 'self' data: blob:" in html
