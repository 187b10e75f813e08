"""HTTP routes: thin handlers that parse, call the services and wrap the answer."""
