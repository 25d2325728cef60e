from django.core.management.base import BaseCommand, CommandError

from audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit hash chain and its signed checkpoints. Prints one line per problem "
        "(changed, missing, inserted, reordered, tail-cut) with the event's seq and id, then a "
        "summary; exits non-zero when anything is wrong."
    )

    def handle(self, *args, **options):
        report = verify_chain()
        for problem in report.problems:
            self.stdout.write(problem.line())
        summary = (
            f"{report.count} events, {report.checkpoints} checkpoints, "
            f"head {report.head_hash[:16]}…: "
        )
        if report.ok:
            self.stdout.write(summary + "chain intact")
            return
        raise CommandError(summary + f"{len(report.problems)} problem(s) found", returncode=1)
