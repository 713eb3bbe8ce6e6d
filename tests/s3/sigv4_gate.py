"""Checks the AWS Signature Version 4 of every request, then passes it to s3rver.

s3rver checks the access key but not V4 signatures (its authentication middleware
leaves the V4 calculation unimplemented), so a client signing with the wrong secret,
or signing the wrong canonical request, would pass. This gate recomputes each
signature the way S3 does, with botocore's reference signer (Debian's
python3-botocore), and answers as S3 would: 403 SignatureDoesNotMatch, 403
RequestTimeTooSkewed, 400 XAmzContentSHA256Mismatch. What passes goes to s3rver
unchanged.

It also plays S3 under strain, for the client's retry tests, by key: a path with a
segment fail-503-N (or fail-500-N) is answered 503 SlowDown (500 InternalError) the
first N times each method asks for it; one with stall-MSms waits that long before the
first answer to each method (a ranged GET counts apart for each range); one with
fail-part-N refuses part N of every multipart upload with 503 SlowDown, each time it is
sent; one with fail-range-N does the same to every ranged GET from byte N. Where s3rver
differs from S3 it answers as S3 does: a range of an empty object is 416 InvalidRange
(s3rver never answers one).

Usage: sigv4_gate.py LISTEN_PORT S3RVER_PORT ACCESS_KEY_ID:SECRET..."""
import collections
import datetime
import hashlib
import hmac
import http.client
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
                           r"SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$")
MAX_SKEW = datetime.timedelta(minutes=15)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
FAULT = re.compile(r"/fail-(500|503)-(\d+)/|/stall-(\d+)ms/")
FAULT_CODES = {500: "InternalError", 503: "SlowDown"}
PART_FAULT = re.compile(r"/fail-part-(\d+)/")
RANGE_FAULT = re.compile(r"/fail-range-(\d+)/")


class SignedHeadersOnly(S3SigV4Auth):
    """botocore's S3 signer, over exactly the headers the client said it signed."""

    def __init__(self, credentials, service, region, received, signed_names):
        super().__init__(credentials, service, region)
        self.received, self.signed_names = received, signed_names

    def headers_to_sign(self, request):
        headers = HTTPHeaders()
        for name in self.signed_names:
            headers[name] = self.received[name]
        return headers


def canonical_params(query):
    """S3 decodes the query and signs it re-encoded; so does this (botocore encodes)."""
    pairs = []
    for pair in query.split("&") if query else []:
        key, _, value = pair.partition("=")
        pairs.append((urllib.parse.unquote(key), urllib.parse.unquote(value)))
    return pairs


def problem(code, message):
    return f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'


class Gate(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    secrets = {}
    upstream_port = 0
    asked = collections.Counter()  # (method, path): requests so far, for the faults
    asked_lock = threading.Lock()

    def log_message(self, *args):
        pass

    def check(self, body):
        """None when the signature is right (or the key unknown: s3rver refuses that
        itself, as S3 does), else (status, code, message)."""
        authorization = self.headers.get("Authorization")
        if authorization is None:
            return None  # anonymous: s3rver decides
        match = AUTHORIZATION.match(authorization)
        if not match:
            return 400, "AuthorizationHeaderMalformed", "not an AWS4-HMAC-SHA256 authorization header"
        key_id, date, region, service, signed, signature = match.groups()
        if key_id not in self.secrets:
            return None
        received = {name.lower(): value for name, value in self.headers.items()}
        missing = [n for n in signed.split(";") if n not in received]
        if missing or "host" not in signed.split(";"):
            return 403, "AccessDenied", f"signed headers missing: {missing or ['host']}"
        timestamp = received.get("x-amz-date", "")
        try:
            when = datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return 403, "AccessDenied", "x-amz-date missing or malformed"
        if abs(datetime.datetime.now(datetime.timezone.utc) - when) > MAX_SKEW or not timestamp.startswith(date):
            return 403, "RequestTimeTooSkewed", "x-amz-date is too far from the server's time"
        content_hash = received.get("x-amz-content-sha256")
        if content_hash is None:
            return 400, "InvalidRequest", "x-amz-content-sha256 is required"
        if content_hash != hashlib.sha256(body).hexdigest():
            return 400, "XAmzContentSHA256Mismatch", "x-amz-content-sha256 does not match the body"

        path, _, query = self.path.partition("?")
        request = AWSRequest(method=self.command,
                             url="http://" + received["host"] + urllib.parse.quote(urllib.parse.unquote(path), safe="/~"),
                             headers=dict(self.headers.items()), data=body,
                             params=canonical_params(query))
        request.context["timestamp"] = timestamp
        signer = SignedHeadersOnly(Credentials(key_id, self.secrets[key_id]), service, region, received,
                                   signed.split(";"))
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, signature):
            return 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the " \
                                                 "signature you provided. Check your key and signing method."
        return None

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        refused = self.check(body)
        if refused:
            status, code, message = refused
            self.refuse(status, code, message)
            return
        path, _, query = self.path.partition("?")
        part_fault = PART_FAULT.search(path)
        if part_fault and ("partNumber", part_fault.group(1)) in canonical_params(query):
            self.refuse(503, "SlowDown")
            return
        range_fault = RANGE_FAULT.search(path)
        asked_range = self.headers.get("Range", "")
        if range_fault and asked_range.startswith(f"bytes={range_fault.group(1)}-"):
            self.refuse(503, "SlowDown")
            return
        fault = FAULT.search(path)
        if fault:
            asked = (self.command, self.path, asked_range)
            with self.asked_lock:
                earlier = self.asked[asked]
                self.asked[asked] += 1
            status, times, stall_ms = fault.groups()
            if status and earlier < int(times):
                code = FAULT_CODES[int(status)]
                self.refuse(int(status), code)
                return
            if stall_ms and earlier == 0:
                time.sleep(int(stall_ms) / 1000)  # a slow server, for the client's timeout
        if self.command == "GET" and asked_range and self.upstream_size(self.path) == 0:
            self.refuse(416, "InvalidRange", "The requested range is not satisfiable")
            return
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body or None, headers=dict(self.headers.items()))
            response = upstream.getresponse()
            data = response.read()
            headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            if self.command == "HEAD":
                headers.append(("Content-Length", response.getheader("Content-Length", "0")))
                data = b""
            self.answer(response.status, headers, data, set_length=self.command != "HEAD")
        finally:
            upstream.close()

    def upstream_size(self, path):
        """The object's size as s3rver's HEAD answers it (None when it has none)."""
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "range"}
            upstream.request("HEAD", path, headers=headers)
            response = upstream.getresponse()
            response.read()
            return int(response.getheader("Content-Length")) if response.status == 200 else None
        finally:
            upstream.close()

    def refuse(self, status, code, message=None):
        """An S3 error document."""
        self.answer(status, [("Content-Type", "application/xml")], problem(code, message or code).encode())

    def answer(self, status, headers, data, set_length=True):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if set_length:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def main():
    listen_port, upstream_port = int(sys.argv[1]), int(sys.argv[2])
    Gate.upstream_port = upstream_port
    Gate.secrets = dict(pair.split(":", 1) for pair in sys.argv[3:])
    server = ThreadingHTTPServer(("127.0.0.1", listen_port), Gate)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
