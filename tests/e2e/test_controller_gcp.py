# SPDX-License-Identifier: Apache-2.0
"""The manager with `--controller gcp` against mock_gcp.py, a MOCK of Google's token endpoint
and the Compute Engine instances API (no cloud is reachable from the tests).  The token
exchange is real RS256 (the mock verifies the JWT with the account's public key); the mock's
instances run their startup-script here, so the nodes are real: a group comes up through
instances.insert (after a rate-limit answer, retried with the same requestId), a viewer
watches through the edge, a restarted manager adopts what instances.list shows without
inserting, and a service account whose key the token endpoint does not accept is a clear
launch failure."""
import json
import subprocess

from harness import ADDR_BLOCK, check, shared_machine_bin, wait_for
from manager_util import SECRET, Manager, publish_live, scale_policy, watch_at_edge
from mock_http import MockCloud

MOCK_PORT = 8774
EMAIL = "sluice-manager@e2e-project.iam.gserviceaccount.com"
PROJECT = "e2e-project"
ZONE = "us-central1-a"


def _key(t, name):
    path = t.path(name + ".pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", path], check=True, capture_output=True)
    return path


class MockGCP(MockCloud):
    def __init__(self, t, key):
        pub = t.path("sa-pub.pem")
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True,
                       capture_output=True)
        super().__init__(t, "mock_gcp.py", MOCK_PORT, [
            "--state", t.path("gce"), "--sluice", shared_machine_bin(t.path("")),
            "--addr-base", "127.%d.5" % ADDR_BLOCK, "--public-key", pub,
            "--email", EMAIL, "--project", PROJECT, "--zone", ZONE,
            # one instance a list page: two nodes take two pages
            "--page-size", "1"], "mock-gcp")

    def requests(self, kind):
        return [r for r in self.get("/_mock/requests") if r["kind"] == kind]

    def instance(self, name):
        return next((i for i in self.get("/_mock/instances") if i["name"] == name), None)


def _manager(t, gcp, key_pem, name):
    with open(key_pem) as f:
        pem = f.read()
    kf = t.path(name + "-sa.json")
    with open(kf, "w") as f:
        json.dump({"type": "service_account", "project_id": PROJECT, "private_key_id": "k1",
                   "private_key": pem, "client_email": EMAIL, "token_uri": gcp.url + "/token"}, f)
    return Manager(t, db=t.path(name + ".db"), args=[
        "--controller", "gcp", "--gcp-credentials-file", kf, "--gcp-zone", ZONE,
        "--gcp-endpoint", gcp.url + "/compute/v1", "--gcp-cluster-label", "e2e-%d" % ADDR_BLOCK,
        "--controller-retries", "3", "--reconcile-interval", "1s"])


def _group(m):
    m.ok("/api/v1/launchconfigs", "POST", {"launchconfig": {
        "name": "e2e", "image": "sluice", "version": "0.1",
        "properties": {"sourceImage": "projects/e2e-project/global/images/sluice-0-1",
                       "subnetwork": "regions/us-central1/subnetworks/media"},
        "targets": {"target": [
            {"role": "origin", "instanceType": "n2-standard-2", "connectionCapacity": "50"},
            {"role": "edge", "instanceType": "n2-standard-2", "connectionCapacity": "10"}]}}})
    m.ok("/api/v1/scalepolicies", "POST", scale_policy("gcp", edges=(1, 2), origins=(1, 1)))
    m.ok("/api/v1/groups", "POST", {"name": "g1", "regions": ["us-central1"],
                                    "launchConfig": "e2e", "scalePolicy": "e2e"})
    m.ok("/api/v1/groups/g1/origins", "POST", {})


