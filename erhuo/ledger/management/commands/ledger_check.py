from django.core.management.base import BaseCommand, CommandError

from erhuo.ledger import selectors


class Command(BaseCommand):
    help = "Check that every journal entry balances and every account's balance matches its postings."

    def handle(self, *args, **options):
        totals = selectors.trial_balance()
        self.stdout.write(
            f"postings: {totals['postings']}  debits: {totals['debits_fen']} fen  credits: {totals['credits_fen']} fen"
        )
        problems = selectors.ledger_problems()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the ledger")
        self.stdout.write(self.style.SUCCESS("The ledger balances."))
