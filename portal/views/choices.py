"""My choices (私の選択): how a person's health data may be used, changed by them or by their proxy.

Reads go through phr.access with the ``view`` scope, writes with ``manage_consent``; every write is a
consent service called with the version the page showed, so a change made elsewhere in the meantime
is refused and nothing is overwritten. What each cell of the grid says, and what a change would make
it say, is the decision engine's answer for that purpose and category, put into words here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consent import selectors, services
from consent.errors import ConsentConflict, InvalidDirective
from consent.models import Channel, ConsentEvent, PurposeClass
from phr.access import active_proxy_for, own_person, person_for_user
from phr.categories import TIERS, DataCategory, Tier
from phr.models.parties import ProxyScope
from phr.services import record_audit
from portal.choices_forms import (
    CONDITION_WORDS,
    PERMISSION_WORDS,
    BlockForm,
    CategoryChoiceForm,
    DuoTermsForm,
    OptOutForm,
    UnblockForm,
    VersionedForm,
    describe_terms,
    icd10_chapters,
)
from portal.choices_grid import (
    PURPOSES,
    Snapshots,
    answer_of,
    default_words,
    grid_changes,
    statutory_uses,
    tier_groups,
    with_category,
    with_opt_out,
)
from portal.choices_history import blocks_of, history_entries

# Recorded with each change as the text the person was shown (ConsentEvent.notice_version).
from portal.choices_subject import Subject
from portal.http import AuthenticatedRequest

TEXT_VERSION = "portal/my-choices/1"
HISTORY_ON_OVERVIEW = 5
# After a write, the overview opens at the section of the choice that was made.
SECTIONS = {
    "set_global_opt_out": "opt-out",
    "set_category_choice": "grid",
    "set_duo_terms": "terms",
    "set_organisation_block": "organisations",
}


def conflict_message() -> str:
    return _(
        "Your choices changed elsewhere (in another window, or by someone acting for you) after this page "
        "was opened. Here is the current state. Nothing was overwritten: make your change again if you "
        "still want it."
    )


# -- who the page is about ------------------------------------------------------------------------------


def _subject(request: AuthenticatedRequest, person_id: str | None, *, change: bool) -> Subject:
    scope = ProxyScope.MANAGE_CONSENT if change else ProxyScope.VIEW
    person = person_for_user(request.user, person_id, scope=scope)
    if person.user_id == request.user.pk:
        return Subject(person, True, None)
    proxy = active_proxy_for(request.user, person.pk)
    if proxy is None:
        raise Http404
    if not change:
        record_audit(actor=request.user, person=person, action="proxy.viewed_choices", proxy=str(proxy.pk))
    return Subject(person, False, proxy)


def _context(subject: Subject, **extra: Any) -> dict[str, Any]:
    return {
        "person": subject.person,
        "is_own": subject.is_own,
        "proxy": subject.proxy,
        "can_change": subject.can_change,
        "urls": {
            "choices": subject.url("choices"),
            "choices_opt_out": subject.url("choices_opt_out"),
            "choices_terms": subject.url("choices_terms"),
            "choices_block": subject.url("choices_block"),
            "choices_unblock": subject.url("choices_unblock"),
            "history": subject.url("choices_history"),
            "back": _back_url(subject),
        },
        **extra,
    }


def _back_url(subject: Subject) -> str:
    if subject.is_own:
        return reverse("portal:dashboard")
    return reverse("portal:dependent_dashboard", args=[subject.person.pk])


# -- the grid: the engine's answer for each purpose class and category, in words ------------------------


@login_required
def overview(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    if person_id is None and own_person(request.user) is None:
        return redirect("portal:dashboard")  # someone who only acts for others picks the person there
    subject = _subject(request, person_id, change=False)
    choices = selectors.choices_of(subject.person)
    snapshots = Snapshots.load(subject.person)
    grid = snapshots.grid()
    recent = selectors.consent_history(subject.person)[:HISTORY_ON_OVERVIEW]
    history = history_entries(request, subject, recent)
    context = _context(
        subject,
        choices=choices,
        opted_out=choices.global_opt_out is not None,
        statutory_uses=statutory_uses(snapshots),
        tiers=tier_groups(subject, snapshots, grid),
        purposes=PURPOSES,
        terms_words=describe_terms(choices.duo_terms.terms if choices.duo_terms else None),
        blocks=blocks_of(choices.organisation_blocks),
        block_form=BlockForm(initial={"version": choices.version}) if subject.can_change else None,
        history=history,
    )
    return render(request, "portal/choices/overview.html", context)


def _saved(
    request: AuthenticatedRequest,
    subject: Subject,
    write: Callable[..., ConsentEvent],
    done: str,
    **arguments: Any,
) -> HttpResponse:
    """Call one consent service as the signed-in user; a stale version shows the current state instead."""
    try:
        write(person=subject.person, actor=request.user, channel=Channel.WEB, **arguments)
    except ConsentConflict:
        messages.warning(request, conflict_message())
    except InvalidDirective as error:
        messages.error(request, " ".join([str(error), *error.problems]))
    else:
        messages.success(request, done)
        return redirect(f"{subject.url('choices')}#{SECTIONS[write.__name__]}")
    return redirect(subject.url("choices"))  # the message stays in view, above the current state


@login_required
def opt_out(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    """The confirmation step of the global opt-out: what it stops and what continues, from the engine."""
    subject = _subject(request, person_id, change=True)
    choices = selectors.choices_of(subject.person)
    turning_on = choices.global_opt_out is None
    if request.method == "POST":
        form = OptOutForm(request.POST)
        if form.is_valid():
            on = form.cleaned_data["opted_out"]
            return _saved(
                request,
                subject,
                services.set_global_opt_out,
                _("Your opt-out is on. Uses other than your care and uses under law have stopped.")
                if on
                else _("Your opt-out is off. Your other choices and the defaults apply again."),
                opted_out=on,
                expected_version=form.cleaned_data["version"],
                notice_version=TEXT_VERSION,
            )
    else:
        form = OptOutForm(initial={"version": choices.version, "opted_out": "on" if turning_on else "off"})
    snapshots = Snapshots.load(subject.person)
    before = snapshots.grid()
    after = snapshots.grid(with_opt_out(snapshots.at if turning_on else None))
    context = _context(
        subject,
        form=form,
        turning_on=turning_on,
        version=choices.version,
        changes=grid_changes(before, after),
        statutory_uses=statutory_uses(snapshots),
    )
    return render(request, "portal/choices/opt_out.html", context)


@login_required
def category(
    request: AuthenticatedRequest, category: str, purpose_class: str, person_id: str | None = None
) -> HttpResponse:
    """One cell of the grid: each option with what the cell would say after it, worked out by the engine."""
    if category not in TIERS or purpose_class not in PurposeClass.values:
        raise Http404
    subject = _subject(request, person_id, change=True)
    choices = selectors.choices_of(subject.person)
    current = next(
        (d.value for d in choices.categories if (d.category, d.purpose_class) == (category, purpose_class)), "default"
    )
    form = CategoryChoiceForm(request.POST or None, initial={"version": choices.version, "value": current})
    category_label, purpose_label = DataCategory(category).label, PurposeClass(purpose_class).label
    if request.method == "POST" and form.is_valid():
        value = form.service_value()
        return _saved(
            request,
            subject,
            services.set_category_choice,
            _("Saved: %(category)s for %(purpose)s.") % {"category": category_label, "purpose": purpose_label},
            category=category,
            purpose_class=purpose_class,
            value=value,
            expected_version=form.cleaned_data["version"],
            notice_version=TEXT_VERSION,
        )
    snapshots = Snapshots.load(subject.person)
    key = (category, purpose_class)
    now_answer = answer_of(snapshots.grid()[key])
    options = [
        {
            "value": value,
            "label": label,
            "after": answer_of(
                snapshots.grid(with_category(category, purpose_class, _or_none(value), snapshots.at))[key]
            ),
        }
        for value, label in [
            ("default", _("No choice: use the default")),
            ("permit", _("Allow")),
            ("deny", _("Refuse")),
        ]
    ]
    context = _context(
        subject,
        form=form,
        category_label=category_label,
        purpose_label=purpose_label,
        sensitive=TIERS[category] == Tier.SENSITIVE,
        default=default_words(snapshots.basis(purpose_class, int(TIERS[category]))),
        now_answer=now_answer,
        options=options,
        current=current,
        opted_out=choices.global_opt_out is not None,
        has_terms=choices.duo_terms is not None,
    )
    return render(request, "portal/choices/category.html", context)


def _or_none(value: str) -> str | None:
    return None if value == "default" else value


@login_required
def terms(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    """The DUO terms editor: plain choices, a preview of the terms in words, then save (or remove)."""
    subject = _subject(request, person_id, change=True)
    choices = selectors.choices_of(subject.person)
    current = choices.duo_terms.terms if choices.duo_terms else None
    form = DuoTermsForm(request.POST or None, current=current, version=choices.version)
    preview: list[str] = []
    step = request.POST.get("step", "")
    if request.method == "POST" and step == "remove":
        removal = VersionedForm(request.POST)
        if not removal.is_valid():
            raise Http404
        return _saved(
            request,
            subject,
            services.set_duo_terms,
            _("Your data-use terms were removed."),
            terms=None,
            expected_version=removal.cleaned_data["version"],
            notice_version=TEXT_VERSION,
        )
    if request.method == "POST" and form.is_valid():
        if step == "save":
            return _saved(
                request,
                subject,
                services.set_duo_terms,
                _("Your data-use terms were saved."),
                terms=form.terms,
                expected_version=form.cleaned_data["version"],
                notice_version=TEXT_VERSION,
            )
        preview = describe_terms(form.terms)
    context = _context(
        subject,
        form=form,
        current_words=describe_terms(current),
        preview=preview,
        chapters=icd10_chapters(),
        chosen_diseases=set(form["diseases"].value() or []),
        chosen_conditions=set(form["conditions"].value() or []),
        permission_words=PERMISSION_WORDS,
        condition_words=CONDITION_WORDS,
        kept=form.kept_words,
    )
    return render(request, "portal/choices/terms.html", context)


@require_POST
@login_required
def block(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    subject = _subject(request, person_id, change=True)
    form = BlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an organisation to block."))
        return redirect(f"{subject.url('choices')}#organisations")
    organisation = form.cleaned_data["organisation"]
    return _saved(
        request,
        subject,
        services.set_organisation_block,
        _("%(organisation)s is blocked.") % {"organisation": organisation.name},
        organisation=organisation,
        blocked=True,
        purpose_class=form.cleaned_data["purpose_class"],
        expected_version=form.cleaned_data["version"],
        notice_version=TEXT_VERSION,
    )


@require_POST
@login_required
def unblock(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    subject = _subject(request, person_id, change=True)
    form = UnblockForm(request.POST)
    if not form.is_valid():
        raise Http404
    organisation = form.cleaned_data["organisation"]
    return _saved(
        request,
        subject,
        services.set_organisation_block,
        _("%(organisation)s is no longer blocked.") % {"organisation": organisation.name},
        organisation=organisation,
        blocked=False,
        purpose_class=form.cleaned_data["purpose_class"],
        expected_version=form.cleaned_data["version"],
        notice_version=TEXT_VERSION,
    )


@login_required
def history(request: AuthenticatedRequest, person_id: str | None = None) -> HttpResponse:
    subject = _subject(request, person_id, change=False)
    page = Paginator(selectors.consent_history(subject.person), 50).get_page(request.GET.get("page"))
    context = _context(subject, page=page, history=history_entries(request, subject, page.object_list))
    return render(request, "portal/choices/history.html", context)
