#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mock_k8s.py - a MOCK of the Kubernetes API's core/v1 pods for the kubernetes controller's
tests (no cluster is reachable here).  It checks what the API server checks for these calls:
the bearer token (401 Unauthorized otherwise), the JSON content type, a Pod's apiVersion and
kind, a DNS-1123 name, label values, containers with a name and an image, a restartPolicy
it knows, env secretKeyRef naming a Secret that exists in the namespace (else the pod could
not start), duplicate names (409 AlreadyExists); lists select on one label equality and
answer pages of at most `limit` (and --page-size, a test knob) with metadata.continue when
more follow; it answers with Pod, PodList and Status objects in the documented shapes.

It cannot run containers: a pod is its container's command run on this machine with POD_IP
(a loopback address the mock assigns), the referenced secret's value in its env var, and
SLUICE_BIN / SLUICE_BIND / SLUICE_NODE_CONF set, so the node boots from the pod spec.

Test controls: POST /_mock/faults {"create": [{"code": 429, "reason": ..., "message": ...}]},
GET /_mock/requests, GET /_mock/pods.

    mock_k8s.py --listen ADDR:PORT --token TOKEN --secret NS/NAME/KEY=VALUE --state DIR
                --sluice BIN --addr-base 127.B.C
"""
import argparse
import datetime
import json
import os
import re
import threading
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

from mock_http import Addresses, Faults, MockHandler, boot, kill_group, page, serve

lock = threading.Lock()
state = {"pods": {}, "requests": []}
faults = Faults(lock)
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def status(code, reason, message):
    return code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": message, "reason": reason, "code": code}


class Refuse(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def validate_pod(ns, pod):
    if pod.get("apiVersion") != "v1" or pod.get("kind") != "Pod":
        raise Refuse(400, "BadRequest", "the object is not a v1 Pod")
    md = pod.get("metadata") or {}
    name = md.get("name", "")
    if not name or len(name) > 253 or not DNS1123.match(name):
        raise Refuse(422, "Invalid", 'Pod "%s" is invalid: metadata.name: Invalid value' % name)
    for k, v in (md.get("labels") or {}).items():
        if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE.match(v):
            raise Refuse(422, "Invalid", "metadata.labels: Invalid value: %r" % v)
    spec = pod.get("spec") or {}
    if spec.get("restartPolicy", "Always") not in ("Always", "OnFailure", "Never"):
        raise Refuse(422, "Invalid", "spec.restartPolicy: Unsupported value")
    cs = spec.get("containers") or []
    if not cs:
        raise Refuse(422, "Invalid", "spec.containers: Required value")
    env = {}
    for c in cs:
        if not c.get("name") or not c.get("image"):
            raise Refuse(422, "Invalid", "spec.containers[0].image: Required value")
        for e in c.get("env", []):
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                key = "%s/%s/%s" % (ns, ref.get("name"), ref.get("key"))
                if key not in ARGS.secrets:
                    raise Refuse(422, "Invalid", "secret %s/%s (key %s) not found: the pod "
                                 "could not start" % (ns, ref.get("name"), ref.get("key")))
                env[e["name"]] = ARGS.secrets[key]
            elif "value" in e:
                env[e["name"]] = e["value"]
    return name, env


def start_pod(ns, pod, env):
    ip = ADDRS.take()
    name = pod["metadata"]["name"]
    pdir = os.path.join(ARGS.state, name)
    c = pod["spec"]["containers"][0]
    cmd = list(c.get("command") or []) + list(c.get("args") or [])
    e = dict(POD_IP=ip, SLUICE_BIN=ARGS.sluice, SLUICE_BIND=ip,
             SLUICE_NODE_CONF=os.path.join(pdir, "node.conf"))
    e.update(env)
    pid = boot(cmd, e, pdir, "container.log")
    now = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    pod = json.loads(json.dumps(pod))
    pod["metadata"].update({"namespace": ns, "uid": str(uuid.uuid4()), "creationTimestamp": now,
                            "resourceVersion": str(len(state["requests"]))})
    pod["status"] = {"phase": "Pending"}  # no podIP yet, as a real create answers
    with lock:
        state["pods"][(ns, name)] = {"pod": pod, "pid": pid, "ip": ip}
    return pod


def pod_view(entry):
    pod = json.loads(json.dumps(entry["pod"]))
    if not pod["metadata"].get("deletionTimestamp"):
        pod["status"] = {"phase": "Running", "podIP": entry["ip"], "hostIP": "127.0.0.1"}
    return pod


class Handler(MockHandler):
    mock_name = "mock_k8s"

    def reply(self, code, obj):
        self.reply_json(code, obj, headers=[("Retry-After", "1")] if code == 429 else [])

    def route(self, method):
        u = urlsplit(self.path)
        raw = self.read_body()
        if u.path == "/_mock/faults" and method == "POST":
            faults.add(raw)
            return self.reply(200, {})
        if u.path == "/_mock/requests":
            with lock:
                return self.reply(200, state["requests"])
        if u.path == "/_mock/pods":
            with lock:
                return self.reply(200, [dict(pod_view(e), pid=e["pid"])
                                        for e in state["pods"].values()])
        m = re.match(r"^/api/v1/namespaces/([^/]+)/pods(?:/([^/]+))?$", u.path)
        kind = {("POST", False): "create", ("GET", False): "list",
                ("DELETE", True): "delete"}.get((method, bool(m and m.group(2))))
        entry = {"method": method, "path": u.path, "query": u.query, "kind": kind,
                 "body": raw.decode("utf-8", "replace"), "status": None}
        with lock:
            state["requests"].append(entry)
        try:
            if self.headers.get("Authorization") != "Bearer " + ARGS.token:
                raise Refuse(401, "Unauthorized", "Unauthorized")
            if not m or not kind:
                raise Refuse(404, "NotFound", "the server could not find the requested resource")
            ns = m.group(1)
            fault = faults.take(kind)
            if fault:
                raise Refuse(fault["code"], fault.get("reason", "TooManyRequests"),
                             fault.get("message", "the server has received too many requests"))
            if kind == "create":
                if not self.headers.get("Content-Type", "").startswith("application/json"):
                    raise Refuse(415, "UnsupportedMediaType", "the body must be JSON")
                pod = json.loads(raw)
                name, env = validate_pod(ns, pod)
                with lock:
                    if (ns, name) in state["pods"]:
                        raise Refuse(409, "AlreadyExists", 'pods "%s" already exists' % name)
                entry["status"] = 201
                return self.reply(201, start_pod(ns, pod, env))
            if kind == "list":
                q = parse_qs(u.query)
                k, _, v = unquote(q.get("labelSelector", [""])[0]).partition("=")
                with lock:
                    items = [pod_view(e) for (pns, _), e in state["pods"].items()
                             if pns == ns and (not k or e["pod"]["metadata"].get("labels", {})
                                               .get(k) == v)]
                try:
                    size = int(q.get("limit", ["0"])[0])
                    if size < 0:
                        raise ValueError(size)
                    if ARGS.page_size:
                        size = min(size or ARGS.page_size, ARGS.page_size)
                    items, token = page(items, q.get("continue", [""])[0], size)
                except ValueError:
                    raise Refuse(410, "Expired", "the provided continue parameter is too old "
                                 "or malformed")
                md = {"resourceVersion": "1"}
                if token:
                    md["continue"] = token
                entry["status"] = 200
                return self.reply(200, {"kind": "PodList", "apiVersion": "v1",
                                        "metadata": md, "items": items})
            with lock:
                e = state["pods"].get((ns, m.group(2)))
                if not e:
                    raise Refuse(404, "NotFound", 'pods "%s" not found' % m.group(2))
                del state["pods"][(ns, m.group(2))]
            kill_group(e["pid"])
            e["pod"]["metadata"]["deletionTimestamp"] = datetime.datetime.utcnow().strftime(
                "%Y-%m-%dT%H:%M:%SZ")
            entry["status"] = 200
            return self.reply(200, pod_view(e))
        except Refuse as r:
            entry["status"] = r.code
            code, obj = status(r.code, r.reason, r.message)
            self.reply(code, obj)


def main():
    global ARGS, ADDRS
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--secret", action="append", default=[])
    ap.add_argument("--state", required=True)
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--addr-base", required=True)
    ap.add_argument("--page-size", type=int, default=0,
                    help="pods a list page holds at most (0: as limit asks)")
    ARGS = ap.parse_args()
    ARGS.secrets = dict(s.split("=", 1) for s in ARGS.secret)
    ADDRS = Addresses(lock, ARGS.addr_base)
    os.makedirs(ARGS.state, exist_ok=True)

    def machines():
        with lock:
            return [e["pid"] for e in state["pods"].values()]
    serve(ARGS.listen, Handler, machines)


if __name__ == "__main__":
    main()
