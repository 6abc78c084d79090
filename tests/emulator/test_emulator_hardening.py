"""Hostile requests to the emulator get the 4xx Cloudflare gives, never a 500: SVG sizes, deep JSON and metadata,
paging arguments, continuation tokens, variant sizes, JSON constants Python accepts and JSON does not."""

from __future__ import annotations

import json

import httpx
import pytest
from emulator_helpers import API, fails, ok, schema_errors, upload

SVG = '<svg xmlns="http://www.w3.org/2000/svg" {size}><rect width="10" height="10"/></svg>'


@pytest.mark.parametrize(
    "size",
    [
        'width="1e999" height="10"',
        'width="10" height="1e400px"',
        'viewBox="0 0 1e999 1e999"',
        'viewBox="0 0 inf 10"',
        'viewBox="0 0 1e308 1e-308" height="10"',  # the ratio overflows
        'viewBox="-1e999 0 10 10"',
    ],
)
def test_an_svg_with_an_infinite_size_is_refused_with_400(cf_http: httpx.Client, size: str) -> None:
    response = upload(cf_http, SVG.format(size=size).encode(), filename="logo.svg")
    assert "The SVG was refused" in fails(response, 400, 5400)
    assert ok(cf_http.get(f"{API}/v2"))["images"] == []


def test_an_svg_with_a_large_but_finite_size_is_stored(cf_http: httpx.Client) -> None:
    image = ok(upload(cf_http, SVG.format(size='width="20000" height="10mm"').encode(), filename="big.svg"))
    assert image["filename"] == "big.svg"


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [33, 1_000, 20_000])
def test_deeply_nested_metadata_json_is_a_400(cf_http: httpx.Client, depth: int) -> None:
    response = upload(cf_http, None, url="http://127.0.0.1/x.jpg", metadata=_nested(depth))
    assert "nests more than 32 levels" in fails(response, 400, 5400)


def test_metadata_nested_100k_deep_is_refused_as_too_large(cf_http: httpx.Client) -> None:
    response = upload(cf_http, None, url="http://127.0.0.1/x.jpg", metadata=_nested(100_000))
    message = fails(response, 413, 5413)  # a form field of 700 kB: refused before its JSON is read
    assert "A text field of the form is larger than" in message and "10 MB" not in message


@pytest.mark.parametrize("depth", [33, 100_000])
def test_a_deeply_nested_json_body_is_a_400(cf_http: httpx.Client, depth: int) -> None:
    body = '{"metadata":' + _nested(depth) + "}"
    response = cf_http.post(f"{API}/v2/direct_upload", content=body, headers={"Content-Type": "application/json"})
    assert "nests more than 32 levels" in fails(response, 400, 5400)
    variant = '{"id":"deep","options":' + _nested(depth) + "}"
    response = cf_http.post(f"{API}/v1/variants", content=variant, headers={"Content-Type": "application/json"})
    assert "nests more than 32 levels" in fails(response, 400, 5400)


def test_a_flattened_metadata_key_thousands_of_levels_deep_is_a_400(cf_http: httpx.Client) -> None:
    key = "metadata" + ".a" * 5_000
    response = upload(cf_http, None, url="http://127.0.0.1/x.jpg", **{key: "1"})
    assert "nests more than 32 levels" in fails(response, 400, 5400)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_json_constants_that_are_not_json_are_refused(cf_http: httpx.Client, constant: str) -> None:
    text = f'{{"score": {constant}}}'
    assert "not valid JSON" in fails(upload(cf_http, None, url="http://127.0.0.1/x.jpg", metadata=text), 400, 5400)
    response = cf_http.post(
        f"{API}/v2/direct_upload", content=f'{{"metadata": {text}}}', headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in fails(response, 400, 5400)


@pytest.mark.parametrize("page", ["1e300", "1e3", "inf", "NaN", "١", "-1", "1.5", "9" * 5000, "10000000000"])
def test_unusable_page_arguments_are_400(cf_http: httpx.Client, page: str) -> None:
    response = cf_http.get(f"{API}/v1", params={"page": page})
    assert response.status_code == 400, response.text
    assert not schema_errors("/accounts/{account_id}/images/v1", "get", response)
    assert cf_http.get(f"{API}/v2", params={"per_page": page}).status_code == 400


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "////////////////////////",
        "é" * 22,
        "__________________________w",  # decodes to positions beyond SQLite's 64-bit integers
        "AAAAAAAAAAAAAAAAAAAAAA==",  # padded: not the form this API writes
        "A" * 5000,
    ],
)
def test_garbage_continuation_tokens_are_400(cf_http: httpx.Client, token: str) -> None:
    response = cf_http.get(f"{API}/v2", params={"continuation_token": token})
    assert "is not a token this API returned" in fails(response, 400, 5400)


def test_a_real_continuation_token_still_pages(cf_http: httpx.Client) -> None:
    from imagegen import jpeg

    for index in range(11):
        ok(upload(cf_http, jpeg(64 + index, 48, "noise"), filename=f"{index}.jpg"))
    first = ok(cf_http.get(f"{API}/v2", params={"per_page": 10}))
    second = ok(cf_http.get(f"{API}/v2", params={"per_page": 10, "continuation_token": first["continuation_token"]}))
    assert len(first["images"]) == 10 and len(second["images"]) == 1


@pytest.mark.parametrize("width", [1e300, 10**30, "NaN", "Infinity", 1_000_000_000, 0, 2.5])
def test_unusable_variant_sizes_are_400(cf_http: httpx.Client, width: object) -> None:
    options = f'{{"fit":"cover","width":{width},"height":10,"metadata":"none"}}'
    response = cf_http.post(
        f"{API}/v1/variants",
        content=f'{{"id":"big","options":{options}}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert fails(response, 400, 5400)
    assert "big" not in json.dumps(ok(cf_http.get(f"{API}/v1/variants")))


def test_the_largest_variant_size_a_url_can_say_is_accepted(cf_http: httpx.Client) -> None:
    body = {"id": "huge", "options": {"fit": "cover", "width": 999_999_999, "height": 1, "metadata": "none"}}
    assert ok(cf_http.post(f"{API}/v1/variants", json=body))["variant"]["options"]["width"] == 999_999_999


# -- one decoded master per large original, shared by concurrent renders -----------------------------------------


def test_concurrent_renders_of_a_large_image_share_one_master_and_match_serial_renders() -> None:
    from concurrent.futures import ThreadPoolExecutor

    import imagegen

    from cfvariants import Options
    from cfvariants.emulator import render
    from cfvariants.emulator._delivery import _masters
    from cfvariants.imaging import inspect_image

    data = imagegen.encode(imagegen.photo(2400, 1800, seed=3).quantize(256), "PNG")  # 4.3 MP: over LARGE_AREA
    info, stored = inspect_image(data)
    variants = ["w=200", "w=320,rotate=90", "w=240,flip=h,brightness=1.2", "w=300,h=300,fit=cover", "trim=10;20;30;40"]

    def one(text: str) -> bytes:
        return render(stored, info, Options.parse(text), output_format="png").body

    _masters.clear_masters()
    with ThreadPoolExecutor(len(variants)) as pool:
        together = list(pool.map(one, variants))
    assert len(_masters._MASTERS._ready) == 1  # one decode for all five renders, kept for the next request
    alone = []
    for text in variants:
        _masters.clear_masters()
        alone.append(one(text))
    assert together == alone  # sharing the pixels changed none of them
    assert len({imagegen.decode(body).size for body in together}) == 5
