"""Delivery as a value (equality, hashing, pickling, its prefix) and the edges of its arguments: what a signed URL's
lifetime may be around the fast paths' bounds, and what a bad cache size or signing key is told."""

from __future__ import annotations

import pickle
import time

import pytest
from pydantic import SecretStr

from cfvariants import ArgumentError, Delivery, PrivateImage, SigningError, SigningKey, verify
from cfvariants._signing import expiry
from cfvariants._urls import MAX_EXP

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"
TOO_LATE = f"the expiry is after year 9999 (exp at most {MAX_EXP}); give a shorter lifetime"


def test_deliveries_are_equal_when_they_build_the_same_urls_with_the_same_key() -> None:
    keys: list[str | bytes | SecretStr | SigningKey] = ["k", SigningKey("k"), b"k", SecretStr("k")]
    same = [Delivery(HASH, signing_key=key, cache_size=size) for key in keys for size in (8192, 0)]
    for delivery in same:
        assert delivery == same[0] and hash(delivery) == hash(same[0])
        assert pickle.loads(pickle.dumps(delivery)) == delivery
    others = [Delivery(HASH), Delivery(HASH, signing_key="other"), Delivery("OtherHash", signing_key="k")]
    others += [Delivery(HASH, signing_key="k", domain=domain) for domain in ("img.example.com", "/")]
    for other in others:
        assert other != same[0] and same[0] != other
    assert len({*same, *others}) == 1 + len(others)
    assert {same[0]: "found"}[same[-1]] == "found"
    assert Delivery(HASH) != HASH and (Delivery(HASH) == HASH) is False


@pytest.mark.parametrize(
    ("domain", "prefix"),
    [
        (None, f"https://imagedelivery.net/{HASH}/"),
        ("img.example.com", f"https://img.example.com/cdn-cgi/imagedelivery/{HASH}/"),
        ("http://127.0.0.1:5000", f"http://127.0.0.1:5000/cdn-cgi/imagedelivery/{HASH}/"),
        ("/", f"/cdn-cgi/imagedelivery/{HASH}/"),
    ],
)
def test_the_prefix_is_what_every_url_starts_with(domain: str | None, prefix: str) -> None:
    cf = Delivery(HASH, domain=domain, signing_key="k")
    assert cf.prefix == prefix
    assert cf.url(ID) == f"{prefix}{ID}/public" and cf.url(ID, width=5) == f"{prefix}{ID}/w=5"
    assert cf.signed_url(ID, "thumb", expires_at=2_000_000_000).startswith(f"{prefix}{ID}/thumb?exp=2000000000&sig=")


