import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
application = get_wsgi_application()

from yiwang.core.serving import tune_garbage_collector  # noqa: E402  (after Django is set up)

tune_garbage_collector()
