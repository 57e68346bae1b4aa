"""The REST API at /api/v1, mounted into Reflex's backend through `api_transformer`."""
from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from swagger_ui_bundle import swagger_ui_path

from app.api.inputs import check_input
from app.api.routes import api_keys as api_key_routes
from app.api.routes import apps as app_routes
from app.api.routes import auth, chargers, commands, organizations, transactions
from app.api.routes import clients as client_routes
from app.api.routes import customers as customer_routes
from app.api.routes import demand_response as demand_response_routes
from app.api.routes import devices as device_routes
from app.api.routes import events as event_routes
from app.api.routes import finance as finance_routes
from app.api.routes import grid as grid_routes
from app.api.routes import invitations as invitation_routes
from app.api.routes import invoices as invoice_routes
from app.api.routes import local_auth as local_auth_routes
from app.api.routes import notifications as notification_routes
from app.api.routes import parity as parity_routes
from app.api.routes import payments as payment_routes
from app.api.routes import security as security_routes
from core.errors import Conflict, NotFound, ValidationError
from services.access.permissions import PermissionDenied

PREFIX = "/api/v1"
DOCS_ASSETS = f"{PREFIX}/docs/assets"


def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status_code=status)


def create_api() -> FastAPI:
    api = FastAPI(title="Voltdesk API", version="1", openapi_url=f"{PREFIX}/openapi.json",
                  docs_url=None, redoc_url=None,
                  dependencies=[Depends(check_input)])
    for router in (auth.router, organizations.router, chargers.router, commands.router):
        api.include_router(router, prefix=PREFIX)
    api.include_router(transactions.router, prefix=PREFIX)
    api.include_router(invoice_routes.router, prefix=PREFIX)
    api.include_router(finance_routes.router, prefix=PREFIX)
    api.include_router(invitation_routes.router, prefix=PREFIX)
    api.include_router(customer_routes.router, prefix=PREFIX)
    api.include_router(device_routes.router, prefix=PREFIX)
    api.include_router(notification_routes.router, prefix=PREFIX)
    api.include_router(local_auth_routes.router, prefix=PREFIX)
    api.include_router(security_routes.router, prefix=PREFIX)
    api.include_router(api_key_routes.router, prefix=PREFIX)
    api.include_router(client_routes.router, prefix=PREFIX)
    api.include_router(app_routes.router, prefix=PREFIX)
    api.include_router(event_routes.router, prefix=PREFIX)
    api.include_router(parity_routes.router, prefix=PREFIX)
    api.include_router(payment_routes.router, prefix=PREFIX)
    api.include_router(grid_routes.router, prefix=PREFIX)
    api.include_router(demand_response_routes.router, prefix=PREFIX)

    # The docs page loads Swagger UI from the pinned swagger-ui-bundle package, not from a CDN.
    api.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @api.get(f"{PREFIX}/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=api.openapi_url, title=f"{api.title} - docs",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png")

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(exc.status_code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]} for e in exc.errors()]
        first = errors[0] if errors else {"field": "", "message": "Invalid request"}
        return _error(422, f"{first['field']}: {first['message']}" if first["field"] else first["message"],
                      errors=errors)

    @api.exception_handler(ValidationError)
    async def invalid_input(request: Request, exc: ValidationError) -> JSONResponse:
        return _error(422, exc.message, field=exc.field)

    @api.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return _error(404, str(exc) or "Not found.")

    @api.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> JSONResponse:
        return _error(409, str(exc))

    @api.exception_handler(PermissionDenied)
    async def denied(request: Request, exc: PermissionDenied) -> JSONResponse:
        return _error(403, str(exc))

    return api
