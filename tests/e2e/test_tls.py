# SPDX-License-Identifier: Apache-2.0
"""TLS on every port: HTTPS and RTMPS on the node with a test CA made by openssl in the test's
directory; curl, ffmpeg and ffprobe as the clients, verifying the certificate where they can;
the certificate swapped and SIGHUP while an RTMPS viewer watches; an https:// manager that a
node registers with when it trusts the CA and refuses when it does not."""
import os
import signal
import socket
import ssl
import subprocess
import time

from harness import Node, check, check_media, log_text, play_ffmpeg, publish, wait_for

HTTPS_PORT = 5443
RTMPS_PORT = 1936


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True,
                   timeout=30)


def make_ca(t, name):
    """A CA (EC P-256) in the test's directory; returns its certificate's path."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
             "-subj", "/CN=sluice test " + name, cwd=t.tmpdir)
    return t.path(name + ".pem")


def make_cert(t, ca, name, ips):
    """A server certificate for ips signed by ca; returns (cert path, key path)."""
    with open(t.path(name + ".ext"), "w") as f:
        f.write("subjectAltName=" + ",".join("IP:" + ip for ip in ips) + "\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + ips[0],
             cwd=t.tmpdir)
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
             "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext",
             cwd=t.tmpdir)
    return t.path(name + ".pem"), t.path(name + ".key")


def tls_node(t, cert, key, args=()):
    node = Node(t.procs, args=["--tls-cert", cert, "--tls-key", key,
                               "--https-port", str(HTTPS_PORT), "--rtmps-port", str(RTMPS_PORT),
                               "--memory-limit", "100"] + list(args))
    wait_for(lambda: socket.create_connection((node.addr, HTTPS_PORT), timeout=0.5) and
             socket.create_connection((node.addr, RTMPS_PORT), timeout=0.5), 10,
             "the HTTPS and RTMPS listeners")
    return node


def curl(url, ca, *extra):
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", ca] + list(extra) + [url],
                       capture_output=True, timeout=20)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def served_issuer(addr, port, ca):
    """The issuer CN of the certificate a new TLS connection gets, verified against ca."""
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection((addr, port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=addr) as s:
            cert = s.getpeercert()
            version = s.version()
    issuer = dict(x[0] for x in cert["issuer"])
    return issuer["commonName"], version


def rtmps(node, stream):
    return "rtmps://%s:%d/live/%s" % (node.addr, RTMPS_PORT, stream)


def https(node, path):
    return "https://%s:%d%s" % (node.addr, HTTPS_PORT, path)


def test_https_and_rtmps(t):
    """ffmpeg publishes over RTMPS; curl reads the API and the HLS playlist over HTTPS with the
    CA; ffmpeg plays over RTMPS and over HTTPS (HTTP-FLV, certificate verified), and what each
    saved decodes; plain TLS 1.1 and a client speaking plain RTMP to the RTMPS port are
    refused; /metrics counts the handshakes."""
    make_ca(t, "ca")
    make_ca(t, "other")
    cert, key = make_cert(t, "ca", "node", _block_ips())
    node = tls_node(t, cert, key, ["--hls-format", "ts"])
    ca = t.path("ca.pem")
    publish(t.procs, rtmps(node, "s1"))
    node.wait_live("live", "s1")

    rc, out, err = curl(https(node, "/api/v1/streams"), ca)
    check(rc == 0 and '"s1"' in out, "API over HTTPS: rc=%d %s %s" % (rc, out[:200], err))
    rc, out, err = wait_for(lambda: (lambda r: r if r[0] == 0 and "#EXTINF" in r[1] else None)(
        curl(https(node, "/live/s1/index.m3u8"), ca)), 20, "an HLS playlist over HTTPS")
    check(out.startswith("#EXTM3U"), "HLS playlist over HTTPS: %s" % out[:200])
    # A client that does not trust the CA is refused by its own check: the cert is ours.
    rc, _, err = curl(https(node, "/healthz"), t.path("other.pem"))
    check(rc != 0 and ("certificate" in err or "SSL" in err),
          "curl without our CA should fail verification: rc=%d %s" % (rc, err))

    v1 = play_ffmpeg(t.procs, rtmps(node, "s1"), t.path("rtmps.flv"), 4, name="rtmps-viewer")
    v2 = play_ffmpeg(t.procs, https(node, "/live/s1.flv"), t.path("https.flv"), 4,
                     name="https-viewer", extra_in=["-tls_verify", "1", "-ca_file", ca])
    for v in (v1, v2):
        check(v.wait(timeout=30) == 0, "%s failed:\n%s" % (v.name, log_text(v)[-2000:]))
    check_media(t.path("rtmps.flv"), 3, "RTMPS playback")
    check_media(t.path("https.flv"), 3, "HTTP-FLV over HTTPS")

    # TLS 1.1 is refused (TLS 1.2 is the least we speak).
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    refused = False
    try:
        with socket.create_connection((node.addr, HTTPS_PORT), timeout=5) as raw:
            with ctx.wrap_socket(raw):
                pass
    except (ssl.SSLError, OSError):
        refused = True
    check(refused, "a TLS 1.1 handshake was accepted")
    # Plain RTMP bytes on the RTMPS port: a failed handshake, the connection closed.
    with socket.create_connection((node.addr, RTMPS_PORT), timeout=5) as s:
        s.sendall(b"\x03" + bytes(1536))
        s.settimeout(5)
        try:
            got = s.recv(4096)
        except OSError:
            got = b""
        check(not got.startswith(b"\x03"), "plain RTMP answered on the RTMPS port")
    _, _, body = node.http("/metrics")
    m = {l.split()[0]: float(l.split()[1]) for l in body.decode().splitlines()
         if l.startswith("sluice_tls_")}
    check(m.get("sluice_tls_handshakes_total", 0) >= 4 and
          m.get("sluice_tls_handshake_failures_total", 0) >= 2, "TLS metrics: %s" % m)


def test_reload_keeps_viewers(t):
    """The certificate and key are swapped for ones from another CA and the node gets SIGHUP
    while an RTMPS viewer and an HTTP-FLV viewer over HTTPS watch: both keep receiving to the
    end, a new connection verifies only against the new CA, and a broken file on a second
    SIGHUP keeps the certificate served (tls_reload_failed)."""
    make_ca(t, "ca1")
    make_ca(t, "ca2")
    cert, key = make_cert(t, "ca1", "node", _block_ips())
    make_cert(t, "ca2", "node2", _block_ips())
    node = tls_node(t, cert, key)
    publish(t.procs, rtmps(node, "s2"))
    node.wait_live("live", "s2")
    issuer, version = served_issuer(node.addr, RTMPS_PORT, t.path("ca1.pem"))
    check(issuer == "sluice test ca1" and version in ("TLSv1.2", "TLSv1.3"),
          "before: %s %s" % (issuer, version))
    before = node.api("/api/v1/node")["tls"]
    check(before["https_port"] == HTTPS_PORT and before["rtmps_port"] == RTMPS_PORT and
          len(before["cert_sha256"]) == 64, "API's tls: %s" % before)

    viewer = play_ffmpeg(t.procs, rtmps(node, "s2"), t.path("watch.flv"), 8, name="watcher")
    hviewer = play_ffmpeg(t.procs, https(node, "/live/s2.flv"), t.path("hwatch.flv"), 8,
                          name="https-watcher",
                          extra_in=["-tls_verify", "1", "-ca_file", t.path("ca1.pem")])
    for f in ("watch.flv", "hwatch.flv"):
        wait_for(lambda: os.path.exists(t.path(f)) and os.path.getsize(t.path(f)) > 20000, 15,
                 "the viewer writing %s to receive" % f)
    os.replace(t.path("node2.pem"), cert)
    os.replace(t.path("node2.key"), key)
    node.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "tls_reloaded" in node.log(), 5, "tls_reloaded in the log")
    after = node.api("/api/v1/node")["tls"]["cert_sha256"]
    check(after != before["cert_sha256"] and after in node.log(),
          "the API and the log name the new certificate: %s" % after)
    for port in (RTMPS_PORT, HTTPS_PORT):
        issuer, _ = served_issuer(node.addr, port, t.path("ca2.pem"))
        check(issuer == "sluice test ca2", "after reload, port %d serves %s" % (port, issuer))
    rc, _, _ = curl(https(node, "/healthz"), t.path("ca1.pem"))
    check(rc != 0, "the old CA still verifies a new connection after reload")
    rc, out, err = curl(https(node, "/healthz"), t.path("ca2.pem"))
    check(rc == 0 and out.strip() == "ok", "new CA: rc=%d %s %s" % (rc, out, err))

    # A key that does not match: refused, the served certificate stays.
    with open(key, "w") as f:
        f.write("not a key\n")
    node.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "tls_reload_failed" in node.log(), 5, "tls_reload_failed in the log")
    issuer, _ = served_issuer(node.addr, HTTPS_PORT, t.path("ca2.pem"))
    check(issuer == "sluice test ca2", "a failed reload changed the certificate")

    for v in (viewer, hviewer):
        check(v.wait(timeout=30) == 0, "%s failed across the reload:\n%s" % (
            v.name, log_text(v)[-2000:]))
    check_media(t.path("watch.flv"), 7, "RTMPS viewer across the reload")
    check_media(t.path("hwatch.flv"), 7, "HTTPS (HTTP-FLV) viewer across the reload")


def _block_ips():
    # Node() picks its address after the certificate is made: name every address of the
    # test's block the harness may hand out.
    from harness import ADDR_BLOCK
    return ["127.%d.0.%d" % (ADDR_BLOCK, i) for i in range(1, 41)]


def https_manager(t, args=()):
    """A manager with a certificate from the test's CA "ca" (made by the caller), a group g1
    (no edges, up to 3 origins); returns its address and an API call over HTTPS."""
    import json
    import urllib.request
    from harness import ADDR_BLOCK, SLUICE, new_addr, port_open
    from manager_util import LAUNCH_CONFIG, SECRET, TOKEN, scale_policy
    maddr = new_addr()
    cert, key = make_cert(t, "ca", "mgr", [maddr])
    mgr = t.procs.start([SLUICE, "manager", "--listen", "%s:5070" % maddr,
                         "--db", "sqlite:" + t.path("m.db"), "--admin-token", TOKEN,
                         "--cluster-secret", SECRET, "--tls-cert", cert, "--tls-key", key,
                         "--node-dir", t.path("nodes"), "--local-addr-base",
                         "127.%d.1" % ADDR_BLOCK, "--stop-nodes-on-exit"] + list(args),
                        "manager")
    wait_for(lambda: mgr.poll() is not None or port_open(maddr, 5071), 15, "manager to listen")
    check(mgr.poll() is None, "manager exited:\n" + log_text(mgr))
    ctx = ssl.create_default_context(cafile=t.path("ca.pem"))

    def api(path, method="GET", body=None):
        req = urllib.request.Request("https://%s:5070%s" % (maddr, path), method=method,
                                     headers={"Authorization": "Bearer " + TOKEN,
                                              "Content-Type": "application/json"},
                                     data=json.dumps(body).encode() if body else None)
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return json.loads(r.read() or b"{}")

    api("/api/v1/launchconfigs", "POST", LAUNCH_CONFIG)
    api("/api/v1/scalepolicies", "POST", scale_policy("no edges", edges=(0, 1), origins=(0, 3)))
    api("/api/v1/groups", "POST", {"name": "g1", "regions": ["local"], "launchConfig": "e2e",
                                   "scalePolicy": "e2e", "replaceDeadNodes": False})
    return maddr, api


def test_https_manager(t):
    """A manager with tls-cert serves its API and node listener over HTTPS only; a node with the
    CA in manager-ca-file registers over https:// and heartbeats; a node whose manager-ca-file
    holds another CA refuses the manager (its log says the certificate did not verify) and the
    manager never lists it; a node the local controller launches trusts the manager's
    certificate and registers."""
    import urllib.request
    from manager_util import SECRET
    make_ca(t, "ca")
    make_ca(t, "other")
    maddr, api = https_manager(t)
    # Plain HTTP to the API gets no answer: the listener speaks TLS only.
    try:
        urllib.request.urlopen("http://%s:5070/api/v1/nodes" % maddr, timeout=5).read()
        check(False, "plain HTTP was answered by an HTTPS manager")
    except Exception:
        pass

    murl = "https://%s:5071" % maddr
    common = ["--role", "origin", "--group", "g1", "--manager", murl, "--cluster-secret", SECRET,
              "--memory-limit", "100"]
    ncert, nkey = make_cert(t, "ca", "node", _block_ips())
    good = Node(t.procs, args=common + ["--manager-ca-file", t.path("ca.pem"), "--tls-cert",
                                        ncert, "--tls-key", nkey, "--https-port", str(HTTPS_PORT),
                                        "--rtmps-port", str(RTMPS_PORT)], name="node-good")
    bad = Node(t.procs, args=common + ["--manager-ca-file", t.path("other.pem")],
               name="node-bad")
    wait_for(lambda: any(n["id"] == "node-good" and n["state"] == "alive"
                         for n in api("/api/v1/nodes")["nodes"]), 15,
             "the node with the CA to register over HTTPS")
    wait_for(lambda: "manager_registered" in good.log(), 5, "manager_registered in its log")
    # Routing answers carry the node's TLS URLs (its heartbeat says which ports it has).
    route = api("/api/v1/streams/live/sec?action=broadcast")
    check(route["node"] == "node-good" and route["urls"].get("secure", {}).get("rtmp") ==
          "rtmps://%s:%d/live/sec" % (good.addr, RTMPS_PORT), "route: %s" % route)
    wait_for(lambda: "certificate verify failed" in bad.log(), 10,
             "the node with the wrong CA to refuse the manager")
    wait_for(lambda: [l for l in bad.log().splitlines()
                      if "manager_link_down" in l and "certificate verify failed" in l and
                      maddr in l], 5, "a manager_link_down line naming the manager and why")
    time.sleep(1.5)  # a few more heartbeats' time
    ids = [n["id"] for n in api("/api/v1/nodes")["nodes"]]
    check("node-bad" not in ids and "node-good" in ids, "manager lists %s" % ids)
    check("manager_registered" not in bad.log(), "the refused manager registered the node")

    # sluice ctl speaks HTTPS to it, verifying against the CA it is given.
    from harness import SLUICE
    from manager_util import TOKEN
    ctl = [SLUICE, "ctl", "--manager", "https://%s:5070" % maddr, "--token", TOKEN]
    r = subprocess.run(ctl + ["--ca-file", t.path("ca.pem"), "nodes", "--json"],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 0 and "node-good" in r.stdout, "ctl over HTTPS: %s %s" % (
        r.returncode, r.stderr))
    r = subprocess.run(ctl + ["--ca-file", t.path("other.pem"), "nodes"], capture_output=True,
                       text=True, timeout=20)
    check(r.returncode != 0 and "certificate verify failed" in r.stderr,
          "ctl trusting another CA: %s %s" % (r.returncode, r.stderr))

    # The local controller's nodes are told to trust the manager's certificate: an origin it
    # launches registers over HTTPS and goes alive.
    api("/api/v1/groups/g1/origins", "POST", {})
    wait_for(lambda: any(n["role"] == "origin" and n["state"] == "alive" and
                         n["id"] not in ("node-good", "node-bad")
                         for n in api("/api/v1/nodes")["nodes"]), 20,
             "an origin launched by the local controller to register over HTTPS")


def tls_relay(addr, cert, key, upstream):
    """A man in the middle with a certificate the edge trusts: it ends the edge's TLS and opens
    its own TLS session to the origin, passing bytes both ways unchanged (what a relayed
    cluster proof needs); the recording proxy of cluster_util with TLS on both sides."""
    from cluster_util import Recorder

    class TlsRelay(Recorder):
        def wrap_accepted(self, c):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            return ctx.wrap_socket(c, server_side=True)

        def wrap_upstream(self, u):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx.wrap_socket(u)

    return TlsRelay(addr, upstream[0], upstream[1], listen_port=RTMPS_PORT)


def test_cluster_links_over_tls(t):
    """An edge with cluster-tls pulls from the origin's RTMPS port (verified against the test
    CA) and serves the stream; a second edge reaching the origin through a relay that ends TLS
    with a certificate the edge trusts and opens its own TLS to the origin is refused: the proof
    is bound to each TLS session, so the relayed one fails at the origin."""
    from cluster_util import downstream, origin
    from harness import new_addr
    make_ca(t, "ca")
    cert, key = make_cert(t, "ca", "node", _block_ips())
    ca = t.path("ca.pem")
    tls_args = ["--tls-cert", cert, "--tls-key", key, "--https-port", "0",
                "--rtmps-port", str(RTMPS_PORT), "--memory-limit", "100"]
    org = origin(t.procs, "node-origin", args=tls_args)
    publish(t.procs, org.rtmp("live", "c1"))
    org.wait_live("live", "c1")
    edge_args = ["--cluster-tls", "true", "--cluster-ca-file", ca, "--memory-limit", "100"]
    edge = downstream(t.procs, "node-edge", "edge", ["%s:%d" % (org.addr, RTMPS_PORT)],
                      args=edge_args)
    v = play_ffmpeg(t.procs, edge.rtmp("live", "c1"), t.path("edge.flv"), 4, name="edge-viewer")
    check(v.wait(timeout=30) == 0, "viewer of the TLS-linked edge failed:\n" +
          log_text(v)[-2000:])
    check_media(t.path("edge.flv"), 3, "through a cluster link over TLS")
    links = [c for c in org.api("/api/v1/clients")["clients"]
             if c.get("protocol") == "rtmps"]
    check(links, "the origin sees no RTMPS cluster link: %s" % org.api("/api/v1/clients"))

    relay = tls_relay(new_addr(), cert, key, (org.addr, RTMPS_PORT))
    try:
        edge2 = downstream(t.procs, "node-edge2", "edge",
                           ["%s:%d" % (relay.addr, relay.rtmp_port)], args=edge_args)
        p = play_ffmpeg(t.procs, edge2.rtmp("live", "c1"), t.path("relayed.flv"), 2,
                        name="relayed-viewer")
        wait_for(lambda: "relayed from another TLS session" in org.log(), 15,
                 "the origin to refuse the relayed proof")
        check(relay.up and relay.down and len(relay.everything()) > 0,
              "the relay carried nothing")
        wait_for(lambda: "refused our cluster proof" in edge2.log(), 10,
                 "the edge behind the relay to see the refusal")
        accepted = [ln for ln in org.log().splitlines()
                    if "cluster_peer_accepted" in ln and "node-edge2" in ln]
        check(not accepted, "the relayed edge was accepted: %s" % accepted)
        p.terminate()  # the edge would hold it for `linger`, waiting for an upstream
        p.wait(timeout=10)
        check(not os.path.exists(t.path("relayed.flv")) or
              os.path.getsize(t.path("relayed.flv")) < 20000,
              "media reached the edge behind the relay")
    finally:
        relay.close()


def test_watch_page_and_whep_over_https(t):
    """Over HTTPS the watch page loads and Chromium, on a page of the node's HTTPS origin (a
    secure context), plays the stream over WHEP: signalling over HTTPS, media over DTLS-SRTP
    as always; DASH's manifest is served over HTTPS too."""
    import json
    from harness import fixture
    make_ca(t, "ca")
    cert, key = make_cert(t, "ca", "node", _block_ips())
    ca = t.path("ca.pem")
    node = tls_node(t, cert, key)
    publish(t.procs, node.rtmp("live", "w1"), media=fixture(bframes=0))
    node.wait_live("live", "w1")
    rc, page, err = curl(https(node, "/live/w1/"), ca)
    check(rc == 0 and "<html" in page.lower(), "watch page over HTTPS: rc=%d %s" % (rc, err))
    wait_for(lambda: (lambda r: r[0] == 0 and "<MPD" in r[1])(
        curl(https(node, "/live/w1/manifest.mpd"), ca)), 20, "a DASH manifest over HTTPS")
    here = os.path.dirname(os.path.abspath(__file__))
    driver = os.path.join(here, "..", "browser", "whep.mjs")
    p = t.procs.start(["node", driver, https(node, "/healthz"), https(node, "/live/w1/whep"),
                       "4"], "chromium-whep-https", stdout=subprocess.PIPE,
                      env=dict(os.environ, SLUICE_BROWSER_IGNORE_CERTS="1"))
    out, _ = p.communicate(timeout=90)
    lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("{")]
    check(p.returncode == 0 and lines, "the browser driver exited with %s" % p.returncode)
    r = json.loads(lines[-1])
    check("failure" not in r and not r["pageErrors"], "WHEP over HTTPS: %s %s" % (
        r.get("failure"), r["pageErrors"]))
    check(r.get("secureContext") is True, "the HTTPS page is not a secure context")
    check(r.get("status") == 201, "WHEP over HTTPS answered %s: %s" % (r.get("status"),
                                                                      r.get("error")))
    check(r.get("connectionState") == "connected", "connection %s" % r.get("connectionState"))
    frames = [f for _, f in r["samples"]]
    check(frames and frames[-1] - frames[0] >= 25 * 4 * 0.5, "frames decoded: %s" % frames)
    check(r.get("deleteStatus") == 200, "DELETE over HTTPS answered %s" % r.get("deleteStatus"))


