"""The operator console (`/console`): HTML pages for people, behind a login."""
