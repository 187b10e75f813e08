"""The device link as an AsyncAPI 3.0 document, built from the models of `device.py`.

It takes the vehicle's point of view: `send` is what a vehicle publishes,
`receive` what it subscribes to. `segway-gateway mqtt asyncapi` prints it;
docs/device-link.asyncapi.yaml is its output.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from segway_gateway.contract.device import (
    DEVICE_PUBLISHES,
    QOS,
    RETAINED,
    TOPIC_ROOT,
    Ack,
    Command,
    DeviceEvent,
    DeviceLocation,
    DeviceStatus,
    Presence,
    Reply,
    Topic,
    reply_topic,
    topic,
)

ASYNCAPI_VERSION = "3.0.0"
MQTT_BINDING_VERSION = "0.2.0"
REF = "#/components/schemas/{model}"
IOT_CODE = "iotCode"
GATEWAY_ID = "gatewayId"
SECURITY_SCHEME = "vehicle"


class Kind(NamedTuple):
    """How one kind of message travels."""

    model: type[BaseModel]
    description: str


KINDS: dict[Topic, Kind] = {
    Topic.STATUS: Kind(
        DeviceStatus,
        description="The vehicle's status and battery fields. Retained, so a gateway that "
        "subscribes later learns it at once; the next report supersedes a lost one.",
    ),
    Topic.LOCATION: Kind(
        DeviceLocation,
        description="A GPS fix, retained; the gateway keeps only `valid` ones.",
    ),
    Topic.EVENT: Kind(
        DeviceEvent,
        description="An alert or fault appearing or disappearing.",
    ),
    Topic.PRESENCE: Kind(
        Presence,
        description="Retained. `online: true` right after every connect; `online: false` "
        "before a clean disconnect and as the session's last will, so the broker publishes "
        "it when a session dies. An empty retained payload also means offline.",
    ),
    Topic.CMD: Kind(
        Command,
        description="A command from a gateway instance. Ignore it once `deadline` (epoch ms) "
        "has passed; otherwise answer it on the reply topic of `replyTo`. A lost command "
        "times out at the gateway (15302); it is never sent twice.",
    ),
    Topic.REPLY: Kind(
        Reply,
        description="The answer to one command, with its `opId`, on the topic of the "
        "gateway instance named by the command's `replyTo`.",
    ),
    Topic.ACK: Kind(
        Ack,
        description="The messages a gateway instance stored, by key: events as "
        "`kind/code/status/statusUtcTime`, status reports sent with `ack: true` as "
        "`status/{reportedAt}/locked` or `/unlocked`. Forget them. Until then keep each and "
        "send it again on "
        "every reconnect and every 30 s; the gateway stores and pushes it once.",
    ),
}
"""Every topic kind: its payload and what it means (QoS and retain: `QOS`, `RETAINED`)."""

_CORRELATED = (Topic.CMD, Topic.REPLY)
"""Kinds whose `opId` pairs a reply with its command."""


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 description of the MQTT device link."""
    _, defs = models_json_schema(
        [(kind.model, "validation") for kind in KINDS.values()], ref_template=REF
    )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "segway-gateway device link",
            "version": TOPIC_ROOT.rsplit("/", 1)[-1],
            "description": (
                "MQTT 3.1.1 between the vehicles and segway-gateway, JSON payloads, one topic "
                f"tree per vehicle under `{TOPIC_ROOT}/{{iotCode}}/`. Written from the "
                "vehicle's point of view: `send` is what a vehicle publishes, `receive` what "
                "it subscribes to. A vehicle may publish only under its own topics and read "
                "only its own `cmd` and `ack` (broker ACL). See docs/device-protocol.md."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:1883",
                "protocol": "mqtt",
                "protocolVersion": "3.1.1",
                "description": (
                    "A Mosquitto configured by `segway-gateway mqtt broker-config --out DIR` "
                    "and started with `mosquitto -c DIR/mosquitto.conf`."
                ),
                "security": [{"$ref": f"#/components/securitySchemes/{SECURITY_SCHEME}"}],
                "bindings": {
                    "mqtt": {
                        "lastWill": {
                            "topic": _address(Topic.PRESENCE),
                            "qos": QOS[Topic.PRESENCE],
                            "retain": Topic.PRESENCE in RETAINED,
                        },
                        "bindingVersion": MQTT_BINDING_VERSION,
                    }
                },
            }
        },
        "channels": {kind.value: _channel(kind) for kind in KINDS},
        "operations": _operations(),
        "components": {
            "messages": {kind.value: _message(kind) for kind in KINDS},
            "schemas": defs["$defs"],
            "parameters": {
                IOT_CODE: {"description": "The vehicle's iotCode (its MQTT user name)."},
                GATEWAY_ID: {
                    "description": "The gateway instance that sent the command "
                    "(the command's `replyTo`)."
                },
            },
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "userPassword",
                    "description": (
                        "User name: the vehicle's iotCode. Password: "
                        "`segway-gateway mqtt password IOTCODE` (derived from the gateway key)."
                    ),
                }
            },
        },
    }


def _address(kind: Topic) -> str:
    if kind is Topic.REPLY:
        return reply_topic(f"{{{IOT_CODE}}}", f"{{{GATEWAY_ID}}}")
    return topic(f"{{{IOT_CODE}}}", kind)


def _channel(kind: Topic) -> dict[str, Any]:
    parameters = [IOT_CODE, GATEWAY_ID] if kind is Topic.REPLY else [IOT_CODE]
    return {
        "address": _address(kind),
        "description": KINDS[kind].description,
        "messages": {kind.value: {"$ref": f"#/components/messages/{kind.value}"}},
        "parameters": {p: {"$ref": f"#/components/parameters/{p}"} for p in parameters},
    }


def _message(kind: Topic) -> dict[str, Any]:
    model = KINDS[kind].model
    message: dict[str, Any] = {
        "name": model.__name__,
        "payload": {"$ref": REF.format(model=model.__name__)},
    }
    if kind in _CORRELATED:
        message["correlationId"] = {"location": "$message.payload#/opId"}
    return message


def _operations() -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for kind in KINDS:
        channel = f"#/channels/{kind.value}"
        action = "send" if kind in DEVICE_PUBLISHES or kind is Topic.REPLY else "receive"
        operation: dict[str, Any] = {
            "action": action,
            "channel": {"$ref": channel},
            "messages": [{"$ref": f"{channel}/messages/{kind.value}"}],
            "bindings": {
                "mqtt": {
                    "qos": QOS[kind],
                    "retain": kind in RETAINED,
                    "bindingVersion": MQTT_BINDING_VERSION,
                }
            },
        }
        if kind is Topic.CMD:
            reply = f"#/channels/{Topic.REPLY.value}"
            operation["reply"] = {
                "channel": {"$ref": reply},
                "messages": [{"$ref": f"{reply}/messages/{Topic.REPLY.value}"}],
            }
        operations[f"{action}{kind.value.capitalize()}"] = operation
    return operations
