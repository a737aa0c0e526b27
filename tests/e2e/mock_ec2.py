#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mock_ec2.py - a MOCK of the EC2 Query API for the aws controller's tests (no cloud is
reachable here).  It checks every request the way EC2 does: a Signature Version 4
Authorization (recomputed here from the request, written from the published algorithm),
a known access key, a fresh X-Amz-Date, the ec2 service and our region, the Version and
the Action's required parameters; and it answers in the documented XML shapes, errors
included (Response/Errors/Error with Code and Message).

It cannot start virtual machines: an "instance" is its user data run as a shell script on
this machine with SLUICE_NODE_IP (a loopback address the mock assigns as the instance's
private IP), SLUICE_NODE_CONF and SLUICE_BIN set, so the node really boots from what the
manager wrote.  It also serves the instance metadata service's IMDSv2 paths (a session
token, then a role's temporary credentials), which it accepts like long-lived keys.

Test controls (not EC2): POST /_mock/faults {"RunInstances": [{"code": ..., "status": ...,
"message": ...}, ...]} queues error answers for the next calls of an action;
GET /_mock/requests lists the calls received (action, parameters; UserData left out);
GET /_mock/instances lists the instances with their pids.  DescribeInstances answers pages
of at most MaxResults (and --page-size, a test knob) with nextToken when more follow.

    mock_ec2.py --listen ADDR:PORT --state DIR --sluice BIN --addr-base 127.B.C [--page-size N]
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import threading
import urllib.parse
import uuid

from mock_http import Addresses, Faults, MockHandler, boot, kill_group, page, serve

ACCESS_KEY = "AKIDMOCKEC2EXAMPLE"
SECRET_KEY = "mock/ec2/secret/key/EXAMPLEKEY0123456789"
IMDS_ROLE = "sluice-manager-role"
IMDS_KEY = "ASIAMOCKIMDSEXAMPLE"
IMDS_SECRET = "mock/imds/temporary/secret/EXAMPLE0123"
IMDS_TOKEN = "mock-imds-session-token-EXAMPLE"
NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
USER_DATA_MAX = 16384  # bytes, decoded (EC2's limit)

lock = threading.Lock()
state = {"instances": {}, "tokens": {}, "requests": [], "imds_sessions": set()}
faults = Faults(lock)


