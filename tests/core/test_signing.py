"""Signed URLs: byte-exact with the documented procedure, and verification."""

from __future__ import annotations

import hashlib
import hmac
import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import SecretStr

from cfvariants import Delivery, SigningError, SigningKey, sign_url, verify
from cfvariants._signing import expiry, signature_problem

# The worked example of Cloudflare's signing procedure (computed independently with Python's hmac and Node's
# WebCrypto): this key, hash and image id with exp=1767225600 give SIG.
KEY = "example-signing-key-123"
HASH = "ZWd9g1K7eljCn_KDTu_MWA"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"
URL = f"https://imagedelivery.net/{HASH}/{ID}/public"
EXP = 1767225600
SIG = "9839f33f953686b8acbd856ba3326d29d4e25809ee4ea8e3533c286d686660a5"
SIGNED = f"{URL}?exp={EXP}&sig={SIG}"


def independent(message: str, key: str = KEY) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_worked_example_from_the_reference() -> None:
    assert sign_url(URL, KEY, exp=EXP) == SIGNED
    assert Delivery(HASH, signing_key=KEY).signed_url(ID, "public", expires_at=EXP) == SIGNED


def test_expires_at_as_datetime() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert Delivery(HASH, signing_key=KEY).signed_url(ID, "public", expires_at=at) == SIGNED
    other_zone = datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert sign_url(URL, KEY, exp=other_zone) == SIGNED


def test_expires_in_is_relative_to_now() -> None:
    cf = Delivery(HASH, signing_key=KEY)
    url = cf.signed_url(ID, "avatar", expires_in=600)
    exp = int(url.split("exp=")[1].split("&")[0])
    now = datetime.now(UTC).timestamp()
    assert now + 595 <= exp <= now + 601
    assert verify(url, KEY)
    url2 = cf.signed_url(ID, "avatar", expires_in=timedelta(minutes=10))
    assert verify(url2, KEY)


@pytest.mark.parametrize(
    ("image_id", "variant"),
    [
        ("users/7/avatar.png", "thumb"),
        ("my photo é.jpg", "public"),
        ("100%/a^b", "hero2"),
        ("x?y#z", "public"),
    ],
)
def test_signature_matches_an_independent_hmac_of_the_encoded_path(image_id: str, variant: str) -> None:
    cf = Delivery(HASH, signing_key=KEY)
    url = cf.signed_url(image_id, variant, expires_at=EXP)
    path = cf.url(image_id, variant).removeprefix("https://imagedelivery.net")
    assert url == f"https://imagedelivery.net{path}?exp={EXP}&sig={independent(f'{path}?exp={EXP}')}"
    assert url == sign_url(cf.url(image_id, variant), KEY, exp=EXP)


def test_custom_domain_signs_the_full_pathname() -> None:
    # The documented procedure applied literally: the message is the pathname, prefix included (which path the
    # edge checks on custom domains is not confirmed by Cloudflare's docs).
    cf = Delivery(HASH, signing_key=KEY, domain="img.example.com")
    url = cf.signed_url(ID, "public", expires_at=EXP)
    message = f"/cdn-cgi/imagedelivery/{HASH}/{ID}/public?exp={EXP}"
    assert url == f"https://img.example.com{message}&sig={independent(message)}"


def test_signing_a_stored_url_drops_its_old_signature() -> None:
    cf = Delivery(HASH, signing_key=KEY)
    assert cf.signed_url(f"{URL}?exp=1&sig=dead", "public", expires_at=EXP) == SIGNED
    assert cf.signed_url(f"https://imagedelivery.net/{HASH}/{ID}/thumb", "public", expires_at=EXP) == SIGNED


def test_sign_url_replaces_exp_in_place_and_keeps_other_parameters() -> None:
    url = f"{URL}?a=1&exp=5&b=x+y&exp=6"
    signed = sign_url(url, KEY, exp=EXP)
    message = f"/{HASH}/{ID}/public?a=1&exp={EXP}&b=x+y"
    assert signed == f"https://imagedelivery.net{message}&sig={independent(message)}"


def test_sign_url_serialises_the_query_like_urlsearchparams() -> None:
    signed = sign_url(f"{URL}?q=a b~*&r=%7e", KEY, exp=EXP)
    message = f"/{HASH}/{ID}/public?q=a+b%7E*&r=%7E&exp={EXP}"
    assert signed == f"https://imagedelivery.net{message}&sig={independent(message)}"


