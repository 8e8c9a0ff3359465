#!/usr/bin/env python3
"""A logging reverse proxy for triage: listens on 127.0.0.1:PORT, forwards
every POST to TARGET, and prints each request's X-Amz-Target and body with
the answer (both cut short). Point a suite's endpoint at it to see exactly
what a server answered, e.g. the order of an item's attributes.

usage: logproxy.py PORT http://127.0.0.1:TARGET_PORT"""
import sys, http.server, urllib.error, urllib.request
port, target = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        req = urllib.request.Request(target + self.path, data=body, method="POST",
            headers={k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")})
        try:
            r = urllib.request.urlopen(req); code = r.status; data = r.read(); hdrs = r.headers
        except urllib.error.HTTPError as e:
            code = e.code; data = e.read(); hdrs = e.headers
        print(self.headers.get("X-Amz-Target"), body.decode()[:400], "->", data.decode()[:800], flush=True)
        self.send_response(code)
        for k, v in hdrs.items():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
