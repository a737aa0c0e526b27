#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mock_gcp.py - a MOCK of Google's OAuth token endpoint and the Compute Engine API's
instances (compute/v1) for the gcp controller's tests (no cloud is reachable here).

Token endpoint (POST /token): the RFC 7523 JWT bearer grant as Google checks it: the
grant_type, an assertion of three base64url parts with alg RS256, iss the service account,
aud this token URL, a compute scope, iat within 5 minutes of now and exp at most an hour
later, and the RS256 signature verified with the account's public key (openssl dgst);
answers {"access_token", "expires_in", "token_type"} or {"error": "invalid_grant", ...}.

Compute (under /compute/v1/projects/P/zones/Z/instances): a Bearer token it issued (401
UNAUTHENTICATED otherwise); insert checks requestId (a UUID; the same one is the same request),
the name, machineType, a boot disk's sourceImage or a sourceInstanceTemplate, label keys and
values, metadata items, and answers an Operation; delete answers an Operation; list takes
filter=labels.KEY = "VALUE" and answers an InstanceList (no "items" when empty), a page of at
most maxResults (and --page-size, a test knob) with nextPageToken when more follow. Errors are
{"error": {"code", "message", "errors": [{"reason"}], "status"}}.

It cannot start VMs: an instance is its startup-script run on this machine with
SLUICE_NODE_IP (a loopback address it assigns as networkIP), SLUICE_NODE_CONF, SLUICE_BIN.
Test controls: POST /_mock/faults {"insert": [{"code": 429, "reason": ...}]},
GET /_mock/requests, GET /_mock/instances.
"""
import argparse
import base64
import datetime
import json
import os
import re
import subprocess
import tempfile
import threading
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

from mock_http import Addresses, Faults, MockHandler, boot, kill_group, page, serve

lock = threading.Lock()
state = {"instances": {}, "requests": {}, "tokens": set(), "log": []}
faults = Faults(lock)
NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
LABEL = re.compile(r"^[a-z0-9_-]{0,63}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
          404: "NOT_FOUND", 409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED",
          503: "UNAVAILABLE"}


class Refuse(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check_jwt(assertion):
    parts = assertion.split(".")
    if len(parts) != 3:
        raise Refuse(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token")
    try:
        hdr, claims, sig = json.loads(b64url(parts[0])), json.loads(b64url(parts[1])), \
            b64url(parts[2])
    except ValueError:
        raise Refuse(400, "invalid_grant", "Invalid JWT: malformed")
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    if hdr.get("alg") != "RS256":
        raise Refuse(400, "invalid_grant", "Invalid JWT: alg must be RS256")
    if claims.get("iss") != ARGS.email:
        raise Refuse(400, "invalid_grant", "Invalid JWT: unknown issuer")
    if claims.get("aud") != ARGS.token_url:
        raise Refuse(400, "invalid_grant", "Invalid JWT: aud must be %s" % ARGS.token_url)
    if "https://www.googleapis.com/auth/compute" not in claims.get("scope", "").split():
        raise Refuse(400, "invalid_scope", "the compute scope is required")
    iat, exp = claims.get("iat", 0), claims.get("exp", 0)
    if abs(now - iat) > 300 or exp <= iat or exp - iat > 3600:
        raise Refuse(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token "
                     "(60 minutes) and in a reasonable timeframe")
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "data"), "wb") as f:
            f.write(("%s.%s" % (parts[0], parts[1])).encode())
        with open(os.path.join(d, "sig"), "wb") as f:
            f.write(sig)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", ARGS.public_key,
                            "-signature", os.path.join(d, "sig"), os.path.join(d, "data")],
                           capture_output=True)
    if r.returncode != 0:
        raise Refuse(400, "invalid_grant", "Invalid JWT Signature.")


def operation(kind, link):
    return {"kind": "compute#operation", "id": str(uuid.uuid4().int % 10**18),
            "name": "operation-%s" % uuid.uuid4().hex[:16], "zone": ARGS.zone,
            "operationType": kind, "targetLink": link, "status": "RUNNING", "progress": 0,
            "insertTime": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.000-00:00")}


def insert(base, q, body):
    rid = q.get("requestId", [""])[0]
    if rid and not UUID.match(rid):
        raise Refuse(400, "invalid", "Invalid value for field 'requestId': must be a UUID")
    with lock:
        if rid and rid in state["requests"]:
            return state["requests"][rid]
    inst = json.loads(body)
    name = inst.get("name", "")
    if not NAME.match(name):
        raise Refuse(400, "invalid", "Invalid value for field 'resource.name': '%s'" % name)
    tpl = q.get("sourceInstanceTemplate", [""])[0]
    mt = inst.get("machineType", "")
    if not tpl and not re.match(r"^zones/%s/machineTypes/[a-z0-9-]+$" % re.escape(ARGS.zone), mt):
        raise Refuse(400, "invalid", "Invalid value for field 'resource.machineType': '%s'" % mt)
    disks = inst.get("disks") or []
    if not tpl and not (disks and disks[0].get("boot") and
                        (disks[0].get("initializeParams") or {}).get("sourceImage")):
        raise Refuse(400, "required", "Required field 'resource.disks[0].initializeParams."
                     "sourceImage' not specified")
    if not tpl and not inst.get("networkInterfaces"):
        raise Refuse(400, "required", "Required field 'resource.networkInterfaces' not specified")
    for k, v in (inst.get("labels") or {}).items():
        if not LABEL.match(k) or not LABEL.match(v):
            raise Refuse(400, "invalid", "Invalid value for field 'resource.labels': '%s'" % v)
    items = {i["key"]: i["value"] for i in (inst.get("metadata") or {}).get("items", [])}
    with lock:
        if name in state["instances"]:
            raise Refuse(409, "alreadyExists", "The resource '%s/instances/%s' already exists"
                         % (base, name))
    ip = ADDRS.take()
    entry = {"name": name, "status": "RUNNING", "labels": inst.get("labels") or {},
             "machineType": mt, "networkInterfaces": [{"network": "global/networks/default",
                                                       "networkIP": ip}], "pid": 0}
    script = items.get("startup-script")
    if script:
        d = os.path.join(ARGS.state, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "startup-script"), "w") as f:
            f.write(script)
        entry["pid"] = boot(["sh", os.path.join(d, "startup-script")],
                            dict(SLUICE_NODE_IP=ip, SLUICE_NODE_CONF=os.path.join(d, "node.conf"),
                                 SLUICE_BIN=ARGS.sluice), d, "serial.log")
    op = operation("insert", "%s/instances/%s" % (base, name))
    with lock:
        state["instances"][name] = entry
        if rid:
            state["requests"][rid] = op
    return op


class Handler(MockHandler):
    mock_name = "mock_gcp"

    def reply(self, code, obj):
        self.reply_json(code, obj, "application/json; charset=UTF-8")

    def route(self, method):
        u = urlsplit(self.path)
        raw = self.read_body()
        q = parse_qs(u.query)
        if u.path == "/_mock/faults":
            faults.add(raw)
            return self.reply(200, {})
        if u.path == "/_mock/requests":
            with lock:
                return self.reply(200, state["log"])
        if u.path == "/_mock/instances":
            with lock:
                return self.reply(200, list(state["instances"].values()))
        if u.path == "/token" and method == "POST":
            form = parse_qs(raw.decode())
            entry = {"kind": "token", "status": None}
            with lock:
                state["log"].append(entry)
            try:
                if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
                    raise Refuse(400, "unsupported_grant_type", "Invalid grant_type")
                check_jwt(form.get("assertion", [""])[0])
            except Refuse as r:
                entry["status"] = r.code
                return self.reply(r.code, {"error": r.reason, "error_description": r.message})
            tok = "ya29.mock-" + uuid.uuid4().hex
            with lock:
                state["tokens"].add(tok)
            entry["status"] = 200
            return self.reply(200, {"access_token": tok, "expires_in": 3599,
                                    "token_type": "Bearer"})
        m = re.match(r"^/compute/v1/projects/([^/]+)/zones/([^/]+)/instances(?:/([^/]+))?$",
                     u.path)
        kind = {("POST", False): "insert", ("GET", False): "list",
                ("DELETE", True): "delete"}.get((method, bool(m and m.group(3))))
        entry = {"kind": kind, "query": u.query, "body": raw.decode("utf-8", "replace"),
                 "status": None}
        with lock:
            state["log"].append(entry)
        try:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in state["tokens"]:
                raise Refuse(401, "required", "Request is missing required authentication "
                             "credential. Expected OAuth 2 access token.")
            if not m or not kind:
                raise Refuse(404, "notFound", "The requested URL was not found")
            if m.group(1) != ARGS.project or m.group(2) != ARGS.zone:
                raise Refuse(404, "notFound", "The resource 'projects/%s/zones/%s' was not found"
                             % (m.group(1), m.group(2)))
            fault = faults.take(kind)
            if fault:
                raise Refuse(fault["code"], fault.get("reason", "rateLimitExceeded"),
                             fault.get("message", "Rate Limit Exceeded"))
            base = "projects/%s/zones/%s" % (m.group(1), m.group(2))
            if kind == "insert":
                op = insert(base, q, raw)
                entry["status"] = 200
                return self.reply(200, op)
            if kind == "list":
                flt = unquote(q.get("filter", [""])[0])
                fm = re.match(r'^labels\.([a-z0-9_-]+)\s*=\s*"?([^"]*)"?$', flt) if flt else None
                if flt and not fm:
                    raise Refuse(400, "invalid", "Invalid value for field 'filter'")
                with lock:
                    items = [dict((k, v) for k, v in i.items() if k != "pid")
                             for i in state["instances"].values()
                             if not fm or i["labels"].get(fm.group(1)) == fm.group(2)]
                try:
                    size = int(q.get("maxResults", ["500"])[0])
                    if not 0 <= size <= 500:
                        raise ValueError(size)
                    if ARGS.page_size:
                        size = min(size or 500, ARGS.page_size)
                    items, token = page(items, q.get("pageToken", [""])[0], size)
                except ValueError:
                    raise Refuse(400, "invalid", "Invalid value for field 'pageToken' or "
                                 "'maxResults'")
                out = {"kind": "compute#instanceList", "id": base + "/instances"}
                if items:
                    out["items"] = items
                if token:
                    out["nextPageToken"] = token
                entry["status"] = 200
                return self.reply(200, out)
            with lock:
                i = state["instances"].pop(m.group(3), None)
            if not i:
                raise Refuse(404, "notFound", "The resource '%s/instances/%s' was not found"
                             % (base, m.group(3)))
            kill_group(i["pid"])
            entry["status"] = 200
            return self.reply(200, operation("delete", "%s/instances/%s" % (base, m.group(3))))
        except Refuse as r:
            entry["status"] = r.code
            self.reply(r.code, {"error": {"code": r.code, "message": r.message, "errors": [
                {"message": r.message, "domain": "global", "reason": r.reason}],
                "status": STATUS.get(r.code, "UNKNOWN")}})


def main():
    global ARGS, ADDRS
    ap = argparse.ArgumentParser()
    for a in ("--listen", "--state", "--sluice", "--addr-base", "--public-key", "--email",
              "--project", "--zone"):
        ap.add_argument(a, required=True)
    ap.add_argument("--page-size", type=int, default=0,
                    help="instances a list page holds at most (0: as maxResults asks)")
    ARGS = ap.parse_args()
    ARGS.token_url = "http://%s/token" % ARGS.listen
    ADDRS = Addresses(lock, ARGS.addr_base)
    os.makedirs(ARGS.state, exist_ok=True)

    def machines():
        with lock:
            return [i["pid"] for i in state["instances"].values()]
    serve(ARGS.listen, Handler, machines)


if __name__ == "__main__":
    main()
