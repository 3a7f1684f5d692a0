#!/usr/bin/env python3
"""Drive Microsoft's Python REST sample, unmodified, against the emulator.

Usage: drive_sample.py SAMPLE.py   (run by `go test ./interop/ -run Python`)

SAMPLE.py is a local copy of the sample from the article "How to use
Notification Hubs from Python" (classes NotificationHub and Notification), or
of the sample repository's AzureNotificationHub.py (class
AzureNotificationHub). Its code is loaded as is; this driver only calls it.
The sample does no registration management, so the driver creates the
target installations itself, over plain http.client, with the sample's own
SAS token. Environment:

  NH_CONNECTION_STRING  full-rights connection string (never printed)
  NH_HUB                hub name
  NH_INTEROP_REPORT     file to append delivery expectations to (JSON lines)
  SSL_CERT_FILE         the emulator's certificate (TLS verification stays on)

Each send carries a unique marker in its payload; the Go side selects the
emulator's deliveries by that marker.
"""

import contextlib
import http.client
import io
import json
import os
import sys
import urllib.parse
import uuid

RUN = uuid.uuid4().hex[:10]


def log(msg):
    print("drive_sample: " + msg, flush=True)


def fail(msg):
    log("FAIL: " + msg)
    sys.exit(1)


def load_sample(path):
    """Execute the sample file and return its namespace.

    Copies of the sample end with demo code that builds a client from the
    placeholder "myConnectionString" and therefore raises; the classes are
    defined by then, so that failure is reported and ignored.
    """
    ns = {"__name__": "nh_rest_sample", "__file__": path}
    with open(path, encoding="utf-8") as f:
        src = f.read()
    try:
        exec(compile(src, path, "exec"), ns)
    except Exception as e:  # the sample's own module-level demo
        if "NotificationHub" not in ns and "AzureNotificationHub" not in ns:
            raise
        log("the sample's module-level demo raised %s: %s (placeholder settings); using its classes"
            % (type(e).__name__, e))
    return ns


class Classic:
    """The article's NotificationHub: send_*_notification(payload, tags="")."""

    def __init__(self, ns, cs, hub, debug=0):
        self.h = ns["NotificationHub"](cs, hub, debug)
        self.endpoint, self.hub = self.h.Endpoint, self.h.HubName

    def token(self):
        return self.h.generate_sas_token()

    def fcm(self, payload, tags):
        if hasattr(self.h, "send_fcm_notification"):
            self.h.send_fcm_notification(payload, tags)
            return "fcm"
        self.h.send_gcm_notification(payload, tags)
        return "gcm"

    def apple(self, payload, tags=""):
        self.h.send_apple_notification(payload, tags)

    def windows(self, payload, tags=""):
        self.h.send_windows_notification(payload, tags)

    def adm(self, payload, tags=""):
        self.h.send_adm_notification(payload, tags)

    def baidu(self, payload, tags=""):
        self.h.send_baidu_notification(payload, tags)

    def template(self, props, tags=""):
        self.h.send_template_notification(props, tags)


class Repo:
    """The sample repository's AzureNotificationHub (is_direct first)."""

    def __init__(self, ns, cs, hub, debug=0):
        self.h = ns["AzureNotificationHub"](cs, hub, debug)
        self.endpoint, self.hub = self.h.Endpoint, self.h.HubName


def put_installation(client, inst):
    """PUT an installation with the sample's SAS token (the sample has no such call)."""
    url = client.endpoint + client.hub + "/installations/" + inst["installationId"] + "?api-version=2015-01"
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPSConnection(u.hostname, u.port)
    try:
        conn.request("PUT", u.path + "?" + u.query, json.dumps(inst),
                     {"Content-Type": "application/json", "Authorization": client.token()})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        fail("PUT installation %s: HTTP %d %s" % (inst["installationId"], resp.status, resp.reason))


def expect(rec):
    rec = dict(rec)
    rec["hub"] = os.environ["NH_HUB"]
    with open(os.environ["NH_INTEROP_REPORT"], "a", encoding="utf-8") as f:
        f.write(json.dumps(rec) + "\n")


def drive_repo(client):
    """AzureNotificationHub: only its direct sends can work.

    For non-direct sends it builds ".../messages/api-version=2015-04" (the
    version as a path segment, no "?"), which no service accepts; its debug
    mode crashes printing the response headers; its template send passes the
    tags as is_direct. So the driver uses its direct sends only.
    """
    log("AzureNotificationHub: driving direct sends only (its other send paths are broken in the sample)")
    m = "mark-%s-direct-apple" % RUN
    h = (uuid.uuid4().hex + uuid.uuid4().hex).upper()
    client.h.send_apple_notification(True, {"aps": {"alert": m}}, device_handle=h)
    expect({"name": "direct apple", "marker": m, "handles": [h], "exact": True, "direct": True,
            "format": "apple", "payloads": {h: json.dumps({"aps": {"alert": m}})}})

    m = "mark-%s-direct-gcm" % RUN
    h = "gcm:" + uuid.uuid4().hex
    client.h.send_google_notification(True, {"data": {"msg": m}}, device_handle=h)
    expect({"name": "direct gcm", "marker": m, "handles": [h], "exact": True, "direct": True, "format": "gcm"})

    m = "mark-%s-direct-wns" % RUN
    h = "https://wns.example.invalid/?token=AwYAAAD%2b" + uuid.uuid4().hex
    toast = '<toast><visual><binding template="ToastText01"><text id="1">%s</text></binding></visual></toast>' % m
    client.h.send_windows_notification(True, toast, device_handle=h)
    expect({"name": "direct windows", "marker": m, "handles": [h], "exact": True, "direct": True,
            "format": "windows", "headers": {"X-WNS-Type": "wns/toast"}})
    log("all sample calls succeeded")