def test_manager_client_certificates(t):
    """With tls-client-ca-file the manager's node listener asks for a client certificate: a
    node without one is refused in the handshake (and says so); a node with one signed by the
    CA (manager-client-cert, manager-client-key) registers."""
    from manager_util import SECRET
    make_ca(t, "ca")
    maddr, api = https_manager(t, ["--tls-client-ca-file", t.path("ca.pem")])
    ccert, ckey = make_cert(t, "ca", "client", ["127.0.0.1"])
    common = ["--role", "origin", "--group", "g1", "--manager", "https://%s:5071" % maddr,
              "--cluster-secret", SECRET, "--manager-ca-file", t.path("ca.pem"),
              "--memory-limit", "100"]
    with_cert = Node(t.procs, args=common + ["--manager-client-cert", ccert,
                                             "--manager-client-key", ckey], name="node-cert")
    without = Node(t.procs, args=common, name="node-nocert")
    wait_for(lambda: any(n["id"] == "node-cert" and n["state"] == "alive"
                         for n in api("/api/v1/nodes")["nodes"]), 15,
             "the node with a client certificate to register")
    wait_for(lambda: "manager_link_down" in without.log(), 10,
             "the node without a client certificate to be refused")
    time.sleep(1.5)
    ids = [n["id"] for n in api("/api/v1/nodes")["nodes"]]
    check("node-nocert" not in ids, "a node without a client certificate registered: %s" % ids)


def test_ctl_cut_answer(t):
    """sluice ctl over HTTPS takes a connection cut before the whole body (fewer bytes than
    Content-Length, a clean TLS end) as an error, never as the answer."""
    import threading
    from harness import SLUICE, new_addr
    addr = new_addr()
    make_ca(t, "cutca")
    cert, key = make_cert(t, "cutca", "cut", [addr])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    lsock = socket.create_server((addr, 5070))
    lsock.settimeout(15)

    def serve():
        try:
            c, _ = lsock.accept()
            with ctx.wrap_socket(c, server_side=True) as s:
                s.recv(65536)
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 200\r\n\r\n{\"nodes\": [")
                s.unwrap()  # a clean TLS end, the body cut short
        except (OSError, ssl.SSLError):
            pass
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    r = subprocess.run([SLUICE, "ctl", "--manager", "https://%s:5070" % addr, "--ca-file",
                        t.path("cutca.pem"), "nodes", "--json"], capture_output=True, text=True,
                       timeout=20)
    th.join(5)
    lsock.close()
    check(r.returncode != 0 and "cut short" in r.stderr, "ctl on a cut answer: %d %s %s" % (
        r.returncode, r.stdout, r.stderr))
