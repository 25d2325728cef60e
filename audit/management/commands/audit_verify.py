import os

from django.core.management.base import BaseCommand, CommandError

from audit.verify import SEGMENT_MIN, verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit hash chain and its signed checkpoints. Prints one line per problem "
        "(changed, missing, inserted, reordered, tail-cut) with the event's seq and id, then a "
        "summary; exits non-zero when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--processes",
            type=int,
            default=os.cpu_count() or 1,
            metavar="N",
            help="check a long chain in up to N parallel segments, each of at least "
            f"{SEGMENT_MIN:,} events (default: the number of CPUs; 1: one pass)",
        )

    def handle(self, *args, **options):
        if options["processes"] < 1:
            raise CommandError(f"--processes {options['processes']}: give 1 or more")
        report = verify_chain(processes=options["processes"])
        for problem in report.problems:
            self.stdout.write(problem.line())
        summary = (
            f"{report.count} events, {report.checkpoints} checkpoints, "
            f"head {report.head_hash[:16]}…, {report.processes} process(es): "
        )
        if report.ok:
            self.stdout.write(summary + "chain intact")
            return
        raise CommandError(summary + f"{len(report.problems)} problem(s) found", returncode=1)
