from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Learner portal")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in  # noqa: PLC0415 - models must be loaded first

        from .learner_session import end_learner_session_on_member_sign_in  # noqa: PLC0415 - see above

        user_logged_in.connect(end_learner_session_on_member_sign_in, dispatch_uid="portal.member_is_not_a_learner")
