from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from staff.choices import ROLE_GROUPS, Role
from staff.forms import WorkingPatternForm
from staff.models import SkillTag, StaffMember, StaffSkill, WorkingPattern

ALL_ROLE_GROUPS = ("staff", "manager", "partner", "admin")
_IN_CHUNK = 900  # ids per IN (...) list: under SQLite's classic 999-variable limit


@transaction.atomic
def staff_member_sync_role(*, staff_member: StaffMember) -> None:
    """Make the user's auth groups and admin access follow their role.

    Called whenever a role changes (admin form, seed, import) so permissions
    never drift from what the staff page says.
    """
    user = staff_member.user
    wanted = set(ROLE_GROUPS[Role(staff_member.role)])
    groups = {group.name: group for group in Group.objects.filter(name__in=ALL_ROLE_GROUPS)}
    missing = wanted - groups.keys()
    if missing:
        raise RuntimeError(f"Role groups missing (run migrations): {sorted(missing)}")
    current = set(user.groups.filter(name__in=ALL_ROLE_GROUPS).values_list("name", flat=True))
    if current - wanted:
        user.groups.remove(*(groups[name] for name in current - wanted))
    if wanted - current:
        user.groups.add(*(groups[name] for name in wanted - current))
    is_admin = staff_member.role == Role.ADMIN
    if user.is_staff != is_admin and not user.is_superuser:
        user.is_staff = is_admin
        user.save(update_fields=["is_staff"])
    if not staff_member.active and user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif staff_member.active and not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])


@transaction.atomic
def staff_members_sync_roles_bulk(*, staff_members: Sequence[StaffMember]) -> int:
    """``staff_member_sync_role`` for many people at once, in a handful of queries.

    For seeding and imports of hundreds of people, where four or five queries
    per person would dominate. Same outcome: each user's role groups become
    exactly ``ROLE_GROUPS[role]``, ``is_staff`` follows the admin role
    (superusers untouched) and ``is_active`` follows ``active``. The through
    rows are computed in Python and written with one ``bulk_create``; queries
    grow with the number of people only in chunks of 900 (SQLite's IN limit).
    ``staff_members`` must carry their ``user`` (select_related or assigned).
    Returns the number of group memberships added.
    """
    user_model = get_user_model()
    through = user_model.groups.through
    groups = dict(Group.objects.filter(name__in=ALL_ROLE_GROUPS).values_list("name", "pk"))
    wanted_names = {name for member in staff_members for name in ROLE_GROUPS[Role(member.role)]}
    missing = wanted_names - groups.keys()
    if missing:
        raise RuntimeError(f"Role groups missing (run migrations): {sorted(missing)}")
    user_ids = [member.user_id for member in staff_members]
    current: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(user_ids), _IN_CHUNK):
        for user_id, group_id in through.objects.filter(
            user_id__in=user_ids[start : start + _IN_CHUNK], group_id__in=groups.values()
        ).values_list("user_id", "group_id"):
            current[user_id].add(group_id)
    to_add: list[Any] = []  # rows of the user-groups through table
    to_remove: dict[int, list[int]] = defaultdict(list)
    flags: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for member in staff_members:
        user = member.user
        wanted = {groups[name] for name in ROLE_GROUPS[Role(member.role)]}
        have = current[user.pk]
        to_add.extend(through(user_id=user.pk, group_id=pk) for pk in sorted(wanted - have))
        for pk in have - wanted:
            to_remove[pk].append(user.pk)
        is_admin = member.role == Role.ADMIN
        if user.is_staff != is_admin and not user.is_superuser:
            user.is_staff = is_admin
            flags[("is_staff", is_admin)].append(user.pk)
        if user.is_active != member.active:
            user.is_active = member.active
            flags[("is_active", member.active)].append(user.pk)
    through.objects.bulk_create(to_add, batch_size=2000)
    for group_id, ids in to_remove.items():
        for start in range(0, len(ids), _IN_CHUNK):
            through.objects.filter(
                group_id=group_id, user_id__in=ids[start : start + _IN_CHUNK]
            ).delete()
    for (flag, value), ids in flags.items():
        for start in range(0, len(ids), _IN_CHUNK):
            user_model.objects.filter(pk__in=ids[start : start + _IN_CHUNK]).update(**{flag: value})
    return len(to_add)


@transaction.atomic
def working_pattern_add(*, staff_member: StaffMember, form: WorkingPatternForm) -> WorkingPattern:
    """Save a valid pattern form for ``staff_member`` (the roster's stamp moves on
    commit: dispatch reads the new hours from its next decision)."""
    pattern: WorkingPattern = form.save(commit=False)
    pattern.staff_member = staff_member
    pattern.full_clean()
    pattern.save()
    return pattern


@transaction.atomic
def working_pattern_remove(*, staff_member: StaffMember, pattern_id: int) -> bool:
    """Remove one of ``staff_member``'s patterns; False when they have no such pattern."""
    pattern = WorkingPattern.objects.filter(pk=pattern_id, staff_member=staff_member).first()
    if pattern is None:
        return False
    pattern.delete()
    return True


@transaction.atomic
def staff_skill_grant(
    *,
    staff_members: Sequence[StaffMember],
    skill: SkillTag,
    level: int,
    certified_until: date | None = None,
) -> int:
    """Give ``skill`` at ``level`` to each of ``staff_members`` (the staff list's "Add a
    skill" action); whoever holds it already gets the new level and date. One save
    each, so the dispatch roster hears of every change. Returns how many people."""
    for member in staff_members:
        StaffSkill.objects.update_or_create(
            staff_member=member,
            skill=skill,
            defaults={"level": level, "certified_until": certified_until},
        )
    return len(staff_members)
