"""`partnerbot teams-package`: the zip an operator uploads to Teams, built by the real command
from the settings in its environment.

Why: the manifest used to be a template filled in by hand, with icons left to the operator; a
wrong app id or host, or a manifest Teams rejects, shows only at upload. Here the zip is opened
as Teams opens it: exactly three files at its root, icons of the sizes and colours Teams asks
for, values from the settings, and a manifest that passes Microsoft's own JSON schema for its
version (from the npm package `@microsoft/app-manifest`, which .ci/run installs into
.app-manifest/; without node or that folder the schema test is skipped, saying why).
"""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.spawn import clean_env, partnerbot_argv

APP_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
PUBLIC_URL = "https://partners.example.com/bot"
ROOT = Path(__file__).resolve().parents[2]
NPM_FOLDER = ROOT / ".app-manifest"  # git-ignored; .ci/run installs into it
SCHEMAS = NPM_FOLDER / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
INSTALL_COMMAND = ("npm install --no-audit --no-fund --prefix .app-manifest @microsoft/app-manifest@1.1.2 "
                   "ajv@8.20.0 ajv-draft-04@1.0.0 ajv-formats@3.0.1")


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = clean_env(**env)
    environment.pop("PUBLIC_URL", None)
    environment.update(env)
    return subprocess.run(partnerbot_argv("teams-package", *args), cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=60)


