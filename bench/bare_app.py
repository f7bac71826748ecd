"""The baseline of bench/read_thread.py: a bare Flask handler returning the same
bytes from memory. ``BARE_BODY_FILE`` names the file holding them."""

import os

from flask import Flask, Response

with open(os.environ["BARE_BODY_FILE"], "rb") as body_file:
    BODY = body_file.read()

app = Flask(__name__)


@app.get("/api/v1/sites/<site>/comments")
def comments(site):
    return Response(BODY, mimetype="application/json")
