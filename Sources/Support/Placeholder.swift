// Support module: filled in by the foundation issue.
