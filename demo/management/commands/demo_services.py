import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

from django.core.management.base import BaseCommand

from demo.workload import DAY, Counters, demo_services, exposition


class Command(BaseCommand):
    help = (
        "Serve the demo services' live metrics on 127.0.0.1 (continuing the history written by "
        "demo_history for the same --now), including a checkout outage that makes a page fire."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=9101)
        parser.add_argument("--now", type=float, default=None, help="the demo's start (unix s)")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument(
            "--outage-after", type=float, default=60.0, help="seconds until the checkout outage"
        )

    def handle(self, *args, port, now, days, outage_after, **options):
        now = now or time.time()
        start = now - days * DAY
        services = demo_services(start, now, outage_after)
        counters = Counters(services, start)
        counters.advance_to(now)
        lock = Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                with lock:
                    body = exposition(services, counters, time.time()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):  # quiet: Prometheus scrapes every 15 s
                return

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.stdout.write(f"demo services on http://127.0.0.1:{port}/metrics")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
