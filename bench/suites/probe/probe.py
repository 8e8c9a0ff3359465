#!/usr/bin/env python3
"""Sends the same requests to several DynamoDB endpoints (say DynamoDB Local
and openddb) and prints, case by case, whether their answers are the same.

usage: probe.py CASES.py ENDPOINT [ENDPOINT...]

CASES.py defines SETUP, a list of (action, body) sent first to every
endpoint (a ResourceInUse error is ignored, so a rerun reuses the table),
and CASES, a list of (name, action, body). Answers are compared after
sorting Items and dropping ConsumedCapacity and LastEvaluatedKey; an error
is compared by its type and message. Requests carry a well-formed but
unverified SigV4 header (key id "probe"), which both servers accept when
they do not check signatures."""
import json, sys, urllib.request, urllib.error, runpy

def call(ep, action, body):
    req = urllib.request.Request(ep + "/", data=json.dumps(body).encode(), method="POST", headers={
        "X-Amz-Target": "DynamoDB_20120810." + action,
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Date": "20260101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=probe/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    })
    try:
        with urllib.request.urlopen(req) as r:
            out = json.loads(r.read() or b"{}")
            return norm(out)
    except urllib.error.HTTPError as e:
        out = json.loads(e.read() or b"{}")
        return {"error": out.get("__type", "").split("#")[-1], "message": out.get("message") or out.get("Message")}

def norm(out):
    if "Items" in out:
        out["Items"] = sorted((json.dumps(i, sort_keys=True) for i in out["Items"]))
    out.pop("ConsumedCapacity", None)
    out.pop("LastEvaluatedKey", None)
    return out

cases = runpy.run_path(sys.argv[1])
eps = sys.argv[2:]
for action, body in cases["SETUP"]:
    for ep in eps:
        r = call(ep, action, body)
        if "error" in r and "ResourceInUse" not in r["error"]:
            print("setup", action, ep, r)
same = diff = 0
for name, action, body in cases["CASES"]:
    rs = [call(ep, action, body) for ep in eps]
    if all(r == rs[0] for r in rs):
        same += 1
        print(f"SAME {name}: {json.dumps(rs[0])[:300]}")
    else:
        diff += 1
        print(f"DIFF {name}")
        for ep, r in zip(eps, rs):
            print(f"   {ep}: {json.dumps(r)[:600]}")
print(f"{same} same, {diff} different")
