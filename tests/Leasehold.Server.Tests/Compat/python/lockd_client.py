#!/usr/bin/env python3
"""A gocept.lockd client (xmlrpc.client, standard library only) run against Leasehold's XML-RPC endpoint.

Usage: lockd_client.py BASE_URL CASE    runs one case; exit 0 and "ok" when it passes
       lockd_client.py --list           prints the case names, one a line
"""
import http.client
import json
import sys
import threading
import urllib.parse
import urllib.request
import xmlrpc.client

TIMEOUT = 10
BASE = ""
CASES = {}
EXC = "<type 'exceptions.Exception'>:"
TYPE_ERROR = "<type 'exceptions.TypeError'>:"


def case(function):
    CASES[function.__name__] = function
    return function


class TimeoutTransport(xmlrpc.client.Transport):
    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = TIMEOUT
        return connection


def proxy(path="/RPC2"):
    return xmlrpc.client.ServerProxy(BASE + path, allow_none=True, transport=TimeoutTransport())


def fault_of(call, *args):
    """The faultString of a call that must fail with faultCode 1."""
    try:
        result = call(*args)
    except xmlrpc.client.Fault as fault:
        assert fault.faultCode == 1, (fault.faultCode, fault.faultString)
        return fault.faultString
    raise AssertionError(f"expected a fault, got {result!r}")


def expect_fault(expected, call, *args):
    got = fault_of(call, *args)
    assert got == expected, f"expected {expected!r}\n     got {got!r}"


