"""`mls.audit`: a model declares its audited and secret fields; `log_action` records before (the row as read) →
after (as now) and the API token of the call, whatever changed the instance in between."""

import pytest

from mls import webhooks
from mls.audit import MASK, writing_with_token
from mls.enums import Role
from mls.models import ApiToken, AuditEvent, WebhookEndpoint
from mls.services import api_token_hash, create_api_token
from tests.factories import ProviderFactory
from vendors import services as vendor_services
from vendors.forms import ProviderForm
from vendors.models import Provider

pytestmark = pytest.mark.unit


@pytest.fixture
def contoso(tenant_a) -> Provider:
    ProviderFactory(organization=tenant_a.organization, name="Contoso", contact_email="old@contoso.test")
    with tenant_a.scope():
        return Provider.objects.get(name="Contoso")


def last_event(tenant, action: str) -> AuditEvent:
    with tenant.scope():
        return AuditEvent.objects.filter(action=action).latest("id")


def test_an_update_records_the_row_as_read_before_and_as_saved_after(tenant_a, contoso):
    with tenant_a.scope():
        vendor_services.update_provider(
            provider=contoso, membership=tenant_a.members[Role.OWNER], contact_email="new@contoso.test"
        )

    event = last_event(tenant_a, "provider.updated")
    assert (event.object_id, event.before, event.after) == (
        str(contoso.pk),
        {"name": "Contoso", "contact_email": "old@contoso.test"},
        {"name": "Contoso", "contact_email": "new@contoso.test"},
    )


def test_a_new_row_has_no_before(tenant_a):
    with tenant_a.scope():
        provider = vendor_services.add_provider(membership=tenant_a.members[Role.OWNER], name="Brightpath")

    event = last_event(tenant_a, "provider.added")
    assert (event.object_id, event.before, event.after) == (
        str(provider.pk),
        None,
        {"name": "Brightpath", "contact_email": ""},
    )


def test_values_a_model_form_copied_onto_the_instance_are_audited_against_the_stored_before(tenant_a, contoso):
    form = ProviderForm({"name": "Contoso Ltd", "contact_email": "new@contoso.test"}, instance=contoso)
    with tenant_a.scope():
        assert form.is_valid(), form.errors
        assert contoso.name == "Contoso Ltd"  # the form has already changed the instance

        vendor_services.update_provider(provider=contoso, membership=tenant_a.members[Role.OWNER], **form.cleaned_data)

    event = last_event(tenant_a, "provider.updated")
    assert (event.before, event.after) == (
        {"name": "Contoso", "contact_email": "old@contoso.test"},
        {"name": "Contoso Ltd", "contact_email": "new@contoso.test"},
    )


def test_a_field_deferred_at_the_read_is_audited_with_its_stored_value(tenant_a, contoso):
    with tenant_a.scope():
        partial = Provider.objects.only("id", "organization", "name").get(pk=contoso.pk)

        vendor_services.update_provider(
            provider=partial, membership=tenant_a.members[Role.OWNER], contact_email="new@contoso.test"
        )

    event = last_event(tenant_a, "provider.updated")
    assert (event.before, event.after) == (
        {"name": "Contoso", "contact_email": "old@contoso.test"},
        {"name": "Contoso", "contact_email": "new@contoso.test"},
    )


def test_a_deferred_field_logged_without_a_write_is_read_once_for_its_before(tenant_a, contoso):
    with tenant_a.scope():
        partial = Provider.objects.only("id", "organization", "name").get(pk=contoso.pk)

        partial.log_action("provider.checked", actor=None)

    event = last_event(tenant_a, "provider.checked")
    assert event.before == event.after == {"name": "Contoso", "contact_email": "old@contoso.test"}


def test_a_re_read_after_the_write_keeps_the_before_of_that_write(tenant_a, contoso):
    with tenant_a.scope():
        contoso.contact_email = "new@contoso.test"
        contoso.save()
        contoso.refresh_from_db()

        contoso.log_action("provider.updated", actor=None)

    event = last_event(tenant_a, "provider.updated")
    assert (event.before["contact_email"], event.after["contact_email"]) == ("old@contoso.test", "new@contoso.test")


def test_the_next_event_of_the_same_instance_starts_from_the_last_one_logged(tenant_a, contoso):
    owner = tenant_a.members[Role.OWNER]
    with tenant_a.scope():
        vendor_services.update_provider(provider=contoso, membership=owner, name="Contoso Ltd")
        vendor_services.update_provider(provider=contoso, membership=owner, name="Contoso plc")

        events = AuditEvent.objects.filter(action="provider.updated").order_by("id")
        names = [(event.before["name"], event.after["name"]) for event in events]
    assert names == [("Contoso", "Contoso Ltd"), ("Contoso Ltd", "Contoso plc")]


def test_a_deletion_has_the_row_before_and_nothing_after(tenant_a, contoso):
    with tenant_a.scope():
        contoso.log_action("provider.removed", actor=None, deleted=True)

    event = last_event(tenant_a, "provider.removed")
    assert (event.before, event.after) == ({"name": "Contoso", "contact_email": "old@contoso.test"}, None)


def test_a_rolled_webhook_secret_is_masked_on_both_sides(tenant_a):
    owner = tenant_a.user(Role.OWNER)
    with tenant_a.scope():
        created = webhooks.create_endpoint(
            organization=tenant_a.organization, actor=owner, url="https://93.184.216.34/hook"
        )
        endpoint = WebhookEndpoint.objects.get(pk=created.pk)
        old_secret = endpoint.secret

        webhooks.roll_secret(endpoint=endpoint, actor=owner)

    event = last_event(tenant_a, "webhook.secret_rolled")
    assert (event.before["secret"], event.after["secret"]) == (MASK, MASK)
    assert old_secret not in str(event.before)
    assert endpoint.secret not in str(event.after)


def test_a_new_tokens_hash_is_never_written(tenant_a):
    with tenant_a.scope():
        _, raw = create_api_token(membership=tenant_a.members[Role.OWNER], name="Workday sync", scope="read")

    event = last_event(tenant_a, "api_token.created")
    assert (event.before, sorted(event.after)) == (None, ["name", "prefix", "provider", "revoked_at", "scope"])
    assert api_token_hash(raw) not in str(event.after)


def test_the_calling_api_token_is_recorded_with_the_member(tenant_a, contoso):
    with tenant_a.scope():
        token, _ = create_api_token(membership=tenant_a.members[Role.OWNER], name="ERP", scope="read_write")
        token = ApiToken.objects.get(pk=token.pk)

        with writing_with_token(token):
            contoso.log_action("provider.updated", actor=tenant_a.user(Role.OWNER))

    event = last_event(tenant_a, "provider.updated")
    assert (event.actor, event.actor_label, event.token) == (
        tenant_a.user(Role.OWNER),
        tenant_a.user(Role.OWNER).email,
        token,
    )
