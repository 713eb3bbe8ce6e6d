"""Peer for GET /contents: the simple JWT app's stack, Flask + PyJWT under gunicorn.

GET /contents verifies an HS256 bearer token with PyJWT and returns its claims, as
esp's /contents does. Run: gunicorn -w N -b 127.0.0.1:PORT --chdir bench/peers flask_jwt_app:app
with JWT_SECRET and JWT_AUDIENCE in the environment.
"""
import os

import jwt
from flask import Flask, jsonify, request

app = Flask(__name__)
SECRET = os.environ["JWT_SECRET"]
AUDIENCE = os.environ.get("JWT_AUDIENCE", "esp")


@app.get("/contents")
def contents():
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return jsonify(error="a bearer token is required"), 401
    try:
        claims = jwt.decode(header[7:], SECRET, algorithms=["HS256"], audience=AUDIENCE)
    except jwt.InvalidTokenError as error:
        return jsonify(error=str(error)), 401
    return jsonify(claims)
