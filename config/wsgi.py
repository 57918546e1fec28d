"""WSGI entry point.

The URLconf (every app's views, DRF, the schema views) is imported here, at boot,
rather than by the first request each server process serves: lazily, that import
made the first request after a deploy or a worker restart about a second slower
(a webhook acknowledgement or an end-to-end dispatch included).
"""

import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
import_module(settings.ROOT_URLCONF)
