"""``cfvariants url``, ``parse`` and ``sign``: URLs from the command line, served by the emulator."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import imagegen
import pytest
from cli_helpers import CLI, invoke

from cfvariants import ENV_NAMES
from cfvariants._signing import signature_problem
from cfvariants.client import ImagesClient

HASH = "ZWd9g1K7eljCn_KDTu_MWA"
KEY = "example-signing-key-123"
ID = "083eb7b2-5392-4565-b69e-aff66acddd00"


@pytest.fixture(autouse=True)
def empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./.env of the repository


def env(**values: str) -> dict[str, str | None]:
    """Exactly these CF_* settings (by field name), every other one unset."""
    return {name: values.get(field) for field, name in ENV_NAMES.items()}


def test_url_of_a_named_and_a_flexible_variant() -> None:
    named = invoke(["url", ID, "avatar"], env=env(account_hash=HASH))
    flexible = invoke(["url", ID, "fit=cover,width=200"], env=env(account_hash=HASH))
    default = invoke(["url", "users/7/me.jpg"], env=env(account_hash=HASH, domain="images.example.com"))

    assert named.stdout == f"https://imagedelivery.net/{HASH}/{ID}/avatar\n"
    assert flexible.stdout == f"https://imagedelivery.net/{HASH}/{ID}/w=200,fit=cover\n"  # canonical order
    assert default.stdout == f"https://images.example.com/cdn-cgi/imagedelivery/{HASH}/users/7/me.jpg/public\n"


def test_url_swaps_the_variant_of_a_delivery_url_without_settings() -> None:
    result = invoke(["url", f"https://imagedelivery.net/{HASH}/{ID}/public", "w=640"], env=env())

    assert result.exit_code == 0, result.output
    assert result.stdout == f"https://imagedelivery.net/{HASH}/{ID}/w=640\n"


def test_signed_url_verifies_and_expires_when_asked() -> None:
    before = int(time.time())
    result = invoke(
        ["url", ID, "avatar", "--sign", "--expires-in", "15m", "--json"], env=env(account_hash=HASH, signing_key=KEY)
    )
    after = int(time.time())

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert before + 900 <= body["exp"] <= after + 900
    assert body["url"].startswith(f"https://imagedelivery.net/{HASH}/{ID}/avatar?exp={body['exp']}&sig=")
    assert signature_problem(body["url"], KEY) is None
    assert (body["signed"], body["flexible"], body["variant"]) == (True, False, "avatar")


@pytest.mark.parametrize(
    ("args", "values", "message"),
    [
        (["url", ID, "avatar"], {}, "CF_IMG_HASH is not set"),
        (["url", ID, "avatar", "--sign"], {"account_hash": HASH}, "no signing key"),
        (["url", ID, "w=200", "--sign"], {"account_hash": HASH, "signing_key": KEY}, "cannot be signed"),
        (["url", ID, "w=abc"], {"account_hash": HASH}, "\"w=abc\": width must be a positive integer or 'auto'"),
        (["url", ID, "bad-name"], {"account_hash": HASH}, "variant 'bad-name' is neither a named variant"),
        (["url", ID, "avatar", "--expires-in", "soon"], {"account_hash": HASH}, "'soon' is not a duration"),
        (["url", ID, "avatar", "--expires-at", "2030-01-01T00:00:00"], {"account_hash": HASH}, "has no time zone"),
    ],
)
def test_url_problems_are_one_line_and_exit_2(args: list[str], values: dict[str, str], message: str) -> None:
    result = invoke(args, env=env(**values))

    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_the_emulator_serves_a_private_image_through_a_signed_url_from_the_cli(
    cli: CLI, cf_client: ImagesClient, cf_http: httpx.Client
) -> None:
    image = cf_client.upload(imagegen.jpeg(60, 40), filename="me.jpg", require_signed_urls=True)

    plain = cli("url", image.id, "public")
    signed = cli("url", image.id, "public", "--sign", "--expires-in", "600")

    assert cf_http.get(plain.stdout.strip()).status_code == 403
    response = cf_http.get(signed.stdout.strip())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")
    resigned = cli("sign", plain.stdout.strip())
    assert cf_http.get(resigned.stdout.strip()).status_code == 200


def test_parse_names_every_part() -> None:
    url = f"https://images.example.com/cdn-cgi/imagedelivery/{HASH}/users/7/me%20too.jpg/fit=cover,w=200"

    text = invoke(["parse", url], env=env())
    body = json.loads(invoke(["parse", url, "--json"], env=env()).stdout)

    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines() == [
        f"account hash  {HASH}",
        "image id      users/7/me too.jpg",
        "options       w=200,fit=cover",
        "form          custom domain https://images.example.com",
        "signed        no",
    ]
    assert body["image_id"] == "users/7/me too.jpg"
    assert (body["variant"], body["options"], body["options_fields"]) == (
        None,
        "w=200,fit=cover",
        {"width": 200, "fit": "cover"},
    )
    assert (body["form"], body["domain"], body["signed"], body["exp"]) == ("domain", "images.example.com", False, None)


def test_parse_verify_checks_the_signature() -> None:
    signed = invoke(["url", ID, "avatar", "--sign"], env=env(account_hash=HASH, signing_key=KEY)).stdout.strip()
    tampered = signed.replace("/avatar?", "/hero?")
    expired = invoke(["sign", signed, "--expires-at", "1000000000"], env=env(signing_key=KEY)).stdout.strip()

    good = invoke(["parse", signed, "--verify"], env=env(signing_key=KEY))
    bad = invoke(["parse", tampered, "--verify", "--json"], env=env(signing_key=KEY))
    old = invoke(["parse", expired, "--verify"], env=env(signing_key=KEY))

    assert good.exit_code == 0
    assert "signature     valid" in good.stdout
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["signature_problem"] == "the signature does not match"
    assert old.exit_code == 1
    assert "expires       2001-09-09T01:46:40Z (exp=1000000000) (expired)" in old.stdout
    assert "signature     INVALID: the signature has expired" in old.stdout


def test_parse_refuses_what_is_not_a_delivery_url() -> None:
    result = invoke(["parse", "https://example.com/cat.jpg"], env=env())

    assert result.exit_code == 2
    assert "is not a Cloudflare Images delivery URL" in result.stderr


def test_sign_replaces_an_old_signature_and_keeps_other_parameters() -> None:
    url = f"https://imagedelivery.net/{HASH}/{ID}/avatar?v=3&exp=1&sig=00"

    result = invoke(["sign", url, "--expires-at", "2030-01-01T00:00:00Z"], env=env(signing_key=KEY))

    assert result.exit_code == 0, result.output
    signed = result.stdout.strip()
    assert signed.startswith(f"https://imagedelivery.net/{HASH}/{ID}/avatar?v=3&exp=1893456000&sig=")
    assert signature_problem(signed, KEY, now=1_800_000_000) is None


def test_sign_refuses_flexible_options_and_warns_about_another_account() -> None:
    flexible = invoke(["sign", f"https://imagedelivery.net/{HASH}/{ID}/w=200"], env=env(signing_key=KEY))
    other = invoke(
        ["sign", f"https://imagedelivery.net/{HASH}/{ID}/avatar"], env=env(signing_key=KEY, account_hash="other")
    )

    assert flexible.exit_code == 2
    assert "flexible options 'w=200' cannot be signed" in flexible.stderr
    assert other.exit_code == 0
    assert "Warning: the URL's account hash 'ZWd9g1K7eljCn_KDTu_MWA' is not CF_IMG_HASH ('other')" in other.stderr


def test_the_signing_key_never_shows(tmp_path: Path) -> None:
    secret = "s3cr3t-signing-key-value"
    (tmp_path / "settings.env").write_text(f"CF_IMG_SIGNING_KEY={secret}\nCF_IMG_HASH={HASH}\n")

    outputs = [
        invoke(["url", ID, "avatar", "--sign", "--env-file", "settings.env", "--json"], env=env()),
        invoke(["url", ID, "w=1", "--sign", "--env-file", "settings.env"], env=env()),
        invoke(["parse", "https://nowhere", "--verify", "--env-file", "settings.env"], env=env()),
    ]

    assert outputs[0].exit_code == 0
    assert signature_problem(json.loads(outputs[0].stdout)["url"], secret) is None  # the file was read
    for result in outputs:
        assert secret not in result.output


def test_url_builds_image_transformations_urls_for_images_outside_cloudflare_images() -> None:
    path = invoke(["url", "--zone", "example.com", "/media/cat.jpg", "w=200"], env=env())
    remote = invoke(["url", "https://uploads.example.net/cat.jpg", "fit=cover,w=200"], env=env(zone="example.com"))
    swapped = invoke(
        ["url", "https://example.com/cdn-cgi/image/w=200/media/cat.jpg", "w=640,f=auto", "--json"], env=env()
    )

    assert path.exit_code == 0, path.output
    assert path.stdout == "https://example.com/cdn-cgi/image/w=200/media/cat.jpg\n"
    assert remote.stdout == "https://example.com/cdn-cgi/image/w=200,fit=cover/https://uploads.example.net/cat.jpg\n"
    assert json.loads(swapped.stdout) == {
        "url": "https://example.com/cdn-cgi/image/w=640,f=auto/media/cat.jpg",
        "zone": "example.com",
        "source": "/media/cat.jpg",
        "options": "w=640,f=auto",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["url", "/media/cat.jpg", "w=200"], "give --zone (or CF_IMG_ZONE)"),
        (["url", "--zone", "example.com", "/media/cat.jpg", "avatar"], "Image Transformations have none"),
        (["url", "--zone", "example.com", "/media/cat.jpg"], "needs at least one"),
        (["url", "--zone", "example.com", "/media/cat.jpg", "w=2", "--sign"], "cannot be signed"),
        (["url", "--zone", "example.com", "/media/../x.jpg", "w=2"], "'..' segment"),
    ],
)
def test_url_of_a_transformation_refuses_what_cloudflare_would(args: list[str], message: str) -> None:
    result = invoke(args, env=env(account_hash=HASH))
    assert result.exit_code != 0
    assert message in result.output


def test_parse_takes_a_transformation_url_apart() -> None:
    text = invoke(["parse", "https://example.com/cdn-cgi/image/width=200,format=auto/media/cat.jpg"], env=env())
    data = invoke(["parse", "--json", "/cdn-cgi/image/w=10,onerror=redirect/https://cdn.example.net/a.png"], env=env())

    assert text.exit_code == 0, text.output
    assert "Image Transformations on https://example.com" in text.stdout
    assert (
        "options       w=200,f=auto" in text.stdout and "source        /media/cat.jpg (path on the zone)" in text.stdout
    )
    body = json.loads(data.stdout)
    assert body["form"] == "transformation" and body["zone"] == "/"
    assert body["options"] == "w=10,onerror=redirect" and body["source"] == "https://cdn.example.net/a.png"
    assert body["source_is_url"] is True
