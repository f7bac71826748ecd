"""The baselines: bare Flask handlers in the same gunicorn set-up.

- ``GET`` (bench/read_thread.py): the thread's bytes from memory; the file
  ``BARE_BODY_FILE`` names holds them.
- ``POST`` (bench/post_comments.py): reads the posted JSON and answers the same
  202 body commentsvc does, storing nothing.
"""

import json
import os

from flask import Flask, Response, request

BODY = b""
if os.environ.get("BARE_BODY_FILE"):
    with open(os.environ["BARE_BODY_FILE"], "rb") as body_file:
        BODY = body_file.read()
ACCEPTED = (
    b'{"id":1,"status":"pending","message":"Your comment is awaiting moderation."}'
)

app = Flask(__name__)


@app.get("/api/v1/sites/<site>/comments")
def comments(site):
    return Response(BODY, mimetype="application/json")


@app.post("/api/v1/sites/<site>/comments")
def post_comment(site):
    json.loads(request.get_data())
    return Response(ACCEPTED, status=202, mimetype="application/json")
