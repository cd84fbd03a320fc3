"""The public pages anyone may open: for now the list of competitions and their events."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from .extensions import db
from .models import Competition, Event

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    competitions = db.session.scalars(select(Competition).order_by(Competition.id)).all()
    visible = {
        competition.id: [event for event in competition.events if event.visibility != "hidden"]
        for competition in competitions
    }
    return render_template("index.html", competitions=[
        (competition, visible[competition.id]) for competition in competitions
        if visible[competition.id]])
