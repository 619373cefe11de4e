"""Signal receivers: a change of a user's staff roles, or a new account, drops the user's cached
roles (``selectors.staff_roles``) and the department's cached role holders
(``selectors.role_holders``); a change of a person or an account drops the cached name of the
page header (``selectors.display_name``); a change of a mandate or a company drops the cached
companies its people may act for (``selectors.acting_options``). A new account may reuse the id of one deleted earlier (SQLite
reuses row ids), so its creation clears whatever was cached under that id."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import Company, Mandate, Person, StaffRole
from .selectors import forget_acting_options, forget_display_name, forget_role_holders, forget_staff_roles


@receiver(pre_save, sender=StaffRole, dispatch_uid="identity.staff_role_moving")
def staff_role_moving(sender: type[StaffRole], instance: StaffRole, **kwargs: Any) -> None:
    """A role given to another account, department or role (an edit in the back office) leaves
    its old holder and department too."""
    if instance.pk:
        previous = (
            StaffRole.objects.filter(pk=instance.pk).values_list("user_id", "department_id", "role").first()
        )
        if previous is not None:
            forget_staff_roles(previous[0])
            forget_role_holders(previous[1], previous[2])


@receiver(post_save, sender=StaffRole, dispatch_uid="identity.staff_role_saved")
@receiver(post_delete, sender=StaffRole, dispatch_uid="identity.staff_role_deleted")
def staff_role_changed(sender: type[StaffRole], instance: StaffRole, **kwargs: Any) -> None:
    forget_staff_roles(instance.user_id)
    forget_role_holders(instance.department_id, instance.role)


@receiver(post_save, sender=User, dispatch_uid="identity.account_saved")
def account_saved(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    forget_display_name(instance.pk)  # the account's own name may have changed
    if created:
        forget_staff_roles(instance.pk)
        forget_acting_options([instance.pk])


@receiver(post_save, sender=Person, dispatch_uid="identity.person_saved")
@receiver(post_delete, sender=Person, dispatch_uid="identity.person_deleted")
def person_changed(sender: type[Person], instance: Person, **kwargs: Any) -> None:
    forget_display_name(instance.user_id)


def _accounts_of(person_q: Q) -> list[int]:
    return list(Person.objects.filter(person_q).values_list("user_id", flat=True))


@receiver(pre_save, sender=Mandate, dispatch_uid="identity.mandate_moving")
def mandate_moving(sender: type[Mandate], instance: Mandate, **kwargs: Any) -> None:
    """A mandate given to another agent (an edit in the back office) leaves its old agent."""
    if instance.pk:
        previous = Mandate.objects.filter(pk=instance.pk).values_list("agent_id", flat=True).first()
        if previous is not None and previous != instance.agent_id:
            forget_acting_options(_accounts_of(Q(pk=previous)))


@receiver(post_save, sender=Mandate, dispatch_uid="identity.mandate_saved")
@receiver(post_delete, sender=Mandate, dispatch_uid="identity.mandate_deleted")
def mandate_changed(sender: type[Mandate], instance: Mandate, **kwargs: Any) -> None:
    forget_acting_options(_accounts_of(Q(pk=instance.agent_id)))


@receiver(pre_save, sender=Company, dispatch_uid="identity.company_moving")
def company_moving(sender: type[Company], instance: Company, **kwargs: Any) -> None:
    """A new legal representative: the old one may no longer act for the company."""
    if instance.pk:
        previous = (
            Company.objects.filter(pk=instance.pk).values_list("legal_representative_id", flat=True).first()
        )
        if previous is not None and previous != instance.legal_representative_id:
            forget_acting_options(_accounts_of(Q(pk=previous)))


@receiver(post_save, sender=Company, dispatch_uid="identity.company_saved")
@receiver(post_delete, sender=Company, dispatch_uid="identity.company_deleted")
def company_changed(sender: type[Company], instance: Company, **kwargs: Any) -> None:
    """The menu shows the company's name to its legal representative and its agents."""
    forget_acting_options(
        _accounts_of(Q(pk=instance.legal_representative_id) | Q(mandates_received__company_id=instance.pk))
    )
