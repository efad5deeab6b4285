"""Re-encrypt every personal-data column under the first key of ERHUO_PII_KEY.

Key rotation: put the new key first in ERHUO_PII_KEY (keep the old ones after
it), restart, run this command, then drop the old keys except the last one,
which derives the blind indexes (see erhuo/core/pii.py).
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from erhuo.core.pii import EncryptedTextField, reencrypt


class Command(BaseCommand):
    help = "Re-encrypt personal data under the current first ERHUO_PII_KEY key."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        total = 0
        for model in apps.get_models():
            fields = [field for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]
            if not fields:
                continue
            columns = [field.attname for field in fields]
            # Raw SQL: the stored tokens, not the decrypted values the ORM would return.
            count = 0
            for row in _raw_rows(model, columns, batch_size):
                pk, tokens = row[0], row[1:]
                updates = {column: reencrypt(token) for column, token in zip(columns, tokens, strict=True) if token}
                if updates:
                    with transaction.atomic():
                        _raw_update(model, pk, updates)
                    count += 1
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"done: {total} rows"))


def _raw_rows(model, columns, batch_size):
    from django.db import connections, router

    connection = connections[router.db_for_read(model)]
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    quoted = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    last_pk = None
    while True:
        with connection.cursor() as cursor:
            if last_pk is None:
                cursor.execute(f"SELECT {pk_column}, {quoted} FROM {table} ORDER BY {pk_column} LIMIT %s", [batch_size])  # noqa: S608
            else:
                cursor.execute(
                    f"SELECT {pk_column}, {quoted} FROM {table} WHERE {pk_column} > %s ORDER BY {pk_column} LIMIT %s",  # noqa: S608
                    [last_pk, batch_size],
                )
            batch = cursor.fetchall()
        if not batch:
            return
        yield from batch
        last_pk = batch[-1][0]


def _raw_update(model, pk, updates):
    from django.db import connections, router

    connection = connections[router.db_for_write(model)]
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    assignments = ", ".join(f"{connection.ops.quote_name(model._meta.get_field(c).column)} = %s" for c in updates)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s", [*updates.values(), pk])  # noqa: S608
