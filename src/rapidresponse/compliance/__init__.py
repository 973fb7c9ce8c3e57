"""Content policy, jurisdictions and obligations, DSA statements of reasons, report drafts."""
