"""On-call: people, teams, follow-the-sun schedules, routing, escalation policies and paging."""