def main():
    if len(sys.argv) != 2:
        fail("usage: drive_sample.py SAMPLE.py")
    ns = load_sample(sys.argv[1])
    cs, hub = os.environ["NH_CONNECTION_STRING"], os.environ["NH_HUB"]
    if "NotificationHub" in ns:
        kind, make = "NotificationHub", lambda debug=0: Classic(ns, cs, hub, debug)
    else:
        kind, make = "AzureNotificationHub", lambda debug=0: Repo(ns, cs, hub, debug)
    log("driving the sample's %s class" % kind)
    client = make()
    if kind == "AzureNotificationHub":
        drive_repo(client)
        return

    def tag(name):
        return "py-%s-%s" % (RUN, name)

    def marker(name):
        return "mark-%s-%s" % (RUN, name)

    dev = {
        "wns": "https://wns.example.invalid/?token=AwYAAAD%2b" + uuid.uuid4().hex,
        "wnsb": "https://wns.example.invalid/?token=AwYAAAD%2b" + uuid.uuid4().hex,
        "wnst": "https://wns.example.invalid/?token=AwYAAAD%2b" + uuid.uuid4().hex,
        "apns": (uuid.uuid4().hex + uuid.uuid4().hex).upper(),
        "gcm": "gcm:" + uuid.uuid4().hex,
        "adm": "amzn1.adm-registration." + uuid.uuid4().hex,
        "baidu": "%s-%s" % (uuid.uuid4().hex[:12], uuid.uuid4().hex[:12]),
    }
    toast = '<toast><visual><binding template="ToastText01"><text id="1">%s</text></binding></visual></toast>'
    installs = [
        {"installationId": tag("wns"), "platform": "wns", "pushChannel": dev["wns"], "tags": [tag("wns")]},
        {"installationId": tag("wnsb"), "platform": "wns", "pushChannel": dev["wnsb"], "tags": [tag("wnsb")]},
        {"installationId": tag("wnst"), "platform": "wns", "pushChannel": dev["wnst"], "tags": [tag("tpl")],
         "templates": {"greeting": {"body": toast % "$(greeting_en)", "headers": {"X-WNS-Type": "wns/toast"}}}},
        {"installationId": tag("apns"), "platform": "apns", "pushChannel": dev["apns"],
         "tags": [tag("apns"), tag("multi")]},
        {"installationId": tag("gcm"), "platform": "gcm", "pushChannel": dev["gcm"], "tags": [tag("gcm")]},
        {"installationId": tag("adm"), "platform": "adm", "pushChannel": dev["adm"], "tags": [tag("adm")]},
        {"installationId": tag("baidu"), "platform": "baidu", "pushChannel": dev["baidu"], "tags": [tag("baidu")]},
    ]
    for inst in installs:
        put_installation(client, inst)
    log("created %d installations" % len(installs))

    m = marker("wns")
    client.windows(toast % m, tag("wns"))
    expect({"name": "windows toast to a tag", "marker": m, "handles": [dev["wns"]], "exact": True,
            "format": "windows", "headers": {"X-WNS-Type": "wns/toast"}, "payloads": {dev["wns"]: toast % m}})

    m = marker("bcast")
    client.windows(toast % m)
    expect({"name": "windows toast broadcast (no tags header)", "marker": m,
            "handles": [dev["wns"], dev["wnsb"]], "exact": False, "format": "windows"})

    m = marker("apns")
    client.apple({"aps": {"alert": m}}, tag("apns"))
    expect({"name": "apple to a tag", "marker": m, "handles": [dev["apns"]], "exact": True, "format": "apple",
            "payloads": {dev["apns"]: json.dumps({"aps": {"alert": m}})}})

    m = marker("multi")
    client.apple({"aps": {"alert": m}}, {tag("multi"), tag("nobody")})
    expect({"name": "apple to a set of tags (joined with ' || ')", "marker": m, "handles": [dev["apns"]],
            "exact": True})

    m = marker("gcm")
    fmt = client.fcm({"data": {"msg": m}}, tag("gcm"))
    expect({"name": "FCM legacy via format %r" % fmt, "marker": m, "handles": [dev["gcm"]], "exact": True,
            "payloads": {dev["gcm"]: json.dumps({"data": {"msg": m}})}})

    m = marker("adm")
    client.adm({"data": {"msg": m}}, tag("adm"))
    expect({"name": "adm to a tag", "marker": m, "handles": [dev["adm"]], "exact": True, "format": "adm"})

    m = marker("baidu")
    client.baidu({"title": "t", "description": m}, tag("baidu"))
    user, chan = dev["baidu"].split("-")
    expect({"name": "baidu to a tag", "marker": m, "oneOf": [dev["baidu"], chan, user], "count": 1,
            "format": "baidu"})

    if kind == "NotificationHub":
        m = marker("tpl")
        client.template({"greeting_en": "Hello " + m, "greeting_fr": "Salut"}, tag("tpl"))
        expect({"name": "template to a tag", "marker": m, "handles": [dev["wnst"]], "exact": True,
                "format": "template", "contains": {dev["wnst"]: ">Hello " + m + "<"}})

    # Debug mode: the sample appends &test, prints the exchange and the
    # NotificationOutcome, and does not raise on errors; check the output.
    m = marker("test")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        make(1).apple({"aps": {"alert": m}}, tag("apns"))
    text = out.getvalue()
    print(text, flush=True)  # the Go side redacts the SAS token
    if "201" not in text or "<Success>1</Success>" not in text:
        fail("debug send: expected HTTP 201 and <Success>1</Success> in the sample's output")
    expect({"name": "debug (test) send", "marker": m, "handles": [dev["apns"]], "exact": True, "test": True})

    log("all sample calls succeeded")


if __name__ == "__main__":
    main()