def xml_escape(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def error_xml(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
            '<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>'
            % (xml_escape(code), xml_escape(message), uuid.uuid4()))


class Refuse(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def sigv4_check(method, path, query, headers, body, region, secrets):
    """Recomputes the request's signature the way EC2 does; raises Refuse if it differs."""
    auth = headers.get("authorization")
    if not auth:
        raise Refuse(401, "MissingAuthenticationToken",
                     "The request must contain either a valid (registered) AWS access key ID "
                     "or X.509 certificate.")
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                 r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$", auth)
    if not m:
        raise Refuse(400, "IncompleteSignature", "Authorization header is malformed.")
    akid, date, reg, service, signed, sig = m.groups()
    secret = secrets.get(akid)
    if secret is None:
        raise Refuse(401, "AuthFailure",
                     "AWS was not able to validate the provided access credentials")
    if akid == IMDS_KEY and headers.get("x-amz-security-token") != IMDS_TOKEN:
        raise Refuse(401, "AuthFailure", "The security token included in the request is invalid")
    if service != "ec2" or reg != region:
        raise Refuse(401, "AuthFailure", "Credential should be scoped to a valid region "
                     "and service (ec2 in %s), not %s in %s" % (region, service, reg))
    amz_date = headers.get("x-amz-date", "")
    try:
        t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Refuse(400, "IncompleteSignature", "X-Amz-Date is missing or malformed")
    if amz_date[:8] != date:
        raise Refuse(403, "SignatureDoesNotMatch", "Credential date does not match X-Amz-Date")
    if abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) > 300:
        raise Refuse(400, "RequestExpired", "Request has expired.")
    names = signed.split(";")
    if "host" not in names or "x-amz-date" not in names or names != sorted(names):
        raise Refuse(403, "SignatureDoesNotMatch", "SignedHeaders must be sorted and include "
                     "host and x-amz-date")
    canon_headers = ""
    for n in names:
        if n not in headers:
            raise Refuse(403, "SignatureDoesNotMatch", "signed header %s is missing" % n)
        canon_headers += "%s:%s\n" % (n, " ".join(headers[n].split()))
    q = sorted((urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
               for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True))
    canon_query = "&".join("%s=%s" % kv for kv in q)
    creq = "\n".join([method, urllib.parse.quote(path, safe="/-_.~"), canon_query,
                      canon_headers, signed, hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (date, reg, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    k = h(h(h(h(("AWS4" + secret).encode(), date), reg), service), "aws4_request")
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig):
        raise Refuse(403, "SignatureDoesNotMatch",
                     "The request signature we calculated does not match the signature you "
                     "provided. Check your AWS Secret Access Key and signing method.")


def instance_xml(inst):
    tags = "".join("<item><key>%s</key><value>%s</value></item>" % (xml_escape(k), xml_escape(v))
                   for k, v in inst["tags"].items())
    code = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48}[inst["state"]]
    return ("<item><instanceId>%s</instanceId><imageId>%s</imageId><instanceState><code>%d"
            "</code><name>%s</name></instanceState><privateDnsName>ip-mock.internal"
            "</privateDnsName><dnsName/><instanceType>%s</instanceType><launchTime>%s"
            "</launchTime><placement><availabilityZone>%sa</availabilityZone></placement>"
            "<subnetId>%s</subnetId><privateIpAddress>%s</privateIpAddress><tagSet>%s</tagSet>"
            "</item>" % (inst["id"], xml_escape(inst["image"]), code, inst["state"],
                         xml_escape(inst["type"]), inst["launched"], ARGS.region,
                         xml_escape(inst["subnet"]), inst["ip"], tags))


def params_indexed(params, prefix):
    """Values of PREFIX.1, PREFIX.2, ... in order."""
    out, i = [], 1
    while "%s.%d" % (prefix, i) in params:
        out.append(params["%s.%d" % (prefix, i)])
        i += 1
    return out


def run_instances(p):
    for req in ("MinCount", "MaxCount"):
        if req not in p:
            raise Refuse(400, "MissingParameter", "The request must contain the parameter %s" % req)
    if p["MinCount"] != "1" or p["MaxCount"] != "1":
        raise Refuse(400, "InvalidParameterValue", "this mock launches one instance per call")
    image = p.get("ImageId")
    if not image and not (p.get("LaunchTemplate.LaunchTemplateName") or
                          p.get("LaunchTemplate.LaunchTemplateId")):
        raise Refuse(400, "MissingParameter", "The request must contain the parameter ImageId")
    if image and not re.match(r"^ami-[0-9a-f]{8,17}$", image):
        raise Refuse(400, "InvalidAMIID.Malformed", 'Invalid id: "%s"' % image)
    itype = p.get("InstanceType", "m5.large")
    if not re.match(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", itype):
        raise Refuse(400, "InvalidParameterValue",
                     "Invalid value '%s' for InstanceType." % itype)
    token = p.get("ClientToken")
    with lock:
        if token and token in state["tokens"]:
            return state["tokens"][token], False  # idempotent: the same instance again
    tags = {}
    if p.get("TagSpecification.1.ResourceType") == "instance":
        for i in range(1, 51):
            k = p.get("TagSpecification.1.Tag.%d.Key" % i)
            if k is None:
                break
            tags[k] = p.get("TagSpecification.1.Tag.%d.Value" % i, "")
    try:
        script = base64.b64decode(p.get("UserData", ""), validate=True)
    except ValueError:
        raise Refuse(400, "InvalidParameterValue", "Invalid BASE64 encoding of user data.")
    if len(script) > USER_DATA_MAX:
        raise Refuse(400, "InvalidParameterValue", "User data is limited to 16384 bytes")
    ip = ADDRS.take()
    with lock:
        iid = "i-%017x" % int(uuid.uuid4().hex[:17], 16)
        inst = {"id": iid, "image": image or "ami-fromtemplate0", "type": itype, "ip": ip,
                "state": "running", "tags": tags, "subnet": p.get("SubnetId", "subnet-mock0000"),
                "launched": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "pid": 0, "security_groups": params_indexed(p, "SecurityGroupId")}
        state["instances"][iid] = inst
        if token:
            state["tokens"][token] = inst
    if script:
        udir = os.path.join(ARGS.state, iid)
        os.makedirs(udir, exist_ok=True)
        path = os.path.join(udir, "user-data")
        with open(path, "wb") as f:
            f.write(script)
        inst["pid"] = boot(["sh", path], dict(SLUICE_NODE_IP=ip, SLUICE_BIN=ARGS.sluice,
                                              SLUICE_NODE_CONF=os.path.join(udir, "node.conf")),
                           udir, "console.log")
    return inst, True


def terminate_instances(p):
    ids = params_indexed(p, "InstanceId")
    if not ids:
        raise Refuse(400, "MissingParameter", "The request must contain the parameter InstanceId")
    items = []
    with lock:
        for iid in ids:
            if iid not in state["instances"]:
                raise Refuse(400, "InvalidInstanceID.NotFound",
                             "The instance ID '%s' does not exist" % iid)
        for iid in ids:
            inst = state["instances"][iid]
            prev = inst["state"]
            if inst["state"] != "terminated":
                kill_group(inst["pid"])
            inst["state"] = "terminated"
            items.append("<item><instanceId>%s</instanceId><currentState><code>32</code>"
                         "<name>shutting-down</name></currentState><previousState><code>16"
                         "</code><name>%s</name></previousState></item>" % (iid, prev))
    return ("<TerminateInstancesResponse xmlns=\"%s\"><requestId>%s</requestId><instancesSet>%s"
            "</instancesSet></TerminateInstancesResponse>" % (NS, uuid.uuid4(), "".join(items)))


def describe_instances(p):
    filters = []
    i = 1
    while "Filter.%d.Name" % i in p:
        filters.append((p["Filter.%d.Name" % i], params_indexed(p, "Filter.%d.Value" % i)))
        i += 1
    with lock:
        out = []
        for inst in state["instances"].values():
            ok = True
            for name, values in filters:
                if name.startswith("tag:"):
                    ok = ok and inst["tags"].get(name[4:]) in values
                elif name == "instance-state-name":
                    ok = ok and inst["state"] in values
                else:
                    raise Refuse(400, "InvalidParameterValue",
                                 "The filter '%s' is invalid" % name)
            if ok:
                out.append(inst)
    try:
        size = int(p.get("MaxResults", "0"))
        if size and not 5 <= size <= 1000:
            raise ValueError(size)
        if ARGS.page_size:
            size = min(size or 1000, ARGS.page_size)
        out, token = page(out, p.get("NextToken", ""), size)
    except ValueError:
        raise Refuse(400, "InvalidParameterValue", "Invalid NextToken or MaxResults")
    with lock:
        body = "".join("<item><reservationId>r-mock</reservationId><ownerId>123456789012"
                       "</ownerId><groupSet/><instancesSet>%s</instancesSet></item>"
                       % instance_xml(x) for x in out)
    nt = "<nextToken>%s</nextToken>" % token if token else ""
    return ("<DescribeInstancesResponse xmlns=\"%s\"><requestId>%s</requestId><reservationSet>"
            "%s</reservationSet>%s</DescribeInstancesResponse>" % (NS, uuid.uuid4(), body, nt))


class Handler(MockHandler):
    mock_name = "mock_ec2"

    def reply(self, status, body, ctype="text/xml;charset=UTF-8"):
        self.send(status, body, ctype)

    def imds(self):
        if self.command == "PUT" and self.path == "/latest/api/token":
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400, "missing TTL", "text/plain")
            tok = uuid.uuid4().hex
            state["imds_sessions"].add(tok)
            return self.reply(200, tok, "text/plain")
        # IMDSv2 only: a GET without a session token is refused.
        if self.headers.get("X-aws-ec2-metadata-token") not in state["imds_sessions"]:
            return self.reply(401, "", "text/plain")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.reply(200, IMDS_ROLE, "text/plain")
        if self.path == base + IMDS_ROLE:
            exp = (datetime.datetime.utcnow() + datetime.timedelta(hours=6)).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
            return self.reply(200, json.dumps({
                "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": IMDS_KEY,
                "SecretAccessKey": IMDS_SECRET, "Token": IMDS_TOKEN, "Expiration": exp}),
                "application/json")
        return self.reply(404, "", "text/plain")

    def do_PUT(self):
        self.imds()

    def do_GET(self):
        if self.path.startswith("/latest/"):
            return self.imds()
        if self.path == "/_mock/requests":
            with lock:
                return self.reply(200, json.dumps(state["requests"]), "application/json")
        if self.path == "/_mock/instances":
            with lock:
                return self.reply(200, json.dumps(list(state["instances"].values())),
                                  "application/json")
        self.reply(400, error_xml("InvalidAction", "EC2 answers POSTs of the Query API"))

    def do_POST(self):
        raw = self.read_body()
        if self.path == "/_mock/faults":
            faults.add(raw)
            return self.reply(200, "{}", "application/json")
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        p = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        action = p.get("Action")
        entry = {"action": action, "params": {k: v for k, v in p.items() if k != "UserData"},
                 "userDataBytes": len(p.get("UserData", "")),
                 "securityToken": bool(headers.get("x-amz-security-token")), "refused": None}
        with lock:
            state["requests"].append(entry)
        try:
            try:
                sigv4_check("POST", path, query, headers, raw, ARGS.region,
                            {ACCESS_KEY: SECRET_KEY, IMDS_KEY: IMDS_SECRET})
            except Refuse as r:
                entry["refused"] = r.code
                raise
            if not headers.get("content-type", "").startswith(
                    "application/x-www-form-urlencoded"):
                raise Refuse(400, "InvalidParameterValue", "expected a form-encoded body")
            if p.get("Version") != "2016-11-15":
                raise Refuse(400, "InvalidParameterValue", "unsupported Version %r"
                             % p.get("Version"))
            fault = faults.take(action)
            if fault:
                raise Refuse(fault.get("status", 400), fault["code"],
                             fault.get("message", fault["code"]))
            if action == "RunInstances":
                inst, _ = run_instances(p)
                return self.reply(200, "<RunInstancesResponse xmlns=\"%s\"><requestId>%s"
                                  "</requestId><reservationId>r-mock</reservationId><ownerId>"
                                  "123456789012</ownerId><groupSet/><instancesSet>%s"
                                  "</instancesSet></RunInstancesResponse>"
                                  % (NS, uuid.uuid4(), instance_xml(inst)))
            if action == "TerminateInstances":
                return self.reply(200, terminate_instances(p))
            if action == "DescribeInstances":
                return self.reply(200, describe_instances(p))
            raise Refuse(400, "InvalidAction", "The action %s is not valid for this web service."
                         % action)
        except Refuse as r:
            self.reply(r.status, error_xml(r.code, r.message))


def main():
    global ARGS, ADDRS
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--addr-base", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--page-size", type=int, default=0,
                    help="instances a DescribeInstances page holds at most (0: MaxResults)")
    ARGS = ap.parse_args()
    ADDRS = Addresses(lock, ARGS.addr_base)
    os.makedirs(ARGS.state, exist_ok=True)

    def machines():
        with lock:
            return [i["pid"] for i in state["instances"].values() if i["state"] != "terminated"]
    serve(ARGS.listen, Handler, machines)


if __name__ == "__main__":
    main()