@pytest.mark.parametrize(
    ("size", "kind"), [(1.5, "float"), (-1, "int"), (True, "bool"), ("8", "str"), (None, "NoneType")]
)
def test_a_bad_cache_size_is_refused_naming_its_type(size: object, kind: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        Delivery(HASH, cache_size=size)  # type: ignore[arg-type]
    assert str(caught.value) == f"cache_size must be a non-negative integer, not {kind}"


@pytest.mark.parametrize("key", ["", SecretStr(""), b""])
def test_an_empty_signing_key_is_refused(key: object) -> None:
    with pytest.raises(SigningError) as caught:
        Delivery(HASH, signing_key=key)  # type: ignore[arg-type]
    assert str(caught.value) == "the signing key is empty"


@pytest.mark.parametrize(
    ("lifetime", "message"),
    [
        ({"expires_in": 0}, "expires_in must be a positive number of seconds, not 0"),
        ({"expires_in": -1}, "expires_in must be a positive number of seconds, not -1"),
        ({"expires_in": True}, "expires_in must be a positive number of seconds, not True"),
        ({"expires_at": 0}, "expires_at must be a datetime or unix seconds, not 0"),
        ({"expires_at": -1}, "expires_at must be a datetime or unix seconds, not -1"),
        ({"expires_at": True}, "expires_at must be a datetime or unix seconds, not True"),
        ({"expires_at": MAX_EXP + 1}, TOO_LATE),
        ({"expires_in": MAX_EXP}, TOO_LATE),
        ({}, "give exactly one of expires_in (seconds or timedelta) and expires_at (datetime or unix)"),
        ({"expires_in": 5, "expires_at": 5}, "give exactly one of expires_in (seconds or timedelta) and expires_at "
         "(datetime or unix)"),
    ],
)  # fmt: skip
def test_a_lifetime_out_of_bounds_is_refused_before_and_after_a_good_signature(
    lifetime: dict[str, object], message: str
) -> None:
    cf = Delivery(HASH, signing_key="k")
    for _ in range(2):
        with pytest.raises(SigningError) as caught:
            cf.signed_url(ID, "thumb", **lifetime)  # type: ignore[arg-type]
        assert str(caught.value) == message
        cf.signed_url(ID, "thumb", expires_in=60)


@pytest.mark.parametrize("exp", [1, MAX_EXP, 2_000_000_000])
def test_the_bounds_of_an_absolute_expiry_sign(exp: int) -> None:
    cf = Delivery(HASH, signing_key="k")
    url = cf.signed_url(ID, "thumb", expires_at=exp)
    assert f"?exp={exp}&sig=" in url and url == cf.signed_url(ID, "thumb", expires_at=float(exp))
    assert verify(url, "k", now=exp - 1) and not verify(url, "k", now=exp + 1)


@pytest.mark.parametrize("lifetime", [1, 10**10 - 1, 10**10, 10**10 + 1, 10**11])
def test_long_integer_lifetimes_sign_what_expiry_gives(monkeypatch: pytest.MonkeyPatch, lifetime: int) -> None:
    """Around the bound where a lifetime leaves the fast path for expiry(): the same exp either way."""
    monkeypatch.setattr(time, "time", lambda: 1_767_225_600.25)
    url = Delivery(HASH, signing_key="k").signed_url(ID, "thumb", expires_in=lifetime)
    assert f"?exp={expiry(expires_in=lifetime, now=1_767_225_600.25)}&sig=" in url
    assert f"?exp={1_767_225_600 + lifetime}&sig=" in url


class Markup(str):
    """A str subclass, as template engines hand ids on (markupsafe's Markup, Django's SafeString)."""

    __slots__ = ()


@pytest.mark.parametrize(
    ("image", "domain"),
    [(PrivateImage(ID), None), (Markup(ID), None), (Markup("users/7/a b.png"), "img.example.com"),
     (PrivateImage(f"https://imagedelivery.net/{HASH}/{ID}/public"), None), (Markup(ID), "/")],
)  # fmt: skip
def test_an_id_of_a_str_subclass_signs_like_the_plain_text(image: str, domain: str | None) -> None:
    """A private image (PrivateImage, what the Django storage and the API client hand on) or an id a template
    engine marked safe is a str subclass: its signed URL is the one of the same text."""
    cf = Delivery(HASH, signing_key="k", domain=domain)
    for _ in range(2):
        expected = cf.signed_url(str(image), "thumb", expires_at=2_000_000_000)
        assert cf.signed_url(image, "thumb", expires_at=2_000_000_000) == expected
        assert verify(expected, "k", now=1_999_999_999)
        assert cf.signed_url(image, expires_in=60) == cf.signed_url(str(image), expires_in=60)


def test_signing_without_a_key_says_where_the_key_comes_from() -> None:
    for image in (ID, Markup(ID)):
        with pytest.raises(SigningError) as caught:
            Delivery(HASH).signed_url(image, expires_in=60)
        assert str(caught.value) == (
            "no signing key: pass Delivery(..., signing_key=...) or set CF_IMG_SIGNING_KEY (the key is listed under "
            "Images > Keys, or by the API's /images/v1/keys)"
        )


@pytest.mark.parametrize("image", [ID, Markup(ID)])
def test_flexible_options_are_refused_for_signing_saying_what_to_do_instead(image: str) -> None:
    with pytest.raises(SigningError) as caught:
        Delivery(HASH, signing_key="k").signed_url(image, "fit=cover,w=100", expires_in=60)
    assert str(caught.value) == (
        "flexible options 'w=100,fit=cover' cannot be signed: Cloudflare serves private images only through named "
        "variants (define one, e.g. 'avatar', and sign that)"
    )
