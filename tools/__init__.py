"""Development tooling for scaffold: never shipped in the wheel."""
