"""`{% may %}` asks a check each app registers for its own services (mls.actions); an unknown name fails closed."""

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template

from engagements import services as engagement_services
from mls import actions
from mls.actions import UnknownAction, check_for, may, register
from mls.enums import Permission, Role
from scheduling import services as delivery_services
from slas import services as sla_services
from tests.conftest import Tenant
from vendors import services as vendor_services

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
APPS_BUILT_ON_MLS = ("engagements", "scheduling", "slas", "vendors", "reporting")


@pytest.mark.parametrize(
    ("action", "app"),
    [
        ("change_request.approve", "engagements"),
        ("engagement.save_as_template", "engagements"),
        ("delivery.log", "scheduling"),
        ("ticket.reply", "scheduling"),
        ("course.manage", "scheduling"),
        ("compliance.assign", "scheduling"),
        ("relief.decide", "slas"),
        ("relief.request", "slas"),
        ("supplier.edit", "vendors"),
        ("instructor.edit", "vendors"),
    ],
)
def test_each_app_registers_its_own_checks_at_startup(action, app):
    """Registered by the app's AppConfig.ready() from `<app>/actions.py`, not by a table in mls."""
    check = check_for(action)
    assert check.__module__.split(".")[0] in {app, "engagements"}  # slas reuses engagements' acting_side
    assert f'"{action}"' in (ROOT / app / "actions.py").read_text()


def test_the_checks_are_the_services_own_functions():
    """The button and the write ask one function: the service calls what the page asks."""
    assert check_for("relief.decide") is sla_services.check_decide_relief
    assert check_for("delivery.log") is delivery_services.require_delivery_writer
    assert check_for("change_request.approve") is engagement_services.check_approve_change_request
    assert check_for("ticket.reply") is delivery_services.check_reply


def test_an_unknown_action_raises_rather_than_hiding_or_showing_a_button():
    with pytest.raises(UnknownAction, match=r"relief\.decid"):
        may(None, "relief.decid")
    with pytest.raises(UnknownAction):
        Template('{% load actions %}{% may "no.such.action" as flag %}').render(Context({"request": object()}))


def test_a_name_is_registered_once_and_never_shadows_a_permission():
    register("relief.decide", sla_services.check_decide_relief)  # the same check again: harmless
    with pytest.raises(ValueError, match="already registered"):
        register("relief.decide", vendor_services.require_vendor_keeper)
    with pytest.raises(ValueError, match="permission name"):
        register(Permission.MANAGE_SLAS.value, sla_services.check_decide_relief)
    assert check_for("relief.decide") is sla_services.check_decide_relief


def test_the_registry_imports_no_app_built_on_mls():
    """mls stays the core: the registry and its template tag know no app's services (the apps import mls)."""
    for path in (ROOT / "mls" / "actions.py", ROOT / "mls" / "templatetags" / "actions.py"):
        tree = ast.parse(path.read_text())
        imported = [
            alias.name if isinstance(node, ast.Import) else node.module or ""
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        ]
        assert [name for name in imported if name.split(".")[0] in APPS_BUILT_ON_MLS] == [], path


def test_may_answers_with_the_check_for_each_role(db):
    """An object check refuses (False) where the service would raise, and a missing member may nothing."""
    tenant = Tenant("Acme Corp", "acme-registry").with_route_objects()
    engagement = tenant.contract.engagement
    with tenant.scope():
        answers = {role: may(tenant.members[role], "relief.decide", engagement) for role in Role.values}
        for role, allowed in answers.items():
            if allowed:
                sla_services.check_decide_relief(tenant.members[role], engagement)
            else:
                with pytest.raises(ValidationError):
                    sla_services.check_decide_relief(tenant.members[role], engagement)
    assert set(answers.values()) == {True, False}
    assert may(None, "relief.decide", engagement) is False
    assert actions.registered() >= {"relief.decide", "delivery.log", "supplier.edit"}
