from django.core.management.base import BaseCommand, CommandError

from erhuo.ledger import reconciliation, selectors


class Command(BaseCommand):
    help = (
        "Run every reconciliation check (the ledger, payouts, and those other apps register) and print OK or "
        "each problem. Exits with status 1 when any check finds a problem."
    )

    def handle(self, *args, **options):
        totals = selectors.trial_balance()
        self.stdout.write(
            f"postings: {totals['postings']}  debits: {totals['debits_fen']} fen  credits: {totals['credits_fen']} fen"
        )
        results = reconciliation.run_all()
        for result in results:
            if result.ok:
                self.stdout.write(f"{self.style.SUCCESS('OK')}       {result.name}: {result.label}")
                continue
            self.stdout.write(f"{self.style.ERROR('PROBLEM')}  {result.name}: {result.label}")
            for problem in result.problems:
                self.stdout.write(f"         - {problem}")
        failing = [result.name for result in results if not result.ok]
        if failing:
            count = sum(len(result.problems) for result in results)
            raise CommandError(f"{count} problem(s) in: {', '.join(failing)}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"All {len(results)} checks pass."))
