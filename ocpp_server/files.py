"""Voltdesk's file endpoint for chargers, on its own port (FILE_ENDPOINT_PORT): chargers download signed
firmware from it (GET /firmware/{token}/{name}; the unguessable token is the credential, as chargers send
none on a firmware fetch). Run: python -m ocpp_server.files
"""
from __future__ import annotations

import argparse

from granian import Granian
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from core.config import get_settings
from core.db import get_engine
from core.errors import NotFound
from services.ocpp import firmware_library


async def firmware(request: Request) -> Response:
    with Session(get_engine()) as session:
        try:
            path, image = firmware_library.file_for_token(session=session, token=request.path_params["token"])
        except NotFound:
            return PlainTextResponse("No such firmware.\n", status_code=404)
        except OperationalError:
            return PlainTextResponse("Temporarily unavailable; retry later.\n", status_code=503,
                                     headers={"Retry-After": "30"})
    if not path.is_file():
        return PlainTextResponse("The firmware file is missing on the server.\n", status_code=410)
    return FileResponse(path, media_type="application/octet-stream", filename=image.filename)


def create_app() -> Starlette:
    return Starlette(routes=[Route("/firmware/{token}/{name}", firmware, methods=["GET"])])


app = create_app()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=get_settings().file_endpoint_port)
    args = parser.parse_args(argv)
    Granian("ocpp_server.files:app", address=args.host, port=args.port, interface="asgi").serve()


if __name__ == "__main__":
    main()
