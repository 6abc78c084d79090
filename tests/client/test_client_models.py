"""Result models: tolerant of fields Cloudflare adds, Pythonic names over the API's, secrets kept secret, and
image URLs built by the core ``Delivery`` (the client's, or one learnt from the image's own URLs)."""

from __future__ import annotations

import pickle

import pytest
from client_helpers import HASH, SIGNING_KEY, UID, fixture

from cfvariants import Delivery, SettingsError, SigningError, sign_url
from cfvariants.client import AccountSigningKey, BatchToken, DirectUpload, Image, Stats, Variant


def image(name: str = "image") -> Image:
    return Image.model_validate(fixture(name)["result"])


def test_unknown_fields_are_kept_not_rejected() -> None:
    data = {**fixture("image")["result"], "thumbhash": "1QcSHQRnh493V4dIh4eXh1h4kJUI", "requireSignedURLs": True}
    parsed = Image.model_validate(data)
    assert parsed.require_signed_urls is True
    assert parsed.model_extra == {"thumbhash": "1QcSHQRnh493V4dIh4eXh1h4kJUI"}
    assert Variant.model_validate({"id": "x", "options": {"fit": "squeeze", "blur": 3}}).options.fit == "squeeze"


def test_api_names_round_trip() -> None:
    parsed = image()
    assert parsed.model_dump(by_alias=True, include={"id", "require_signed_urls"}) == {
        "id": UID,
        "requireSignedURLs": False,
    }
    assert Image(id="a", require_signed_urls=True).require_signed_urls is True
    assert DirectUpload.model_validate({"id": "x", "uploadURL": "https://u/x"}).upload_url == "https://u/x"


def test_image_urls_go_through_the_clients_delivery() -> None:
    delivery = Delivery(HASH, signing_key=SIGNING_KEY, domain="images.example.com")
    private = Image.model_validate(fixture("image_private")["result"]).with_delivery(delivery)
    assert private.url("w=200") == delivery.url(private.id, "w=200")
    assert (
        private.url(width=320, fit="cover")
        == f"https://images.example.com/cdn-cgi/imagedelivery/{HASH}/{private.id}/w=320,fit=cover"
    )
    signed = private.signed_url("thumb", expires_at=1767225600)
    assert signed == sign_url(delivery.url(private.id, "thumb"), SIGNING_KEY, exp=1767225600)
    assert private.srcset(widths=(320, 640)).count("w=") == 2


def test_without_a_client_delivery_the_image_learns_it_from_its_own_urls() -> None:
    plain = image()
    assert plain.url("w=200") == f"https://imagedelivery.net/{HASH}/{UID}/w=200"
    assert image("image_custom_id").url("avatar") == f"https://imagedelivery.net/{HASH}/users/7/avatar.png/avatar"
    local = Image(id="a1", variants=[f"http://127.0.0.1:5000/cdn-cgi/imagedelivery/{HASH}/a1/public"])
    assert local.url("thumb") == f"http://127.0.0.1:5000/cdn-cgi/imagedelivery/{HASH}/a1/thumb"
    with pytest.raises(SigningError, match="no signing key"):
        plain.signed_url("thumb", expires_in=60)


def test_an_image_with_no_urls_and_no_delivery_says_what_to_configure() -> None:
    with pytest.raises(SettingsError, match="CF_IMG_HASH"):
        Image(id="draft-id").url()


def test_secrets_in_models_stay_secret() -> None:
    keys = [AccountSigningKey.model_validate(key) for key in fixture("keys")["result"]["keys"]]
    token = BatchToken.model_validate(fixture("batch_token")["result"])
    for model in (*keys, token):
        shown = repr(model) + str(model) + model.model_dump_json()
        assert "Oix0bbNaT8Rge9PuyxUBrjI6zrgnsyJ5=" not in shown
        assert "bt-0f3c9e7a" not in shown
    key = keys[0].signing_key()
    assert Delivery(HASH, signing_key=key).signed_url(UID, "thumb", expires_at=1767225600) == sign_url(
        f"https://imagedelivery.net/{HASH}/{UID}/thumb", "Oix0bbNaT8Rge9PuyxUBrjI6zrgnsyJ5=", exp=1767225600
    )


def test_images_pickle_with_their_delivery() -> None:
    delivery = Delivery(HASH, signing_key=SIGNING_KEY)
    restored = pickle.loads(pickle.dumps(image().with_delivery(delivery)))
    assert restored.model_dump() == image().model_dump()
    assert restored.delivery == delivery


def test_stats_shortcuts() -> None:
    stats = Stats.model_validate(fixture("stats")["result"])
    assert (stats.current, stats.allowed) == (1000, 100000)
