# Users are Django's own auth.User; sessions live in Redis, not here.
