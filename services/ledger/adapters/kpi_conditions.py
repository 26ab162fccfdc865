"""The SQL twins of `cohort.case_flags` and its neighbours, over a case row aliased `s`.

Each condition judges a case as of a moment given as an SQL expression: the `:as_of` bind
when a query asks, or `'infinity'` for what a case's figures will stay once nothing more
happens to it (see `indicator_cases`). The integration tests check the counts against
domain/cohort.py.
"""

AS_OF = ":as_of"
FOREVER = "'infinity'::timestamptz"
DEADLINE = "coalesce(s.handling_deadline, s.first_assigned_at + :resolve_limit)"
ACK_DEADLINE = "coalesce(s.first_acknowledge_due_at, s.first_assigned_at + :ack_limit)"
DISPUTE = "s.category = any(:disputes)"
ACK_SECONDS = "extract(epoch from s.acknowledged_at - s.first_assigned_at)::float8"
RESOLVE_SECONDS = "extract(epoch from s.first_resolved_at - s.sort_at)::float8"
# Every time the cohort counts and timings compare with the moment: once all of a case's
# are at or before a moment, its counts at that moment and at any later one are the same.
MOMENTS = (
    "cancelled_at",
    "first_resolved_at",
    "first_closed_at",
    "first_reopened_at",
    "first_extended_at",
    "first_assigned_at",
    "acknowledged_at",
    "first_verified_at",
    "rated_at",
    "transferred_at",
)


def _live(at: str) -> str:
    return f"(s.cancelled_at is null or s.cancelled_at > {at})"


def _handled(at: str) -> str:
    return f"{_live(at)} and s.first_resolved_at <= {at}"


def _ack_timed(at: str) -> str:
    return f"{_live(at)} and s.acknowledged_at <= {at} and s.acknowledged_at >= s.first_assigned_at"


def cohort_counts(at: str = AS_OF) -> dict[str, str]:
    """The condition of each cohort count, judged at `at`."""
    live, handled = _live(at), _handled(at)
    closed = f"{live} and s.first_closed_at <= {at}"
    response_due = f"{live} and s.first_assigned_at <= {at}"
    verified = f"{live} and s.first_verified_at <= {at}"
    rated = f"{live} and s.rating is not null and s.rated_at <= {at}"
    transferred = f"{live} and s.transferred_at <= {at}"
    local = f"{handled} and (s.transferred_at is null or s.transferred_at > {at})"
    return {
        "registered": "true",
        "cancelled": f"s.cancelled_at <= {at}",
        "due": live,
        "handled": handled,
        "handled_on_time": f"{handled} and coalesce(s.first_resolved_at <= {DEADLINE}, true)",
        "closed": closed,
        "closed_on_time": f"{closed} and coalesce(s.first_closed_at <= {DEADLINE} + :grace, true)",
        "reworked": f"{handled} and s.first_reopened_at <= {at}",
        "extended": f"{live} and s.first_extended_at <= {at}",
        "response_due": response_due,
        "responded_on_time": f"{response_due} and s.acknowledged_at <= {at}"
        f" and coalesce(s.acknowledged_at <= {ACK_DEADLINE}, true)",
        "verified": verified,
        "verified_passed": f"{verified} and s.verification_passed",
        "rated": rated,
        "satisfied": f"{rated} and s.rating = 'satisfied'",
        "basically_satisfied": f"{rated} and s.rating = 'basically_satisfied'",
        "unsatisfied": f"{rated} and s.rating = 'unsatisfied'",
        "transferred_out": transferred,
        "resolved_locally": local,
        "disputes_transferred_out": f"{transferred} and {DISPUTE}",
        "disputes_resolved_locally": f"{local} and {DISPUTE}",
        "assigned_cases": f"{response_due} and s.assignee_id is not null",
    }


COUNTS = tuple(cohort_counts())
BITS = {name: 1 << n for n, name in enumerate(COUNTS)}


def counted_in(at: str = AS_OF) -> str:
    """The cohort counts a case adds to at `at`, one bit each (BITS): its class."""
    return " + ".join(
        f"(case when {condition} then {BITS[name]} else 0 end)"
        for name, condition in cohort_counts(at).items()
    )


def timings(at: str = AS_OF) -> dict[str, str]:
    """Each measured duration (seconds) of a case, null when it is not measured at `at`."""
    return {
        "acknowledge": f"case when {_ack_timed(at)} then {ACK_SECONDS} end",
        "resolve": f"case when {_handled(at)} then {RESOLVE_SECONDS} end",
    }


OVERDUE_AT = f"""
    {_live(AS_OF)} and (s.first_resolved_at is null or s.first_resolved_at > :as_of)
    and not (s.parked and s.parked_at <= :as_of)
    and (s.first_red_at <= :as_of
         or coalesce(s.handling_deadline, s.resolve_due_at) < :as_of
         or (s.first_acknowledge_due_at < :as_of
             and (s.acknowledged_at is null or s.acknowledged_at > :as_of)))
"""