def test_resigning_replaces_sig_and_keeps_it_last() -> None:
    once = sign_url(URL, KEY, exp=EXP)
    assert sign_url(once, KEY, exp=EXP) == once
    later = sign_url(once, KEY, exp=EXP + 60)
    assert later.count("sig=") == 1 and later.endswith(independent(f"/{HASH}/{ID}/public?exp={EXP + 60}"))


def test_sign_url_normalises_the_path_like_a_browser() -> None:
    raw = f"https://imagedelivery.net/{HASH}/a b/./c/../é/public"
    message = f"/{HASH}/a%20b/%C3%A9/public?exp={EXP}"
    assert sign_url(raw, KEY, exp=EXP) == f"https://imagedelivery.net{message}&sig={independent(message)}"


@pytest.mark.parametrize(
    ("path", "pathname"),
    [
        ("/h/w=200,h=100,fit=cover", "/h/w=200,h=100,fit=cover"),
        ("/h/a=;:@!$&'()*+~|", "/h/a=;:@!$&'()*+~|"),
        ("/h/sp ace", "/h/sp%20ace"),
        ('/h/q"<>`{}', "/h/q%22%3C%3E%60%7B%7D"),
        ("/h/caret^", "/h/caret%5E"),
        ("/h/é", "/h/%C3%A9"),
        ("/h/%2f%25", "/h/%2f%25"),  # existing escapes kept, case included
        ("/h/%zz", "/h/%zz"),  # a bare % is left alone
        ("/h/a/%2e%2E/b", "/h/b"),
        ("/h/a/./b", "/h/a/b"),
        ("/h\\a\\b", "/h/a/b"),
        ("/h/a/..", "/h/"),
    ],
)
def test_whatwg_pathname_vectors(path: str, pathname: str) -> None:
    signed = sign_url(f"https://imagedelivery.net{path}", KEY, exp=EXP)
    assert signed.startswith(f"https://imagedelivery.net{pathname}?exp={EXP}&sig=")
    assert signed.endswith(independent(f"{pathname}?exp={EXP}"))


def test_verify_accepts_a_valid_unexpired_url() -> None:
    assert verify(SIGNED, KEY, now=EXP - 1)
    assert verify(SIGNED, SigningKey(KEY), now=EXP)
    assert signature_problem(SIGNED, KEY, now=EXP - 10) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (SIGNED, "expired"),
        (URL, "no exp and sig"),
        (f"{URL}?exp={EXP}", "no exp and sig"),
        (SIGNED.replace("/public", "/avatar"), "does not match"),
        (SIGNED.replace(str(EXP), str(EXP + 1)), "does not match"),
        (SIGNED[:-1] + ("0" if SIGNED[-1] != "0" else "1"), "does not match"),
        (f"{SIGNED}&sig={SIG}", "more than one"),
        (f"{URL}?exp=soon&sig={SIG}", "not a unix timestamp"),
        ("not a url", "not an absolute http(s) URL"),
        ("//evil.example/x/y/z?exp=1&sig=0", "not an absolute http(s) URL"),
    ],
)
def test_verify_rejects(url: str, problem: str) -> None:
    now = EXP + 1 if problem == "expired" else EXP - 100
    assert not verify(url, KEY, now=now)
    reason = signature_problem(url, KEY, now=now)
    assert reason is not None and problem in reason


def test_verify_with_the_wrong_key() -> None:
    assert not verify(SIGNED, "another-key", now=EXP - 1)


def test_keys_as_bytes_secretstr_and_long_keys_sign_like_hmac() -> None:
    assert sign_url(URL, KEY.encode(), exp=EXP) == SIGNED
    assert sign_url(URL, SecretStr(KEY), exp=EXP) == SIGNED
    long_key = "k" * 100  # longer than a SHA-256 block: HMAC hashes it first
    assert sign_url(URL, long_key, exp=EXP).endswith(independent(f"/{HASH}/{ID}/public?exp={EXP}", long_key))


def test_the_key_is_used_as_text_not_base64_decoded() -> None:
    key = "Oix0bbNaT8Rge9PuyxUBrjI6zrgnsyJ5="
    assert sign_url(URL, key, exp=EXP).endswith(independent(f"/{HASH}/{ID}/public?exp={EXP}", key))


def test_flexible_options_cannot_be_signed() -> None:
    cf = Delivery(HASH, signing_key=KEY)
    with pytest.raises(SigningError, match="flexible options 'w=200' cannot be signed"):
        cf.signed_url(ID, "w=200", expires_in=60)


