"""The service's own HTML pages: the front page (and, in the demo, its site)."""

from flask import Blueprint, current_app, render_template

from .extensions import db
from .models import Site

bp = Blueprint("pages", __name__)

DEMO_SITE = "demo"  # the site `flask demo-setup` creates


@bp.get("/")
def index():
    """What this service is and where moderators log in. It names no site: the
    sites an instance serves are its operators' business, and a public page
    must cost nothing per site. The demo shows its own site."""
    demo_site = None
    if current_app.config["DEV_DEMO"]:
        demo_site = db.session.scalar(db.select(Site).where(Site.slug == DEMO_SITE))
    return render_template("pages/index.html", demo_site=demo_site)
