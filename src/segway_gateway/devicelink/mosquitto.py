"""Per-device MQTT credentials and the topic ACL, as files a Mosquitto broker reads.

Every vehicle logs in with its iotCode as user name and a password derived
from the gateway key (`device_password`), so the gateway, the simulator and
an operator provisioning real boxes all compute the same one and no password
list needs to be kept. The broker stores only PBKDF2-SHA512 hashes of them
(Mosquitto's `$7$` format, the one `mosquitto_passwd` writes). The ACL lets a
vehicle publish only under `segway/v1/{its iotCode}/` and read only its
commands; the gateway's own user reads and writes the whole tree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from segway_gateway.contract.device import DEVICE_PUBLISHES, TOPIC_ROOT, Topic

GATEWAY_USER = "segway-gateway"
HASH_ITERATIONS = 101
"""What `mosquitto_passwd` uses; the passwords are 128-bit random-equivalent, not words."""


def device_password(key: bytes, iot_code: str) -> str:
    """The MQTT password of one vehicle."""
    return _derive(key, f"mqtt-device:{iot_code}")


def gateway_password(key: bytes) -> str:
    """The MQTT password of the gateway's own user."""
    return _derive(key, f"mqtt-gateway:{GATEWAY_USER}")


def _derive(key: bytes, purpose: str) -> str:
    digest = hmac.new(key, purpose.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def password_line(user: str, password: str, salt: bytes | None = None) -> str:
    """One line of a Mosquitto password file (`$7$`: PBKDF2-HMAC-SHA512)."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, HASH_ITERATIONS)
    encoded = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"{user}:$7${HASH_ITERATIONS}${encoded[0]}${encoded[1]}"


def acl() -> str:
    """The topic ACL: vehicles (user name = iotCode) under their own topics only."""
    return "\n".join(
        [
            f"user {GATEWAY_USER}",
            f"topic readwrite {TOPIC_ROOT}/#",
            "",
            "# every other user is a vehicle whose user name is its iotCode",
            *(f"pattern write {TOPIC_ROOT}/%u/{kind.value}" for kind in DEVICE_PUBLISHES),
            f"pattern write {TOPIC_ROOT}/%u/{Topic.REPLY.value}/+",
            f"pattern read {TOPIC_ROOT}/%u/{Topic.CMD.value}",
            "",
        ]
    )


def write_broker_files(directory: Path, key: bytes, iot_codes: Iterable[str], port: int) -> Path:
    """Write `passwd`, `acl` and `mosquitto.conf` for these vehicles; the config's path."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    lines = [password_line(GATEWAY_USER, gateway_password(key))]
    lines += [password_line(code, device_password(key, code)) for code in iot_codes]
    passwd, acl_file, conf = directory / "passwd", directory / "acl", directory / "mosquitto.conf"
    _write_private(passwd, "\n".join(lines) + "\n")
    _write_private(acl_file, acl())
    _write_private(
        conf,
        "\n".join(
            [
                "per_listener_settings false",
                f"listener {port}",
                "allow_anonymous false",
                f"password_file {passwd.resolve()}",
                f"acl_file {acl_file.resolve()}",
                "persistence false",
                "persistent_client_expiration 1h",
                "max_queued_messages 100000",
                "set_tcp_nodelay true",
                "",
            ]
        ),
    )
    return conf


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from its first byte on."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(text)
    path.chmod(0o600)  # an existing file keeps its mode through O_CREAT