def test_signing_without_a_key_is_a_clear_error() -> None:
    with pytest.raises(SigningError, match=r"no signing key.*CF_IMG_SIGNING_KEY"):
        Delivery(HASH).signed_url(ID, "avatar", expires_in=60)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of"),
        ({"expires_in": 5, "expires_at": EXP}, "exactly one of"),
        ({"expires_in": 0}, "positive number of seconds"),
        ({"expires_in": -5}, "positive number of seconds"),
        ({"expires_in": True}, "positive number of seconds"),
        ({"expires_in": "60"}, "positive number of seconds"),
        ({"expires_at": datetime(2026, 1, 1)}, "naive datetime"),
        ({"expires_at": "tomorrow"}, "datetime or unix seconds"),
    ],
)
def test_bad_expiry(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SigningError, match=message):
        Delivery(HASH, signing_key=KEY).signed_url(ID, "avatar", **kwargs)  # type: ignore[arg-type]


def test_expiry_helper_with_a_fixed_now() -> None:
    assert expiry(expires_in=60, now=1000.9) == 1060
    assert expiry(expires_in=timedelta(hours=1), now=0) == 3600
    assert expiry(expires_at=1767225600.7) == 1767225600


def test_empty_key_is_rejected() -> None:
    with pytest.raises(SigningError, match="empty"):
        Delivery(HASH, signing_key="")
    with pytest.raises(SigningError, match="empty"):
        SigningKey(b"")


def test_signing_key_hides_its_value_and_pickles() -> None:
    key = SigningKey(KEY)
    assert KEY not in repr(key) and KEY not in str(key)
    copy = pickle.loads(pickle.dumps(key))
    assert copy == key and copy.hexdigest("m") == key.hexdigest("m") == independent("m")
    assert SigningKey("other") != key


def test_repeated_signing_in_the_same_second_gives_the_same_url() -> None:
    cf = Delivery(HASH, signing_key=KEY)
    first = cf.signed_url(ID, "avatar", expires_at=EXP)
    assert cf.signed_url(ID, "avatar", expires_at=EXP) == first
    assert cf.signed_url(ID, "avatar", expires_at=EXP + 1) != first
    assert cf.signed_url(ID, "avatar", expires_at=EXP) == first


def test_root_relative_urls_sign_and_verify_like_the_same_path_on_any_origin() -> None:
    relative = Delivery(HASH, signing_key=KEY, domain="/").signed_url(ID, "public", expires_at=EXP)
    absolute = Delivery(HASH, signing_key=KEY, domain="img.example.com").signed_url(ID, "public", expires_at=EXP)
    assert absolute == "https://img.example.com" + relative
    assert verify(relative, KEY, now=EXP - 1)
    assert sign_url(relative.split("?")[0], KEY, exp=EXP) == relative


# -- hostile exp, sig and lifetimes give a SigningError or a False, never another exception ------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"expires_in": float("nan")},
        {"expires_in": float("inf")},
        {"expires_in": -float("inf")},
        {"expires_in": 1e300},
        {"expires_in": 10**5000},
        {"expires_in": timedelta.max},
        {"expires_at": float("nan")},
        {"expires_at": float("inf")},
        {"expires_at": 10**5000},
    ],
)
def test_unusable_lifetimes_raise_signing_error(kwargs: dict[str, object]) -> None:
    cf = Delivery(HASH, signing_key=KEY)
    with pytest.raises(SigningError, match=r"expires_|after year 9999"):
        cf.signed_url(ID, "public", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(SigningError):
        expiry(**kwargs)  # type: ignore[arg-type]


def test_the_latest_expiry_signs_and_verifies() -> None:
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    signed = sign_url(URL, KEY, exp=last)
    assert signed.startswith(f"{URL}?exp=253402300799&sig=") and verify(signed, KEY)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("exp=2000000000&sig=é" + "0" * 63, "sig is not a signature"),
        ("exp=2000000000&sig=" + "g" * 64, "sig is not a signature"),
        ("exp=" + "1" * 5000 + f"&sig={SIG}", "exp is not a unix timestamp"),
        ("exp=٢٠٠٠٠٠٠٠٠٠&sig=" + SIG, "exp is not a unix timestamp"),
        ("exp=999999999999&sig=" + SIG, "exp is not a unix timestamp"),  # after year 9999
    ],
)
def test_malformed_exp_and_sig_are_reported_not_raised(query: str, problem: str) -> None:
    url = f"{URL}?{query}"
    assert (signature_problem(url, KEY) or "").startswith(problem)
    assert verify(url, KEY) is False
