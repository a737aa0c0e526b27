# SPDX-License-Identifier: Apache-2.0
"""The manager with `--controller aws` against mock_ec2.py, a MOCK of the EC2 Query API that
checks each request's Signature Version 4 and answers in EC2's documented shapes (no cloud is
reachable from the tests).  Its "instances" run their user data on this machine, so the nodes
are real: a group comes up through RunInstances (after throttling and a capacity error,
retried), grows under real viewers and shrinks by draining and TerminateInstances, a killed
node is replaced, and a restarted manager adopts the instances DescribeInstances lists
without launching again.  Bad credentials, exhausted capacity and bad properties are clear
errors; credentials from the instance metadata service (IMDSv2) work."""
import glob
import hashlib
import hmac
import json
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request

from harness import ADDR_BLOCK, check, check_media, shared_machine_bin, wait_for
from manager_util import SECRET, Manager, publish_live, scale_policy, viewers_over_two_edges

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mock_ec2  # noqa: E402  (its keys)
from mock_http import MockCloud  # noqa: E402

MOCK_PORT = 8773


class MockEC2(MockCloud):
    def __init__(self, t, name="mock-ec2", page_size=0):
        super().__init__(t, "mock_ec2.py", MOCK_PORT, [
            "--state", t.path(name), "--sluice", shared_machine_bin(t.path("")),
            "--addr-base", "127.%d.3" % ADDR_BLOCK, "--page-size", str(page_size)], name)
        self.url += "/"   # the endpoint EC2 answers at

    def requests(self, action=None):
        return [r for r in self.get("_mock/requests") if action is None or r["action"] == action]

    def instance(self, node_id):
        for i in self.get("_mock/instances"):
            if i["tags"].get("sluice:node") == node_id:
                return i
        return None


def _launch_config(props):
    return {"launchconfig": {
        "name": "e2e", "image": "sluice", "version": "0.0.1", "properties": props,
        "targets": {"target": [
            {"role": "origin", "instanceType": "c5.large", "connectionCapacity": "50"},
            {"role": "edge", "instanceType": "c5.large", "connectionCapacity": "2"}]}}}


PROPS = {"imageId": "ami-0123456789abcdef0", "subnetId": "subnet-0abc",
         "securityGroupIds": "sg-01,sg-02", "rtmpPort": 1935, "httpPort": 5080}


