"""Voltdesk's file endpoint for chargers, on its own port (FILE_ENDPOINT_PORT). Run: python -m ocpp_server.files

- GET /firmware/{token}/{name}: signed firmware (the unguessable token is the credential: chargers send none
  on a firmware fetch);
- PUT or POST /upload/{token}[/{filename}]: a log or diagnostics file (GetLog, GetDiagnostics). The token
  admits one upload per request; the body is the file; above CHARGER_UPLOAD_MAX_BYTES it is cut off (413).
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
from core.db import get_system_engine
from core.errors import NotFound
from services.ocpp import firmware_library, uploads


async def firmware(request: Request) -> Response:
    with Session(get_system_engine()) as session:  # chargers fetch and upload by token: no user
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


async def upload(request: Request) -> Response:
    # The body is streamed and cut off at the limit (a Content-Length is not trusted either way).
    try:
        row = await uploads.receive(engine=get_system_engine(), token=request.path_params["token"],
                                    filename=request.path_params.get("filename"), chunks=request.stream())
    except NotFound:
        return PlainTextResponse("No upload is expected at this address.\n", status_code=404)
    except uploads.TooLarge as exc:
        return PlainTextResponse(f"{exc}\n", status_code=413)
    except OperationalError:
        return PlainTextResponse("Temporarily unavailable; retry later.\n", status_code=503,
                                 headers={"Retry-After": "30"})
    return PlainTextResponse(f"Received {row.size} bytes.\n", status_code=201)


def create_app() -> Starlette:
    return Starlette(routes=[
        Route("/firmware/{token}/{name}", firmware, methods=["GET"]),
        Route("/upload/{token}", upload, methods=["PUT", "POST"]),
        Route("/upload/{token}/{filename}", upload, methods=["PUT", "POST"]),
    ])


app = create_app()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=get_settings().file_endpoint_port)
    args = parser.parse_args(argv)
    Granian("ocpp_server.files:app", address=args.host, port=args.port, interface="asgi").serve()


if __name__ == "__main__":
    main()
