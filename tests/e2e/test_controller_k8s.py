# SPDX-License-Identifier: Apache-2.0
"""The manager with `--controller kubernetes` against mock_k8s.py, a MOCK of the Kubernetes
API's pods (bearer token, Pod validation, Status errors; no cluster is reachable from the
tests).  Its pods run their container command on this machine, so the nodes are real: a group
comes up as pods (after a throttled create, retried), a viewer watches through the edge pod,
the pod spec has the documented shape with the cluster secret only as a secretKeyRef, a killed
node's pod is replaced, a restarted manager adopts the pods the list shows without creating
any, and a wrong token is a clear launch failure."""
import json
import os
import signal

from harness import ADDR_BLOCK, check, shared_machine_bin, wait_for
from manager_util import SECRET, Manager, publish_live, scale_policy, watch_at_edge
from mock_http import MockCloud

MOCK_PORT = 6443
TOKEN = "mock-k8s-service-account-token-0123"
NS = "sluice-e2e"


class MockK8s(MockCloud):
    def __init__(self, t):
        super().__init__(t, "mock_k8s.py", MOCK_PORT, [
            "--token", TOKEN, "--secret", "%s/sluice-cluster/cluster-secret=%s" % (NS, SECRET),
            "--state", t.path("pods"), "--sluice", shared_machine_bin(t.path("")),
            "--addr-base", "127.%d.4" % ADDR_BLOCK,
            "--page-size", "1"], "mock-k8s")  # one pod a list page: two nodes take two

    def requests(self, kind=None):
        return [r for r in self.get("/_mock/requests") if kind is None or r["kind"] == kind]

    def pod(self, name):
        return next((p for p in self.get("/_mock/pods") if p["metadata"]["name"] == name), None)


def _manager(t, k8s, token=TOKEN, name="k8s"):
    path = t.path("token-" + name)
    with open(path, "w") as f:
        f.write(token + "\n")
    return Manager(t, db=t.path(name + ".db"), args=[
        "--controller", "kubernetes", "--k8s-api", k8s.url, "--k8s-namespace", NS,
        "--k8s-token-file", path, "--k8s-cluster-label", "e2e-%d" % ADDR_BLOCK,
        "--controller-retries", "3", "--reconcile-interval", "1s"])


def _group(m):
    m.ok("/api/v1/launchconfigs", "POST", {"launchconfig": {
        "name": "e2e", "image": "ghcr.io/example/sluice:0.1", "version": "0.1",
        "properties": {"cpu": "500m", "memory": "256Mi", "rtmpPort": 1935, "httpPort": 5080},
        "targets": {"target": [
            {"role": "origin", "instanceType": "pod", "connectionCapacity": "50"},
            {"role": "edge", "instanceType": "pod", "connectionCapacity": "10"}]}}})
    m.ok("/api/v1/scalepolicies", "POST", scale_policy("k8s", edges=(1, 2), origins=(1, 1)))
    m.ok("/api/v1/groups", "POST", {"name": "g1", "regions": ["cluster"], "launchConfig": "e2e",
                                    "scalePolicy": "e2e", "replaceDeadNodes": True})
    m.ok("/api/v1/groups/g1/origins", "POST", {})


def test_k8s_pods_group_replace_adopt(t):
    k8s = MockK8s(t)
    m = _manager(t, k8s)
    try:
        k8s.faults("create", [{"code": 429, "reason": "TooManyRequests",
                               "message": "the server has received too many requests"}])
        _group(m)
        wait_for(lambda: len(m.nodes("origin", ["alive"])) == 1 and
                 len(m.nodes("edge", ["alive"])) == 1, 40, "origin and edge pods alive")
        check(any("TooManyRequests" in e["message"] for e in m.events()
                  if e["kind"] == "cloud_retry"), "the throttled create was retried")
        origin = m.nodes("origin")[0]
        check(origin["controller"] == "kubernetes" and origin["host"].startswith(
            "127.%d.4." % ADDR_BLOCK), "the origin registered with its pod IP: %s" % origin)
        # The pod spec's documented shape.
        body = json.loads([r for r in k8s.requests("create") if r["status"] == 201][0]["body"])
        c = body["spec"]["containers"][0]
        labels = body["metadata"]["labels"]
        check(body["apiVersion"] == "v1" and body["kind"] == "Pod" and
              body["spec"]["restartPolicy"] == "Never" and
              labels["sluice/cluster"] == "e2e-%d" % ADDR_BLOCK and labels["sluice/role"] ==
              "origin" and c["image"] == "ghcr.io/example/sluice:0.1" and
              c["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"} and
              {p["containerPort"] for p in c["ports"]} == {1935, 5080}, "pod spec: %s" % body)
        check(SECRET not in json.dumps(body) and any(
            e.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == "sluice-cluster"
            for e in c["env"]), "the secret only as a secretKeyRef: %s" % c["env"])

        publish_live(t, m, "live", "k")
        watch_at_edge(t, m, "live", "k", "a viewer of an edge pod")

        # A node that dies: its pod is deleted and another created.
        edge = m.nodes("edge", ["alive"])[0]
        os.kill(k8s.pod(edge["id"])["pid"], signal.SIGKILL)
        wait_for(lambda: [n for n in m.nodes("edge", ["alive"]) if n["id"] != edge["id"]], 30,
                 "a replacement edge pod alive")
        wait_for(lambda: k8s.pod(edge["id"]) is None, 10, "the dead node's pod deleted")

        # Manager restart: pods adopted, none created.
        before = sorted(n["id"] for n in m.nodes())
        creates = len(k8s.requests("create"))
        def second_pages():
            return len([r for r in k8s.requests("list") if "continue=" in r["query"]])
        pages = second_pages()
        m.kill()
        m.start("node-manager-2")
        # Two second pages asked: at least one whole list was read after the restart.
        wait_for(lambda: second_pages() > pages + 1, 10, "the new manager's list, both pages")
        check(sorted(n["id"] for n in m.nodes(states=["alive"])) == before,
              "nodes kept: %s" % m.nodes())
        check(len(k8s.requests("create")) == creates, "no pod created after the restart")
        check(sorted(p["metadata"]["name"] for p in k8s.get("/_mock/pods")) == before,
              "one pod per node")
        # stop-nodes-on-exit: the manager deletes its pods before it exits.
        m.proc.send_signal(signal.SIGTERM)
        m.proc.wait(timeout=15)
        check(k8s.get("/_mock/pods") == [], "pods left after the manager stopped: %s"
              % [p["metadata"]["name"] for p in k8s.get("/_mock/pods")])
    finally:
        m.cleanup()
    # A token the API server does not accept: the launch fails with its Status message.
    m = _manager(t, k8s, token="a-wrong-token-0123", name="k8s-bad")
    try:
        _group(m)
        failed = m.first_event("launch_failed", "the refused create")
        check("HTTP 401: Unauthorized" in failed["message"], "the API's words: %s" % failed)
    finally:
        m.cleanup()
        k8s.stop()