def _aws_manager(t, ec2, creds=True, extra=()):
    """creds: True (the environment), a secret string (a shared credentials file, profile
    e2e), or False (neither: IMDSv2)."""
    os.environ.pop("AWS_SESSION_TOKEN", None)
    if creds is True:
        os.environ["AWS_ACCESS_KEY_ID"] = mock_ec2.ACCESS_KEY
        os.environ["AWS_SECRET_ACCESS_KEY"] = mock_ec2.SECRET_KEY
    elif creds:
        os.environ.pop("AWS_ACCESS_KEY_ID", None)
        os.environ.pop("AWS_SECRET_ACCESS_KEY", None)
        path = t.path("aws-credentials")
        with open(path, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDNOTTHISONE\naws_secret_access_key = x\n\n"
                    "[e2e]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (mock_ec2.ACCESS_KEY, creds))
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = path
        os.environ["AWS_PROFILE"] = "e2e"
    else:
        os.environ.pop("AWS_ACCESS_KEY_ID", None)
        os.environ.pop("AWS_SECRET_ACCESS_KEY", None)
        os.environ["HOME"] = t.path("home")  # no ~/.aws/credentials there: IMDS is asked
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = t.path("home/none")
    return Manager(t, args=["--controller", "aws", "--aws-endpoint", ec2.url,
                            "--aws-imds-endpoint", ec2.url.rstrip("/"),
                            "--aws-cluster-tag", "e2e-%d" % ADDR_BLOCK, "--controller-retries", "3",
                            "--reconcile-interval", "1s"] + list(extra))


def _group(m, props=PROPS, edges=(1, 2)):
    m.ok("/api/v1/launchconfigs", "POST", _launch_config(props))
    m.ok("/api/v1/scalepolicies", "POST", scale_policy("aws", edges=edges, origins=(1, 1)))
    m.ok("/api/v1/groups", "POST", {"name": "g1", "regions": ["us-east-1"],
                                    "launchConfig": "e2e", "scalePolicy": "e2e",
                                    "replaceDeadNodes": True})
    m.ok("/api/v1/groups/g1/origins", "POST", {})


def test_aws_group_scales_replaces_and_is_adopted(t):
    # One instance a DescribeInstances page: every list of two nodes takes two pages.
    ec2 = MockEC2(t, page_size=1)
    m = _aws_manager(t, ec2)
    try:
        # The first two RunInstances calls are throttled, then refused for capacity: the
        # controller backs off and tries again; the origin still comes up.
        ec2.faults("RunInstances", [
            {"status": 503, "code": "RequestLimitExceeded", "message": "Request limit exceeded."},
            {"status": 500, "code": "InsufficientInstanceCapacity",
             "message": "We currently do not have sufficient c5.large capacity in the "
                        "Availability Zone you requested (us-east-1a)."}])
        _group(m)
        wait_for(lambda: len(m.nodes("origin", ["alive"])) == 1 and
                 len(m.nodes("edge", ["alive"])) == 1, 40, "origin and first edge alive")
        retries = [e["message"] for e in m.events() if e["kind"] == "cloud_retry"]
        check(any("RequestLimitExceeded" in r for r in retries) and
              any("InsufficientInstanceCapacity" in r for r in retries),
              "retries with the cloud's codes: %s" % retries)
        origin = m.nodes("origin")[0]
        check(origin["controller"] == "aws" and origin["instance"].startswith("i-") and
              origin["host"].startswith("127.%d.3." % ADDR_BLOCK), "origin: %s" % origin)
        # The request shape EC2 documents, and our tags.
        run = ec2.requests("RunInstances")[-1]["params"]
        for k, v in {"ImageId": PROPS["imageId"], "InstanceType": "c5.large", "MinCount": "1",
                     "MaxCount": "1", "SubnetId": "subnet-0abc", "SecurityGroupId.1": "sg-01",
                     "SecurityGroupId.2": "sg-02", "TagSpecification.1.ResourceType": "instance",
                     "TagSpecification.1.Tag.1.Key": "sluice:cluster",
                     "TagSpecification.1.Tag.1.Value": "e2e-%d" % ADDR_BLOCK,
                     "TagSpecification.1.Tag.2.Key": "sluice:node"}.items():
            check(run.get(k) == v, "RunInstances %s=%r, expected %r" % (k, run.get(k), v))
        # The user data holds a one-time token, never the cluster secret; once the node
        # booted, that token opens nothing.
        uds = glob.glob(t.path("mock-ec2/i-*/user-data"))
        check(uds, "the mock kept the user data")
        for path in uds:
            with open(path) as f:
                text = f.read()
            check(SECRET not in text and re.search(r"tok='[0-9a-f]{64}'", text),
                  "user data with a token, without the secret: %s" % text[:300])
        with open(uds[0]) as f:
            text = f.read()
        tok = re.search(r"tok='([0-9a-f]{64})'", text).group(1)
        nid = re.search(r"id='([^']+)'", text).group(1)
        ms = int(time.time() * 1000)
        proof = hmac.new(tok.encode(), ("sluice-bootstrap-v1\n%s\n%d" % (nid, ms)).encode(),
                         hashlib.sha256).hexdigest()
        req = urllib.request.Request("http://%s:%d/api/v1/cluster/bootstrap" % (m.addr,
                                     m.port + 1), method="POST", data=json.dumps(
                                     {"id": nid, "time": ms, "proof": proof}).encode())
        try:
            urllib.request.urlopen(req, timeout=5)
            check(False, "a spent bootstrap token was answered")
        except urllib.error.HTTPError as e:
            check(e.code == 401, "spent token: %d" % e.code)
        tokens = [r["params"]["ClientToken"] for r in ec2.requests("RunInstances")]
        check(tokens.count(origin["id"]) == 3, "the retried launch kept its ClientToken: %s"
              % tokens)

        publish_live(t, m, "live", "a")
        time.sleep(3.2)  # the broadcast route's reservation lapses
        viewers, routed = viewers_over_two_edges(t, m, "live", "a")
        check(len(set(routed)) == 2, "viewers on 2 edges: %s" % routed)
        for path, v in viewers:
            v.wait(timeout=40)
            check_media(path, 4.5, "a viewer of an EC2 (mock) edge")
        wait_for(lambda: len(m.nodes("edge")) == 1, 40, "back to 1 edge")
        removed = [e for e in m.events() if e["kind"] == "node_removed"]
        check(removed and all("drained" in e["message"] for e in removed),
              "removed once drained: %s" % removed)
        gone = [r for r in routed if r != m.nodes("edge")[0]["id"]][0]
        wait_for(lambda: ec2.instance(gone)["state"] == "terminated", 10,
                 "TerminateInstances for the drained edge")

        # A node whose process dies is replaced with a new instance.
        edge = m.nodes("edge", ["alive"])[0]
        os.kill(ec2.instance(edge["id"])["pid"], signal.SIGKILL)
        wait_for(lambda: any(e["kind"] == "node_dead" and e["node"] == edge["id"]
                             for e in m.events()), 5, "the dead edge noticed", interval=0.05)
        wait_for(lambda: [n for n in m.nodes("edge", ["alive"]) if n["id"] != edge["id"]], 30,
                 "a replacement edge alive")
        wait_for(lambda: ec2.instance(edge["id"])["state"] == "terminated", 10,
                 "the dead node's instance terminated")

        # Manager restart: the instances are adopted, none launched again.
        wait_for(lambda: len(m.nodes(states=["alive"])) == len(m.nodes()), 10, "all alive")
        before = sorted(n["id"] for n in m.nodes())
        runs = len(ec2.requests("RunInstances"))

        def second_pages():
            return len([r for r in ec2.requests("DescribeInstances")
                        if r["params"].get("NextToken")])
        pages = second_pages()
        m.kill()
        m.start("node-manager-2")
        # Two second pages asked: at least one whole list was read after the restart.
        wait_for(lambda: second_pages() > pages + 1, 10,
                 "the new manager to list its instances, both pages")
        after = sorted(n["id"] for n in m.nodes(states=["alive"]))
        check(after == before, "nodes after restart %s != before %s" % (after, before))
        check(len(ec2.requests("RunInstances")) == runs, "no RunInstances after the restart")
        running = sorted(i["tags"]["sluice:node"] for i in ec2.get("_mock/instances")
                         if i["state"] == "running")
        check(running == before, "running instances %s == nodes %s (no duplicates)"
              % (running, before))
        check(not [e for e in m.events() if e["kind"] == "instance_unknown"],
              "no unknown instances")
    finally:
        m.cleanup()
        ec2.stop()


def test_aws_errors_and_imds(t):
    ec2 = MockEC2(t)
    # Properties are checked when the launch configuration is stored.
    m = _aws_manager(t, ec2, creds="not-the-secret-key-0123")
    try:
        for props, want in [({"imageId": "sluice"}, "properties.imageId"),
                            ({"subnetId": "subnet-1"}, "imageId (ami-...)"),
                            ({"imageId": "ami-0123456789abcdef0", "zone": "a"},
                             "properties.zone"),
                            ({"imageId": "ami-0123456789abcdef0", "keyName": "a b"},
                             "properties.keyName")]:
            st, out = m.http("/api/v1/launchconfigs", "POST", _launch_config(props))
            check(st == 400 and want in out["error"], "%s: %d %s" % (props, st, out))
        # A wrong secret (from the shared credentials file's e2e profile: the access key is
        # the mock's, or the answer would be AuthFailure): EC2's SignatureDoesNotMatch, not
        # retried, an event with its words.
        _group(m, edges=(0, 1))
        failed = m.first_event("launch_failed", "the failed launch")
        check("SignatureDoesNotMatch" in failed["message"] and
              "does not match the signature you provided" in failed["message"],
              "the cloud's message: %s" % failed)
        check(len(ec2.requests("RunInstances")) == 1 and
              ec2.requests("RunInstances")[0]["refused"] == "SignatureDoesNotMatch",
              "a signature error is not retried: %s" % ec2.requests("RunInstances"))
    finally:
        m.cleanup()
    t2_db = t.path("imds.db")
    # No keys in the environment or a credentials file: IMDSv2 gives temporary ones.
    m = _aws_manager(t, ec2, creds=False, extra=["--db", "sqlite:" + t2_db])
    try:
        n_before = len(ec2.requests("RunInstances"))
        ec2.faults("RunInstances", [{"status": 500, "code": "InsufficientInstanceCapacity",
                                     "message": "no capacity %d" % i} for i in range(4)])
        _group(m, edges=(0, 1))
        failed = m.first_event("launch_failed", "capacity exhausted after the retries",
                               timeout=15)
        check("InsufficientInstanceCapacity" in failed["message"] and "no capacity 3" in
              failed["message"] and "after retries" in failed["message"],
              "the last error, after retries: %s" % failed)
        reqs = ec2.requests("RunInstances")[n_before:]
        check(len(reqs) == 4 and all(r["securityToken"] for r in reqs),
              "4 tries, signed with IMDS credentials (security token): %s" % reqs)
        check(not m.nodes(), "no node for a failed launch: %s" % m.nodes())
    finally:
        m.cleanup()
        ec2.stop()
