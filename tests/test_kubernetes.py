#!/usr/bin/python3
# test_kubernetes.py: deploy/kubernetes/ parsed and held to its claims: kinds, fields, volumes, images, configs.
"""
usage: test_kubernetes.py DAEMON MANIFEST_DIR VERSION [--start]

Without --start: every manifest parses; the objects and their fields are there;
every volumeMount names a declared volume and every configMap item a key that
exists; images are pinned; no container is privileged; the ConfigMap's
ebpf-forward.conf passes the real `ebpf-forward --check-config` (as root: the
daemon wants a root-owned file); the socket, the peer's uid, the spool and the
upstream nodes agree across the files.

With --start (root, kernel suite): the daemon starts the ConfigMap's traces
under exactly the DaemonSet's capabilities (as the bounding set, with
no_new_privs), drops its privileges and stops cleanly.
"""
import configparser
import glob
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def load(mdir):
    docs = []
    for path in sorted(glob.glob(os.path.join(mdir, "*.yaml"))):
        with open(path) as f:
            for d in yaml.safe_load_all(f):
                if d is not None:
                    docs.append((os.path.basename(path), d))
    return docs


def one(objs, kind, name=None):
    found = [d for f, d in objs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]
    check(len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}")
    return found[0] if found else {}


def ini_sections(text):
    """Fluent Bit's classic format: [SECTION] then 'Key Value' lines; a list of (section, {key: [values]})."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = re.match(r"^\[(\w+)\]$", s)
        if m:
            out.append((m.group(1).upper(), {}))
            continue
        check(out, f"fluent bit line outside a section: {s}")
        k, _, v = s.partition(" ")
        out[-1][1].setdefault(k.lower(), []).append(v.strip())
    return out


def ebpf_conf(text):
    """ebpf-forward's INI ('Key = Value', repeated keys): a list of (section, {key: [values]})."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#") or s.startswith(";"):
            continue
        m = re.match(r"^\[(\w+)\]$", s)
        if m:
            out.append((m.group(1).upper(), {}))
            continue
        k, _, v = s.partition("=")
        out[-1][1].setdefault(k.strip().lower(), []).append(v.strip())
    return out


def first(sections, name, key):
    for sec, kv in sections:
        if sec == name and key in kv:
            return kv[key][0]
    return None


def containers_of(pod_spec):
    return {c["name"]: c for c in pod_spec.get("containers", [])}


def check_pod(where, spec, configmaps):
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    used = set()
    check(not spec.get("hostNetwork") and not spec.get("hostIPC"), f"{where}: hostNetwork/hostIPC")
    for c in spec.get("containers", []):
        cw = f"{where}/{c['name']}"
        sc = c.get("securityContext", {})
        check(sc.get("privileged") is False, f"{cw}: privileged must be false, and said")
        check(sc.get("allowPrivilegeEscalation") is False, f"{cw}: allowPrivilegeEscalation must be false")
        check(sc.get("readOnlyRootFilesystem") is True, f"{cw}: readOnlyRootFilesystem")
        check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{cw}: capabilities drop ALL")
        check(sc.get("seccompProfile", {}).get("type") in ("RuntimeDefault", "Localhost"), f"{cw}: seccompProfile")
        check("resources" in c and "limits" in c["resources"] and "memory" in c["resources"]["limits"],
              f"{cw}: memory limit")
        img = c.get("image", "")
        m = re.match(r"^([\w./-]+):([\w.-]+)$", img)
        check(m and m.group(2) != "latest", f"{cw}: image {img!r} not pinned to a tag")
        if img.startswith("fluent/fluent-bit:"):
            check(re.match(r"^\d+\.\d+\.\d+$", m.group(2)) is not None, f"{cw}: fluent-bit tag {img} not x.y.z")
        for vm in c.get("volumeMounts", []):
            check(vm["name"] in vols, f"{cw}: volumeMount {vm['name']} names no volume")
            used.add(vm["name"])
    for name, v in vols.items():
        check(name in used, f"{where}: volume {name} is mounted nowhere")
        if "configMap" in v:
            cm = configmaps.get(v["configMap"]["name"])
            if check(cm is not None, f"{where}: volume {name}: no ConfigMap {v['configMap']['name']}"):
                for it in v["configMap"].get("items", []):
                    check(it["key"] in cm.get("data", {}), f"{where}: volume {name}: no key {it['key']}")
            mode = v["configMap"].get("defaultMode", 0o644)
            check(mode & 0o022 == 0, f"{where}: volume {name}: writable by group or others")
    return vols


