"""The project's Redis session engine (SESSION_ENGINE = "sessiondemo.sessions.store")."""