def raw_post(path, body, content_type="text/xml"):
    parts = urllib.parse.urlsplit(BASE)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def v1(method, url, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Leasehold-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def holders(name):
    status, resource = v1("GET", "/v1/resources/lockd/" + urllib.parse.quote(name, safe=""))
    assert status == 200, resource
    return [h["owner"] for h in resource["holders"]]


@case
def lock_and_unlock_return_none():
    server = proxy()
    assert server.lock("printer", "client1") is None
    assert holders("printer") == ["client1"]
    assert server.unlock("printer", "client1") is None
    assert holders("printer") == []
    assert server.lock("printer", "client2") is None


@case
def both_paths_serve_the_same_locks():
    assert proxy("/").lock("shared-name", "client1") is None
    expect_fault(EXC + "Resource already locked by 'client1'", proxy("/RPC2").lock, "shared-name", "client2")
    assert proxy("/RPC2").unlock("shared-name", "client1") is None
    status, _, _ = raw_post("/RPC3", xmlrpc.client.dumps(("a", "b"), "lock").encode())
    assert status == 404, status
    status, _ = v1("GET", "/RPC2")
    assert status == 405, status
    # GET / is the dashboard's page (docs/dashboard.md); other methods are still refused.
    status, _ = v1("PUT", "/")
    assert status == 405, status


@case
def already_locked_fault_names_the_holder():
    server = proxy()
    server.lock("res", "client1")
    expect_fault(EXC + "Resource already locked by 'client1'", server.lock, "res", "client2")


@case
def lock_is_not_reentrant():
    server = proxy()
    server.lock("res", "client1")
    expect_fault(EXC + "Resource already locked by 'client1'", server.lock, "res", "client1")
    assert holders("res") == ["client1"]


@case
def unlock_faults_exactly():
    server = proxy()
    expect_fault(EXC + "Resource not locked", server.unlock, "nothing", "client1")
    server.lock("res", "client1")
    expect_fault(EXC + "Resource locked by 'client1' cannot be unlocked by 'client2'", server.unlock, "res", "client2")
    expect_fault(EXC + "Resource locked by 'client1' cannot be unlocked by 'client1 '", server.unlock, "res", "client1 ")
    assert server.unlock("res", "client1") is None
    expect_fault(EXC + "Resource not locked", server.unlock, "res", "client1")


@case
def client_names_are_exact_not_stripped():
    server = proxy()
    server.lock("ws", " spaced ")
    expect_fault(EXC + "Resource already locked by ' spaced '", server.lock, "ws", "other")
    expect_fault(EXC + "Resource locked by ' spaced ' cannot be unlocked by 'spaced'", server.unlock, "ws", "spaced")
    assert server.unlock("ws", " spaced ") is None


@case
def names_are_quoted_like_python_repr():
    server = proxy()
    for number, (client, shown) in enumerate([
        ("it's", "\"it's\""),
        ("say \"hi\"", "'say \"hi\"'"),
        ("both ' and \"", "'both \\' and \"'"),
        ("back\\slash", "'back\\\\slash'"),
        ("tab\there", "'tab\\there'"),
        ("caf\u00e9", "u'caf\\xe9'"),
        ("\u20ac \U0001f600", "u'\\u20ac \\U0001f600'"),
    ]):
        server.lock("quoted-%d" % number, client)
        expect_fault(EXC + "Resource already locked by " + shown, server.lock, "quoted-%d" % number, "x")
        expect_fault(EXC + "Resource locked by %s cannot be unlocked by 'x'" % shown, server.unlock, "quoted-%d" % number, "x")


@case
def unknown_method_fault():
    server = proxy()
    expect_fault(EXC + 'method "nosuch" is not supported', server.nosuch)
    expect_fault(EXC + 'method "lockdir" is not supported', server.lockdir)
    expect_fault(EXC + 'method "system.multicall" is not supported', server.system.multicall, [])


@case
def wrong_argument_count_is_a_type_error():
    server = proxy()
    expect_fault(TYPE_ERROR + "lock() takes exactly 3 arguments (1 given)", server.lock)
    expect_fault(TYPE_ERROR + "lock() takes exactly 3 arguments (2 given)", server.lock, "res")
    expect_fault(TYPE_ERROR + "lock() takes exactly 3 arguments (4 given)", server.lock, "res", "c", "extra")
    expect_fault(TYPE_ERROR + "unlock() takes exactly 3 arguments (2 given)", server.unlock, "res")
    expect_fault(TYPE_ERROR + "system_listMethods() takes exactly 1 argument (2 given)", server.system.listMethods, "x")
    expect_fault(TYPE_ERROR + "system_methodHelp() takes exactly 2 arguments (1 given)", server.system.methodHelp)
    expect_fault(TYPE_ERROR + "lock() argument 1 must be string, not int", server.lock, 7, "c")
    expect_fault(TYPE_ERROR + "unlock() argument 2 must be string, not NoneType", server.unlock, "res", None)
    assert holders("res") == []


@case
def introspection():
    server = proxy()
    assert server.system.listMethods() == ["lock", "system.listMethods", "system.methodHelp", "system.methodSignature", "unlock"]
    for method in ("lock", "unlock", "system.listMethods", "system.methodHelp", "system.methodSignature"):
        help_text = server.system.methodHelp(method)
        assert isinstance(help_text, str) and help_text.startswith(method + "("), (method, help_text)
    assert server.system.methodHelp("nosuch") == ""
    assert server.system.methodSignature("lock") == [["nil", "string", "string"]]
    assert server.system.methodSignature("unlock") == [["nil", "string", "string"]]
    assert server.system.methodSignature("system.listMethods") == [["array"]]
    expect_fault(EXC + 'method "nosuch" is not supported', server.system.methodSignature, "nosuch")


@case
def traversal_names_are_refused():
    server = proxy()
    for name, reason in [
        ("../x", "it contains '/'"),
        ("a/b", "it contains '/'"),
        ("/etc/passwd", "it contains '/'"),
        ("..", "it is '.' or '..'"),
        (".", "it is '.' or '..'"),
        ("", "it is empty"),
        ("tab\there", "it contains a control character"),
        ("x" * 256, "it is longer than 255 characters"),
    ]:
        shown = "'" + name.replace("\t", "\\t") + "'"
        expect_fault(EXC + "Invalid resource name %s: %s" % (shown, reason), server.lock, name, "c")
        expect_fault(EXC + "Invalid resource name %s: %s" % (shown, reason), server.unlock, name, "c")
    status, listing = v1("GET", "/v1/resources?prefix=/")
    assert status == 200 and listing["resources"] == [], listing
    assert server.lock("..x", "c") is None
    assert server.lock("x" * 255, "c") is None
    assert holders("..x") == ["c"]


def nested(depth):
    """A well-formed value of arrays nested depth deep."""
    value = b"<value>x</value>"
    for _ in range(depth):
        value = b"<value><array><data>" + value + b"</data></array></value>"
    return value


@case
def malformed_xml_is_answered_with_a_fault():
    bodies = [
        b"",
        b"<methodCall><methodName>lock",
        b"not xml at all",
        b"\xff\xfe\x00garbage",
        b"<foo/>",
        b"<methodCall><params/></methodCall>",
        b"<methodCall><methodName>lock</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
        b"<methodCall><methodName>lock</methodName><params><param/></params></methodCall>",
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<methodCall><methodName>&b;</methodName></methodCall>",
        b'<?xml version="1.0"?><!DOCTYPE m SYSTEM "file:///etc/passwd"><methodCall><methodName>x</methodName></methodCall>',
        b"<methodCall><methodName>lock</methodName><params><param>" + nested(200) + b"</param></params></methodCall>",
    ]
    for body in bodies:
        status, content_type, answer = raw_post("/RPC2", body)
        assert status == 200, (body, status, answer)
        assert content_type.startswith("text/xml"), content_type
        try:
            xmlrpc.client.loads(answer)
        except xmlrpc.client.Fault as fault:
            assert fault.faultCode == 1, fault
            assert fault.faultString.startswith("<class '"), fault.faultString
        else:
            raise AssertionError(f"{body!r}: no fault in {answer!r}")
    status, _, answer = raw_post("/RPC2", xmlrpc.client.dumps(("x" * 70000, "c"), "lock").encode())
    assert status == 413, (status, answer[:200])
    status, _, answer = raw_post("/", b"<methodCall><methodName>lock")
    assert status == 200 and b"<fault>" in answer, answer
    assert proxy().lock("still-works", "c") is None


@case
def success_answer_is_xmlrpclib_nil():
    body = xmlrpc.client.dumps(("wire", "c"), "lock").encode()
    status, content_type, answer = raw_post("/RPC2", body)
    assert status == 200 and content_type.startswith("text/xml"), (status, content_type)
    assert answer == (b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"
                      b"<value><nil/></value></param>\n</params>\n</methodResponse>\n"), answer


@case
def untyped_values_are_strings():
    body = (b"<?xml version='1.0'?><methodCall><methodName>lock</methodName><params>"
            b"<param><value>plain</value></param><param><value>who</value></param></params></methodCall>")
    status, _, answer = raw_post("/RPC2", body)
    assert status == 200 and xmlrpc.client.loads(answer)[0] == (None,), answer
    assert holders("plain") == ["who"]


@case
def locks_are_visible_in_v1_both_ways():
    server = proxy()
    server.lock("printer", "alice")
    status, resource = v1("GET", "/v1/resources/lockd/printer")
    assert status == 200, resource
    [holder] = resource["holders"]
    assert holder["owner"] == "alice" and holder["ttl"] is None and holder["mode"] == "exclusive", holder
    status, problem = v1("POST", "/v1/leases", {"path": "/lockd", "owner": "v1"})
    assert status == 409, problem

    status, lease = v1("POST", "/v1/leases", {"path": "/lockd/scanner", "owner": "bob"})
    assert status == 201, lease
    expect_fault(EXC + "Resource already locked by 'bob'", server.lock, "scanner", "carol")
    expect_fault(EXC + "Resource locked by 'bob' cannot be unlocked by 'carol'", server.unlock, "scanner", "carol")
    # Knowing the owner's name is not enough to end a lease taken with a token.
    expect_fault(EXC + "Resource locked by 'bob' with a token, not through lockd; only that token can unlock it",
                 server.unlock, "scanner", "bob")
    assert v1("GET", "/v1/leases/%d" % lease["id"])[0] == 200
    assert v1("DELETE", "/v1/leases/%d" % lease["id"], token=lease["token"])[0] == 204

    status, anonymous = v1("POST", "/v1/leases", {"path": "/lockd/anon"})
    assert status == 201, anonymous
    expect_fault(EXC + "Resource already locked by None", server.lock, "anon", "c")

    status, outside = v1("POST", "/v1/leases", {"path": "/lockd-other/x", "owner": "o"})
    assert status == 201, outside


@case
def concurrent_locks_grant_one():
    results = []
    guard = threading.Lock()

    def attempt(number):
        try:
            proxy().lock("race", "t%d" % number)
            outcome = "ok"
        except xmlrpc.client.Fault as fault:
            outcome = fault.faultString
        with guard:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert len(results) == 30, results
    assert results.count("ok") == 1, results
    [holder] = holders("race")
    assert all(r == EXC + "Resource already locked by '%s'" % holder for r in results if r != "ok"), results


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
