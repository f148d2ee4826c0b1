#!/usr/bin/env python3
"""A Locker 1.0b client (standard library only) run against Leasehold's /canhaz, /nowant and /dohaz.

Usage: locker_client.py BASE_URL CASE    runs one case; exit 0 and "ok" when it passes
       locker_client.py --list           prints the case names, one a line
"""
import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid

TIMEOUT = 10
BASE = ""
CASES = {}


def case(function):
    CASES[function.__name__] = function
    return function


def request(method, url, data=None, headers=None):
    """(status, content type, body bytes) of one HTTP request; HTTP errors are answers too."""
    req = urllib.request.Request(BASE + url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def locker(route, path, params=None, method="GET", form=None, query=None, status=200):
    """Calls a Locker route and returns its JSON answer, checking status and content type."""
    url = "/" + route + path
    if params is not None:
        url += "?" + urllib.parse.urlencode(params)
    elif query is not None:
        url += "?" + query
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    got, content_type, body = request(method, url, data)
    assert got == status, f"{method} {url}: expected {status}, got {got}: {body!r}"
    assert content_type.startswith("application/json"), f"{method} {url}: content type {content_type!r}"
    return json.loads(body)


def canhaz(path, method="GET", form=None, **params):
    return locker("canhaz", path, params, method, form)


def nowant(path, token, method="GET"):
    return locker("nowant", path, {"token": token} if token is not None else {}, method)


def dohaz(path, method="GET"):
    return locker("dohaz", path, None, method)


def granted(path, **params):
    answer = canhaz(path, **params)
    assert answer["ok"] is True, f"canhaz{path} {params}: {answer}"
    return answer["token"]


def refused(path, holder, **params):
    answer = canhaz(path, **params)
    assert answer == {"ok": False, "lockedBy": holder}, f"canhaz{path} {params}: expected lockedBy {holder!r}, got {answer}"


def locked_by(path, holder):
    answer = dohaz(path)
    assert answer == {"lockedBy": holder}, f"dohaz{path}: expected {holder!r}, got {answer}"


def v1(method, url, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Leasehold-Token"] = token
    status, _, data = request(method, url, json.dumps(body).encode() if body is not None else None, headers)
    return status, json.loads(data) if data else None


# --- The worked cases of seeds.md 2.3 ---

@case
def child_lock_blocks_parent_and_grandchild_not_sibling():
    granted("/foo/bar", id="bar")
    refused("/foo", "bar")
    refused("/foo/bar/baz", "bar")
    granted("/foo/zip", id="zip")


@case
def child_without_lock_parents_lets_parent_lock_and_dohaz_reports_outermost():
    granted("/foo/bar", id="child", lockParents="False")
    granted("/foo", id="parent")
    locked_by("/foo/bar", "parent")
    locked_by("/foo", "parent")
    refused("/foo/bar/baz", "parent")


@case
def parent_without_lock_children_lets_child_lock():
    granted("/bar", id="parent", lockChildren="False")
    granted("/bar/foo", id="child")
    locked_by("/bar", "parent")
    locked_by("/bar/foo", "child")
    refused("/bar", "parent")


@case
def lock_children_false_on_parent_does_not_override_locked_child():
    granted("/foo/bar", id="child")
    refused("/foo", "child", lockChildren="False")
    refused("/foo", "child", lockChildren="False", lockParents="False")


@case
def both_flags_false_lock_only_the_exact_path():
    granted("/x/y", id="exact", lockParents="False", lockChildren="False")
    refused("/x/y", "exact")
    granted("/x/y/z", id="below", lockParents="False")
    granted("/x", id="above")
    locked_by("/x/y", "above")


@case
def dohaz_on_partially_locked_parent_reports_first_child():
    first = granted("/p/b", id="first")
    granted("/p/a", id="second")
    granted("/p/c/d", id="third")
    locked_by("/p", "first")
    locked_by("/", "first")
    locked_by("/p/a", "second")
    locked_by("/p/zzz", None)
    # Locker's list keeps lock order: after /p/b is unlocked and locked again, /p/a is the first.
    assert nowant("/p/b", first) == {"ok": True}
    granted("/p/b", id="fourth")
    locked_by("/p", "second")


@case
def nowant_needs_exact_path_and_exact_token():
    token = granted("/n/m", id="me")
    assert nowant("/n/m", str(uuid.uuid4())) == {"ok": False}
    assert nowant("/n/m", None) == {"ok": False}
    assert nowant("/n/m", token.upper()) == {"ok": False}
    assert nowant("/n", token) == {"ok": False}
    assert nowant("/n/m/child", token) == {"ok": False}
    assert nowant("/other", token) == {"ok": False}
    locked_by("/n/m", "me")
    assert nowant("/n/m", token) == {"ok": True}
    locked_by("/n/m", None)
    assert nowant("/n/m", token) == {"ok": False}
    granted("/n", id="again")


# --- Routes, methods, parameters ---

@case
def every_route_takes_get_post_delete():
    for method in ("GET", "POST", "DELETE"):
        path = "/methods/" + method.lower()
        token = granted(path, method=method, id=method)
        assert dohaz(path, method=method) == {"lockedBy": method}
        assert nowant(path, token, method=method) == {"ok": True}
        assert dohaz(path, method=method) == {"lockedBy": None}


@case
def post_form_fields_act_like_query_parameters():
    token = canhaz("/form/a", method="POST", form={"id": "formed", "lockParents": "False"})["token"]
    locked_by("/form/a", "formed")
    granted("/form", id="parent")
    assert locker("nowant", "/form/a", method="POST", form={"token": token}) == {"ok": True}


@case
def only_exact_False_disables_a_flag():
    for value in ("false", "0", "no", "FALSE", "False "):
        granted("/flags/" + str(len(value)) + value.strip(), id="child", lockParents=value)
    refused("/flags", "child")
    granted("/open/child", id="child", lockParents="False")
    granted("/open", id="parent")
    granted("/kids", id="kids", lockChildren="false")
    refused("/kids/a", "kids")
    granted("/nokids", id="nokids", lockChildren="False")
    granted("/nokids/a", id="a")


@case
def failed_canhaz_reports_the_holder_not_the_requester():
    granted("/held", id="holder")
    refused("/held", "holder", id="requester")
    refused("/held", "holder")
    granted("/anon")
    refused("/anon", "?", id="someone")


@case
def default_id_is_question_mark():
    granted("/default")
    locked_by("/default", "?")


@case
def repeated_parameters_take_the_first():
    answer = locker("canhaz", "/rep", query="id=first&id=second&lockParents=False&lockParents=True")
    assert answer["ok"] is True, answer
    locked_by("/rep", "first")
    granted("/", id="root")  # lockParents=False (the first value) let the root be taken


@case
def dohaz_with_query_parameters_is_404():
    granted("/q", id="q")
    for query in ("id=q", "x", "token=abc", "a=1&b=2"):
        status, _, body = request("GET", "/dohaz/q?" + query)
        assert status == 404, f"dohaz?{query}: {status} {body!r}"
        assert b"Unexpected query string parameters" in body, body
    # Body fields are refused too, as CherryPy does (400).
    status, _, body = request("POST", "/dohaz/q", urllib.parse.urlencode({"id": "q"}).encode())
    assert status == 400 and b"Unexpected body parameters: id" in body, (status, body)
    status, _, _ = request("GET", "/dohaz/q?")
    assert status == 200, status
    locked_by("/q", "q")


@case
def trailing_slash_and_empty_segments_are_ignored():
    token = granted("/t/u/", id="slash")
    locked_by("/t/u", "slash")
    locked_by("/t//u//", "slash")
    locked_by("//t/u", "slash")
    assert nowant("/t/u/", token) == {"ok": True}
    granted("/t//v", id="double")
    locked_by("/t/v", "double")


@case
def segments_are_percent_decoded_one_by_one():
    granted("/pct/a%20b/%C3%A9t%C3%A9", id="caf\u00e9")
    locked_by("/pct/a%20b/%c3%a9t%c3%a9", "caf\u00e9")
    locked_by("/pct/a+b/%C3%A9t%C3%A9", None)  # '+' is not a space in a path
    status, held = v1("GET", "/v1/resources/pct/a%20b/%C3%A9t%C3%A9")
    assert status == 200 and [h["owner"] for h in held["holders"]] == ["caf\u00e9"], held
    # %2F stays inside its segment, as in Locker; Leasehold has no '/' in a segment and says so.
    answer = locker("canhaz", "/pct/a%2Fb", status=400)
    assert answer["ok"] is False and "/" in answer["error"], answer
    answer = locker("canhaz", "/pct/%2E%2E", status=400)
    assert answer["ok"] is False, answer


@case
def answers_are_json_in_lockers_format():
    status, content_type, body = request("GET", "/canhaz/format?id=f")
    assert status == 200 and content_type.startswith("application/json"), (status, content_type)
    token = json.loads(body)["token"]
    assert body == ('{"ok": true, "token": "%s"}' % token).encode(), body
    parsed = uuid.UUID(token)
    assert str(parsed) == token and parsed.version == 4 and parsed.variant == uuid.RFC_4122, token
    assert request("GET", "/canhaz/format")[2] == b'{"ok": false, "lockedBy": "f"}'
    assert request("GET", "/dohaz/format")[2] == b'{"lockedBy": "f"}'
    assert request("GET", "/dohaz/free")[2] == b'{"lockedBy": null}'
    assert request("GET", "/nowant/format?token=" + token)[2] == b'{"ok": true}'
    assert request("GET", "/nowant/format?token=" + token)[2] == b'{"ok": false}'
    granted("/uni", id="\u00e9\"\\")
    assert request("GET", "/dohaz/uni")[2] == b'{"lockedBy": "\\u00e9\\"\\\\"}'


@case
def canhaz_without_segments_is_the_root_and_blocks_everything():
    token = granted("", id="root")
    refused("/", "root")
    refused("", "root")
    refused("/anything", "root")
    refused("/deep/path", "root", lockParents="False", lockChildren="False")
    locked_by("/anything/at/all", "root")
    locked_by("", "root")
    assert nowant("/", token) == {"ok": True}
    granted("/anything", id="free")
    refused("", "free")


@case
def empty_id_cannot_overwrite_a_lock():
    token = granted("/empty", id="")
    refused("/empty", "", id="intruder")
    refused("/empty", "", id="")
    locked_by("/empty", "")
    assert nowant("/empty", token) == {"ok": True}
    locked_by("/empty", None)
    granted("/empty", id="next")


@case
def concurrent_canhaz_grants_one():
    answers = []
    lock = threading.Lock()

    def attempt(number):
        answer = canhaz("/race", id="t%d" % number)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert len(answers) == 30, len(answers)
    winners = [a for a in answers if a["ok"]]
    assert len(winners) == 1, winners
    holder = dohaz("/race")["lockedBy"]
    assert all(a == {"ok": False, "lockedBy": holder} for a in answers if not a["ok"]), answers


@case
def invalid_paths_are_400():
    assert locker("canhaz", "/a/..", status=400)["ok"] is False
    assert locker("dohaz", "/a/%2E", status=400)["lockedBy"] is None
    assert locker("nowant", "/" + "/".join(["s"] * 40), params={"token": str(uuid.uuid4())}, status=400)["ok"] is False
    # The server removes dot segments before routing; Locker's path would shift, so it is refused.
    status, _, body = request("GET", "/./canhaz/dots")
    assert status == 400 and json.loads(body)["ok"] is False, (status, body)
    status, _, body = request("GET", "/x/../dohaz/dots")
    assert status == 400, (status, body)
    answer = locker("canhaz", "/long", params={"id": "x" * 300}, status=400)
    assert answer["ok"] is False and "256" in answer["error"], answer


# --- Interoperation with /v1 ---

@case
def v1_lease_blocks_canhaz_and_names_its_owner():
    status, lease = v1("POST", "/v1/leases", {"path": "/foo/bar", "owner": "v1-owner"})
    assert status == 201, lease
    refused("/foo", "v1-owner", id="locker")
    refused("/foo/bar/baz", "v1-owner")
    locked_by("/foo", "v1-owner")
    status, anonymous = v1("POST", "/v1/leases", {"path": "/anon/x"})
    assert status == 201, anonymous
    refused("/anon", "?")
    locked_by("/anon/x", "?")
    assert v1("DELETE", "/v1/leases/%d" % lease["id"], token=lease["token"])[0] == 204
    granted("/foo", id="locker")


@case
def locker_lock_is_a_v1_lease():
    token = granted("/i/j", id="alice", lockChildren="False")
    status, resource = v1("GET", "/v1/resources/i/j")
    assert status == 200, resource
    [holder] = resource["holders"]
    assert holder["owner"] == "alice" and holder["ttl"] is None and holder["expiresAt"] is None, holder
    assert holder["lockParents"] is True and holder["lockChildren"] is False and holder["mode"] == "exclusive", holder
    status, problem = v1("POST", "/v1/leases", {"path": "/i"})
    assert status == 409, problem
    status, child = v1("POST", "/v1/leases", {"path": "/i/j/k"})
    assert status == 201, child
    # The uuid's 32 hex digits are the /v1 token.
    assert v1("DELETE", "/v1/leases/%d" % holder["id"], token=token.replace("-", ""))[0] == 204
    assert nowant("/i/j", token) == {"ok": False}
    locked_by("/i/j", "?")  # the /v1 lease without an owner on /i/j/k, below it
    locked_by("/i", "?")


@case
def dohaz_names_a_lock_on_or_below_before_a_covering_ancestor():
    # Shared /v1 leases can overlap, which Locker's own locks cannot: the order of dohaz shows.
    for path, owner in (("/s", "ancestor"), ("/s/t", "child"), ("/s/t/u", "grandchild")):
        status, lease = v1("POST", "/v1/leases", {"path": path, "owner": owner, "mode": "shared"})
        assert status == 201, lease
    locked_by("/s", "ancestor")
    locked_by("/s/t", "child")
    locked_by("/s/t/u", "grandchild")
    locked_by("/s/t/u/v", "ancestor")
    refused("/s/t", "child")


def main(argv):
    global BASE
    if argv[1:] == ["--list"]:
        print("\n".join(CASES))
        return 0
    if len(argv) != 3 or argv[2] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    BASE = argv[1].rstrip("/")
    CASES[argv[2]]()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
