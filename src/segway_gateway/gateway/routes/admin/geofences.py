"""Admin API for no-parking zones: list, put and delete a platform's GeoJSON zones.

A change here reaches the gateway's zone index before the answer is sent;
changes made with the CLI are followed within the registration poll period.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from segway_gateway.gateway.geofences import Zone, check_name, parse_zone
from segway_gateway.gateway.routes.admin.guard import admin_endpoint, answer
from segway_gateway.gateway.routes.body import read_body
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.errors import NotFound
from segway_gateway.gateway.store.geofences import Geofence

router = APIRouter(prefix="/admin/v1", tags=["Admin"])

MAX_ZONE_BYTES = 1024 * 1024


def describe(platform_code: str, zone: Zone) -> dict[str, Any]:
    return {
        "platform": platform_code,
        "name": zone.name,
        "polygons": len(zone.polygons),
        "bbox": zone.bbox.as_list(),
    }


async def list_zones(request: Request, gateway: Gateway) -> Response:
    code = request.path_params["platform_code"]
    if await gateway.db.platforms.get(code) is None:
        return answer(404, {"error": f"no platform {code}"})
    zones = [
        {**describe(code, parse_zone(g.name, g.geometry)), "geometry": g.geometry}
        for g in await gateway.db.geofences.list_all(code)
    ]
    return answer(200, {"platform": code, "geofences": zones})


async def put_zone(request: Request, gateway: Gateway) -> Response:
    code, name = request.path_params["platform_code"], check_name(request.path_params["name"])
    try:
        document = orjson.loads(await read_body(request, MAX_ZONE_BYTES))
    except orjson.JSONDecodeError as err:
        raise ValueError(f"the body is not JSON: {err}") from err
    zone = parse_zone(name, document)
    record = Geofence(code, name, zone.geometry(), int(gateway.clock() * 1000))
    try:
        created = await gateway.db.geofences.put(record)
    except NotFound as err:
        return answer(404, {"error": str(err)})
    await gateway.reload_geofences()
    return answer(201 if created else 200, describe(code, zone))


async def delete_zone(request: Request, gateway: Gateway) -> Response:
    code, name = request.path_params["platform_code"], request.path_params["name"]
    try:
        await gateway.db.geofences.remove(code, name)
    except NotFound as err:
        return answer(404, {"error": str(err)})
    await gateway.reload_geofences()
    return answer(200, {"platform": code, "name": name, "removed": True})


_ZONES = "/platforms/{platform_code}/geofences"
router.add_api_route(
    _ZONES, admin_endpoint(list_zones), methods=["GET"], summary="List no-parking zones"
)
router.add_api_route(
    f"{_ZONES}/{{name}}",
    admin_endpoint(put_zone),
    methods=["PUT"],
    summary="Add or replace a no-parking zone (GeoJSON body)",
)
router.add_api_route(
    f"{_ZONES}/{{name}}",
    admin_endpoint(delete_zone),
    methods=["DELETE"],
    summary="Remove a no-parking zone",
)
