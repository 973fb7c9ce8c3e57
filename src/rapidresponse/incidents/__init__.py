"""Incidents: the record a rapid response is coordinated around."""
