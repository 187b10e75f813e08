"""The server side of the API: app, auth, fleet service, device link, push, store."""
