#!/usr/bin/env python3
"""Serve the demo project with the standard library's WSGI server, threaded.

For tests and a quick look (``manage.py runserver`` works as well). PORT (default 8000;
0 picks a free one). Prints "listening on :<port>" once the port is open; stops on Ctrl-C.
"""
import os
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), format % args))


def main():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the edgeauth_django package
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    from demo.wsgi import application

    server = make_server("127.0.0.1", int(os.environ.get("PORT", "8000")), application,
                         server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    print(f"listening on :{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