def mount_of(container, path):
    """The volumeMount whose mountPath holds path, the longest one."""
    best = None
    for vm in container.get("volumeMounts", []):
        mp = vm["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best["mountPath"]):
                best = vm
    return best


def check_config(daemon, text):
    """The real --check-config on a root-owned 0644 copy; needs root."""
    d = tempfile.mkdtemp(prefix="ebpf-forward-k8s-")
    try:
        os.chmod(d, 0o755)
        path = os.path.join(d, "ebpf-forward.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, 0, 0)
        os.chmod(path, 0o644)
        r = subprocess.run([daemon, "--check-config", "-c", path], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"--check-config failed ({r.returncode}): {r.stdout}{r.stderr}")
        check("configuration is valid" in r.stdout, f"--check-config said: {r.stdout}")
    finally:
        shutil.rmtree(d)


def start_under_caps(daemon, text, caps):
    """Starts the daemon with the config's traces under the DaemonSet's capabilities, then stops it."""
    # The pod mounts the node's /sys/kernel/tracing, which the node has mounted; without CAP_SYS_ADMIN the
    # daemon cannot mount it itself, so a fresh test machine gets it mounted here, as the node would have it.
    if not os.path.exists("/sys/kernel/tracing/events"):
        subprocess.run(["mount", "-t", "tracefs", "tracefs", "/sys/kernel/tracing"], check=True)
    d = tempfile.mkdtemp(prefix="ebpf-forward-k8s-")
    try:
        os.chmod(d, 0o755)
        spool = os.path.join(d, "spool")
        os.mkdir(spool, 0o711)
        # the pod's paths, moved under the temporary directory: nothing listens on the socket
        text = re.sub(r"(?m)^(\s*Unix_Path\s*=).*$", rf"\1 {d}/forward.sock", text)
        text = re.sub(r"(?m)^(\s*Storage_Path\s*=).*$", rf"\1 {spool}", text)
        path = os.path.join(d, "ebpf-forward.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        bounding = ",".join(["-all"] + ["+" + c.lower() for c in caps])
        argv = ["/usr/bin/setpriv", "--no-new-privs", "--inh-caps", "-all", "--bounding-set", bounding,
                daemon, "-c", path]
        p = subprocess.Popen(argv, stderr=subprocess.PIPE)
        # raw reads, not readline: a buffered reader under select() can hold lines that select never reports
        fd, raw, deadline, running = p.stderr.fileno(), b"", time.time() + 60, False
        while time.time() < deadline and not running:
            r, _, _ = select.select([fd], [], [], 1)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                raw += chunk
                running = b" running with " in raw
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            raw += p.communicate(timeout=30)[1] or b""
        except subprocess.TimeoutExpired:
            p.kill()
            raw += p.communicate()[1] or b""
        log = raw.decode(errors="replace")
        check(running, f"did not start under capabilities {caps}:\n{log}")
        check(p.returncode == 0, f"exit {p.returncode} under capabilities {caps}:\n{log}")
        check("with no capabilities" in log, f"no privilege drop in the log:\n{log}")
    finally:
        shutil.rmtree(d)


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    daemon, mdir, version = sys.argv[1], sys.argv[2], sys.argv[3]
    start = "--start" in sys.argv[4:]
    root = os.geteuid() == 0
    objs = load(mdir)
    check(objs, f"no manifests in {mdir}")
    for f, d in objs:
        for k in ("apiVersion", "kind") + (() if d.get("kind") == "Kustomization" else ("metadata",)):
            check(k in d, f"{f}: no {k}")

    ns = one(objs, "Namespace")
    nsname = ns.get("metadata", {}).get("name")
    for f, d in objs:
        if d.get("kind") not in ("Namespace", "Kustomization"):
            check(d["metadata"].get("namespace") == nsname, f"{f}: {d['kind']} not in namespace {nsname}")
    kust = one(objs, "Kustomization")
    files = {os.path.basename(p) for p in glob.glob(os.path.join(mdir, "*.yaml"))} - {"kustomization.yaml"}
    check(set(kust.get("resources", [])) == files, f"kustomization resources {kust.get('resources')} != {files}")

    configmaps = {d["metadata"]["name"]: d for f, d in objs if d.get("kind") == "ConfigMap"}
    sa = one(objs, "ServiceAccount")
    check(sa.get("automountServiceAccountToken") is False, "ServiceAccount mounts a token")

    ds = one(objs, "DaemonSet")
    spec = ds.get("spec", {}).get("template", {}).get("spec", {})
    check(ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items(),
          "DaemonSet selector does not match its pods")
    check(spec.get("serviceAccountName") == sa["metadata"]["name"], "DaemonSet's serviceAccountName")
    check(spec.get("hostPID") is True, "DaemonSet: hostPID")
    vols = check_pod("DaemonSet", spec, configmaps)
    cs = containers_of(spec)
    check(set(cs) == {"ebpf-forward", "fluent-bit"}, f"DaemonSet containers {set(cs)}")
    ef, fb = cs.get("ebpf-forward", {}), cs.get("fluent-bit", {})
    check(ef.get("image") == f"ebpf-forward:{version}", f"ebpf-forward image {ef.get('image')} is not the version {version}")
    efsc, fbsc = ef.get("securityContext", {}), fb.get("securityContext", {})
    caps = efsc.get("capabilities", {}).get("add", [])
    check({"BPF", "PERFMON", "SETUID", "SETGID", "SETPCAP"} <= set(caps), f"ebpf-forward capabilities {caps}")
    check(set(caps) <= {"BPF", "PERFMON", "SETUID", "SETGID", "SETPCAP", "CHOWN", "SYS_ADMIN"},
          f"ebpf-forward capabilities beyond what start-up needs: {caps}")
    check(fbsc.get("runAsNonRoot") is True and fbsc.get("runAsUser", 0) != 0, "Fluent Bit must run as non-root")
    check(not fbsc.get("capabilities", {}).get("add"), "Fluent Bit adds capabilities")

    # the host paths ebpf-forward needs, read-only where they can be
    for host in ("/sys/kernel/btf", "/sys/kernel/tracing", "/sys/fs/cgroup"):
        vm = mount_of(ef, host)
        if check(vm is not None and vm["mountPath"] == host, f"ebpf-forward does not mount {host}"):
            check(vols[vm["name"]].get("hostPath", {}).get("path") == host, f"{host} is not the host's")
            check(vm.get("readOnly") is True, f"{host} is not read-only")

    cm = configmaps.get(spec and vols.get("ebpf-forward-config", {}).get("configMap", {}).get("name"), {})
    data = cm.get("data", {})
    conf_text, fb_text, up_text = data.get("ebpf-forward.conf", ""), data.get("fluent-bit.conf", ""), data.get("upstream.conf", "")
    check(conf_text and fb_text and up_text, "ConfigMap lacks ebpf-forward.conf, fluent-bit.conf or upstream.conf")
    conf, fbconf, upconf = ebpf_conf(conf_text), ini_sections(fb_text), ini_sections(up_text)

    # ebpf-forward reads the file its args name, from the ConfigMap's mount
    args = ef.get("args", [])
    cpath = args[args.index("-c") + 1] if "-c" in args else "/etc/ebpf-forward/ebpf-forward.conf"
    vm = mount_of(ef, cpath)
    if check(vm is not None, f"{cpath} is on no mount"):
        items = vols[vm["name"]]["configMap"].get("items", [])
        check(any(vm["mountPath"].rstrip("/") + "/" + it["path"] == cpath and it["key"] == "ebpf-forward.conf"
                  for it in items), f"{cpath} is not the ConfigMap's ebpf-forward.conf")

    # uprobes need SYS_ADMIN: the traces and the capabilities go together
    traces = conf and [t for s, kv in conf if s == "INPUT" for t in kv.get("trace", [])]
    needs_admin = any(t.replace("trace_", "") in ("malloc", "openssl") for t in traces)
    check(needs_admin == ("SYS_ADMIN" in caps), f"traces {traces} and SYS_ADMIN in {caps} disagree")

    # the socket: one path, on one volume both containers mount
    sock = first(conf, "OUTPUT", "unix_path")
    fb_sock = None
    for sec, kv in fbconf:
        if sec == "INPUT" and kv.get("name") == ["forward"]:
            fb_sock = kv.get("unix_path", [None])[0]
    check(sock and sock == fb_sock, f"ebpf-forward's Unix_Path {sock} != Fluent Bit's {fb_sock}")
    if sock:
        a, b = mount_of(ef, sock), mount_of(fb, sock)
        check(a and b and a["name"] == b["name"] and a["mountPath"] == b["mountPath"],
              f"{sock} is not on one volume mounted alike in both containers")
        check(a and "emptyDir" in vols.get(a["name"], {}), f"{sock}: not in an emptyDir")
    peer = first(conf, "OUTPUT", "unix_peer_user")
    check(peer == str(fbsc.get("runAsUser")), f"Unix_Peer_User {peer} is not Fluent Bit's runAsUser {fbsc.get('runAsUser')}")

    # probes: on a port the container's config serves, and not at a host (the kubelet would probe the node's)
    def probe_ports(c):
        named = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
        out = []
        for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
            g = c.get(kind, {}).get("httpGet")
            if g:
                check("host" not in g, f"{c.get('name')}: {kind} names a host: the kubelet would probe the node's")
                out.append(named.get(g.get("port"), g.get("port")))
        return out
    http_on = (first(conf, "SERVICE", "http_server") or "off").lower() in ("on", "true", "yes", "1")
    ef_ports = probe_ports(ef)
    check(ef_ports, "ebpf-forward has no probe")
    for port in ef_ports:
        check(http_on and str(port) == first(conf, "SERVICE", "http_port")
              and first(conf, "SERVICE", "http_listen") in ("0.0.0.0", "::"),
              f"ebpf-forward's probe port {port}: not the HTTP_Port it serves on the pod's address")
    for port in probe_ports(fb):
        check(str(port) == first(fbconf, "SERVICE", "http_port") and first(fbconf, "SERVICE", "http_listen") == "0.0.0.0",
              f"Fluent Bit's probe port {port}: not the HTTP_Port it serves on the pod's address")

    # the spool is on a writable volume of ebpf-forward's; Fluent Bit's storage on one of its own
    spool = first(conf, "SERVICE", "storage_path")
    if spool:
        vm = mount_of(ef, spool)
        check(vm is not None and not vm.get("readOnly"), f"Storage_Path {spool} is not on a writable mount")
        check("CHOWN" in caps, "Storage_Path needs CHOWN: the daemon gives its outputN directories to its account")
    st = first(fbconf, "SERVICE", "storage.path")
    check(st is None or (mount_of(fb, st) is not None and not mount_of(fb, st).get("readOnly")),
          f"Fluent Bit's storage.path {st} is not on a writable mount")

    # the aggregator tier: Fluent Bit's output names the upstream file, whose nodes are the StatefulSet's pods
    up_path = None
    for sec, kv in fbconf:
        if sec == "OUTPUT" and kv.get("name") == ["forward"]:
            up_path = kv.get("upstream", [None])[0]
    if check(up_path is not None, "Fluent Bit's forward output has no Upstream"):
        vm = mount_of(fb, up_path)
        check(vm is not None and any(vm["mountPath"].rstrip("/") + "/" + it["path"] == up_path and it["key"] == "upstream.conf"
                                     for it in vols[vm["name"]]["configMap"].get("items", [])),
              f"{up_path} is not the ConfigMap's upstream.conf")
    sts = one(objs, "StatefulSet")
    svc = one(objs, "Service")
    check(sts["spec"].get("serviceName") == svc["metadata"]["name"], "StatefulSet's serviceName is not the Service")
    check(svc["spec"].get("clusterIP") == "None", "the aggregator Service is not headless")
    check(svc["spec"]["selector"].items() <= sts["spec"]["template"]["metadata"]["labels"].items(),
          "the Service selects no aggregator pod")
    port = svc["spec"]["ports"][0]["port"]
    nodes = [kv for sec, kv in upconf if sec == "NODE"]
    check(len(nodes) >= 2, "upstream.conf: fewer than two nodes, no failover")
    check(len(nodes) == sts["spec"].get("replicas"), f"{len(nodes)} upstream nodes for {sts['spec'].get('replicas')} replicas")
    names = {f"{sts['metadata']['name']}-{i}.{svc['metadata']['name']}.{nsname}.svc.cluster.local"
             for i in range(sts["spec"].get("replicas", 0))}
    check({n.get("host", [""])[0] for n in nodes} == names, f"upstream hosts are not the aggregator pods {names}")
    check(all(n.get("port") == [str(port)] for n in nodes), "upstream ports are not the Service's")
    agg_spec = sts["spec"]["template"]["spec"]
    check_pod("StatefulSet", agg_spec, configmaps)
    agg_cm = configmaps.get(agg_spec["volumes"][0]["configMap"]["name"], {})
    agg_in = [kv for sec, kv in ini_sections(agg_cm.get("data", {}).get("fluent-bit.conf", "")) if sec == "INPUT"]
    check(any(kv.get("name") == ["forward"] and kv.get("port") == [str(port)] for kv in agg_in),
          f"the aggregators' in_forward does not listen on {port}")

    if root:
        check_config(daemon, conf_text)
        if start:
            start_under_caps(daemon, conf_text, caps)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    if not root:
        print("skipped: --check-config and the start need root (a root-owned configuration)")
        return 77
    print(f"ok: {len(objs)} objects" + (", started under " + ",".join(caps) if start else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