def build(tmp_path: Path, *args: str, **env: str) -> Path:
    settings = {"MICROSOFT_APP_ID": APP_ID, "PUBLIC_URL": PUBLIC_URL, **env}
    done = run(tmp_path, *args, **settings)
    assert done.returncode == 0, done.stderr
    return tmp_path / "partnerbot-teams.zip"


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def decode_png(data: bytes) -> tuple[int, int, list[list[tuple[int, ...]]]]:
    """Width, height and RGBA rows of an 8-bit RGB or RGBA PNG; every chunk's CRC is checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks, at = {}, 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length:at + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and colour in (2, 6) and interlace == 0
    channels = 4 if colour == 6 else 3
    raw, stride, rows, previous = zlib.decompress(chunks[b"IDAT"]), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            guess = left + up - corner
            paeth = min((abs(guess - left), left), (abs(guess - up), up), (abs(guess - corner), corner),
                        key=lambda pair: pair[0])[1]
            line[i] = (line[i] + (0, left, up, (left + up) // 2, paeth)[kind]) & 0xFF
        rows.append([tuple(line[x:x + channels]) + ((255,) if channels == 3 else ()) for x in range(0, stride, channels)])
        previous = line
    return width, height, rows


def test_the_package_holds_the_manifest_and_the_two_icons_made_from_the_settings(tmp_path):
    done = run(tmp_path, **{"MICROSOFT_APP_ID": APP_ID, "PUBLIC_URL": PUBLIC_URL})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote partnerbot-teams.zip: Teams app 'Partnerbot' for bot {APP_ID}, "
                                  "valid domain partners.example.com")
    files = read_zip(tmp_path / "partnerbot-teams.zip")
    assert sorted(files) == ["color.png", "manifest.json", "outline.png"]

    manifest = json.loads(files["manifest.json"])
    assert manifest["id"] == APP_ID and manifest["name"]["short"] == "Partnerbot"
    assert manifest["$schema"].endswith(f"/v{manifest['manifestVersion']}/MicrosoftTeams.schema.json")
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["validDomains"] == ["partners.example.com"]
    assert set(manifest["developer"].values()) >= {"https://partners.example.com/bot/"}
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False
    [commands] = bot["commandLists"]
    titles = [command["title"] for command in commands["commands"]]
    assert len(titles) <= 10 and {"help", "commit", "handoff", "list"} <= set(titles)

    width, height, rows = decode_png(files["color.png"])
    assert (width, height) == (192, 192)
    colours = {pixel for row in rows for pixel in row}
    assert all(alpha == 255 for *_, alpha in colours)  # full colour: no transparency
    assert {(0x2C, 0x4A, 0x7A, 255), (255, 255, 255, 255)} <= colours  # the accent and the white mark

    width, height, rows = decode_png(files["outline.png"])
    assert (width, height) == (32, 32)
    pixels = [pixel for row in rows for pixel in row]
    # Teams' rule for the outline: white on transparent, nothing half-transparent
    assert all(pixel == (255, 255, 255, 255) or pixel[3] == 0 for pixel in pixels)
    assert 50 < sum(pixel[3] == 255 for pixel in pixels) < 32 * 32 - 50  # a mark, not a blank


def test_the_name_output_and_developer_pages_follow_the_options(tmp_path):
    done = run(tmp_path, "--out", "contoso.zip", "--name", "Contoso partners",
               "--privacy-url", "https://contoso.example/privacy", "--terms-url", "https://contoso.example/terms",
               MICROSOFT_APP_ID=APP_ID, PUBLIC_URL="https://bot.contoso.example")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote contoso.zip: Teams app 'Contoso partners'")
    manifest = json.loads(read_zip(tmp_path / "contoso.zip")["manifest.json"])
    assert manifest["name"]["short"] == "Contoso partners"
    assert manifest["developer"]["privacyUrl"] == "https://contoso.example/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://contoso.example/terms"
    assert manifest["developer"]["websiteUrl"] == "https://bot.contoso.example/"
    assert manifest["validDomains"] == ["bot.contoso.example"]
    assert not (tmp_path / "partnerbot-teams.zip").exists()


def test_the_same_settings_build_the_same_package(tmp_path):
    first = build(tmp_path).read_bytes()
    assert build(tmp_path).read_bytes() == first


@pytest.mark.parametrize(("settings", "args", "says"), [
    ({"PUBLIC_URL": PUBLIC_URL}, (), "MICROSOFT_APP_ID is not set: the package needs the app id of your Azure Bot"),
    ({"MICROSOFT_APP_ID": "my-bot", "PUBLIC_URL": PUBLIC_URL}, (), "MICROSOFT_APP_ID must be the Azure Bot's app id"),
    ({"MICROSOFT_APP_ID": APP_ID}, (), "PUBLIC_URL must be an https address Teams can reach, like "
                                       "https://partnerbot.example.com; got 'http://localhost:3978'"),
    ({"MICROSOFT_APP_ID": APP_ID, "PUBLIC_URL": "http://partners.example.com"}, (), "PUBLIC_URL must be an https"),
    ({"MICROSOFT_APP_ID": APP_ID, "PUBLIC_URL": PUBLIC_URL}, ("--privacy-url", "http://x.example/p"),
     "--privacy-url must be an https address"),
    ({"MICROSOFT_APP_ID": APP_ID, "PUBLIC_URL": PUBLIC_URL}, ("--name", "P" * 31),
     "the app name must be 1 to 30 printable characters"),
    ({"MICROSOFT_APP_ID": APP_ID, "PUBLIC_URL": PUBLIC_URL}, ("--out", "missing/partnerbot-teams.zip"),
     "cannot write missing/partnerbot-teams.zip: the folder missing does not exist"),
], ids=["no app id", "app id not a guid", "no public url", "http public url", "http privacy url",
        "name too long", "no such folder"])
def test_a_package_that_cannot_be_right_is_refused_in_one_line_and_nothing_is_written(tmp_path, settings, args, says):
    done = run(tmp_path, *args, **settings)
    assert done.returncode == 2
    assert done.stderr.startswith(f"partnerbot teams-package: {says}")
    assert done.stderr.count("\n") == 1 and done.stdout == ""
    assert list(tmp_path.iterdir()) == []


# Microsoft's validation, as @microsoft/app-manifest's own AppManifestUtils.validateAgainstSchema
# does it (Ajv for draft-04 with these formats and options), on the schema file it ships. Its
# module cannot be loaded itself: it requires fs-extra, which it does not depend on.
VALIDATE_JS = r"""
const [schemaPath, manifestPath] = process.argv.slice(1);
const fs = require("fs");
const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
const Ajv = schema.$schema.includes("2020-12") ? require("ajv/dist/2020").default : require("ajv-draft-04").default;
const ajv = new Ajv({allErrors: true, strictTypes: false});
require("ajv-formats").default(ajv, ["uri", "email", "regex"]);
const validate = ajv.compile(schema);
if (validate(JSON.parse(fs.readFileSync(manifestPath, "utf8")))) { console.log("valid"); process.exit(0); }
for (const e of validate.errors) console.log(`${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
process.exit(1);
"""


def schema_unavailable() -> str | None:
    if shutil.which("node") is None:
        return "node not found: the Teams manifest schema test is skipped (install Node.js and run .ci/run's npm line)"
    if not (NPM_FOLDER / "node_modules" / "ajv-draft-04").is_dir() or not SCHEMAS.is_dir():
        return f"@microsoft/app-manifest not installed: the Teams manifest schema test is skipped; run `{INSTALL_COMMAND}`"
    return None


def validate(manifest: dict, tmp_path: Path) -> tuple[bool, str]:
    schema = SCHEMAS / f"v{manifest.get('manifestVersion')}" / "MicrosoftTeams.schema.json"
    assert schema.is_file(), f"@microsoft/app-manifest ships no schema for manifest version {manifest.get('manifestVersion')}"
    path = tmp_path / "checked.json"
    path.write_text(json.dumps(manifest))
    done = subprocess.run(["node", "-e", VALIDATE_JS, str(schema), str(path)], cwd=NPM_FOLDER,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(schema_unavailable() is not None, reason=schema_unavailable() or "")
def test_the_manifest_is_valid_against_microsofts_schema_for_its_version(tmp_path):
    files = read_zip(build(tmp_path, "--name", "Contoso partners"))
    manifest = json.loads(files["manifest.json"])
    valid, errors = validate(manifest, tmp_path)
    assert valid, errors

    # the check is a real one: a manifest without a required field, or with a bot id Teams
    # would refuse, fails it
    without_developer = {key: value for key, value in manifest.items() if key != "developer"}
    valid, errors = validate(without_developer, tmp_path)
    assert not valid and "developer" in errors
    bad_bot = {**manifest, "bots": [{**manifest["bots"][0], "botId": "not-a-guid"}]}
    valid, errors = validate(bad_bot, tmp_path)
    assert not valid and "/bots/0/botId" in errors
