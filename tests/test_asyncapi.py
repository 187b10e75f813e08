"""docs/device-link.asyncapi.yaml: what `segway-gateway mqtt asyncapi` prints, and sound."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from segway_gateway.contract.asyncapi import KINDS
from segway_gateway.contract.device import DEVICE_PUBLISHES, Topic
from tests.processes import invoke, ok

CHECKED_IN = Path(__file__).resolve().parent.parent / "docs" / "device-link.asyncapi.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(CHECKED_IN.read_text())
    return loaded


def resolve(document: dict[str, Any], ref: str) -> Any:
    """The node a local `$ref` points to; KeyError if there is none."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for level in ref[2:].split("/"):
        node = node[level.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_the_checked_in_document_is_what_the_command_prints() -> None:
    printed = ok(invoke("mqtt", "asyncapi"))
    assert printed == CHECKED_IN.read_text(), (
        "regenerate: segway-gateway mqtt asyncapi > docs/device-link.asyncapi.yaml"
    )


def test_the_json_format_is_the_same_document(document: dict[str, Any]) -> None:
    assert json.loads(ok(invoke("mqtt", "asyncapi", "--format", "json"))) == document


def test_it_is_asyncapi_3(document: dict[str, Any]) -> None:
    assert document["asyncapi"].startswith("3.0")


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    found = refs(document)
    assert found
    for ref in found:
        resolve(document, ref)


@pytest.mark.parametrize("kind", list(Topic))
def test_every_topic_kind_has_a_channel_with_its_models_schema(
    document: dict[str, Any], kind: Topic
) -> None:
    channel = document["channels"][kind.value]
    (message_ref,) = (m["$ref"] for m in channel["messages"].values())
    assert message_ref.startswith("#/components/messages/")
    payload = resolve(document, message_ref)["payload"]
    schema = resolve(document, payload["$ref"])
    model = KINDS[kind].model
    aliases = {field.alias or name for name, field in model.model_fields.items()}
    assert schema["title"] == model.__name__
    assert set(schema["properties"]) == aliases


@pytest.mark.parametrize("kind", list(Topic))
def test_every_address_parameter_is_declared(document: dict[str, Any], kind: Topic) -> None:
    channel = document["channels"][kind.value]
    in_address = set(re.findall(r"{(\w+)}", channel["address"]))
    assert in_address == set(channel["parameters"])
    for parameter in channel["parameters"].values():
        assert resolve(document, parameter["$ref"])["description"]


@pytest.mark.parametrize("kind", list(Topic))
def test_vehicles_send_what_the_acl_lets_them_publish(
    document: dict[str, Any], kind: Topic
) -> None:
    (operation,) = (
        op
        for op in document["operations"].values()
        if op["channel"]["$ref"] == f"#/channels/{kind.value}"
    )
    publishes = kind in DEVICE_PUBLISHES or kind is Topic.REPLY
    assert operation["action"] == ("send" if publishes else "receive")
    for message in operation["messages"]:
        assert message["$ref"].startswith(f"#/channels/{kind.value}/messages/")
    assert operation["bindings"]["mqtt"]["qos"] in (0, 1, 2)


def test_presence_is_retained_and_is_the_last_will(document: dict[str, Any]) -> None:
    (presence,) = (
        op
        for op in document["operations"].values()
        if op["channel"]["$ref"] == f"#/channels/{Topic.PRESENCE.value}"
    )
    assert presence["bindings"]["mqtt"]["retain"] is True
    will = document["servers"]["local"]["bindings"]["mqtt"]["lastWill"]
    assert will["topic"] == document["channels"][Topic.PRESENCE.value]["address"]
    assert will["retain"] is True


def test_a_command_is_answered_on_the_reply_channel(document: dict[str, Any]) -> None:
    operation = document["operations"]["receiveCmd"]
    assert operation["reply"]["channel"]["$ref"] == f"#/channels/{Topic.REPLY.value}"
    for kind in (Topic.CMD, Topic.REPLY):
        message = document["components"]["messages"][kind.value]
        assert message["correlationId"]["location"] == "$message.payload#/opId"


def test_vehicles_log_in_with_a_user_name_and_password(document: dict[str, Any]) -> None:
    for server in document["servers"].values():
        for scheme in server["security"]:
            assert resolve(document, scheme["$ref"])["type"] == "userPassword"
