"""WSGI entry point, for HTTP-only workers behind nginx at scale."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erhuo.settings")
application = get_wsgi_application()