def test_gcp_instances_token_adopt(t):
    key = _key(t, "sa")
    gcp = MockGCP(t, key)
    m = _manager(t, gcp, key, "gcp")
    try:
        gcp.faults("insert", [{"code": 429, "reason": "rateLimitExceeded",
                               "message": "Rate Limit Exceeded"}])
        _group(m)
        wait_for(lambda: len(m.nodes("origin", ["alive"])) == 1 and
                 len(m.nodes("edge", ["alive"])) == 1, 40, "origin and edge instances alive")
        check([r["status"] for r in gcp.requests("token")][:1] == [200],
              "the JWT was accepted: %s" % gcp.requests("token"))
        check(any("rateLimitExceeded" in e["message"] for e in m.events()
                  if e["kind"] == "cloud_retry"), "the rate-limited insert was retried")
        inserts = gcp.requests("insert")
        origin = m.nodes("origin")[0]
        mine = [r for r in inserts if json.loads(r["body"])["name"] == origin["id"]]
        check(len(mine) == 2 and mine[0]["query"] == mine[1]["query"] and
              "requestId=" in mine[0]["query"], "the retry kept its requestId: %s" %
              [r["query"] for r in mine])
        body = json.loads(mine[1]["body"])
        check(body["machineType"] == "zones/%s/machineTypes/n2-standard-2" % ZONE and
              body["labels"]["sluice-cluster"] == "e2e-%d" % ADDR_BLOCK and
              body["labels"]["sluice-node"] == origin["id"] and
              body["disks"][0]["initializeParams"]["sourceImage"].endswith("sluice-0-1") and
              body["networkInterfaces"][0]["subnetwork"] ==
              "regions/us-central1/subnetworks/media" and
              body["metadata"]["items"][0]["key"] == "startup-script", "insert body: %s" % body)
        check(SECRET not in body["metadata"]["items"][0]["value"] and
              "tok='" in body["metadata"]["items"][0]["value"],
              "the startup-script holds a one-time token, not the cluster secret")
        check(origin["host"] == gcp.instance(origin["id"])["networkInterfaces"][0]["networkIP"],
              "the node registered with its networkIP: %s" % origin)

        publish_live(t, m, "live", "g")
        watch_at_edge(t, m, "live", "g", "a viewer of a Compute Engine (mock) edge")

        before = sorted(n["id"] for n in m.nodes())
        n_insert = len(gcp.requests("insert"))

        def second_pages():
            return len([r for r in gcp.requests("list") if "pageToken=" in r["query"]])
        pages = second_pages()
        m.kill()
        m.start("node-manager-2")
        # Two second pages asked: at least one whole list was read after the restart; had
        # the second page been dropped, its node would look gone and be replaced.
        wait_for(lambda: second_pages() > pages + 1, 10, "the new manager's list, both pages")
        check(sorted(n["id"] for n in m.nodes(states=["alive"])) == before, "nodes kept")
        check(len(gcp.requests("insert")) == n_insert, "no insert after the restart")
        check(sorted(i["name"] for i in gcp.get("/_mock/instances")) == before,
              "one instance per node")
    finally:
        m.cleanup()
    # A key that cannot sign RS256 (an EC key): the launch fails with the reason, found
    # before anything is sent and delivered on a later loop turn (delivered inside the
    # launch call, it freed the node mgr_launch was still using: the sanitizer build sees
    # that); the manager goes on.
    ec = t.path("ec.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", ec], check=True, capture_output=True)
    m = _manager(t, gcp, ec, "gcp-ec")
    try:
        _group(m)
        failed = m.first_event("launch_failed", "the launch with an EC key to fail")
        check("not an RSA private key" in failed["message"], "the reason: %s" % failed)
        check(m.proc.poll() is None and m.http("/healthz", token=None)[0] == 200,
              "the manager still runs")
    finally:
        m.cleanup()
    other = _key(t, "other")
    m = _manager(t, gcp, other, "gcp-bad")
    try:
        _group(m)
        failed = m.first_event("launch_failed", "the refused token")
        check("invalid_grant: Invalid JWT Signature." in failed["message"],
              "the token endpoint's words: %s" % failed)
    finally:
        m.cleanup()
        gcp.stop()
