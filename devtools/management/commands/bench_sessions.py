"""python manage.py bench_sessions: the session engines side by side, on a private Redis."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.bench.report import full_report, write_chart, write_json
from devtools.bench.run import BenchmarkError, Plan, run_benchmark

QUICK = Plan(iterations=300, duration=1.0, adds=200, workers=4, scales=(1_000, 10_000), reads=300, in_turn=3000)


def parse_scales(text: str) -> tuple[int, ...]:
    try:
        scales = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise CommandError(
            f"--scale takes whole numbers separated by commas, like 1000,100000; not {text!r}."
        ) from None
    if not scales or min(scales) < 1:
        raise CommandError("--scale needs at least one number of sessions, each at least 1.")
    return scales


class Command(BaseCommand):
    help = "Measure this project's session engine beside Django's stock engines and write a table, JSON and a chart."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quick", action="store_true", help="A small run (a minute or so): scales 1k and 10k.")
        parser.add_argument(
            "--output", default="bench-results", help="Directory for the JSON and PNG (default bench-results/)."
        )
        parser.add_argument("--scale", help="Stored-session counts for the scale run (default 1000,100000,1000000).")
        parser.add_argument("--iterations", type=int, help="Samples per in-process latency figure (default 2000).")
        parser.add_argument("--duration", type=float, help="Seconds per gunicorn throughput run (default 3).")
        parser.add_argument("--adds", type=int, help="Concurrent add-to-cart requests on one session (default 201).")
        parser.add_argument("--workers", type=int, help="gunicorn worker processes (default 4).")
        parser.add_argument(
            "--reads", type=int, help="Read-only requests, a second apart, for writes per read (default 1200)."
        )
        parser.add_argument(
            "--in-turn",
            type=int,
            help="Load+saves of this engine and django-redis timed in turn, each (default 5000, --quick 3000): "
            "a p99 needs many.",
        )

    def handle(self, *args, **options) -> None:
        plan = self.plan(options)
        output = Path(options["output"])
        output.mkdir(parents=True, exist_ok=True)
        say = self.stdout.write if options["verbosity"] >= 1 else (lambda message: None)
        try:
            results = run_benchmark(plan, say)
        except BenchmarkError as error:
            raise CommandError(str(error)) from None
        json_path = write_json(results, output)
        chart_path = write_chart(results, output)
        self.stdout.write(full_report(results))
        self.stdout.write(self.style.SUCCESS(f"Wrote {json_path} and {chart_path}."))

    def plan(self, options: dict) -> Plan:
        base = QUICK if options["quick"] else Plan()
        changes = {
            name: options[name]
            for name in ("iterations", "duration", "adds", "workers", "reads", "in_turn")
            if options[name] is not None
        }
        if options["scale"]:
            changes["scales"] = parse_scales(options["scale"])
        for name in ("iterations", "adds", "workers", "reads", "in_turn"):
            if name in changes and changes[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        return Plan(**{**base.__dict__, **changes})
