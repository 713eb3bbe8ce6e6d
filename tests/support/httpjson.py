"""Small HTTP helpers for integration tests: JSON in, (status, headers, body) out."""
import json
import urllib.error
import urllib.request


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name)


def call(url, method="GET", json_body=None, form=None, headers=None, timeout=30, raw_json=None):
    """raw_json: the body as bytes already written (for documents json.dumps cannot make)."""
    data = None
    headers = dict(headers or {})
    if raw_json is not None:
        data = raw_json
        headers["Content-Type"] = "application/json"
    elif json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = form.encode() if isinstance(form, str) else urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def bearer(token):
    return {"Authorization": f"Bearer {token}"}
