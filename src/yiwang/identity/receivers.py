"""Signal receivers: a change of a user's staff roles, or a new account, drops the user's cached
roles (``selectors.staff_roles``) and the department's cached role holders
(``selectors.role_holders``); a change of a person or an account drops the cached name of the
page header (``selectors.display_name``). A new account may reuse the id of one deleted earlier (SQLite
reuses row ids), so its creation clears whatever was cached under that id."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import Person, StaffRole
from .selectors import forget_display_name, forget_role_holders, forget_staff_roles


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


@receiver(post_save, sender=Person, dispatch_uid="identity.person_saved")
@receiver(post_delete, sender=Person, dispatch_uid="identity.person_deleted")
def person_changed(sender: type[Person], instance: Person, **kwargs: Any) -> None:
    forget_display_name(instance.user_id)
