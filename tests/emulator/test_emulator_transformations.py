"""The emulator's Image Transformations route (``/cdn-cgi/image/<options>/<source>``): real renders of local
files under configured roots, allowed origins only, and nothing read outside them."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import imagegen
import pytest

from cfvariants import Transformations
from cfvariants.emulator import TransformationServer, create_app

PHOTO = imagegen.photo_jpeg(400_000, seed=3)  # a 400 KB camera-like JPEG


@pytest.fixture
def media(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    (root / "avatars").mkdir(parents=True)
    (root / "avatars" / "cat.jpg").write_bytes(PHOTO)
    (root / "avatars" / "my cat é.jpg").write_bytes(PHOTO)
    (root / "notes.txt").write_text("not an image")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "private.jpg").write_bytes(imagegen.photo_jpeg(120_000, seed=9))
    return root


@pytest.fixture
def server(media: Path) -> TransformationServer:
    return TransformationServer({"/media/": media})


def client(server: TransformationServer) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=server), base_url="http://testserver")


def test_a_local_file_is_rendered_at_the_width_asked_for(server: TransformationServer) -> None:
    url = Transformations("/").url("/media/avatars/cat.jpg", "w=200")
    answer = client(server).get(url)

    assert answer.status_code == 200, answer.text
    image = imagegen.decode(answer.content)
    assert image.width == 200
    assert image.height == round(200 * imagegen.decode(PHOTO).height / imagegen.decode(PHOTO).width)
    assert answer.headers["content-type"] == "image/jpeg"  # no format: a standard format, never negotiated
    assert "vary" not in answer.headers


def test_format_auto_negotiates_and_varies_on_accept(server: TransformationServer) -> None:
    url = Transformations("/", defaults={"format": "auto"}).url("/media/avatars/cat.jpg", "w=120,h=120,fit=cover")
    answer = client(server).get(url, headers={"Accept": "image/webp,*/*"})

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/webp" and answer.headers["vary"] == "Accept"
    assert imagegen.decode(answer.content).size == (120, 120)


def test_encoded_names_etag_head_and_304(server: TransformationServer) -> None:
    http = client(server)
    url = Transformations("/").url("/media/avatars/my cat é.jpg", "w=64")
    first = http.get(url)
    assert first.status_code == 200 and imagegen.decode(first.content).width == 64
    assert http.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    head = http.head(url)
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/cdn-cgi/image/w=200/media/../secret/private.jpg",
        "/cdn-cgi/image/w=200/media/%2e%2e/secret/private.jpg",
        "/cdn-cgi/image/w=200/media/%2E%2E/secret/private.jpg",
        "/cdn-cgi/image/w=200/media/avatars/..%2f..%2fsecret/private.jpg",
        "/cdn-cgi/image/w=200/media/..%5csecret%5cprivate.jpg",
        "/cdn-cgi/image/w=200/media//secret/private.jpg",
        "/cdn-cgi/image/w=200/secret/private.jpg",
        "/cdn-cgi/image/w=200/media/avatars/cat.jpg%00.png",
    ],
)
def test_sources_outside_the_roots_are_refused_with_a_4xx(server: TransformationServer, path: str) -> None:
    answer = server.serve(path)

    assert 400 <= answer.status < 500
    assert answer.header("Content-Type") == "text/plain; charset=utf-8"
    assert not answer.body.startswith(b"\xff\xd8")  # no JPEG bytes: nothing outside the root was read


def test_traversal_through_the_wsgi_path_is_refused(server: TransformationServer) -> None:
    # A raw request line keeps the encoded form; WSGI decodes PATH_INFO first. Both must be refused.
    for path in (
        "/cdn-cgi/image/w=200/media/%2e%2e/secret/private.jpg",
        "/cdn-cgi/image/w=200/media/../secret/private.jpg",
    ):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/cdn-cgi/image/w=200/media/../secret/private.jpg",
            "RAW_URI": path,
        }
        answer = server.serve_environ(environ)
        assert answer.status == 400 and b"segment" in answer.body


def test_a_symlink_leading_out_of_the_root_is_refused(media: Path, server: TransformationServer) -> None:
    os.symlink(media.parent / "secret" / "private.jpg", media / "avatars" / "link.jpg")
    answer = server.serve("/cdn-cgi/image/w=200/media/avatars/link.jpg")

    assert answer.status == 400 and b"not a file inside its root" in answer.body


def test_missing_files_non_images_and_bad_options(server: TransformationServer) -> None:
    assert server.serve("/cdn-cgi/image/w=200/media/avatars/dog.jpg").status == 404
    not_image = server.serve("/cdn-cgi/image/w=200/media/notes.txt")
    assert not_image.status == 415 and not_image.header("Cf-Resized") == "err=9412"
    named = server.serve("/cdn-cgi/image/avatar/media/avatars/cat.jpg")
    assert named.status == 400 and b"no named variants" in named.body
    bad = server.serve("/cdn-cgi/image/w=abc/media/avatars/cat.jpg")
    assert bad.status == 400 and bad.header("Cf-Resized") == "err=9401" and b"width must be" in bad.body


def test_onerror_redirect_sends_the_browser_to_the_source(server: TransformationServer) -> None:
    answer = server.serve("/cdn-cgi/image/w=200,onerror=redirect/media/notes.txt")
    assert answer.status == 302 and answer.header("Location") == "/media/notes.txt"


def test_absolute_sources_only_from_allowed_origins_and_size_capped(media: Path) -> None:
    fetched: list[str] = []

    def origin(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        return httpx.Response(200, content=PHOTO, headers={"ETag": '"v1"'})

    transport = httpx.MockTransport(origin)
    closed = TransformationServer({"/media/": media}, transport=transport)
    refused = closed.serve("/cdn-cgi/image/w=100/https://cdn.example.net/cat.jpg")
    assert refused.status == 400 and b"not allowed" in refused.body and fetched == []

    opened = TransformationServer(allowed_origins=["https://cdn.example.net"], transport=transport)
    answer = opened.serve("/cdn-cgi/image/w=100/https://cdn.example.net/cat.jpg", query="v=2")
    assert answer.status == 200 and imagegen.decode(answer.body).width == 100
    assert fetched == ["https://cdn.example.net/cat.jpg?v=2"]
    assert opened.serve("/cdn-cgi/image/w=100/https://other.example.net/cat.jpg").status == 400
    assert opened.serve("/cdn-cgi/image/w=100/http://cdn.example.net/cat.jpg").status == 400  # another origin
    assert opened.serve("/cdn-cgi/image/w=100/https://u:p@cdn.example.net/cat.jpg").status == 400

    small = TransformationServer(
        allowed_origins=["https://cdn.example.net"], transport=transport, max_source_bytes=100_000
    )
    capped = small.serve("/cdn-cgi/image/w=100/https://cdn.example.net/cat.jpg")
    assert capped.status == 403 and capped.header("Cf-Resized") == "err=9413"


def test_origin_errors_are_502_and_redirects_are_not_followed() -> None:
    def origin(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/moved.jpg":
            return httpx.Response(302, headers={"Location": "http://127.0.0.1/secret.jpg"})
        return httpx.Response(404)

    server = TransformationServer(allowed_origins=["https://cdn.example.net"], transport=httpx.MockTransport(origin))
    assert server.serve("/cdn-cgi/image/w=1/https://cdn.example.net/moved.jpg").status == 502
    assert server.serve("/cdn-cgi/image/w=1/https://cdn.example.net/gone.jpg").status == 502


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        TransformationServer({"media/": "."})
    with pytest.raises(ValueError, match="scheme://host"):
        TransformationServer(allowed_origins=["file:///etc"])


def test_the_emulator_app_serves_its_transformation_roots(tmp_path: Path, media: Path) -> None:
    app = create_app(data_dir=tmp_path / "d", transformations=TransformationServer({"/media/": media}))
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as http:
        answer = http.get("/cdn-cgi/image/w=200,fit=scale-down/media/avatars/cat.jpg")
        index = http.get("/")

    assert answer.status_code == 200, answer.text
    assert imagegen.decode(answer.content).width == 200
    assert "/cdn-cgi/image/<options>/<source>" in index.text and f"/media/ -> {media}" in index.text


def test_without_roots_the_emulator_app_refuses_every_source_as_cloudflare_would(tmp_path: Path) -> None:
    app = create_app(data_dir=tmp_path / "d")
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as http:
        answer = http.get("/cdn-cgi/image/w=200/media/avatars/cat.jpg")

    assert answer.status_code == 400
    assert answer.headers["cf-resized"] == "err=9419" and "not under a configured root" in answer.text
