"""Configuration from the environment, with defaults that work on a laptop."""

import os
from pathlib import Path

SERVICES = ("scheduling", "enrollment", "reporting", "gateway")

DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"
ROOT = Path(__file__).resolve().parents[2]


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def var_dir() -> Path:
    return Path(os.environ.get("PEIXUN_VAR_DIR", ROOT / "var"))


def database_url(service: str) -> str:
    """`<SERVICE>_DATABASE_URL`, else a SQLite file of the service's own under var/."""
    url = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    var_dir().mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var_dir() / service}.db"


def rpc_timeout() -> float:
    """Seconds an RPC call between services may take before the caller gives up."""
    return float(os.environ.get("PEIXUN_RPC_TIMEOUT", "10"))


def public_url() -> str:
    """Where people reach the gateway (`PEIXUN_PUBLIC_URL`): a certificate's QR code leads
    there."""
    return (os.environ.get("PEIXUN_PUBLIC_URL") or "http://localhost:8000").rstrip("/")


def http_port() -> int:
    return int(os.environ.get("PEIXUN_HTTP_PORT", "8000"))


def cjk_font() -> Path:
    """The Chinese font reports embed (Debian's fonts-wqy-microhei; `make` installs it)."""
    return Path(os.environ.get("PEIXUN_CJK_FONT",
                               "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"))
