"""Token creation for the CLI, straight into the gateway's own database."""

from sqlalchemy.orm import Session

from services.kit import config, migrate
from services.kit.database import make_engine

from . import auth


def create(role: str, org_code: str | None = None, class_ids: list[str] | None = None,
           database_url: str | None = None) -> str:
    engine = make_engine(database_url or config.database_url("gateway"))
    try:
        migrate.upgrade(engine, "gateway")
        with Session(engine) as session, session.begin():
            return auth.create_token(session, role, org_code, class_ids)
    finally:
        engine.dispose()
