"""The service's own HTML pages: the front page (and the demo article)."""

from flask import Blueprint, render_template

from .extensions import db
from .models import Site

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    """What this service is and where its parts live."""
    sites = db.session.scalars(db.select(Site).order_by(Site.slug)).all()
    return render_template("pages/index.html", sites=sites)
