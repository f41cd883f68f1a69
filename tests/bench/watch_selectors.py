#!/usr/bin/env python3
"""watch_selectors.py — the CPU a follower spends on label-selected watches.

Opens 1,000 watches with labelSelector=app=web on configmaps of a fresh
namespace on FOLLOWER_URL, creates 300 ConfigMaps of about 1 KiB through
LEADER_URL (every other one labelled app=web), waits until every watch has
the last selected one, and prints the follower's CPU seconds (from
/proc/PID/stat) over that time. Run it against two clusters side by side to
compare builds:

    bosun up --servers 3 --dir D --detach; bosun status --dir D
    python3 tests/bench/watch_selectors.py FOLLOWER_URL LEADER_URL FOLLOWER_PID
"""
import json, socket, sys, time, urllib.request, selectors, os
follower, leader, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
N, E = 1000, 300
port = int(follower.rsplit(":",1)[1])
def post(url, path, body):
    r = urllib.request.Request(url+path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type":"application/json"})
    return urllib.request.urlopen(r).status
ns = "sel%d" % int(time.time())
post(leader, "/api/v1/namespaces", {"apiVersion":"v1","kind":"Namespace","metadata":{"name":ns}})
time.sleep(0.5)
socks=[]
for i in range(N):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("GET /api/v1/namespaces/%s/configmaps?watch=true&labelSelector=app%%3Dweb HTTP/1.1\r\nHost: x\r\n\r\n" % ns).encode())
    socks.append(s)
for s in socks: s.setblocking(False)
time.sleep(1)
def cpu(): 
    f=open("/proc/%d/stat"%pid).read().split(); return (int(f[13])+int(f[14]))/100
c0=cpu(); t0=time.time()
for i in range(E):
    post(leader, "/api/v1/namespaces/%s/configmaps"%ns, {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c%d"%i,"labels":{"app":"web" if i%2 else "db"}},"data":{"k":"v"*800}})
want = ('"name":"c%d"' % (E-1)).encode()
got = {s: b"" for s in socks}; left=set(socks); sel=selectors.DefaultSelector()
for s in socks: sel.register(s, selectors.EVENT_READ)
deadline=time.time()+60
while left and time.time()<deadline:
    for k,_ in sel.select(0.5):
        d=k.fileobj.recv(1<<20); got[k.fileobj]=got[k.fileobj][-200:]+d
        if want in got[k.fileobj]: left.discard(k.fileobj); sel.unregister(k.fileobj)
print("follower cpu-s %.2f for %d watches x %d selected events, %d missed, %.1f s" % (cpu()-c0, N, E//2, len(left), time.time()-t0))
