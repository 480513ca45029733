"""The audit log API: a model declares what of it is audited (`Audited`), and `obj.log_action(...)` records who did
what to it, before → after, with the API token of the call. Services never write snapshots by hand.

The "before" is the row as it was read (`from_db`), so it needs no second query and no help from the service: a
ModelForm that copied new values onto the instance, or a service that set them, leaves it alone.
"""

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.apps import apps
from django.db import models, router, transaction

if TYPE_CHECKING:
    from .models import ApiToken, AuditEvent, Organization, User

MASK = "•••"

# The API token of the call being served, if any: every audit event written meanwhile names it, whichever service
# writes the event, so no service needs to be told how it was called.
_calling_token: ContextVar["ApiToken | None"] = ContextVar("mls_calling_token", default=None)


@contextmanager
def writing_with_token(token: "ApiToken | None") -> Iterator[None]:
    """Attribute every audit event written inside to `token` (the API's authentication enters this for a call)."""
    previous = _calling_token.set(token)
    try:
        yield
    finally:
        _calling_token.reset(previous)


def _audit_event_model() -> type["AuditEvent"]:
    # mls.models mixes `Audited` in, so this module cannot import it at load.
    return apps.get_model("mls", "AuditEvent")


def audit_event(
    *,
    organization: "Organization",
    actor: "User | None",
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> "AuditEvent":
    """The (unsaved) record of `actor` doing `action` to `obj`, with the API token of the call when there is one."""
    token = _calling_token.get()
    return _audit_event_model()(
        organization=organization,
        actor=actor,
        actor_label=actor.email if actor else "",
        token=token if token is not None and token.organization_id == organization.pk else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        before=before,
        after=after,
    )


def record_event(
    *,
    organization: "Organization",
    actor: "User | None",
    action: str,
    obj: models.Model,
    after: dict[str, Any],
) -> "AuditEvent":
    """An event whose content is not the state of a row: what an action did to `obj` as a whole (the register of a
    session, an import's outcome). A change of a row is `obj.log_action`."""
    event = audit_event(organization=organization, actor=actor, action=action, obj=obj, after=after)
    event.save()
    return event


def create_audited(objs: list[models.Model], events: list["AuditEvent"]) -> None:
    """Insert new rows of one model together with the audit events that record them (one per row, in the same
    order; each gets its row's new id as object_id), all or nothing."""
    if len(objs) != len(events):
        raise ValueError(f"{len(objs)} rows need {len(objs)} audit events, not {len(events)}.")
    for obj in objs:
        if obj.pk is not None or not obj._state.adding:
            raise ValueError(f"{obj!r} is not a new row.")
    event_model = _audit_event_model()
    using = router.db_for_write(event_model)
    with transaction.atomic(using=using):
        type(objs[0])._default_manager.using(using).bulk_create(objs)
        for obj, event in zip(objs, events, strict=True):
            event.object_id = str(obj.pk)
        event_model.objects.using(using).bulk_create(events)


class Audited(models.Model):
    """A model whose changes are audited. `audited_fields` are written whole into every event's before and after
    (foreign keys as ids, so the log does not depend on related rows surviving); a `secret_fields` value is never
    written: when an action changes it, both sides show MASK, so the log says the secret changed and no more.

    The state the row was read with (or inserted with) is remembered, also for fields deferred at the read
    (fetched once, before the first save), and becomes the next event's `before`; a row inserted and not changed
    since has none. After an event the logged state is the next `before`.
    """

    audited_fields: ClassVar[tuple[str, ...]] = ()
    secret_fields: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        inserting = self._state.adding
        if self.__dict__.get("_audit_loaded") is not None and not inserting:
            self._remember_deferred()
            self._audit_written = True
        super().save(*args, **kwargs)
        if inserting and self.audited_fields:
            # The row as inserted is the state a later change is compared with; until one, the row is new.
            self._remember(self._audited_attnames())
            self._audit_inserted, self._audit_written = True, False

    @classmethod
    def from_db(cls, db: str | None, field_names: list[str], values: list[Any]) -> Self:
        instance = super().from_db(db, field_names, values)
        if cls.audited_fields:
            instance._remember(instance._audited_attnames())
            instance._audit_written = False
        return instance

    def refresh_from_db(self, using: str | None = None, fields: Any = None, from_queryset: Any = None) -> None:
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        # A re-read (under a lock, or of a deferred field) is the state to compare with, unless the row was written
        # since it was remembered: then the remembered state is still what the write changed.
        remembered = self.__dict__.get("_audit_loaded")
        if remembered is None:
            return
        refreshed = self._audited_attnames()
        if fields is not None:
            named = {getattr(self._meta.get_field(name), "attname", name) for name in fields}
            refreshed = tuple(name for name in refreshed if name in named)
        if self.__dict__.get("_audit_written"):
            refreshed = tuple(name for name in refreshed if name not in remembered)
        self._remember(refreshed)

    def _remember_deferred(self) -> None:
        """The stored values of the audited fields deferred at the read and not loaded since (one query), while the
        row still holds them."""
        remembered = self.__dict__["_audit_loaded"]
        missing = [name for name in self._audited_attnames() if name not in remembered]
        if missing:
            stored = type(self)._base_manager.using(self._state.db).filter(pk=self.pk).values(*missing).get()
            remembered.update(stored)

    @classmethod
    def _audited_attnames(cls) -> tuple[str, ...]:
        attnames = cls.__dict__.get("_audit_attnames")  # per class, not inherited: computed once, read per row
        if attnames is None:
            names = (*cls.audited_fields, *cls.secret_fields)
            attnames = tuple(cls._meta.get_field(name).attname for name in names)
            cls._audit_attnames = attnames
        return attnames

    def _remember(self, attnames: Any) -> None:
        loaded = self.__dict__.setdefault("_audit_loaded", {})
        deferred = self.get_deferred_fields()
        for attname in attnames:
            if attname not in deferred:
                value = self.__dict__[attname]
                # A JSON list or dict may be changed in place; the remembered state must not change with it.
                loaded[attname] = copy.deepcopy(value) if isinstance(value, list | dict) else value

    def audited_state(self) -> dict[str, Any]:
        """The audited fields as they are now (FKs as ids)."""
        return {name: getattr(self, self._meta.get_field(name).attname) for name in self.audited_fields}

    def _loaded_state(self, *, deleting: bool) -> dict[str, Any] | None:
        loaded = self.__dict__.get("_audit_loaded")
        new = self.__dict__.get("_audit_inserted") and not self.__dict__.get("_audit_written") and not deleting
        if loaded is None or new:
            return None
        return {name: loaded[self._meta.get_field(name).attname] for name in self.audited_fields}

    def _audit_organization(self) -> "Organization":
        return self.organization

    def log_action(
        self,
        action: str,
        *,
        actor: "User | None",
        deleted: bool = False,
        extra: Mapping[str, tuple[Any, Any]] | None = None,
    ) -> "AuditEvent":
        """Record that `actor` did `action` to this row: before (as read; None for a new row) → after (as now;
        None when `deleted`, which the caller does next). `extra` holds (before, after) of what the row's own
        fields do not (a requirement's courses)."""
        if self.__dict__.get("_audit_loaded") is not None and not self.__dict__.get("_audit_written"):
            self._remember_deferred()  # logged without a write since the read: the stored values are the before
        before, after = self._loaded_state(deleting=deleted), None if deleted else self.audited_state()
        loaded = self.__dict__.get("_audit_loaded") or {}
        for name in self.secret_fields:
            attname = self._meta.get_field(name).attname
            if attname in loaded and loaded[attname] != getattr(self, attname):
                for side in (before, after):
                    if side is not None:
                        side[name] = MASK
        for name, (was, now) in (extra or {}).items():
            if before is not None:
                before[name] = was
            if after is not None:
                after[name] = now
        event = audit_event(
            organization=self._audit_organization(), actor=actor, action=action, obj=self, before=before, after=after
        )
        event.save()
        self._remember(self._audited_attnames())
        self._audit_inserted, self._audit_written = False, False
        return event


def save_audited(
    obj: Audited, *, actor: "User | None", action: str, changes: Mapping[str, Any], reread: bool = False
) -> Audited:
    """Apply `changes` to a new or stored row, validate it whole (constraints included), save, and log `action`:
    the write of a form or an API call, in one step. `reread` logs the values as stored (a decimal typed "12" is
    12.00), as the next event's "before" will have them."""
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    if reread:
        obj.refresh_from_db()
    obj.log_action(action, actor=actor)
    return obj
