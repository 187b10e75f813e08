"""Per-device MQTT credentials bound to client ids, and the topic ACL, as files Mosquitto reads.

Every vehicle logs in with its iotCode as user name and a password derived
from the gateway key (`device_password`), so the gateway, the simulator and
an operator provisioning real boxes all compute the same one and no password
list needs to be kept. A vehicle's credentials are good only with its own
client id, `c80-{iotCode}`: MQTT lets a new connection take over the session
of a client id in use, so a device free to choose its id could knock the
gateway (`segway-gateway-{id}`, learnt from `replyTo`) or another vehicle off
the broker. Mosquitto binds a user to a client id with its dynamic security
plugin (2.0 and later), so the generated config loads that plugin with a
generated `dynamic-security.json`: every vehicle a client bound to its client
id with a role of its own (publish only under `segway/v1/{its iotCode}/`, read
only its commands and acknowledgements), the gateway's user unbound (its
instances log in under distinct client ids) with a role over the whole tree. Passwords are stored as
PBKDF2-SHA512 hashes, the plugin's format.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from segway_gateway.contract.device import DEVICE_PUBLISHES, DEVICE_READS, TOPIC_ROOT, Topic

GATEWAY_USER = "segway-gateway"
HASH_ITERATIONS = 101
"""What `mosquitto_passwd` uses; the passwords are 128-bit random-equivalent, not words."""
SALT_BYTES = 12
"""The salt length the plugin requires (Mosquitto's SALT_LEN); it skips a client with another."""
GATEWAY_ROLE = "segway-gateway"

PLUGIN_FILE = "mosquitto_dynamic_security.so"
PLUGIN_DIRS = (
    "/usr/lib/x86_64-linux-gnu",  # Debian, Ubuntu
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib/arm-linux-gnueabihf",
    "/usr/lib",  # Alpine (and the eclipse-mosquitto image), Arch
    "/usr/lib64",  # Fedora, RHEL
    "/usr/local/lib",  # built from source, Homebrew on Intel
    "/opt/homebrew/lib",  # Homebrew on Apple silicon
)
"""Where packages install the dynamic security plugin, searched in this order."""

CONF_FILE, SECURITY_FILE, README_FILE = "mosquitto.conf", "dynamic-security.json", "README"


def vehicle_client_id(iot_code: str) -> str:
    """The only MQTT client id a vehicle's credentials are good for."""
    return f"c80-{iot_code}"


def device_password(key: bytes, iot_code: str) -> str:
    """The MQTT password of one vehicle."""
    return _derive(key, f"mqtt-device:{iot_code}")


def gateway_password(key: bytes) -> str:
    """The MQTT password of the gateway's own user."""
    return _derive(key, f"mqtt-gateway:{GATEWAY_USER}")


def _derive(key: bytes, purpose: str) -> str:
    digest = hmac.new(key, purpose.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


class PluginNotFound(Exception):
    """The dynamic security plugin is in none of the usual places."""


def find_plugin(explicit: Path | None = None) -> Path:
    """The dynamic security plugin: `explicit` if given (it must exist), else the first
    of `PLUGIN_DIRS` that holds it."""
    if explicit is not None:
        if not explicit.is_file():
            raise PluginNotFound(f"{explicit} is not a file")
        return explicit.resolve()
    for directory in PLUGIN_DIRS:
        candidate = Path(directory) / PLUGIN_FILE
        if candidate.is_file():
            return candidate
    raise PluginNotFound(
        f"{PLUGIN_FILE} (Mosquitto 2.0 or later) is not in {', '.join(PLUGIN_DIRS)}"
    )


def _acl(kind: str, topic: str) -> dict[str, Any]:
    return {"acltype": kind, "topic": topic, "allow": True}


def vehicle_acls(iot_code: str) -> list[dict[str, Any]]:
    """A vehicle publishes its reports and replies, and reads its commands and
    acknowledgements only."""
    own = f"{TOPIC_ROOT}/{iot_code}"
    reads = [f"{own}/{kind.value}" for kind in DEVICE_READS]
    return [
        *(_acl("publishClientSend", f"{own}/{kind.value}") for kind in DEVICE_PUBLISHES),
        _acl("publishClientSend", f"{own}/{Topic.REPLY.value}/+"),
        *(_acl("subscribeLiteral", read) for read in reads),
        *(_acl("publishClientReceive", read) for read in reads),
    ]


def gateway_acls() -> list[dict[str, Any]]:
    """The gateway reads and writes the whole tree, also through `$share/GROUP/…`."""
    tree = f"{TOPIC_ROOT}/#"
    return [
        _acl("publishClientSend", tree),
        _acl("publishClientReceive", tree),
        _acl("subscribePattern", tree),
        _acl("subscribePattern", f"$share/+/{tree}"),
    ]


def client_entry(
    username: str, password: str, role: str, client_id: str | None, salt: bytes | None = None
) -> dict[str, Any]:
    """One client of the plugin's file: its password as PBKDF2-SHA512, its role, and the
    client id it must connect with (None: any)."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, HASH_ITERATIONS)
    entry: dict[str, Any] = {
        "username": username,
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": HASH_ITERATIONS,
        "roles": [{"rolename": role}],
    }
    if client_id is not None:
        entry["clientid"] = client_id
    return entry


def dynamic_security(key: bytes, iot_codes: Iterable[str]) -> dict[str, Any]:
    """The dynamic security plugin's configuration: the gateway's user and these vehicles.

    Nothing is allowed by default, and no role may use the plugin's `$CONTROL` API, so
    the file can change only by rewriting it (and restarting the broker)."""
    clients = [client_entry(GATEWAY_USER, gateway_password(key), GATEWAY_ROLE, None)]
    roles = [{"rolename": GATEWAY_ROLE, "acls": gateway_acls()}]
    for code in iot_codes:
        role = f"vehicle-{code}"
        password = device_password(key, code)
        clients.append(client_entry(code, password, role, vehicle_client_id(code)))
        roles.append({"rolename": role, "acls": vehicle_acls(code)})
    return {
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": clients,
        "groups": [],
        "roles": roles,
    }


def mosquitto_conf(port: int, plugin: Path, security_file: Path) -> str:
    """The broker's config; an operator may append options (logging, TLS) to it."""
    return "\n".join(
        [
            "# Written by `segway-gateway mqtt broker-config`; rerun it after adding vehicles",
            "# and restart the broker (Mosquitto 2.0 does not reload the plugin's file on",
            "# SIGHUP). See README in this directory for EMQX and HiveMQ.",
            "per_listener_settings false",
            f"listener {port}",
            "allow_anonymous false",
            f"plugin {plugin}",
            f"plugin_opt_config_file {security_file}",
            "persistence false",
            "persistent_client_expiration 1h",
            "max_queued_messages 100000",
            "set_tcp_nodelay true",
            "",
        ]
    )


OTHER_BROKERS = """\
Device identity on other brokers
================================

The files here are for Mosquitto 2.0 or later with its dynamic security plugin
(mosquitto.conf loads it with dynamic-security.json). On another broker, make it
enforce the same two rules.

1. Identity, checked at CONNECT. A vehicle's credentials (user name = iotCode,
   password from `segway-gateway mqtt password IOTCODE`) are accepted only with
   the client id `c80-{iotCode}`; the gateway's user `segway-gateway` is accepted
   with any client id (each instance connects as `segway-gateway-{gateway id}`). A
   topic ACL alone is not enough: the broker must refuse the connection before it
   takes over the session that holds that client id, or a device can knock the
   gateway or another vehicle off the broker.
2. Topics. A vehicle may publish only segway/v1/{iotCode}/status, .../location,
   .../event, .../presence (also as its will) and .../reply/+, and subscribe only
   to segway/v1/{iotCode}/cmd and .../ack. The gateway's user may publish and subscribe to
   segway/v1/# and subscribe to $share/GROUP/segway/v1/... (GROUP: `serve
   --share-group`, by default segway-gateway).

The gateway also needs, of any broker: MQTT 5 shared subscriptions, and sessions
that outlive a connection (it connects with a session expiry of 15 minutes and a
Receive Maximum of 20,000, and acknowledges each QoS 1 message once it has stored
it), with a per-client queue of at least 100,000 QoS 1 messages (EMQX:
mqtt.max_mqueue_len; HiveMQ: max-queued-messages) so that a restarting instance's
share of the telemetry waits for it.

EMQX 5
- Identity: the built-in database authenticator looks a user up by user name or
  by client id (user_id_type), not by both, so it cannot bind them. The
  authenticators backed by MySQL, PostgreSQL, MongoDB, Redis or HTTP fill the
  placeholders ${username} and ${clientid} into their query, e.g. (MySQL):
    SELECT password_hash, salt FROM mqtt_user WHERE username = ${username}
      AND (clientid = ${clientid} OR clientid IS NULL) LIMIT 1
  with each vehicle's row holding clientid 'c80-' + its iotCode and the gateway's
  row clientid NULL. In EMQX Enterprise, a Client-Info authenticator (mechanism
  cinfo) first in the chain can refuse the mismatch itself, before any password
  authenticator:
    checks = [{
      is_match = ["str_neq(username, 'segway-gateway')",
                  "str_neq(clientid, concat(['c80-', username]))"]
      result = deny
    }]
- Topics (file authorizer, acl.conf; ${username} is replaced per client):
    {allow, {username, "segway-gateway"}, all, ["segway/v1/#"]}.
    {allow, all, publish, ["segway/v1/${username}/status",
        "segway/v1/${username}/location", "segway/v1/${username}/event",
        "segway/v1/${username}/presence", "segway/v1/${username}/reply/+"]}.
    {allow, all, subscribe, ["segway/v1/${username}/cmd",
        "segway/v1/${username}/ack"]}.
    {deny, all}.

HiveMQ
- Identity: the File RBAC extension checks user name and password only; its
  ${{clientid}} and ${{username}} substitutions apply to topic permissions, so
  it keeps rule 2 (segway/v1/${{username}}/status, ...) but cannot bind a client
  id. The Enterprise Security Extension's permissions take placeholders such as
  ${mqtt-clientid} likewise. For rule 1, a security
  extension's authenticator (HiveMQ extension SDK, SimpleAuthenticator) sees the
  CONNECT packet's client id and user name: it must refuse a client id other
  than "c80-" + user name for every user but segway-gateway.
"""
"""How to bind vehicles' client ids on EMQX and HiveMQ (README of the generated directory)."""


def write_broker_files(
    directory: Path, key: bytes, iot_codes: Iterable[str], port: int, plugin: Path | None = None
) -> Path:
    """Write `dynamic-security.json`, `mosquitto.conf` and a README for these vehicles;
    the config's path. `plugin`: the plugin's path as the broker will see it, written as
    given; by default the one `find_plugin` finds here (PluginNotFound)."""
    plugin = plugin or find_plugin()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    security, conf = directory / SECURITY_FILE, directory / CONF_FILE
    _write_private(security, json.dumps(dynamic_security(key, iot_codes), indent=1) + "\n")
    _write_private(conf, mosquitto_conf(port, plugin, security.resolve()))
    _write_private(directory / README_FILE, OTHER_BROKERS)
    return conf


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from its first byte on."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(text)
    path.chmod(0o600)  # an existing file keeps its mode through O_CREAT
