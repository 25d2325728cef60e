import random
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import personal_token_create
from ssops_cli.main import Client, CliError


class Command(BaseCommand):
    help = (
        "File catalog requests through the API as the demo users (dev files, approver decides), "
        "against a running SSOps on 127.0.0.1, so the dashboards have live activity."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--interval", type=float, default=30.0, help="mean seconds per action")
        parser.add_argument("--duration", type=float, default=0, help="stop after this (0: never)")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, url, interval, duration, seed, **options):
        if interval <= 0 or duration < 0:
            raise CommandError("--interval must be positive and --duration 0 or more")
        users = get_user_model().objects.filter(username__in=["dev", "approver"])
        # Tokens of their own for this run (keys are not kept, so each run makes new ones).
        tokens = {
            u.username: str(
                personal_token_create(
                    actor=None, user=u, name="demo traffic", scopes=["write", "approve"]
                ).key
            )
            for u in users
        }
        if set(tokens) != {"dev", "approver"}:
            raise CommandError("the demo users are missing: run manage.py seed_demo first")
        dev, approver = Client(url, tokens["dev"]), Client(url, tokens["approver"])
        rng = random.Random(seed)
        stop_at = time.monotonic() + duration if duration else None
        count = 0
        while stop_at is None or time.monotonic() < stop_at:
            count += 1
            try:
                self.stdout.write(self._act(rng, count, dev, approver))
            except CliError as exc:
                self.stdout.write(f"traffic: {exc}")
            time.sleep(rng.uniform(0.5, 1.5) * interval)

    def _act(self, rng: random.Random, n: int, dev: Client, approver: Client) -> str:
        pending = approver.results("/api/approvals/")
        if pending and rng.random() < 0.6:
            request = pending[0]
            verb, done = ("approve", "approved") if rng.random() < 0.85 else ("reject", "rejected")
            approver.post(f"/api/requests/{request['uuid']}/{verb}/", {"comment": "demo traffic"})
            return f"traffic: approver {done} {request['uuid']}"
        roll = rng.random()
        team = rng.choice(["payments", "search"])
        if roll < 0.5:
            body = {
                "template": "kubernetes-namespace",
                "team": team,
                "parameters": {"name": f"{team}-demo-{n}", "environment": "dev"},
            }
        elif roll < 0.85:
            body = {
                "template": "postgres-database",
                "team": team,
                "parameters": {"name": f"{team}-db-{n}", "size": "small", "environment": "dev"},
                "justification": "demo traffic: a database for a feature branch",
            }
        else:  # a production change without a justification: policy denies it
            body = {
                "template": "postgres-database",
                "team": team,
                "parameters": {"name": f"{team}-prod-{n}", "size": "small", "environment": "prod"},
            }
        created = dev.post("/api/requests/", body)
        return f"traffic: dev filed {body['template']} for {team}: {created['state']}"
