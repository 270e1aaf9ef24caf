from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PhrConfig(AppConfig):
    name = "phr"
    verbose_name = _("Personal health records")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from phr import signals  # noqa: F401  (connects receivers)
