"""One Settings object, read from the environment (and `.env`)."""
from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET_KEY = "voltdesk-demo-secret-key-do-not-use-in-production"
ROOT = Path(__file__).resolve().parent.parent


class WebSettings(BaseSettings):
    """What rxconfig.py needs too (CORS), readable without the secrets Settings insists on."""
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    public_url: str = "http://localhost:3000"
    # Origins allowed to call the API and open the websocket with credentials (comma-separated).
    # Unset: only the app's own origin, from PUBLIC_URL.
    cors_origins: str = ""

    @property
    def allowed_origins(self) -> list[str]:
        listed = [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]
        return listed or [origin_of(self.public_url)]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Settings(WebSettings):
    demo_mode: bool = False
    secret_key: str = DEMO_SECRET_KEY
    database_url: str | None = None
    data_dir: Path = ROOT / ".data"
    redis_url: str | None = None

    jwt_audience: str = "voltdesk"
    jwt_ttl_minutes: int = 8 * 60
    bcrypt_rounds: int = 12
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    # Failed logins from one client address, over every account, before it is locked out for
    # LOGIN_LOCKOUT_SECONDS (password spraying). The address is the peer's, or behind TRUSTED_PROXIES the
    # one they forward (core/net.py).
    login_ip_max_failures: int = 20
    trusted_proxies: str = ""
    # Links mailed to users: an invitation (activation) link and a password-reset link stay valid this long.
    invitation_ttl_hours: int = 24
    password_reset_ttl_minutes: int = 60

    web_port: int = 3000

    ocpp_host: str = "0.0.0.0"
    ocpp_port: int = 9000
    ocpp_tls_cert: Path | None = None
    ocpp_tls_key: Path | None = None
    ocpp_heartbeat_interval: int = 300
    ocpp_offline_grace_seconds: int = 120
    ocpp_max_frame_bytes: int = 64 * 1024
    ocpp_command_timeout_seconds: float = 30.0
    # New unknown-charger records one address may open per minute (attempts on recorded ones still count).
    ocpp_unknown_per_address_per_minute: int = 10

    smtp_url: str | None = None
    mail_from: str = "billing@voltdesk.local"
    outbox_dir: Path = ROOT / "outbox"
    # Uploaded files (organization logos) live here; logo uploads are refused above the size limit.
    upload_dir: Path = ROOT / "uploads"
    logo_max_bytes: int = 1024 * 1024
    billing_grace_minutes: int = 60
    billing_worker_interval_seconds: int = 300
    # The worker sends queued password-reset mails this often (the web app also sends right after answering).
    mail_worker_interval_seconds: int = 30
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    # OCPP processes (branch ocpp18b): each renews its liveness row this often; a row older than the second
    # belongs to a dead process, whose chargers go Offline. The frame log keeps this many days.
    ocpp_process_renew_seconds: float = 3.0
    ocpp_process_dead_after_seconds: float = 9.0
    ocpp_frame_log_days: int = 30

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if not self.demo_mode:
            if self.secret_key == DEMO_SECRET_KEY:
                raise ValueError(
                    "SECRET_KEY is the demo key. Set SECRET_KEY to a long random value "
                    "(or DEMO_MODE=1 for a local demo)."
                )
            if len(self.secret_key) < 32:
                raise ValueError("SECRET_KEY must be at least 32 characters.")
        for part in (p.strip() for p in self.trusted_proxies.split(",")):
            if part:
                try:
                    ip_network(part, strict=False)
                except ValueError as exc:
                    raise ValueError(f"TRUSTED_PROXIES: {exc} (for example 10.0.0.0/8).") from None
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
