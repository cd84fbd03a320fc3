"""The demo competition (placeholder until written)."""
from sqlalchemy import select
from .extensions import db
from .models import Event

def database_is_empty() -> bool:
    return db.session.scalar(select(Event.id).limit(1)) is None

def demo_loaded() -> bool:
    return False

def accounts_text() -> str:
    return ""

def load_demo(actor: str) -> str:
    return ""
