"""``cfvariants list`` and ``cfvariants delete`` against the emulator."""

from __future__ import annotations

import json

import imagegen
import pytest
from cli_helpers import CLI

from cfvariants.client import ImagesClient
from cfvariants.emulator import Emulator


def test_list_prints_a_table_newest_first(cli: CLI, cf_client: ImagesClient) -> None:
    ids = [cf_client.upload(imagegen.png(8, 8), id=f"pics/{n}.png").id for n in ("a", "b")]
    private = cf_client.upload(imagegen.png(9, 9), filename="secret.png", require_signed_urls=True).id

    result = cli("list")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "UPLOADED", "SIGNED", "FILENAME"]
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == [private, *reversed(ids)]
    assert rows[0][2:] == ["yes", "secret.png"]
    assert rows[1][2] == "no"
    assert result.stderr == "3 images\n"


def test_list_json_follows_pages_to_the_end(cli: CLI, cf_client: ImagesClient) -> None:
    ids = {cf_client.upload(imagegen.png(4, 4), id=f"many/{n:02d}").id for n in range(23)}

    everything = json.loads(cli("list", "--per-page", "10", "--json").stdout)
    first = json.loads(cli("list", "--per-page", "10", "--limit", "12", "--json", "--sort", "asc").stdout)

    assert [image["id"] for image in everything] == sorted(ids, reverse=True)
    assert [image["id"] for image in first] == sorted(ids)[:12]
    assert set(everything[0]) >= {"id", "filename", "meta", "requireSignedURLs", "uploaded", "variants"}


def test_list_filters_on_creator_and_metadata(cli: CLI, cf_client: ImagesClient) -> None:
    cf_client.upload(imagegen.png(4, 4), id="one", metadata={"owner": 7, "stars": 5}, creator="u7")
    cf_client.upload(imagegen.png(4, 4), id="two", metadata={"owner": 7, "stars": 2})
    cf_client.upload(imagegen.png(4, 4), id="three", metadata={"owner": "7", "stars": 4, "tag": "cat"})

    def listed(*args: str) -> list[str]:
        result = cli("list", "--json", *args)
        assert result.exit_code == 0, result.output
        return sorted(image["id"] for image in json.loads(result.stdout))

    assert listed("--meta", "owner=7") == ["one", "two"]  # a number
    assert listed("--meta", 'owner="7"') == ["three"]  # a string
    assert listed("--meta", "stars>=4") == ["one", "three"]
    assert listed("--meta", "owner=7", "--meta", "stars<3") == ["two"]
    assert listed("--meta", 'tag=["cat","dog"]') == ["three"]
    assert listed("--creator", "u7") == ["one"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--meta", "owner"], "'owner' is not key=value"),
        (["--meta", "stars>=many"], "[gte] compares numbers only"),
        (["--per-page", "5"], "5 is not in the range 10<=x<=10000"),
    ],
)
def test_list_refuses_bad_arguments(cli: CLI, args: list[str], message: str) -> None:
    result = cli("list", *args)

    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_an_empty_account_lists_nothing(cli: CLI) -> None:
    assert cli("list").stderr == "0 images\n"
    assert json.loads(cli("list", "--json").stdout) == []


def test_delete_asks_first(cli: CLI, cf_client: ImagesClient, cf_emulator: Emulator) -> None:
    image = cf_client.upload(imagegen.png(4, 4), id="keep/me.png").id

    declined = cli("delete", image, input="n\n")
    assert declined.exit_code == 1
    assert "Delete image (keep/me.png)? This cannot be undone. [y/N]" in declined.stderr
    assert [r.id for r in cf_emulator.list_images()] == [image]

    accepted = cli("delete", image, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout == "deleted keep/me.png\n"
    assert cf_emulator.list_images() == []


def test_delete_tries_every_image_and_fails_if_any_failed(
    cli: CLI, cf_client: ImagesClient, cf_emulator: Emulator
) -> None:
    first = cf_client.upload(imagegen.png(4, 4)).id
    second = cf_client.upload(imagegen.png(5, 5))
    url = second.url("w=100")  # a delivery URL names its image too

    result = cli("delete", first, "missing/one", url, "--yes")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"deleted {first}", f"deleted {second.id}"]
    assert "failed  missing/one: no such image" in result.stderr
    assert "2 deleted, 1 failed" in result.stderr
    assert cf_emulator.list_images() == []


def test_delete_reads_ids_from_stdin_only_with_yes(cli: CLI, cf_client: ImagesClient, cf_emulator: Emulator) -> None:
    ids = [cf_client.upload(imagegen.png(4, 4), id=f"batch/{n}").id for n in range(3)]

    refused = cli("delete", "-", input="\n".join(ids))
    assert refused.exit_code == 2
    assert "needs --yes" in refused.stderr

    result = cli("delete", "-", "--yes", "--json", input="\n".join(ids) + "\n\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"deleted": ids, "failed": []}
    assert cf_emulator.list_images() == []
