"""The `{% may %}` checks of the communications services (registered from CommunicationsConfig.ready())."""

from mls.actions import register

from . import services

register("communications.manage", services.require_communications_manager)
