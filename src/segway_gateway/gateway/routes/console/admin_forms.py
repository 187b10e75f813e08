"""What each form of the admin pages does, and what came of it.

Where the admin API has an endpoint (a platform's rate limit and suspension, geofences),
the form calls it (api_calls.py) and the page shows its answer as it came. Adding a
platform and registering vehicles have none: the form writes the store as the CLI does
(gateway/registration.py, the same rules) and says in plain words what it did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request

from segway_gateway.contract.models import PLATFORM_CODE, parse_iot_code
from segway_gateway.contract.regions import Region
from segway_gateway.gateway import registration
from segway_gateway.gateway.geofences import GeofenceError, check_name
from segway_gateway.gateway.routes.console.api_calls import Answer, admin_api
from segway_gateway.gateway.routes.console.forms import typed
from segway_gateway.gateway.runtime import REGISTRATION_POLL_SECONDS, Gateway
from segway_gateway.gateway.store.errors import AlreadyExists, NotFound
from segway_gateway.gateway.store.vehicles import VehicleRepo


@dataclass(frozen=True)
class Done:
    """What a form that wrote the store did (no API answered it)."""

    what: str
    message: str
    http_status: int = 200
    """The page's status: 400, 404 or 409 when the form was refused."""

    @property
    def ok(self) -> bool:
        return self.http_status < 400


Result = Answer | Done
FormAction = Callable[[Request, Gateway, Mapping[str, str]], Awaitable[Result]]

ELSEWHERE = (
    f"other gateway instances on this database follow within {REGISTRATION_POLL_SECONDS:g} s"
)


async def add_platform(_request: Request, gateway: Gateway, form: Mapping[str, str]) -> Result:
    what = "Add platform"
    code, secret = form.get("code", "").strip(), form.get("secret", "")
    push_url = form.get("push_url", "").strip() or None
    if not PLATFORM_CODE.fullmatch(code):
        return Done(what, "the code must be 1 to 64 letters, digits, '-' or '_'", 400)
    try:
        allow = 'tick "Allow a weak secret"'
        registration.check_secret(secret, form.get("allow_weak") == "on", allow)
    except ValueError as err:
        return Done(what, f"the secret {err}", 400)
    try:
        if push_url is not None:
            registration.check_push_url(push_url)
    except ValueError as err:
        return Done(what, f"the push URL is refused: {err}", 400)
    try:
        await registration.add_platform(gateway.db, gateway.key, code, secret, push_url)
    except AlreadyExists as err:
        return Done(what, str(err), 409)
    said = [f"platform {code} added; it can get a token with its secret now"]
    if push_url is not None:
        said.append(f"pushes to {push_url} begin within {REGISTRATION_POLL_SECONDS:g} s")
    if Region.of_platform(code) is None:
        said.append("note: its code starts with no region letter (A, E, U, C)")
    return Done(what, "; ".join(said))


def _access(request: Request, tail: str) -> str:
    return f"/admin/v1/platforms/{quote(request.path_params['code'], safe='')}/access{tail}"


def _access_call(verb: str, method: str, tail: str) -> FormAction:
    """A platform's button that calls the admin API with no body."""

    async def call(request: Request, _gateway: Gateway, _form: Mapping[str, str]) -> Result:
        what = f"{verb} {request.path_params['code']}"
        return await admin_api(request, what, method, _access(request, tail))

    return call


suspend = _access_call("Suspend", "POST", "/suspend")
resume = _access_call("Resume", "POST", "/resume")
clear_limit = _access_call("Clear limit of", "DELETE", "/limit")


async def set_limit(request: Request, _gateway: Gateway, form: Mapping[str, str]) -> Result:
    body = {"rps": typed(form.get("rps", ""))}
    if form.get("burst", "").strip():
        body["burst"] = typed(form["burst"])
    what = f"Set limit of {request.path_params['code']}"
    return await admin_api(request, what, "PUT", _access(request, "/limit"), json=body)


async def add_vehicles(_request: Request, gateway: Gateway, form: Mapping[str, str]) -> Result:
    what = "Add vehicles"
    typed = form.get("iot_codes", "").replace(",", " ").split()
    platform, active = form.get("vehicle_platform", ""), form.get("active") == "on"
    if not typed:
        return Done(what, "give at least one iotCode", 400)
    for one in typed:
        try:
            parse_iot_code(one)
        except ValueError as err:
            return Done(what, f"{one}: {err}", 400)
    codes = list(dict.fromkeys(typed))
    try:
        await registration.add_vehicles(gateway.db, codes, platform, active)
    except NotFound as err:
        return Done(what, str(err), 404)
    except AlreadyExists as err:
        return Done(what, str(err), 409)
    await _follow(gateway)
    state = "active" if active else "inactive (their calls answer 15300)"
    return Done(
        what,
        f"{len(codes)} added to {platform}, {state}: {', '.join(codes)}. This gateway's API"
        f" knows them now; {ELSEWHERE}",
    )


async def _follow(gateway: Gateway) -> None:
    """This instance's fleet takes the registrations as stored now: its API answers from
    them (the others read them on their own next look)."""
    await gateway.fleet.follow_registrations(await gateway.db.vehicles.registrations())


def _vehicle_change(
    verb: str, change: Callable[[VehicleRepo, str], Awaitable[None]], outcome: str
) -> FormAction:
    """A vehicle's button that changes its registration."""

    async def act(request: Request, gateway: Gateway, _form: Mapping[str, str]) -> Result:
        iot_code = request.path_params["iot_code"]
        what = f"{verb} {iot_code}"
        try:
            await change(gateway.db.vehicles, iot_code)
        except NotFound as err:
            return Done(what, str(err), 404)
        await _follow(gateway)
        return Done(
            what, f"vehicle {iot_code} {outcome}. This gateway's API answers so now; {ELSEWHERE}"
        )

    return act


deactivate = _vehicle_change(
    "Deactivate",
    lambda vehicles, iot_code: vehicles.set_active(iot_code, False),
    "is inactive: its calls answer 15300",
)
activate = _vehicle_change(
    "Activate", lambda vehicles, iot_code: vehicles.set_active(iot_code, True), "is active"
)
remove_vehicle = _vehicle_change(
    "Remove", VehicleRepo.remove, "is removed with its stored state: its calls answer 15102"
)


def _zone(platform: str, name: str) -> str:
    return f"/admin/v1/platforms/{quote(platform, safe='')}/geofences/{quote(name, safe='')}"


async def save_geofence(request: Request, _gateway: Gateway, form: Mapping[str, str]) -> Result:
    """The pasted GeoJSON goes to the API as typed: its answer says what is wrong with it."""
    platform, name = form.get("zone_platform", ""), form.get("zone_name", "").strip()
    what = f"Save geofence {name}"
    if not PLATFORM_CODE.fullmatch(platform):
        return Done(what, "choose a platform", 400)
    try:
        check_name(name)  # a path segment of the API's URL: checked before it is one
    except GeofenceError as err:
        return Done(what, str(err), 400)
    content = form.get("geojson", "").encode()
    return await admin_api(request, what, "PUT", _zone(platform, name), content=content)


async def delete_geofence(request: Request, _gateway: Gateway, _form: Mapping[str, str]) -> Result:
    platform, name = request.path_params["platform"], request.path_params["name"]
    what = f"Delete geofence {name} of {platform}"
    return await admin_api(request, what, "DELETE", _zone(platform, name))
