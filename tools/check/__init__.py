"""Development tooling of `scaffold check`: corpus scoring and docs generation."""
