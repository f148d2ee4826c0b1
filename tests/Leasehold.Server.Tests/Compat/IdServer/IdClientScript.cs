namespace Leasehold.Server.Tests.Compat.IdServer;

/// <summary>
/// A Python 3 standard-library client written like idserver 0.1's <c>UdpIdClient</c> and <c>TcpIdClient</c>
/// (json.dumps the request; read one datagram, or one line on one persistent connection), plus raw
/// sends for the malformed cases. Usage: <c>python3 idclient.py udp|tcp HOST PORT OPS_JSON</c>; each op
/// prints one JSON line. Unlike idserver's UDP client it has a timeout, so a lost reply fails a test
/// instead of hanging it.
/// </summary>
public static class IdClientScript
{
    public const string Text = """
        import json
        import socket
        import sys
        import threading
        import time

        MAX_PACKET = 8192
        TIMEOUT = 10
        START = time.monotonic()


        def family(host):
            # idserver swaps inet_pton's arguments and never picks IPv6; a fixed client does.
            return socket.AF_INET6 if ':' in host else socket.AF_INET


        class SocketIdClient(object):
            def __init__(self, host, port, timeout=TIMEOUT):
                self.inet_type = family(host)
                self.host = host
                self.port = port
                self.timeout = timeout

            def acquire(self, name, expire):
                rspdata = json.loads(self._sendrecv(json.dumps({
                    'action': 'get', 'owner': name, 'expire': expire
                })))
                if rspdata['error'] != 0:
                    raise RuntimeError(rspdata['message'])
                return rspdata['value']

            def release(self, name):
                rspdata = json.loads(self._sendrecv(json.dumps({
                    'action': 'put', 'owner': name
                })))
                if rspdata['error'] != 0:
                    raise RuntimeError(rspdata['message'])


        class UdpIdClient(SocketIdClient):
            newline = False

            def _sendrecv(self, data):
                return self.raw(data.encode('ascii'))

            def raw(self, payload):
                sck = socket.socket(self.inet_type, socket.SOCK_DGRAM)
                sck.settimeout(self.timeout)
                try:
                    sck.sendto(payload, (self.host, self.port))
                    # decode('ascii'): a reply must be pure ASCII (ensure_ascii), else this fails.
                    return sck.recv(MAX_PACKET).decode('ascii')
                finally:
                    sck.close()

            def close(self):
                pass


        class TcpIdClient(SocketIdClient):
            newline = True

            def __init__(self, host, port, timeout=TIMEOUT):
                super(TcpIdClient, self).__init__(host, port, timeout)
                self.sck = socket.socket(self.inet_type, socket.SOCK_STREAM)
                self.sck.settimeout(timeout)
                self.sck.connect((host, port))
                self.fobj = self.sck.makefile('rwb')

            def _sendrecv(self, data):
                return self.raw(data.encode('ascii') + b'\n').strip()

            def raw(self, payload):
                self.fobj.write(payload)
                self.fobj.flush()
                return self.fobj.readline().decode('ascii')

            def close(self):
                self.fobj.close()
                self.sck.close()


        def connect(transport, host, port):
            return (TcpIdClient if transport == 'tcp' else UdpIdClient)(host, port)


        def reply(client, text):
            if client.newline:
                return {'reply': text[:-1] if text.endswith('\n') else text, 'newline': text.endswith('\n')}
            return {'reply': text, 'newline': False}


        def line(client, payload):
            return payload + b'\n' if client.newline else payload


        def get(client, owner, expire):
            try:
                return {'value': client.acquire(owner, expire)}
            except RuntimeError as ex:
                return {'error': str(ex)}


        def until(client, owner, expire, timeout):
            started = time.monotonic()
            while True:
                result = get(client, owner, expire)
                if 'value' in result or time.monotonic() - started > timeout:
                    return result
                time.sleep(0.02)


        def longline(client, size):
            first = ''
            try:
                client.fobj.write(b'a' * size)
                client.fobj.flush()
                first = client.fobj.readline().decode('ascii')
                closed = client.fobj.read() == b''
            except ConnectionError:
                closed = True
            return {'reply': first.strip(), 'closed': closed}


        def many(transport, host, port, count, expire):
            clients = [connect(transport, host, port) for _ in range(count)]
            results = [None] * count

            def run(i):
                results[i] = get(clients[i], 'many-%d' % i, expire)

            threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(TIMEOUT * 2)
            for i, client in enumerate(clients):
                client.release('many-%d' % i)
                client.close()
            return {'results': results}


        def main():
            transport, host, port, ops = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
            client = connect(transport, host, port)
            for op in ops:
                kind = op[0]
                if kind == 'get':
                    result = get(client, op[1], op[2])
                elif kind == 'put':
                    try:
                        client.release(op[1])
                        result = {'ok': True}
                    except RuntimeError as ex:
                        result = {'error': str(ex)}
                elif kind == 'raw':
                    result = reply(client, client.raw(line(client, op[1].encode('utf-8'))))
                elif kind == 'obj':
                    result = reply(client, client.raw(line(client, json.dumps(op[1]).encode('ascii'))))
                elif kind == 'hex':
                    result = reply(client, client.raw(line(client, bytes.fromhex(op[1]))))
                elif kind == 'big':
                    body = b'{"action": "put", "owner": "big"}'
                    result = reply(client, client.raw(line(client, body + b' ' * (op[1] - len(body)))))
                elif kind == 'pipelined':
                    client.fobj.write(b''.join(text.encode('utf-8') + b'\n' for text in op[1]))
                    client.fobj.flush()
                    result = {'replies': [client.fobj.readline().decode('ascii') for _ in op[1]]}
                elif kind == 'until':
                    result = until(client, op[1], op[2], op[3])
                elif kind == 'longline':
                    result = longline(client, op[1])
                elif kind == 'many':
                    result = many(transport, host, port, op[1], op[2])
                elif kind == 'reconnect':
                    client.close()
                    client = connect(transport, host, port)
                    result = {'ok': True}
                elif kind == 'sleep':
                    time.sleep(op[1])
                    result = {'ok': True}
                else:
                    raise ValueError('unknown op %r' % kind)
                result['t'] = time.monotonic() - START
                print(json.dumps(result), flush=True)
            client.close()


        if __name__ == '__main__':
            main()

        """;
}
