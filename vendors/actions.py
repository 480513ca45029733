"""The `{% may %}` checks of the vendor services (registered from VendorsConfig.ready(); see mls.actions)."""

from mls.actions import register

from . import services

# (membership, supplier) and (membership, instructor): the keeper of the provider they belong to, as the edits ask.
register("supplier.edit", lambda membership, supplier: services.require_vendor_keeper(membership, supplier.provider))
register(
    "instructor.edit", lambda membership, instructor: services.require_vendor_keeper(membership, instructor.provider)
)
