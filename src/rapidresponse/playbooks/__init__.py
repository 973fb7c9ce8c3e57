"""Playbooks: the crisis-management plan for each harm type, and the planner that applies it."""
