import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Write audit events as JSON Lines (one event per line, with its hash links) for a SIEM."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
        parser.add_argument("--after-seq", type=int, default=0, help="only events after this seq")

    def handle(self, *args, output, after_seq, **options):
        if after_seq < 0:
            raise CommandError("--after-seq must be 0 or more")
        stream = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
        count = 0
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT seq, prev_hash, hash, body FROM audit_auditevent"
                    " WHERE seq > %s ORDER BY seq",
                    [after_seq],
                )
                while rows := cursor.fetchmany(5000):
                    for seq, prev_hash, hash_, body in rows:
                        event = json.loads(body)
                        event.update(seq=seq, prev_hash=prev_hash, hash=hash_)
                        stream.write(json.dumps(event, ensure_ascii=False) + "\n")
                        count += 1
        finally:
            if stream is not sys.stdout:
                stream.close()
        self.stderr.write(f"exported {count} events")
