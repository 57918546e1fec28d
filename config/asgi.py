"""ASGI entry point; like config.wsgi, it imports the URLconf at boot."""

import os
from importlib import import_module

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
import_module(settings.ROOT_URLCONF)
