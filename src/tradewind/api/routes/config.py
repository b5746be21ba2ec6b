"""``/config``: the running configuration, when ``[webserver] expose_config`` allows.

Answers are JSON or INI text (``Accept: text/plain``); like Airflow, ``Accept: */*``
gets the text.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response

from tradewind.api.deps import SettingsDep, requires
from tradewind.api.negotiation import best_media_type
from tradewind.api.problems import problem_response
from tradewind.api.schemas.config import Config
from tradewind.config import OptionValue, Settings
from tradewind.errors import ConfigError, NotFound, PermissionDenied
from tradewind.security.permissions import CONFIG, READ

router = APIRouter(tags=["Config"])

#: The media types offered, Airflow's order first.
MEDIA_TYPES = ("text/plain", "application/json")


@router.get("/config", name="get_config", dependencies=[requires(READ, CONFIG)])
def get_config(request: Request, settings: SettingsDep, section: str | None = None) -> Response:
    def options() -> list[OptionValue]:
        found = [o for o in settings.options() if section is None or o.section == section]
        if not found:
            raise NotFound(f"section={section} not found.")
        return found

    return _answer(request, settings, options)


@router.get(
    "/config/section/{section}/option/{option}",
    name="get_value",
    dependencies=[requires(READ, CONFIG)],
)
def get_value(request: Request, settings: SettingsDep, section: str, option: str) -> Response:
    def options() -> list[OptionValue]:
        try:
            return [settings.option(section.lower(), option.lower())]
        except ConfigError as exc:
            raise NotFound(str(exc)) from exc

    return _answer(request, settings, options)


def _answer(
    request: Request, settings: Settings, options: Callable[[], list[OptionValue]]
) -> Response:
    media_type = best_media_type(request.headers.get("accept"), MEDIA_TYPES)
    if media_type is None:
        return problem_response(
            request, 406, f"This endpoint answers with {' or '.join(MEDIA_TYPES)} only"
        )
    if not settings.webserver.expose_config:
        raise PermissionDenied(
            "Your Tradewind administrator chose not to expose the configuration, "
            "most likely for security reasons."
        )
    config = Config.from_options(options())
    if media_type == "text/plain":
        return Response(config.as_text(), media_type=media_type)
    return Response(config.model_dump_json(), media_type=media_type)
